"""China's responses: dumping capacity oracle, dumping metamorphic relations, retaliation in the engine."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from critmin.atlas.loader import load_atlas
from critmin.disruption import simulate as shock_simulate
from critmin.parameters import ParameterSet
from critmin.pricing.china import (
    Dumping,
    apply_dumping,
    china_exports,
    china_position,
    max_dumping_depth,
    retaliation_materials,
    retaliation_scenario,
)
from critmin.pricing.mechanisms import Mechanism, evaluate
from critmin.pricing.zones import from_array, from_shock

RNG = np.random.default_rng(12)
OUTSIDE = np.exp(RNG.normal(np.log(100.0), 0.25, size=(200, 48)))
ZP = from_array("gallium", OUTSIDE)


def _floor_cost(d: Dumping, kind: str = "floor") -> np.ndarray:
    zp = apply_dumping(ZP, d)
    return evaluate(Mechanism(kind, 105.0, 120.0), zp, material="gallium").fiscal_cost_pv


@settings(max_examples=40, deadline=None)
@given(
    st.floats(0, 0.9),
    st.floats(0, 0.09),
    st.integers(0, 40),
    st.integers(0, 30),
    st.integers(0, 18),
    st.sampled_from(["floor", "floor-share", "cfd"]),
)
def test_deeper_or_longer_dumping_never_lowers_a_floors_cost(
    depth: float, more: float, start: int, months: int, longer: int, kind: str
) -> None:
    base = _floor_cost(Dumping(depth, start, months), kind)
    deeper = _floor_cost(Dumping(depth + more, start, months), kind)
    longer_c = _floor_cost(Dumping(depth, start, months + longer), kind)
    # on every path, hence in expectation
    assert (deeper >= base - 1e-6).all() and (longer_c >= base - 1e-6).all()
    assert deeper.mean() >= base.mean() - 1e-6 and longer_c.mean() >= base.mean() - 1e-6


def test_dumping_cuts_only_the_outside_price_in_its_window() -> None:
    zp = apply_dumping(ZP, Dumping(0.3, 6, 12))
    np.testing.assert_allclose(zp.outside[:, 6:18], 0.7 * OUTSIDE[:, 6:18])
    np.testing.assert_array_equal(zp.outside[:, :6], OUTSIDE[:, :6])
    np.testing.assert_array_equal(zp.outside[:, 18:], OUTSIDE[:, 18:])
    np.testing.assert_array_equal(zp.restrictor, OUTSIDE)  # China's domestic price is not cut
    # capped by China's capacity
    capped = apply_dumping(ZP, Dumping(0.5, 0, 48), max_depth=0.2)
    np.testing.assert_allclose(capped.outside, 0.8 * OUTSIDE)
    # a levy referencing the landed price collects more while prices are dumped
    levy = Mechanism("levy", 120.0, 100.0, member_output_t_per_year=50.0)
    with_d = evaluate(levy, apply_dumping(ZP, Dumping(0.3, 0, 48)), material="gallium").summary
    without = evaluate(levy, ZP, material="gallium").summary
    assert with_d["levy_revenue_pv_usd"]["mean"] > without["levy_revenue_pv_usd"]["mean"]
    with pytest.raises(ValueError, match=r"dumping depth: 1\.2"):
        Dumping(1.2)


def test_max_dumping_depth_oracle() -> None:
    # supply elasticity 0: (1 - c) x^ed - (1 - a) = (a - c) + s a, so x = ((1 - c + s a) / (1 - c))^(1 / ed)
    a, c, ed, s = 0.9, 0.6, -0.4, 0.2
    x = ((1 - c + s * a) / (1 - c)) ** (1 / ed)
    assert max_dumping_depth(a, c, ed, 0.0, s) == pytest.approx(1 - x, rel=1e-9)
    d = max_dumping_depth(a, c, ed, 0.8, s)
    assert china_exports(1 - d, a, c, ed, 0.8) == pytest.approx(a - c + s * a, rel=1e-9)
    # more spare capacity allows a deeper cut; none allows none
    assert max_dumping_depth(a, c, ed, 0.8, 0.4) > d > max_dumping_depth(a, c, ed, 0.8, 0.0) == 0.0


def test_china_position_on_the_atlas() -> None:
    pos = china_position(load_atlas(), "ndpr-oxide", ParameterSet())
    assert 0.5 < pos["a"] <= 1.0 and pos["c"] < pos["a"]  # China refines most magnet rare earths (IEA)
    assert 0 < max_dumping_depth(pos["a"], pos["c"], pos["ed"], pos["es"], pos["spare"]) < 0.95


def test_retaliation_through_the_engine() -> None:
    atlas = load_atlas()
    members = ["ARG", "KOR"]
    mats = retaliation_materials(atlas, members)
    # materials China refines (atlas) that the members import (BACI rows); gallium's BACI code is a basket
    # of minor metals (811292), so it is not one of them
    assert {"magnet-rare-earths", "lithium", "cobalt"} <= set(mats) and "gallium" not in mats
    two = shock_simulate(
        atlas, retaliation_scenario(members, ["magnet-rare-earths"], share=0.73, months=12, horizon=24)
    )
    i = two.row("magnet-rare-earths")
    # against two members: China's price falls; outside stocks absorb the small volume (price stays >= 1)
    assert two.price_restrictor[i].min() < 1.0 and two.price_outside[i].min() >= 1.0
    assert two.scenario.events[0].targets == ["ARG", "KOR"]
    group = sorted(atlas.groups["ministerial-2026"])
    res = shock_simulate(
        atlas, retaliation_scenario(group, ["magnet-rare-earths"], share=0.73, months=12, horizon=24)
    )
    # against the whole group: more is withheld, the outside price rises and China's falls further
    assert res.restricted_t[i].sum() > two.restricted_t[i].sum()
    assert res.price_outside[i].max() > 1.0 and res.price_restrictor[i].min() < two.price_restrictor[i].min()
    # a floor on the outside price pays less under retaliation, a China-referenced one more
    base = from_array("ndpr-oxide", np.full((5, 24), 70_000.0))
    zp = from_shock(base, res)
    out = evaluate(Mechanism("floor", 110_000.0, 1000.0), zp, material="ndpr-oxide").summary
    ref = evaluate(Mechanism("floor", 110_000.0, 1000.0), base, material="ndpr-oxide").summary
    assert out["fiscal_cost_pv_usd"]["mean"] < ref["fiscal_cost_pv_usd"]["mean"]


def test_dumping_and_retaliation_in_the_floor_run() -> None:
    from critmin.runs.floor import FloorRequest, run

    req = FloorRequest(
        material="ndpr-oxide", mechanism="floor", strike_usd_per_kg=110, volume_t=1000, paths=400
    )
    base = run(req).summary
    dumped = run(req.model_copy(update={"dumping_depth": 0.4, "dumping_months": 36})).summary
    d = dumped["dumping"]
    # the cut applied is what China's capacity can supply, and it raises the floor's cost
    assert d["depth_applied"] == pytest.approx(min(0.4, d["max_depth_china_can_supply"]))
    assert dumped["fiscal_cost_pv_usd"]["mean"] > base["fiscal_cost_pv_usd"]["mean"]
    # projects' viability without support can only fall when prices are dumped
    for p0, p1 in zip(base["projects"], dumped["projects"], strict=True):
        assert p1["prob_viable_without"] <= p0["prob_viable_without"]
    # China's retaliation against the group raises the outside price: the outside-referenced floor pays less
    ret_run = run(req.model_copy(update={"paths_from": "retaliation"}))
    assert ret_run.metadata.parameters["retaliation_share[default]"] == 0.73
    ret = ret_run.summary
    assert ret["price_paths"].endswith("engine scenario china-retaliation-69-members")
    assert ret["fiscal_cost_pv_usd"]["mean"] < base["fiscal_cost_pv_usd"]["mean"]
    china = run(req.model_copy(update={"paths_from": "retaliation", "reference": "china"})).summary
    assert china["fiscal_cost_pv_usd"]["mean"] > base["fiscal_cost_pv_usd"]["mean"]
