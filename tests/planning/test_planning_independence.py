"""The independence timeline on the real atlas and pipeline: every material answers, facts that must hold."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from critmin.atlas import load_atlas
from critmin.atlas.prices import latest_reference_prices
from critmin.parameters import ParameterSet
from critmin.planning.classes import capacity_classes
from critmin.planning.independence import (
    KEY_SET,
    TimelineRequest,
    key_materials,
    run_timeline,
    stage_timeline,
)
from critmin.planning.pipeline import build_pipeline


@pytest.fixture(scope="module")
def every_material() -> object:
    slugs = [str(s) for s in load_atlas().materials["slug"]]
    return run_timeline(TimelineRequest(materials=slugs, samples=200, budget_per_year=2e9))


def test_every_material_and_stage_gives_a_year_or_a_reason(every_material: object) -> None:
    table = every_material.table  # type: ignore[attr-defined]
    atlas = load_atlas()
    assert set(table["material"]) == {str(s) for s in atlas.materials["slug"]}
    for m in atlas.materials["slug"]:
        assert set(table.loc[table["material"] == m, "stage"]) == (set(atlas.stages_of(m)) or {"-"})
    for row in table.itertuples():
        answered = row.p90 is not None and np.isfinite(row.p90)
        assert answered or str(row.reason).startswith(("not reached by 2050", "no answer")), row
        if answered:
            assert row.p10 <= row.p50 <= row.p90 and row.p_reached >= 0.9
    assert (table.loc[table["status"] == "no data", "reason"].str.startswith("no answer")).all()
    # germanium's world output is withheld after 2021: the baseline is the latest year with tonnes
    ge = table[(table["material"] == "germanium") & (table["stage"] == "refine")].iloc[0]
    assert ge["baseline_year"] == 2021 and ge["non_china_share_now"] == pytest.approx(45 / 140)
    assert ge["p50"] is not None


def test_key_set_is_covered() -> None:
    slugs = [str(s) for s in load_atlas().materials["slug"]]
    keys = key_materials(slugs)
    assert [m for m in KEY_SET if m in slugs] == [m for m in keys if m in KEY_SET]
    assert {"magnet-rare-earths", "gallium", "cobalt", "lithium", "antimony", "tungsten"} <= set(keys)
    # the heavy rare earths join once the atlas has them (it has dysprosium and terbium)
    assert {"dysprosium", "terbium"} <= set(keys) and keys.index("dysprosium") == 1


def test_antimony_plans_on_classes_with_no_costed_project() -> None:
    # no antimony project is eligible (no capacity or no capex): the timeline builds generic mines
    rep = run_timeline(TimelineRequest(materials=["antimony"], target=0.8, samples=300))
    row = rep.table.iloc[0]
    assert row["named_projects"] == 0 and row["class_units"] > 0
    assert row["p50"] is not None and 2026 < row["p50"] <= 2050
    assert "capital intensity" in rep.classes.loc[0, "capex_basis"]


def test_no_costable_class_is_a_reasoned_not_reached() -> None:
    # without a reference price the generic tungsten mine cannot be costed (no tungsten project states
    # capacity): a reasoned "not reached"; a capex override makes it answer
    req = TimelineRequest(materials=["tungsten"], samples=100)
    pipe, params = build_pipeline(), ParameterSet()
    prices = {m: p for m, p in latest_reference_prices(load_atlas().prices).items() if m != "tungsten"}
    st = stage_timeline("tungsten", "mine", req, pipeline=pipe, params=params, prices=prices)
    assert st.row["reason"].startswith("not reached by 2050: no named project and no costable capacity class")
    assert "no reference price for tungsten" in st.row["reason"]
    params = params.with_overrides({("class_mine_capex_usd_per_tpa", "tungsten"): 1e5})
    ok = stage_timeline("tungsten", "mine", req, pipeline=pipe, params=params, prices=prices)
    assert ok.row["p50"] is not None and ok.classes[0].basis["capex"].endswith("(override)")


def test_budget_never_delays_and_deterministic_leads_collapse_the_band() -> None:
    years = []
    for budget in (3e8, 1e9, 3e9, None):
        rep = run_timeline(TimelineRequest(materials=["cobalt"], stages=["refine"], samples=300,
                                           budget_per_year=budget))  # fmt: skip
        p = rep.stages[0].result
        assert p is not None
        years.append(p.year_reached)
    for small, large in itertools.pairwise(years):
        assert (large <= small).all()
    fixed: dict[tuple[str, str], float] = {}
    for cls in ("refine", "recycle"):
        for f in ("permit_years", "build_years"):
            mode = ParameterSet().get(f"class_{cls}_{f}_mode", "cobalt")
            fixed |= {(f"class_{cls}_{f}_low", "default"): mode, (f"class_{cls}_{f}_high", "default"): mode}
        fixed[(f"class_{cls}_success_probability", "default")] = 1.0
    fixed |= {
        ("plan_delay_probability", "default"): 0.0,
        ("plan_success_probability_construction", "default"): 1,
    }
    rep = run_timeline(TimelineRequest(materials=["cobalt"], stages=["refine"], samples=200),
                       params=ParameterSet().with_overrides(fixed))  # fmt: skip
    row = rep.table.iloc[0]
    assert row["p10"] == row["p50"] == row["p90"] is not None


def test_classes_are_costed_from_the_pipeline_or_the_capital_intensity() -> None:
    pipe = build_pipeline()
    params = ParameterSet()
    prices = {"cobalt": 33_000.0, "nickel": 15_000.0}
    (refine, recycle) = capacity_classes("cobalt", "refine", pipe.projects, 250_000.0, prices, params)
    # one cobalt refinery states both: Electra 250 M USD / 1,363.05 t Co = 183,412 USD per t/yr
    assert refine.capex_usd_per_tpa == pytest.approx(250e6 / 1363.05)
    assert refine.unit_capacity_t == pytest.approx(1363.05)
    assert recycle.max_units == int(0.05 * 250_000 // recycle.unit_capacity_t)
    (nickel, _) = capacity_classes("nickel", "refine", pipe.projects, 3.6e6, prices, params)
    assert "capital intensity" in nickel.basis["capex"] and np.isfinite(nickel.capex_usd_per_tpa)
    assert nickel.unit_capacity_t == pytest.approx(0.03 * 3.6e6)


def test_unknown_material_and_stage_are_clear_errors() -> None:
    with pytest.raises(ValueError, match=r"unknown material 'lithum'; did you mean lithium"):
        run_timeline(TimelineRequest(materials=["lithum"]))
    with pytest.raises(ValueError, match=r"no production for material 'tungsten' at stage 'refine'"):
        run_timeline(TimelineRequest(materials=["tungsten"], stages=["refine"]))
