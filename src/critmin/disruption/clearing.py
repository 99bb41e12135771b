"""The outside zone's monthly clearing in the Monte Carlo kernel, compiled and inlined into the cell loop.

The same bracket, Newton steps and stopping rule as :func:`critmin.market.equilibrium.clear_point`,
returning the powers ``p^es``, ``p^ed``, ``p^-sigma`` of the last evaluation so that the month's
quantities and losses reuse them (see ``docs/methods/disruption.md``). Split into a start and a step so
that ``benchmarks/bench_kernel.py`` can replay and count the kernel's evaluations with the same code.
"""

from __future__ import annotations

import math

from numba import njit

from critmin.market.equilibrium import newton_iterate
from critmin.market.series import exp_small


@njit(cache=True, error_model="numpy", inline="always")
def first_guess(x1: float, x2: float) -> float:
    """A month's first iterate from the answers of the last two months visited, ``x1`` (last) and ``x2``:
    their linear extrapolation when both left the baseline, else ``x1`` (0: the linearised guess)."""
    return 2.0 * x1 - x2 if x1 != 0.0 and x2 != 0.0 else x1


@njit(cache=True, error_model="numpy", inline="always")
def _bound_excess(
    x: float, s0: float, d0: float, es: float, ed: float, g: float, hold: float, want: float, sig: float
) -> tuple[float, float, float, float]:
    """Excess supply at a bound ``x`` (the choke or floor price; as ``market.equilibrium._excess``) and
    ``(p^es, p^ed, p^-sig)`` there."""
    ua, ub, er = math.expm1(es * x), math.expm1(ed * x), math.exp(-sig * x)
    return s0 * ua - d0 * ub + hold - want * er - g, ua + 1.0, ub + 1.0, er


@njit(cache=True, error_model="numpy", inline="always")
def _fused_start(
    s0: float,
    d0: float,
    es: float,
    ed: float,
    g: float,
    lcap: float,
    lfloor: float,
    hold: float,
    want: float,
    sig: float,
    x0: float,
    tol: float,
) -> tuple[bool, float, float, float, bool, float]:
    """The start of :func:`clear_fused`: ``(balanced, sc, lo, hi, rising, xa)`` with ``sc`` the stopping
    scale, ``[lo, hi]`` the bracket (its bound is ``hi`` if ``rising`` else ``lo``) and ``xa`` the first
    iterate (``x0``, or the linearised guess when ``x0 == 0``, kept in the bracket)."""
    sc = tol * max(s0 + d0, 1e-300)
    f0 = hold - want - g  # f at the baseline price
    rising = f0 < 0.0
    lo, hi = (0.0, lcap) if rising else (lfloor, 0.0)
    xa = x0 if x0 != 0.0 else -f0 / max(s0 * es - d0 * ed + want * sig, 1e-300)
    return abs(f0) <= sc, sc, lo, hi, rising, min(max(xa, lo), hi)


@njit(cache=True, error_model="numpy", inline="always")
def _fused_step(
    s0: float,
    d0: float,
    es: float,
    ed: float,
    g: float,
    hold: float,
    want: float,
    sig: float,
    sc: float,
    rising: bool,
    lo: float,
    hi: float,
    xa: float,
    checked: bool,
    bound: float,
) -> tuple[bool, float, float, float, float, float, float, float, bool]:
    """One iteration of :func:`clear_fused` from ``xa`` in ``[lo, hi]``: ``(done, x, shortfall, p^es,
    p^ed, p^-sig, lo, hi, checked)``; when not done, ``x`` is the next iterate and the powers are unset."""
    if xa == bound and not checked:  # started on the bound (last month's choke): test it first
        checked = True
        fb, ba, bb, br = _bound_excess(bound, s0, d0, es, ed, g, hold, want, sig)
        if (rising and fb <= 0.0) or (not rising and fb >= 0.0):
            return True, bound, max(-fb, 0.0) if rising else 0.0, ba, bb, br, lo, hi, checked
    done, step, inside, ea, eb, er, lo, hi = newton_iterate(
        xa, s0, d0, es, ed, g, hold, want, sig, sc, lo, hi
    )
    if done:  # the powers at the answer by their series (exactly the evaluated ones when step == 0)
        pes, ped, psig = ea * exp_small(es * step), eb * exp_small(ed * step), er * exp_small(-sig * step)
        return True, xa + step, 0.0, pes, ped, psig, lo, hi, checked
    xn = xa + step
    if not inside and not checked:
        checked = True  # the step leaves the bracket: is the bound the answer?
        fb, ba, bb, br = _bound_excess(bound, s0, d0, es, ed, g, hold, want, sig)
        if (rising and fb <= 0.0) or (not rising and fb >= 0.0):
            return True, bound, max(-fb, 0.0) if rising else 0.0, ba, bb, br, lo, hi, checked
    return False, xn if inside else 0.5 * (lo + hi), 0.0, 1.0, 1.0, 1.0, lo, hi, checked


@njit(cache=True, error_model="numpy", inline="always")
def clear_fused(
    s0: float,
    d0: float,
    es: float,
    ed: float,
    g: float,
    lcap: float,
    lfloor: float,
    hold: float,
    want: float,
    sig: float,
    x0: float,
    tol: float,
    max_iter: int,
) -> tuple[float, float, float, float, float, bool]:
    """The outside zone's clearing of :func:`critmin.market.equilibrium.clear_point` (same bracket, same
    Newton steps, same stopping rule), returning ``(ln p, shortfall, p^es, p^ed, p^-sig, converged)`` so
    the month's quantities and losses reuse the powers of the last evaluation. The bound (choke price when
    the price rises, floor when it falls) is evaluated only when a step leaves the bracket or starts on
    it, not every month: the root lies inside the bracket exactly when the bound is not the answer. Its two
    parts (:func:`_fused_start`, :func:`_fused_step`) are also what ``benchmarks/bench_kernel.py`` replays
    to count the kernel's work; all three are inlined into the cell loop."""
    balanced, sc, lo, hi, rising, xa = _fused_start(s0, d0, es, ed, g, lcap, lfloor, hold, want, sig, x0, tol)
    if balanced:  # the baseline price
        return 0.0, 0.0, 1.0, 1.0, 1.0, True
    bound, checked = hi if rising else lo, False
    for _ in range(max_iter):
        done, x, short, pes, ped, psig, lo, hi, checked = _fused_step(
            s0, d0, es, ed, g, hold, want, sig, sc, rising, lo, hi, xa, checked, bound
        )
        if done:
            return x, short, pes, ped, psig, True
        xa = x
    return xa, 0.0, math.exp(es * xa), math.exp(ed * xa), math.exp(-sig * xa), False
