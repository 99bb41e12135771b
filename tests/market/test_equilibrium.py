"""The zone solver against closed forms, bounds and monotonicity."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from critmin.market import solve_zone


def test_closed_form_unit_elastic_demand_fixed_supply() -> None:
    # S fixed at 60, D = 90 / p  (ed = -1): gap 30 means demand must fall to 60 -> p = 1.5
    r = solve_zone(
        np.array([60.0]), np.array([90.0]), np.array([0.0]), np.array([-1.0]), np.array([30.0]), 10.0, 0.1
    )
    assert r.price_index[0] == pytest.approx(1.5, rel=1e-12)
    assert r.demand_destroyed[0] == pytest.approx(30.0, rel=1e-12)
    assert r.shortfall[0] == 0.0


def test_quadratic_case_in_sqrt_price() -> None:
    # 48 (p^0.5 - 1) - 18 (p^-0.5 - 1) = -18  ->  48 u^2 - 12 u - 18 = 0 with u = sqrt(p) -> u = 0.75
    r = solve_zone(
        np.array([48.0]), np.array([18.0]), np.array([0.5]), np.array([-0.5]), np.array([-18.0]), 10.0, 0.01
    )
    assert r.price_index[0] == pytest.approx(0.5625, rel=1e-12)


def test_cap_leaves_shortfall_equal_to_the_unclosed_gap() -> None:
    # D = 90 p^-0.5, S = 60 fixed, gap 18, cap 1.44: demand at cap 75, supply 72 -> 3 short
    r = solve_zone(
        np.array([60.0]), np.array([90.0]), np.array([0.0]), np.array([-0.5]), np.array([18.0]), 1.44, 0.5
    )
    assert r.price_index[0] == pytest.approx(1.44, rel=1e-12)
    assert r.shortfall[0] == pytest.approx(3.0, rel=1e-12)
    assert r.demand_destroyed[0] == pytest.approx(15.0, rel=1e-12)


def test_zero_gap_is_baseline_even_without_a_market() -> None:
    r = solve_zone(np.zeros(3), np.zeros(3), np.zeros(3), np.zeros(3), np.zeros(3), 5.0, 0.2)
    assert np.all(r.price_index == 1.0)
    assert np.all(r.shortfall == 0.0)


def test_bad_inputs_are_rejected() -> None:
    with pytest.raises(ValueError, match="elasticity"):
        solve_zone(np.ones(1), np.ones(1), np.array([-0.1]), np.array([-0.1]), np.zeros(1), 2.0, 0.5)
    with pytest.raises(ValueError, match="floor"):
        solve_zone(np.ones(1), np.ones(1), np.zeros(1), np.array([-0.1]), np.zeros(1), 0.9, 0.5)


@settings(max_examples=60, deadline=None)
@given(
    s0=st.floats(0.0, 1e4),
    d0=st.floats(1.0, 1e4),
    es=st.floats(0.0, 2.0),
    ed=st.floats(-2.0, -0.01),
    g1=st.floats(-0.5, 1.0),
    g2=st.floats(-0.5, 1.0),
)
def test_price_is_monotone_in_the_gap_and_solves_the_equation(
    s0: float, d0: float, es: float, ed: float, g1: float, g2: float
) -> None:
    lo, hi = sorted((g1 * d0, g2 * d0))
    r = solve_zone(
        np.full(2, s0), np.full(2, d0), np.full(2, es), np.full(2, ed), np.array([lo, hi]), 6.5, 0.25
    )
    assert r.price_index[0] <= r.price_index[1] * (1 + 1e-12)
    # interior solutions satisfy the clearing equation; capped ones leave a non-negative shortfall
    for k, gap in enumerate((lo, hi)):
        p = r.price_index[k]
        if r.shortfall[k] == 0 and r.surplus[k] == 0:
            resid = s0 * (p**es - 1) - d0 * (p**ed - 1) - gap
            assert abs(resid) <= 1e-9 * (s0 + d0)
        assert r.shortfall[k] >= 0
        assert r.shortfall[k] <= max(gap, 0.0) + 1e-9
