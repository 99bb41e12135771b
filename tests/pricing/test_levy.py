"""The adjustable levy as legislated: hand-worked reset and lag, zero levy, import response, loop."""

from __future__ import annotations

import numpy as np
import pytest

from critmin.parameters import ParameterSet
from critmin.pricing.mechanisms import (
    Mechanism,
    adjustable_levy,
    evaluate,
    evaluate_reference,
    import_response,
)
from critmin.pricing.zones import from_array

NO_DISCOUNT = ParameterSet().with_overrides({("mech_discount_rate", "default"): 0.0})


def test_hand_worked_three_periods_with_reset_and_lag() -> None:
    # reference 100 USD/t, reset every 2 months, lag 1 month, landed price 95 observed before month 1
    landed = np.array([[90.0, 80.0, 70.0, 120.0, 100.0, 60.0]])
    levy = adjustable_levy(landed, 100.0, reset_months=2, lag_months=1, start_landed=95.0)
    # period 1 (months 1-2): window months -2..-1, both before the horizon: 100 - 95 = 5
    # period 2 (months 3-4): window months -1..1 (95, 90): 100 - 92.5 = 7.5
    # period 3 (months 5-6): window months 2..3 (80, 70): 100 - 75 = 25  (the 120 of month 4 is not seen yet)
    np.testing.assert_allclose(levy, [[5.0, 5.0, 7.5, 7.5, 25.0, 25.0]])
    # imports respond with elasticity -1: 10 t/month * landed / (landed + levy)
    imports = import_response(np.full(6, 10.0), landed, levy, -1.0)
    expected = [10 * 90 / 95, 10 * 80 / 85, 10 * 70 / 77.5, 10 * 120 / 127.5, 10 * 100 / 125, 10 * 60 / 85]
    np.testing.assert_allclose(imports, [expected])
    collected = (levy * imports).sum()
    by_period = [5 * (900 / 95 + 800 / 85), 7.5 * (700 / 77.5 + 1200 / 127.5), 25 * (1000 / 125 + 600 / 85)]
    assert collected == pytest.approx(sum(by_period))
    # monthly reset without lag is the old instantaneous rule max(0, K - P) of the previous month
    monthly = adjustable_levy(landed, 100.0, reset_months=1, lag_months=0, start_landed=95.0)
    np.testing.assert_allclose(monthly, [[5.0, 10.0, 20.0, 30.0, 0.0, 0.0]])


def test_evaluate_levy_on_a_year_matches_the_hand_rule() -> None:
    # landed = outside x 1.1; outside 100 for 6 months then 50: quarterly reset, 1-month lag, reference 121
    outside = np.array([[100.0] * 6 + [50.0] * 6])
    mech = Mechanism("levy", 121.0, 120.0, member_output_t_per_year=240.0, reset_months=3, lag_months=1)
    params = NO_DISCOUNT.with_overrides({("levy_import_elasticity", "default"): 0.0})
    res = evaluate(mech, from_array("gallium", outside), material="gallium", params=params)
    # landed 110 in months 0-5, then 55 (0-based); quarters start at months 0, 3, 6, 9 and see months
    # -4..-2, -1..1, 2..4, 5..7 (a quarter lagged 1 month; before month 0: the first landed price, 110):
    # levy 121 - 110 = 11 for three quarters, then 121 - mean(110, 55, 55) = 47.67
    lv = res.flows.levy_per_t
    assert lv is not None
    np.testing.assert_allclose(lv[0], [11.0] * 9 + [121 - (110 + 55 + 55) / 3] * 3)
    collected = (lv[0] * 10.0).sum()  # 120 t/yr of imports = 10 t/month, fixed (elasticity 0)
    assert res.summary["levy_revenue_pv_usd"]["mean"] == pytest.approx(collected)
    assert res.summary["fiscal_cost_pv_usd"]["mean"] == pytest.approx(-collected)
    # consumers pay it on imports and on member output (20 t/month); member producers receive the uplift
    assert res.summary["consumer_cost_pv_usd"]["mean"] == pytest.approx((lv[0] * 30.0).sum())
    np.testing.assert_allclose(res.flows.producer_revenue[0], (outside[0] * 1.1 + lv[0]) * 20.0)


def test_a_levy_of_zero_changes_nothing() -> None:
    rng = np.random.default_rng(3)
    outside = np.exp(rng.normal(np.log(100), 0.2, size=(300, 36)))
    zp = from_array("gallium", outside)
    low = 0.5 * zp.landed().min()  # a reference below every landed price: the levy is always zero
    res = evaluate(Mechanism("levy", low, 500.0, member_output_t_per_year=800.0), zp, material="gallium")
    s, fl = res.summary, res.flows
    assert fl.levy_per_t is not None and fl.imports_t is not None
    assert (fl.levy_per_t == 0).all()
    np.testing.assert_allclose(fl.imports_t, np.full_like(outside, 500.0 / 12))  # imports unchanged
    np.testing.assert_allclose(fl.producer_revenue, zp.landed() * 800.0 / 12)  # producers: market revenue
    for k in ("fiscal_cost_pv_usd", "consumer_cost_pv_usd", "levy_revenue_pv_usd", "supply_response_pct"):
        assert s[k] == {"mean": 0.0, "p5": 0.0, "p50": 0.0, "p95": 0.0}, k
    assert s["producer_revenue_cv"] == s["producer_revenue_cv_without"]


@pytest.mark.parametrize(("reset", "lag", "eps"), [(1, 0, -0.4), (3, 1, -1.2), (12, 2, 0.0)])
def test_vectorised_levy_matches_the_loop(reset: int, lag: int, eps: float) -> None:
    rng = np.random.default_rng(reset + lag)
    outside = np.exp(rng.normal(np.log(100), 0.3, size=(40, 48)))
    mech = Mechanism("levy", 115.0, [100.0, 200.0, 300.0, 400.0], reset_months=reset, lag_months=lag)
    params = ParameterSet().with_overrides({("levy_import_elasticity", "default"): eps})
    res = evaluate(mech, outside, material="gallium", params=params)
    ref = evaluate_reference(mech, outside, 0.02, 0.3, 0.8, params=params)
    np.testing.assert_allclose(res.fiscal_cost_pv, ref, rtol=1e-10)
    # a more elastic import demand collects less on every path (the levy is the same, imports fall more)
    more = evaluate(
        mech,
        outside,
        material="gallium",
        params=params.with_overrides({("levy_import_elasticity", "default"): eps - 1}),
    )
    assert (more.fiscal_cost_pv >= res.fiscal_cost_pv - 1e-9).all()


def test_levy_incidence_per_member_sums_to_the_levy_collected() -> None:
    from critmin.runs.floor import FloorRequest, run

    req = FloorRequest(
        material="ndpr-oxide",
        mechanism="levy",
        strike_usd_per_kg=110,
        volume_t=2000,
        member_output_t=1000,
        paths=300,
        projects=False,
    )
    s = run(req).summary
    inc = s["levy_incidence_pv_usd"].set_index("iso3")
    collected = s["levy_revenue_pv_usd"]["mean"]
    uplift = s["consumer_cost_pv_usd"]["mean"] - collected
    assert collected > 0 and uplift > 0
    # importers pay and treasuries receive the levy collected; consumers pay and producers receive the uplift
    assert inc["importers_pay_usd"].sum() == pytest.approx(collected, rel=1e-12)
    assert inc["treasury_receives_usd"].sum() == pytest.approx(collected, rel=1e-12)
    assert inc["producers_receive_usd"].sum() == pytest.approx(uplift, rel=1e-12)
    assert inc["consumers_pay_uplift_usd"].sum() == pytest.approx(uplift, rel=1e-12)
    # member producers of magnet rare earths (atlas refine stage) receive the uplift; importers pay
    assert inc["producers_receive_usd"].idxmax() in {"AUS", "MYS", "USA", "EST", "JPN"}
    assert {"JPN", "KOR", "DEU"} & set(inc.index[inc["importers_pay_usd"] > 0])
