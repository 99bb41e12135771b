"""Value of independence (disruption engine with added supply) and GDP-based burden shares."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from critmin.atlas import load_atlas
from critmin.planning.burden import gdp_weights, share_burden
from critmin.planning.names import check_members
from critmin.planning.value import value_of_independence, with_added_supply

#: World Bank WDI NY.GDP.MKTP.CD (current USD), rows of shared/data/worldbank_wdi as published
WDI = pd.DataFrame(
    [
        ("USA", 2024, 29298013000000.0),
        ("USA", 2025, 30769700000000.0),
        ("JPN", 2024, 4190008188358.57),
        ("JPN", 2025, 4435162999976.94),
        ("AUS", 2024, 1757022451652.83),
        ("FRA", 2024, 3160442622465.08),
    ],
    columns=["iso3", "year", "gdp_usd"],
)


def test_gdp_weights_take_the_latest_year_every_member_has() -> None:
    w, year = gdp_weights(WDI, ["USA", "JPN"])
    assert year == 2025 and w == {"USA": 30769700000000.0, "JPN": 4435162999976.94}
    w, year = gdp_weights(WDI, ["USA", "JPN", "AUS"])
    assert year == 2024
    sched = pd.DataFrame({"project_id": ["a", "b"], "country_iso3": ["AUS", "CAN"], "capex_usd": [3e8, 1e8]})
    out = share_burden(sched, pd.Series({"a": 10.0, "b": 30.0}), ["USA", "JPN", "AUS"], "gdp", w)
    total = 29298013000000.0 + 4190008188358.57 + 1757022451652.83
    assert out.set_index("member").loc["JPN", "share_of_capex"] == pytest.approx(4190008188358.57 / total)
    assert out["contribution_usd"].sum() == pytest.approx(4e8) and out["secured_t"].sum() == pytest.approx(40)
    with pytest.raises(ValueError, match=r"no World Bank WDI GDP for members \['TWN'\]"):
        gdp_weights(WDI, ["USA", "TWN"])
    with pytest.raises(ValueError, match="lacks column 'gdp_usd'"):
        gdp_weights(WDI.rename(columns={"gdp_usd": "gdp"}), ["USA"])


def test_member_codes_are_validated() -> None:
    assert check_members(["usa", " jpn "]) == ["USA", "JPN"]
    with pytest.raises(ValueError, match=r"unknown ISO3 member code\(s\) XXX, EU"):
        check_members(["USA", "XXX", "EU"])
    with pytest.raises(ValueError, match="repeated"):
        check_members(["USA", "USA"])


def test_added_supply_is_an_overlay_and_lowers_the_expected_loss() -> None:
    atlas = load_atlas()
    before = len(atlas.production)
    more = with_added_supply(atlas, "magnet-rare-earths", "refine", 20_000.0)
    assert len(atlas.production) == before and len(more.production) == before + 1
    s0 = atlas.stage_series("magnet-rare-earths", "refine", 2024)
    s1 = more.stage_series("magnet-rare-earths", "refine", 2024)
    # the added tonnes displace Chinese output: same market size, China 20 kt lower, OTH 20 kt higher
    assert float(s1.sum()) == pytest.approx(float(s0.sum()))
    assert float(s0["CHN"] - s1["CHN"]) == pytest.approx(20_000.0)
    assert float(s1.get("OTH", 0.0) - s0.get("OTH", 0.0)) == pytest.approx(20_000.0)
    # China's output cannot go negative
    huge = with_added_supply(atlas, "magnet-rare-earths", "refine", 1e9)
    assert float(huge.stage_series("magnet-rare-earths", "refine", 2024).get("CHN", 0.0)) == 0.0
    zero = value_of_independence("magnet-rare-earths", "refine", 0.0, atlas=atlas, n_scenarios=300)
    assert zero["avoided_usd"] == 0.0 and zero["expected_loss_usd"] > 0
    v = value_of_independence("magnet-rare-earths", "refine", 20_000.0, atlas=atlas, n_scenarios=300)
    assert v["valued"] and 0 < v["avoided_usd"] <= v["expected_loss_usd"]
    assert v["avoided_usd_per_year"] == pytest.approx(v["avoided_usd"] * 12 / v["horizon_months"])
    with pytest.raises(ValueError, match="expected a finite number >= 0"):
        with_added_supply(atlas, "gallium", "refine", float(np.nan))


def test_plan_reports_its_timeline_and_cost_next_to_the_loss_avoided() -> None:
    from critmin.planning.plan import PlanRequest, run_plan

    req = PlanRequest(material="magnet-rare-earths", stage="refine", target=0.12, by=2030,
                      third_country_cap=False, value=True, timeline_samples=200)  # fmt: skip
    out = run_plan(req).to_dict()
    assert out["feasible"]
    tl = out["timeline"]
    assert tl["samples"] == 200 and tl["p10"] <= tl["p50"] <= tl["p90"] <= 2050
    v = out["value_of_independence"]
    added = next(r["new_t"] for r in out["supply_by_year"] if r["year"] == 2030)
    assert v["added_t"] == pytest.approx(added) and v["avoided_usd"] >= 0
    assert v["cost_discounted_usd"] == out["discounted_cost_usd"]


def test_timeline_value_flag_puts_cost_and_benefit_side_by_side() -> None:
    import json

    from typer.testing import CliRunner

    from critmin.cli import app

    args = ["plan", "timeline", "-m", "gallium", "--samples", "100", "--value", "--format", "json"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    row = json.loads(res.stdout)["timeline"][0]
    assert row["capex_usd"] > 0 and row["loss_avoided_usd"] is not None
    assert row["loss_avoided_usd"] <= row["expected_loss_usd"] and row["value_added_t"] > 0


def test_plan_api_job_carries_the_sampled_years() -> None:
    from critmin.api.job_kinds import run_plan_job
    from critmin.planning.plan import PlanRequest

    steps: list[tuple[float, str]] = []
    req = PlanRequest(material="lithium", stage="refine", target=0.35, by=2035, third_country_cap=False)
    out = run_plan_job(req, lambda f, msg: steps.append((f, msg)))
    tl = out["timeline"]
    assert tl["samples"] == 1000 and tl["status"] in {"reached", "not reached (P90)", "not reached (P50)"}
    assert tl["p50"] is None or 2026 <= tl["p50"] <= 2050
    assert tl["p90"] is not None or tl["reason"].startswith("not reached by 2050")
