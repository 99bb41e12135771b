"""One price model: mechanisms priced on the disruption engine's two zones over the calibrated baseline."""

from __future__ import annotations

import numpy as np
import pytest

from critmin.atlas.loader import load_atlas
from critmin.disruption import simulate as shock_simulate
from critmin.disruption.events import bundled_scenario
from critmin.disruption.montecarlo import run_monte_carlo
from critmin.pricing.mechanisms import Mechanism, evaluate
from critmin.pricing.price_paths import fit_material, simulate
from critmin.pricing.zones import ZoneError, baseline, from_array, from_monte_carlo, from_shock


@pytest.fixture(scope="module")
def ree_shock():  # type: ignore[no-untyped-def]
    return shock_simulate(load_atlas(), bundled_scenario("rare-earths-2010"))


def test_export_restriction_raises_the_outside_price_and_lowers_the_restrictors(ree_shock) -> None:  # type: ignore[no-untyped-def]
    base = baseline(
        "ndpr-oxide", simulate(fit_material("ndpr-oxide"), n_paths=300, months=24, seed=4), "USGS"
    )
    zp = from_shock(base, ree_shock)
    i = ree_shock.row("magnet-rare-earths")
    # the same paths the engine produces: the zone prices over the baseline are the engine's indices
    np.testing.assert_allclose(
        zp.outside / base.outside, np.broadcast_to(ree_shock.price_outside[i], (300, 24))
    )
    np.testing.assert_allclose(
        zp.restrictor / base.outside, np.broadcast_to(ree_shock.price_restrictor[i], (300, 24))
    )
    assert zp.restrictor_iso3 == "CHN"
    # under China's restriction the outside-zone price rises and China's domestic price falls
    assert (zp.outside >= base.outside * (1 - 1e-12)).all() and (zp.outside > base.outside * 1.01).any()
    assert zp.restrictor is not None
    assert (zp.restrictor <= base.outside * (1 + 1e-12)).all() and (zp.restrictor < base.outside * 0.99).any()
    # so a floor on the outside price costs less than without the event, one on China's price more
    strike = 110_000.0
    cost = {
        (ref, name): evaluate(
            Mechanism("floor", strike, 1000.0, reference=ref), z, material="ndpr-oxide"
        ).summary["fiscal_cost_pv_usd"]["mean"]
        for ref in ("outside", "china")
        for name, z in (("event", zp), ("none", base))
    }
    assert cost["outside", "event"] < cost["outside", "none"]
    assert cost["china", "event"] > cost["china", "none"]
    assert cost["outside", "none"] == pytest.approx(cost["china", "none"])  # no event: one world price
    # a member's landed price is the outside price plus freight and insurance (10%, pricing.csv)
    np.testing.assert_allclose(zp.price("landed"), zp.outside * 1.10)


def test_monte_carlo_paths_outside_zone_only() -> None:
    mc = run_monte_carlo(load_atlas(), 200, seed=5, horizon_months=24, keep_paths=True)
    base_price = 580_000.0  # USGS 2025 gallium import unit value, USD/t
    zp = from_monte_carlo(from_array("gallium", np.full((200, 24), base_price)), mc)
    assert zp.shape == (200, 24) and zp.outside.min() >= base_price * (1 - 1e-12)  # restrictions only raise
    # a floor at the pre-shock price never pays; a CfD at that strike only ever receives
    floor = evaluate(Mechanism("floor", base_price, 100.0), zp, material="gallium")
    assert floor.summary["fiscal_cost_pv_usd"]["p95"] == 0.0
    cfd = evaluate(Mechanism("cfd", base_price, 100.0), zp, material="gallium").fiscal_cost_pv
    assert (cfd <= 1e-6).all() and (cfd < 0).any()
    # NdPr oxide follows the magnet rare-earths zone of the engine
    ndpr = from_monte_carlo(from_array("ndpr-oxide", np.full((200, 24), 73_250.0)), mc)
    i = mc.materials.index("magnet-rare-earths")
    assert mc.price_index_outside is not None
    np.testing.assert_allclose(ndpr.outside, mc.price_index_outside[:, i, :] * 73_250.0)
    # the Monte Carlo result carries no China-zone paths: referencing them is an error, not a guess
    with pytest.raises(ZoneError, match="no China"):
        evaluate(Mechanism("floor", base_price, 100.0, reference="china"), zp, material="gallium")
    with pytest.raises(ZoneError, match="200 scenarios for 3 baseline paths"):
        from_monte_carlo(from_array("gallium", np.full((3, 24), base_price)), mc)
    with pytest.raises(ZoneError, match="the price paths need 36"):
        from_monte_carlo(from_array("gallium", np.full((200, 36), base_price)), mc)
