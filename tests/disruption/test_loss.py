"""The loss function: closed forms against numerical integrals, identities, and metamorphic relations."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad

from critmin.disruption.kernel import propagate
from critmin.disruption.loss import demand_integral, loss_parts, producer_loss

from .test_kernel import params


@pytest.mark.parametrize(
    ("p", "ed"), [(1.44, -0.5), (2.7, -0.1), (6.5, -1.0), (3.0, -1.7), (0.6, -0.4), (1.0001, -0.25)]
)
def test_priced_out_closed_form_equals_the_numerical_integral(p: float, ed: float) -> None:
    d0, p0 = 90.0, 250.0
    area, _ = quad(lambda s: d0 * s**ed, 1.0, p, epsabs=0, epsrel=1e-13)  # surplus lost, all demand
    expected_b = p0 * (area - (p - 1.0) * d0 * p**ed)
    got = loss_parts(p, d0, ed, 0.0, 0.0, p0, 0.0)
    assert float(got.priced_out_usd) == pytest.approx(expected_b, rel=1e-9, abs=1e-9)
    assert float(got.priced_out_usd) >= 0.0  # the demand curve slopes down: never negative
    # with nothing unmet, (a) + (b) is the whole area under the demand curve between 1 and p
    assert float(got.extra_cost_usd + got.priced_out_usd) == pytest.approx(p0 * area, rel=1e-9)


def test_integral_is_continuous_through_unit_elasticity() -> None:
    p = np.full(3, 2.5)
    got = demand_integral(p, np.array([-1.0 - 1e-7, -1.0, -1.0 + 1e-7]))
    np.testing.assert_allclose(got, np.log(2.5), rtol=1e-6)


def test_parts_by_hand_and_baseline_and_unpriced() -> None:
    # p = 2, D0 = 100 t, ed = -1 (D(2) = 50 t), 10 t unmet, own supply 30 t, p0 = 1,000, 5,000/t unmet
    got = loss_parts(2.0, 100.0, -1.0, 10.0, 30.0, 1000.0, 5000.0)
    assert float(got.extra_cost_usd) == pytest.approx(1.0 * 1000 * 40)  # (2 - 1) x p0 x (50 - 10)
    assert float(got.priced_out_usd) == pytest.approx(1000 * (100 * np.log(2.0) - 50))  # 100 ln 2 - 50
    assert float(got.unmet_value_usd) == pytest.approx(50_000.0)
    assert float(got.windfall_usd) == pytest.approx(30_000.0)
    assert float(got.welfare_loss_usd) == pytest.approx(40_000 + 1000 * (100 * np.log(2.0) - 50) + 50_000)
    assert float(got.net_loss_usd) == pytest.approx(float(got.welfare_loss_usd) - 30_000)
    base = loss_parts(np.ones(4), 100.0, -0.3, 0.0, 50.0, 1000.0, 5000.0)
    assert np.all(base.welfare_loss_usd == 0.0) and np.all(base.windfall_usd == 0.0)
    nan = loss_parts(2.0, 100.0, -1.0, 10.0, 30.0, np.nan, 5000.0)
    assert all(np.isnan(v) for v in (nan.extra_cost_usd, nan.priced_out_usd, nan.unmet_value_usd))
    # the restrictor's producers: 100 x S0 (1 - p^(es+1)) / (es + 1) at p = 0.5625, es = 0.5 (market.md)
    assert float(producer_loss(0.5625, 48.0, 0.5, 100.0)) == pytest.approx(1850.0)
    with pytest.raises(ValueError, match="price index"):
        loss_parts(0.0, 1.0, -0.1, 0.0, 0.0, 1.0, 1.0)


def _run(share: float, months: int, T: int = 18, **kw: float):  # type: ignore[no-untyped-def]
    p = params(**kw)
    a, c = np.array([[0.9]]), np.array([[0.4]])
    w = np.zeros((1, 1, T))
    w[0, 0, :months] = share * 0.5
    return propagate(p, a, c, w, keep_paths=True)


def test_no_event_no_loss_flat_price_and_any_event_a_loss_and_a_price_move() -> None:
    base = _run(0.0, 0)
    assert base.price_outside is not None and np.all(base.price_outside == 1.0)
    assert base.loss_usd[0, 0] == 0.0 and base.windfall_usd[0, 0] == 0.0
    for share, months in ((0.05, 1), (0.3, 3), (1.0, 12)):
        out = _run(share, months)
        assert out.price_outside is not None
        assert out.price_outside.max() > 1.0 and out.loss_usd[0, 0] > 0.0
        assert out.extra_cost_usd[0, 0] > 0.0 and out.priced_out_usd[0, 0] > 0.0


@settings(max_examples=30, deadline=None)
@given(
    s1=st.floats(0.02, 1.0),
    s2=st.floats(0.02, 1.0),
    m1=st.integers(1, 14),
    m2=st.integers(1, 14),
    inv=st.floats(0.0, 120.0),
    draw=st.floats(0.05, 0.5),
    sigma=st.floats(0.5, 10.0),
    prec=st.floats(0.0, 1.5),
)
def test_longer_or_larger_restriction_never_lowers_price_or_loss(
    s1: float, s2: float, m1: int, m2: int, inv: float, draw: float, sigma: float, prec: float
) -> None:
    kw = {"inventory_days": inv, "inventory_draw": draw, "storage_sigma": sigma, "precaution": 0.0}
    pairs = [(_run(min(s1, s2), min(m1, m2), **kw), _run(max(s1, s2), max(m1, m2), **kw))]
    # with precautionary buying, a larger restriction of the same length (docs/methods/market.md: a longer
    # one can leave a stock overhang that is sold below the baseline after it ends)
    kw["precaution"] = prec
    pairs.append((_run(min(s1, s2), m1, **kw), _run(max(s1, s2), m1, **kw)))
    for small, big in pairs:
        assert small.price_outside is not None and big.price_outside is not None
        assert np.all(big.price_outside >= small.price_outside * (1 - 1e-9))
        assert big.loss_usd[0, 0] >= small.loss_usd[0, 0] * (1 - 1e-9)


@settings(max_examples=30, deadline=None)
@given(
    share=st.floats(0.02, 1.0),
    inv=st.floats(5.0, 365.0),
    draw=st.floats(0.05, 0.5),
    sigma=st.floats(0.5, 10.0),
)
def test_steady_restriction_with_stocks_drawn_keeps_the_price_above_one(
    share: float, inv: float, draw: float, sigma: float
) -> None:
    out = _run(share, 12, T=12, inventory_days=inv, inventory_draw=draw, storage_sigma=sigma, spare_share=0.0)
    assert out.price_outside is not None and out.stock_release_t is not None
    drawn = out.stock_release_t[0, 0] > 0
    assert drawn[0]  # stocks are drawn from the first month (and rebuilt later once they run low)
    assert np.all(out.price_outside[0, 0][drawn] > 1.0)  # sold only above the baseline price
    assert np.all(out.price_outside[0, 0] > 1.0)  # and in every month the restriction lasts
