"""The small-step series and the certified Taylor step of the zone solver (market.md, "Solver")."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq

from critmin.market.equilibrium import clear_point, taylor_step
from critmin.market.series import SMALL_STEP, exp_small, expm1_known, expm1_small


def _ulps(got: float, want: float) -> float:
    return abs(got - want) / math.ulp(want)


def test_the_series_are_within_an_ulp_or_two_on_their_range() -> None:
    for y in np.linspace(-SMALL_STEP, SMALL_STEP, 40_001):
        assert _ulps(exp_small(float(y)), math.exp(y)) <= 1.5
        if y != 0.0:
            assert abs(expm1_small(float(y)) / math.expm1(y) - 1.0) <= 4e-16


def test_expm1_from_a_known_exp_keeps_its_relative_accuracy() -> None:
    # below the step the series, above it ey - 1, whose error is exp(y)'s rounding over |y| > 0.02
    for y in np.concatenate([np.linspace(-3.0, 3.0, 20_001), np.geomspace(1e-12, 1.0, 2_001)]):
        want = math.expm1(y)
        if want != 0.0:
            assert abs(expm1_known(float(y), math.exp(y)) / want - 1.0) <= 6e-15


def _excess(x: float, s0: float, d0: float, es: float, ed: float, g: float, want: float, sig: float) -> float:
    hold = want  # stocks at their target: only the price moves them
    return s0 * math.expm1(es * x) - d0 * math.expm1(ed * x) + hold - want * math.exp(-sig * x) - g


rates = st.floats(0.01, 2.0)
ZONE = {  # a zone's baseline, elasticities and wanted stock
    "s0": st.floats(0.5, 100.0),
    "d0": st.floats(0.5, 100.0),
    "es": rates,
    "ed": rates.map(lambda v: -v),
    "sig": rates,
    "want": st.floats(0.0, 50.0),
}


@settings(max_examples=300, deadline=None)
@given(
    **ZONE,
    root=st.floats(-0.5, 0.5),
    off=st.floats(-0.05, 0.05),
)
def test_a_certified_step_lands_where_the_stopping_rule_holds(
    s0: float, d0: float, es: float, ed: float, sig: float, want: float, root: float, off: float
) -> None:
    # a gap that puts the root at `root`, an iterate `off` away from it: certified means |f| <= tol there
    g = _excess(root, s0, d0, es, ed, 0.0, want, sig)
    x = root + off
    f = _excess(x, s0, d0, es, ed, g, want, sig)
    sc = 1e-12 * (s0 + d0)
    d, certain = taylor_step(
        f, s0 * math.exp(es * x), d0 * math.exp(ed * x), want * math.exp(-sig * x), es, ed, sig, sc
    )
    assert math.isfinite(d)
    if certain:
        assert abs(_excess(x + d, s0, d0, es, ed, g, want, sig)) <= sc
    k = max(es, -ed, sig)
    if k * abs(off) <= 1e-3:  # close starts are certified (the whole point of the step)
        assert certain


@settings(max_examples=200, deadline=None)
@given(
    **ZONE,
    gap=st.floats(-20.0, 20.0),
    x0=st.floats(-0.3, 0.3),
)
def test_clear_point_meets_the_rule_and_agrees_with_brentq(
    s0: float, d0: float, es: float, ed: float, sig: float, want: float, gap: float, x0: float
) -> None:
    cap, floor = 10.0, 0.1
    x, short, surplus, ok = clear_point(s0, d0, es, ed, gap, cap, floor, want, want, sig, x0, 1e-12, 100)
    assert ok
    if short == 0.0 and surplus == 0.0 and math.log(floor) < x < math.log(cap):
        assert abs(_excess(x, s0, d0, es, ed, gap, want, sig)) <= 1e-12 * (s0 + d0)
        ref = brentq(
            _excess, math.log(floor), math.log(cap), args=(s0, d0, es, ed, gap, want, sig), xtol=1e-15
        )
        assert abs(x - ref) <= 1e-10
