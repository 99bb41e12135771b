"""Mechanisms: the DoD-MP arithmetic, payoff identities, metamorphic relations and the loop reference."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from critmin.parameters import ParameterSet
from critmin.pricing.mechanisms import (
    MECHANISMS,
    Mechanism,
    cfd_payment,
    evaluate,
    evaluate_reference,
    floor_payment,
    floor_share_payment,
    levy_per_t,
    offtake_payment,
    reserve_purchase_t,
)

KG = 1000.0  # USD/kg -> USD/t
NO_DISCOUNT = ParameterSet().with_overrides({("mech_discount_rate", "default"): 0.0})


def test_dod_mp_arithmetic() -> None:
    strike = 110 * KG
    assert floor_payment(63 * KG, strike) / KG == pytest.approx(47.0)
    assert floor_payment(123 * KG, strike) / KG == 0.0
    # 30% of the upside above the floor goes back to the government: 0.3 * (123 - 110) = 3.90 USD/kg
    assert floor_share_payment(123 * KG, strike, 0.30) / KG == pytest.approx(-3.90)
    assert floor_share_payment(63 * KG, strike, 0.30) / KG == pytest.approx(47.0)


def test_dod_mp_annual_cost_for_a_stated_volume() -> None:
    # 1,000 t/yr of NdPr oxide for 10 years at a flat benchmark of 63 USD/kg: 47 USD/kg * 1e6 kg = 47 M USD/yr
    paths = np.full((3, 120), 63 * KG)
    res = evaluate(Mechanism("floor", 110 * KG, 1000.0), paths, material="ndpr-oxide", params=NO_DISCOUNT)
    assert res.summary["fiscal_cost_per_year_usd"]["mean"] == pytest.approx(47e6)
    assert res.summary["fiscal_cost_pv_usd"]["p95"] == pytest.approx(470e6)
    share = evaluate(
        Mechanism("floor-share", 110 * KG, 1000.0), np.full((2, 120), 123 * KG), material="ndpr-oxide"
    )
    assert share.summary["upside_share"] == 0.3
    assert share.summary["fiscal_cost_per_year_usd"]["mean"] == pytest.approx(-3.90e6)


def test_discounting_uses_the_parameter() -> None:
    paths = np.full((1, 12), 100.0)
    r = 0.05
    params = ParameterSet().with_overrides({("mech_discount_rate", "default"): r})
    res = evaluate(Mechanism("floor", 112.0, 12.0), paths, material="gallium", params=params)
    expected = sum(12.0 * (1 + r) ** (-(m + 1) / 12) for m in range(12))  # 12 USD/t on 1 t each month
    assert res.summary["fiscal_cost_pv_usd"]["mean"] == pytest.approx(expected)


prices_st = arrays(np.float64, st.integers(1, 40), elements=st.floats(1, 1e6))


@settings(max_examples=60, deadline=None)
@given(prices_st, st.floats(1, 1e6), st.floats(0, 1))
def test_payoff_identities(p: np.ndarray, k: float, s: float) -> None:
    call = np.maximum(p - k, 0)
    assert (floor_payment(p, k) >= 0).all()
    np.testing.assert_allclose(cfd_payment(p, k), floor_payment(p, k) - call, rtol=1e-12, atol=1e-6)
    np.testing.assert_allclose(floor_share_payment(p, k, s), floor_payment(p, k) - s * call, atol=1e-6)
    np.testing.assert_allclose(floor_share_payment(p, k, 1.0), cfd_payment(p, k), atol=1e-6)
    np.testing.assert_array_equal(floor_share_payment(p, k, 0.0), floor_payment(p, k))
    np.testing.assert_array_equal(levy_per_t(k, p), floor_payment(p, k))  # same shape, levied on imports
    np.testing.assert_allclose(offtake_payment(p, k, 1.0), cfd_payment(p, k), atol=1e-6)
    assert set(np.unique(reserve_purchase_t(p, k))) <= {0.0, 1.0}


@settings(max_examples=25, deadline=None)
@given(
    arrays(
        np.float64, st.tuples(st.integers(1, 6), st.sampled_from([12, 24, 36])), elements=st.floats(10, 500)
    ),
    st.floats(20, 400),
    st.sampled_from(MECHANISMS),
    st.floats(0, 0.1),
)
def test_vectorised_matches_loop_reference(paths: np.ndarray, k: float, kind: str, rate: float) -> None:
    mech = Mechanism(kind, k, 120.0)  # type: ignore[arg-type]
    params = ParameterSet().with_overrides({("mech_discount_rate", "default"): rate})
    res = evaluate(mech, paths, material="gallium", params=params)
    ref = evaluate_reference(mech, paths, rate, 0.3, 0.8)
    np.testing.assert_allclose(res.fiscal_cost_pv, ref, rtol=1e-9, atol=1e-6)


def test_metamorphic_volume_and_strike() -> None:
    rng = np.random.default_rng(1)
    paths = np.exp(rng.normal(np.log(100), 0.3, size=(500, 60)))
    for kind in MECHANISMS:
        one = evaluate(Mechanism(kind, 100.0, 10.0), paths, material="gallium").fiscal_cost_pv
        two = evaluate(Mechanism(kind, 100.0, 20.0), paths, material="gallium").fiscal_cost_pv
        np.testing.assert_allclose(two, 2 * one, rtol=1e-12, atol=1e-9)
    # a higher strike never lowers the floor's cost on any path
    lo = evaluate(Mechanism("floor", 90.0, 10.0), paths, material="gallium").fiscal_cost_pv
    hi = evaluate(Mechanism("floor", 110.0, 10.0), paths, material="gallium").fiscal_cost_pv
    assert (hi >= lo).all() and hi.mean() > lo.mean()


def test_distributions_volatility_supply_and_levy() -> None:
    rng = np.random.default_rng(7)
    paths = np.exp(rng.normal(np.log(100), 0.4, size=(2000, 120)))
    floor = evaluate(Mechanism("floor", 110.0, 1000.0), paths, material="gallium").summary
    cost = floor["fiscal_cost_pv_usd"]
    assert cost["p5"] < cost["p50"] < cost["p95"] and cost["p5"] > 0  # a distribution, not one number
    # a floor cuts producers' revenue volatility and raises output (gallium elasticity 0.3 from pricing.csv)
    assert floor["producer_revenue_cv"]["mean"] < floor["producer_revenue_cv_without"]["mean"]
    assert floor["supply_elasticity"] == 0.3 and floor["supply_response_pct"]["p5"] > 0
    cfd = evaluate(Mechanism("cfd", 110.0, 1000.0), paths, material="gallium").summary
    assert cfd["producer_revenue_cv"]["p95"] == pytest.approx(0.0, abs=1e-12)  # fixed price: no volatility
    fixed = NO_DISCOUNT.with_overrides({("levy_import_elasticity", "default"): 0.0})
    levy = evaluate(
        Mechanism("levy", 110.0, 500.0, member_output_t_per_year=1000.0),
        paths,
        material="gallium",
        params=fixed,
    ).summary
    assert levy["levy_revenue_pv_usd"]["mean"] == pytest.approx(-levy["fiscal_cost_pv_usd"]["mean"])
    # imports fixed (elasticity 0): consumers pay the levy on imports (500 t) and on member output (1000 t)
    assert levy["consumer_cost_pv_usd"]["mean"] == pytest.approx(3 * levy["levy_revenue_pv_usd"]["mean"])
    # imports respond to the levy (default elasticity -0.4): fewer imports, a smaller share of the cost
    resp = evaluate(
        Mechanism("levy", 110.0, 500.0, member_output_t_per_year=1000.0), paths, material="gallium"
    ).summary
    assert resp["imports_t_per_year"]["mean"] < 500.0 and resp["imports_t_per_year"]["p5"] > 0
    assert resp["consumer_cost_pv_usd"]["mean"] > 3 * resp["levy_revenue_pv_usd"]["mean"]
    reserve = evaluate(Mechanism("reserve", 110.0, 1200.0), paths, material="gallium").summary
    assert 0 < reserve["reserve_stock_t"]["mean"] <= 1200.0 * 10
    assert reserve["fiscal_outlay_pv_usd"]["mean"] > reserve["fiscal_cost_pv_usd"]["mean"]


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="mechanism"):
        Mechanism("swap", 1.0, 1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="strike"):
        Mechanism("floor", 0.0, 1.0)
    with pytest.raises(ValueError, match=r"upside_share: 1\.5"):
        Mechanism("floor-share", 1.0, 1.0, upside_share=1.5)
    with pytest.raises(ValueError, match="paths"):
        evaluate(Mechanism("floor", 1.0, 1.0), np.ones((2, 6)), material="gallium")
    with pytest.raises(ValueError, match="positive"):
        evaluate(Mechanism("floor", 1.0, 1.0), -np.ones((2, 12)), material="gallium")


def test_full_size_run_matches_loop_on_a_subset() -> None:
    # the benchmark's size (10,000 paths x 120 months) evaluated for every mechanism; timing is the
    # benchmark's job, here the results are checked against the per-path loop on 200 paths
    from critmin.pricing.price_paths import fit_material, simulate

    paths = simulate(fit_material("ndpr-oxide"), n_paths=10_000, months=120, seed=11)
    params = ParameterSet()
    for kind in MECHANISMS:
        mech = Mechanism(kind, 110_000.0, 1000.0, member_output_t_per_year=1000.0)  # type: ignore[arg-type]
        res = evaluate(mech, paths, material="ndpr-oxide", params=params)
        assert res.fiscal_cost_pv.shape == (10_000,)
        ref = evaluate_reference(mech, paths[:200], 0.02, 0.3, 0.8)
        np.testing.assert_allclose(res.fiscal_cost_pv[:200], ref, rtol=1e-9, atol=1e-3)
        cost = res.summary["fiscal_cost_pv_usd"]
        assert cost["p5"] <= cost["p50"] <= cost["p95"]


def test_a_new_mechanism_is_one_class_and_a_registry_row(monkeypatch: pytest.MonkeyPatch) -> None:
    from critmin.pricing.mechanisms import REGISTRY, Context, Flows, MechanismModel

    class Collar(MechanismModel):  # pays below 90% of the strike, receives above 110%
        kind = "collar"
        description = "collar"

        def flows(self, strike: float, ctx: Context) -> Flows:
            per_t = np.maximum(0.9 * strike - ctx.price, 0) - np.maximum(ctx.price - 1.1 * strike, 0)
            z = np.zeros_like(ctx.price)
            return Flows(per_t * ctx.q, ctx.price * ctx.q + per_t * ctx.q, z, z, z)

        def scalar_flow(
            self, price: float, strike: float, share: float, take_or_pay: float
        ) -> tuple[float, float]:
            return max(0.9 * strike - price, 0) - max(price - 1.1 * strike, 0), 0.0

    with pytest.raises(ValueError, match="mechanism: 'collar'; expected one of floor"):
        Mechanism("collar", 100.0, 12.0)
    monkeypatch.setitem(REGISTRY, "collar", Collar)
    paths = np.array([[80.0] * 12, [100.0] * 12, [120.0] * 12])
    res = evaluate(Mechanism("collar", 100.0, 12.0), paths, material="gallium", params=NO_DISCOUNT)
    np.testing.assert_allclose(res.fiscal_cost_pv, [12 * 10.0, 0.0, -12 * 10.0])
    np.testing.assert_allclose(
        evaluate_reference(Mechanism("collar", 100.0, 12.0), paths, 0.0, 0.3, 0.8), res.fiscal_cost_pv
    )


def test_no_kind_switch_left_in_the_mechanisms() -> None:
    from pathlib import Path

    import critmin.pricing.mechanisms as pkg

    for f in Path(pkg.__file__).parent.glob("*.py"):
        text = f.read_text(encoding="utf-8")
        assert "kind ==" not in text and "Literal[" not in text, f.name


def test_volume_schedule_year_by_year() -> None:
    paths = np.full((2, 36), 63 * KG)
    res = evaluate(
        Mechanism("floor", 110 * KG, [1000.0, 2000.0, 3000.0]),
        paths,
        material="ndpr-oxide",
        params=NO_DISCOUNT,
    )
    # 47 USD/kg on 1,000 + 2,000 + 3,000 t
    assert res.summary["fiscal_cost_total_usd"]["mean"] == pytest.approx(47 * KG * 6000.0)
    assert res.summary["fiscal_cost_per_t_usd"]["mean"] == pytest.approx(47 * KG)
    annual_cost = res.flows.fiscal[0].reshape(3, 12).sum(1)
    np.testing.assert_allclose(annual_cost, 47 * KG * np.array([1000.0, 2000.0, 3000.0]))
    with pytest.raises(ValueError, match="schedule covers 2 years; the horizon needs 3"):
        evaluate(Mechanism("floor", 1.0, [1.0, 2.0]), paths, material="ndpr-oxide")
    with pytest.raises(ValueError, match="volume_t_per_year"):
        Mechanism("floor", 1.0, [1.0, -2.0])
