"""Exponentials of small arguments by their Taylor series, compiled and inlined into the solvers' loops.

A zone's clearing evaluates ``e^(es x)``, ``e^(ed x)``, ``e^(-sigma x)`` once; a small step ``d`` from ``x``
then needs ``e^(es d)`` and so on, which their series give to within an ulp without a call to the C
library (``docs/methods/market.md``, "Solver").
"""

from __future__ import annotations

from numba import njit

SMALL_STEP = 0.02  # |y| up to which exp_small(y) is within an ulp of exp(y)


@njit(cache=True, error_model="numpy", inline="always")
def expm1_small(y: float) -> float:
    """``exp(y) - 1`` for ``|y| <= SMALL_STEP`` by its Taylor series to ``y^8`` (truncation below 2e-21
    relative)."""
    s = 1.0 / 720.0 + y * (1.0 / 5040.0 + y / 40320.0)
    return y * (1.0 + y * (0.5 + y * (1.0 / 6.0 + y * (1.0 / 24.0 + y * (1.0 / 120.0 + y * s)))))


@njit(cache=True, error_model="numpy", inline="always")
def exp_small(y: float) -> float:
    """``exp(y)`` for ``|y| <= SMALL_STEP`` (within an ulp)."""
    return 1.0 + expm1_small(y)


@njit(cache=True, error_model="numpy", inline="always")
def expm1_known(y: float, ey: float) -> float:
    """``exp(y) - 1`` given ``ey = exp(y)``: the series where ``|y| <= SMALL_STEP``, else ``ey - 1``
    (relative error below 6e-15 there: ``ey``'s rounding over ``|y| > 0.02``)."""
    return expm1_small(y) if abs(y) <= SMALL_STEP else ey - 1.0
