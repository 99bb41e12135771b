"""Clearing of one price zone with iso-elastic supply and demand, batched over any array shape.

A zone has baseline monthly supply ``S0`` and demand ``D0`` at price index 1. A supply gap ``G`` (tonnes
per month, at the baseline price, after buffers) must be closed by extra supply, stock sales and lost
demand:

    f(x) = S0 (exp(es x) - 1) + D0 (1 - exp(ed x)) + N(x) - G = 0,   x = ln p,  es >= 0 >= ed,

where ``N(x) = rho (H - H* exp(-sigma x))`` is the net sale of commercial stocks (negative: purchases).
Holders want to hold ``H* p^-sigma``: the higher the price now against the price they expect (the
baseline, net of carrying cost), the less stock is worth holding; each month they close ``rho`` of the
gap between what they hold (``H``) and what they want (``docs/methods/market.md``, "Storage").
In the solver ``hold = rho H`` and ``want = rho H*``.

``f`` is non-decreasing in ``x``, so the root is unique when it exists. The price is bounded to
``[floor, cap]``: at the cap the remaining gap is unmet demand (shortfall); at the floor the remaining
surplus is unsold output. The solver is a bracketed Newton iteration (bisection whenever a step leaves the
bracket), compiled with numba and run element by element over the flattened inputs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit
from numpy.typing import NDArray

from critmin.market.series import SMALL_STEP

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class ZoneSolution:
    """Clearing price index and the residual the bounds left (all arrays of the input shape)."""

    price_index: FloatArray
    shortfall: FloatArray  # gap left unmet at the cap (>= 0)
    surplus: FloatArray  # surplus left unsold at the floor (>= 0)
    demand_destroyed: FloatArray  # D0 (1 - p**ed) (negative when demand grows at a lower price)
    stock_sold: FloatArray  # net sale of commercial stocks N(ln p) (negative: purchases)


def stock_sale(x: FloatArray, hold: FloatArray, want: FloatArray, sigma: FloatArray) -> FloatArray:
    """``N(x) = hold - want exp(-sigma x)``: net sale of commercial stocks at ``x = ln p``."""
    return np.asarray(hold - want * np.exp(-sigma * x), dtype=np.float64)


def solve_zone(
    s0: FloatArray,
    d0: FloatArray,
    es: FloatArray,
    ed: FloatArray,
    gap: FloatArray,
    cap: FloatArray | float,
    floor: FloatArray | float,
    stock_hold: FloatArray | float = 0.0,
    stock_want: FloatArray | float = 0.0,
    stock_sigma: FloatArray | float = 1.0,
    *,
    x0: FloatArray | None = None,
    tol: float = 1e-12,
    max_iter: int = 100,
) -> ZoneSolution:
    """Solve ``f(ln p) = 0`` for every element; inputs broadcast to a common shape.

    ``stock_hold``, ``stock_want``: ``rho H`` and ``rho H*`` of the zone's commercial stocks (tonnes);
    ``stock_sigma``: how fast the wanted stock falls as the price rises. ``x0``: optional first guess of
    ``ln p`` per element (e.g. last month's answer; 0 means none). ``tol`` is relative to ``s0 + d0``.
    Raises ``ValueError`` on a negative baseline or release, a wrong-signed elasticity or bounds that do
    not contain 1.
    """
    arrays = np.broadcast_arrays(
        *(
            np.asarray(v, dtype=np.float64)
            for v in (
                s0,
                d0,
                es,
                ed,
                gap,
                cap,
                floor,
                stock_hold,
                stock_want,
                stock_sigma,
                0.0 if x0 is None else x0,
            )
        )
    )
    s0, d0, es, ed, gap, cap_a, floor_a, hold, want, sig, _ = arrays
    if np.any(s0 < 0) or np.any(d0 < 0) or np.any(hold < 0) or np.any(want < 0):
        raise ValueError("solve_zone: baseline supply, demand and stocks must be >= 0")
    if np.any(es < 0) or np.any(ed > 0) or np.any(sig < 0):
        raise ValueError(
            "solve_zone: expected supply elasticity >= 0, demand elasticity <= 0, release sigma >= 0"
        )
    if np.any(cap_a < 1) or np.any(floor_a > 1) or np.any(floor_a <= 0):
        raise ValueError("solve_zone: expected 0 < floor <= 1 <= cap")
    shape = s0.shape
    f = [np.array(v, dtype=np.float64).reshape(-1) for v in arrays]
    x, short, surplus, failed = _solve_elements(
        f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10], tol, max_iter
    )
    if failed:
        raise RuntimeError(f"solve_zone: {failed} elements did not converge in {max_iter} iterations")
    x = x.reshape(shape)
    return ZoneSolution(
        price_index=np.exp(x),
        shortfall=short.reshape(shape),
        surplus=surplus.reshape(shape),
        demand_destroyed=-d0 * np.expm1(ed * x),
        stock_sold=stock_sale(x, hold, want, sig),
    )


@njit(cache=True, error_model="numpy", inline="always")
def taylor_step(
    f: float, a: float, b: float, r: float, es: float, ed: float, sig: float, sc: float
) -> tuple[float, bool]:
    """The step ``d`` from ``x`` to the root of the quintic Taylor model of ``f`` at ``x``, and whether
    ``|f(x + d)| <= sc`` is certain without evaluating ``f`` there.

    ``f`` is the excess at ``x``; ``a = S0 e^(es x)``, ``b = D0 e^(ed x)``, ``r = want e^(-sig x)`` its three
    exponential terms, so the model's coefficients ``c_n = (a es^n - b ed^n - r (-sig)^n) / n!`` cost no
    further exp and do not wait for ``f``. The model's root is its series reversion in the Newton step
    ``u = -f / c_1`` to ``u^5`` (one division; ``u`` alone when ``k |u| > 0.1``, ``k`` the largest rate).
    Certain when ``k |d| <= SMALL_STEP`` and the model's residual plus the Lagrange bound of the remainder,
    ``(a es^6 + b ed^6 + r sig^6) e^(k |d|) d^6 / 720``, is at most ``sc / 20`` (``docs/methods/market.md``,
    "Solver"). ``(nan, False)`` when ``f' <= 0``."""
    ae, be, re = a * es, b * ed, r * sig  # the n-th terms a es^n, b ed^n, r sig^n, by hand
    c1 = ae - be + re
    if not c1 > 0.0:
        return math.nan, False
    inv = 1.0 / c1
    u = -f * inv
    k = max(es, -ed, sig)
    if k * abs(u) > 0.1:  # far from the root: the Newton step
        return u, False
    ae, be, re = ae * es, be * ed, re * sig
    c2 = 0.5 * (ae - be - re)
    ae, be, re = ae * es, be * ed, re * sig
    c3 = (ae - be + re) / 6.0
    ae, be, re = ae * es, be * ed, re * sig
    c4 = (ae - be - re) / 24.0
    ae, be, re = ae * es, be * ed, re * sig
    c5 = (ae - be + re) / 120.0
    b2, b3, b4, b5 = c2 * inv, c3 * inv, c4 * inv, c5 * inv
    b22 = b2 * b2
    r5 = 14.0 * b22 * b22 - 21.0 * b22 * b3 + 6.0 * b2 * b4 + 3.0 * b3 * b3 - b5
    d = u * (1.0 + u * (-b2 + u * (2.0 * b22 - b3 + u * (5.0 * b2 * (b3 - b22) - b4 + u * r5))))
    rest = f + d * (c1 + d * (c2 + d * (c3 + d * (c4 + d * c5)))) if k * abs(d) <= SMALL_STEP else math.inf
    six = (ae * es + be * ed + re * sig) * 1.021  # a es^6 + b ed^6 + r sig^6; e^(k |d|) <= e^0.02 < 1.021
    d3 = d * d * d
    return d, abs(rest) + six * d3 * d3 / 720.0 <= 0.05 * sc


@njit(cache=True, error_model="numpy", inline="always")
def newton_iterate(
    xa: float,
    s0: float,
    d0: float,
    es: float,
    ed: float,
    g: float,
    hold: float,
    want: float,
    sig: float,
    sc: float,
    lo: float,
    hi: float,
) -> tuple[bool, float, bool, float, float, float, float, float]:
    """One evaluation of ``f`` at ``xa`` in ``[lo, hi]`` and the step from it, the one stopping rule of the
    zone solvers (:func:`clear_point`, the kernel's ``clearing._fused_step``): ``(done, d, inside, e^(es xa),
    e^(ed xa), e^(-sig xa), lo, hi)``. Done with the answer ``xa + d`` when the step is certified
    (:func:`taylor_step`; also a polish of an iterate that already meets the rule) or, with ``d = 0``, when
    ``|f(xa)| <= sc``; else ``xa + d`` is the next iterate if ``inside`` the narrowed bracket."""
    ea, eb, er = math.exp(es * xa), math.exp(ed * xa), math.exp(-sig * xa)
    f = s0 * (ea - 1.0) - d0 * (eb - 1.0) + hold - want * er - g
    if f < 0.0:
        lo = xa
    else:
        hi = xa
    step, certain = taylor_step(f, s0 * ea, d0 * eb, want * er, es, ed, sig, sc)
    xn = xa + step
    inside = math.isfinite(xn) and lo < xn < hi
    if certain and inside:
        return True, step, inside, ea, eb, er, lo, hi
    if abs(f) <= sc:
        return True, 0.0, inside, ea, eb, er, lo, hi
    return False, step, inside, ea, eb, er, lo, hi


@njit(cache=True, error_model="numpy")
def _excess(
    x: float, s0: float, d0: float, es: float, ed: float, g: float, hold: float, want: float, sig: float
) -> float:
    return float(s0 * math.expm1(es * x) - d0 * math.expm1(ed * x) + hold - want * math.exp(-sig * x) - g)


@njit(cache=True, error_model="numpy")
def clear_point(
    s0: float,
    d0: float,
    es: float,
    ed: float,
    g: float,
    cap: float,
    floor: float,
    hold: float,
    want: float,
    sig: float,
    x0: float,
    tol: float,
    max_iter: int,
) -> tuple[float, float, float, bool]:
    """``(ln p, shortfall, surplus, converged)`` of one element: bounds first, then bracketed Newton from
    ``x0`` (0: the linearised guess), bisecting whenever a step leaves the bracket."""
    sc = tol * max(s0 + d0, 1e-300)
    f0 = hold - want - g  # f at the baseline price
    if abs(f0) <= sc:  # balanced: the baseline price
        return 0.0, 0.0, 0.0, True
    lo, hi = math.log(floor), math.log(cap)
    if f0 < 0.0:  # the price rises: is the choke price reached?
        f_hi = _excess(hi, s0, d0, es, ed, g, hold, want, sig)
        if f_hi <= 0.0:
            return hi, max(-f_hi, 0.0), 0.0, True
        lo = 0.0
    else:  # the price falls: is the floor reached?
        f_lo = _excess(lo, s0, d0, es, ed, g, hold, want, sig)
        if f_lo >= 0.0:
            return lo, 0.0, max(f_lo, 0.0), True
        hi = 0.0
    xa = x0 if x0 != 0.0 else -f0 / max(s0 * es - d0 * ed + want * sig, 1e-300)
    xa = min(max(xa, lo), hi)
    for _ in range(max_iter):
        done, step, inside, _, _, _, lo, hi = newton_iterate(
            xa, s0, d0, es, ed, g, hold, want, sig, sc, lo, hi
        )
        if done:
            return xa + step, 0.0, 0.0, True
        xa = xa + step if inside else 0.5 * (lo + hi)
    return xa, 0.0, 0.0, False


@njit(cache=True, error_model="numpy")
def _solve_elements(
    s0: FloatArray,
    d0: FloatArray,
    es: FloatArray,
    ed: FloatArray,
    gap: FloatArray,
    cap: FloatArray,
    floor: FloatArray,
    hold: FloatArray,
    want: FloatArray,
    sig: FloatArray,
    x0: FloatArray,
    tol: float,
    max_iter: int,
) -> tuple[FloatArray, FloatArray, FloatArray, int]:
    n = s0.size
    x = np.zeros(n)
    short = np.zeros(n)
    surplus = np.zeros(n)
    failed = 0
    for i in range(n):
        x[i], short[i], surplus[i], ok = clear_point(
            s0[i],
            d0[i],
            es[i],
            ed[i],
            gap[i],
            cap[i],
            floor[i],
            hold[i],
            want[i],
            sig[i],
            x0[i],
            tol,
            max_iter,
        )
        failed += 0 if ok else 1
    return x, short, surplus, failed
