"""Clearing of one price zone with iso-elastic supply and demand, batched over any array shape.

A zone has baseline monthly supply ``S0`` and demand ``D0`` at price index 1. A supply gap ``G`` (tonnes
per month, at the baseline price, after buffers) must be closed by extra supply, stock releases and lost
demand:

    f(x) = S0 (exp(es x) - 1) + D0 (1 - exp(ed x)) + R(x) - G = 0,   x = ln p,  es >= 0 >= ed,

where ``R(x) = Rmax (1 - exp(-sigma x))`` for ``x > 0`` (0 otherwise) is the release of commercial stocks:
holders sell when the price exceeds the expected future price net of carrying cost (the baseline), more
the higher it is, at most ``Rmax`` a month (``docs/methods/market.md``, "Storage").

``f`` is non-decreasing in ``x``, so the root is unique when it exists. The price is bounded to
``[floor, cap]``: at the cap the remaining gap is unmet demand (shortfall); at the floor the remaining
surplus is unsold output. The solver is a bracketed Newton iteration, vectorised over all elements (no
Python loop per element); elements leave the active set once converged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class ZoneSolution:
    """Clearing price index and the residual the bounds left (all arrays of the input shape)."""

    price_index: FloatArray
    shortfall: FloatArray  # gap left unmet at the cap (>= 0)
    surplus: FloatArray  # surplus left unsold at the floor (>= 0)
    demand_destroyed: FloatArray  # D0 (1 - p**ed) (negative when demand grows at a lower price)
    released: FloatArray  # stock release R(ln p) (>= 0)


def stock_release(x: FloatArray, rmax: FloatArray, sigma: FloatArray) -> FloatArray:
    """``R(x) = Rmax (1 - exp(-sigma x))`` for ``x = ln p > 0``, else 0."""
    return -rmax * np.expm1(-sigma * np.maximum(x, 0.0))


def _excess(
    x: FloatArray,
    s0: FloatArray,
    d0: FloatArray,
    es: FloatArray,
    ed: FloatArray,
    gap: FloatArray,
    rmax: FloatArray,
    sigma: FloatArray,
) -> FloatArray:
    return s0 * np.expm1(es * x) - d0 * np.expm1(ed * x) + stock_release(x, rmax, sigma) - gap


def solve_zone(
    s0: FloatArray,
    d0: FloatArray,
    es: FloatArray,
    ed: FloatArray,
    gap: FloatArray,
    cap: FloatArray | float,
    floor: FloatArray | float,
    release_max: FloatArray | float = 0.0,
    release_sigma: FloatArray | float = 1.0,
    *,
    tol: float = 1e-12,
    max_iter: int = 100,
) -> ZoneSolution:
    """Solve ``f(ln p) = 0`` for every element; inputs broadcast to a common shape.

    ``release_max``: the most the zone's stock holders sell in the period (``Rmax``, tonnes);
    ``release_sigma``: how fast releases approach it as the price rises. ``tol`` is relative to
    ``s0 + d0``. Raises ``ValueError`` on a negative baseline or release, a wrong-signed elasticity or
    bounds that do not contain 1.
    """
    s0, d0, es, ed, gap, cap_a, floor_a, rmax, sig = np.broadcast_arrays(
        *(
            np.asarray(v, dtype=np.float64)
            for v in (s0, d0, es, ed, gap, cap, floor, release_max, release_sigma)
        )
    )
    if np.any(s0 < 0) or np.any(d0 < 0) or np.any(rmax < 0):
        raise ValueError("solve_zone: baseline supply, demand and stock release must be >= 0")
    if np.any(es < 0) or np.any(ed > 0) or np.any(sig < 0):
        raise ValueError(
            "solve_zone: expected supply elasticity >= 0, demand elasticity <= 0, release sigma >= 0"
        )
    if np.any(cap_a < 1) or np.any(floor_a > 1) or np.any(floor_a <= 0):
        raise ValueError("solve_zone: expected 0 < floor <= 1 <= cap")
    shape = s0.shape
    scale_all = tol * np.maximum(s0 + d0, 1e-300)
    x = np.zeros(shape)
    short = np.zeros(shape)
    surplus = np.zeros(shape)
    idx = np.flatnonzero(np.abs(gap) > scale_all)  # balanced elements stay at the baseline price
    if idx.size:
        s_, d_, es_, ed_, g_, sc_, cap_, floor_, rm_, sg_ = (
            v.ravel()[idx] for v in (s0, d0, es, ed, gap, scale_all, cap_a, floor_a, rmax, sig)
        )
        lo_, hi_ = np.log(floor_), np.log(cap_)
        f_hi = _excess(hi_, s_, d_, es_, ed_, g_, rm_, sg_)
        f_lo = _excess(lo_, s_, d_, es_, ed_, g_, rm_, sg_)
        at_cap = f_hi <= 0
        at_floor = ~at_cap & (f_lo >= 0)
        xs = np.where(at_cap, hi_, np.where(at_floor, lo_, 0.0))
        x.ravel()[idx] = xs
        short.ravel()[idx] = np.where(at_cap, np.maximum(-f_hi, 0.0), 0.0)
        surplus.ravel()[idx] = np.where(at_floor, np.maximum(f_lo, 0.0), 0.0)
        inner = ~(at_cap | at_floor)
        if inner.any():
            x.ravel()[idx[inner]] = _newton(
                s_[inner],
                d_[inner],
                es_[inner],
                ed_[inner],
                g_[inner],
                rm_[inner],
                sg_[inner],
                sc_[inner],
                lo_[inner],
                hi_[inner],
                max_iter,
            )
    return ZoneSolution(
        price_index=np.exp(x),
        shortfall=short,
        surplus=surplus,
        demand_destroyed=-d0 * np.expm1(ed * x),
        released=stock_release(x, rmax, sig),
    )


def _newton(
    s_: FloatArray,
    d_: FloatArray,
    es_: FloatArray,
    ed_: FloatArray,
    g_: FloatArray,
    rm_: FloatArray,
    sg_: FloatArray,
    sc_: FloatArray,
    lo_: FloatArray,
    hi_: FloatArray,
    max_iter: int,
) -> FloatArray:
    """Bracketed Newton on ``f(x)`` for elements whose root lies inside ``(lo, hi)``."""
    idx = np.arange(s_.size)
    out = np.zeros(s_.size)
    # first guess: the linearised answer, clipped into the bracket
    xa = np.clip(g_ / np.maximum(s_ * es_ - d_ * ed_ + rm_ * sg_, 1e-300), lo_, hi_)
    for _ in range(max_iter):
        ea, eb = np.exp(es_ * xa), np.exp(ed_ * xa)
        er = np.exp(-sg_ * np.maximum(xa, 0.0))
        f = s_ * (ea - 1.0) - d_ * (eb - 1.0) + rm_ * (1.0 - er) - g_
        done = np.abs(f) <= sc_
        if done.any():
            out[idx[done]] = xa[done]
            keep = ~done
            idx, xa, f, ea, eb, er = idx[keep], xa[keep], f[keep], ea[keep], eb[keep], er[keep]
            s_, d_, es_, ed_, g_, sc_ = s_[keep], d_[keep], es_[keep], ed_[keep], g_[keep], sc_[keep]
            rm_, sg_, lo_, hi_ = rm_[keep], sg_[keep], lo_[keep], hi_[keep]
            if not idx.size:
                return out
        lo_ = np.where(f < 0, xa, lo_)
        hi_ = np.where(f > 0, xa, hi_)
        fp = s_ * es_ * ea - d_ * ed_ * eb + np.where(xa > 0, rm_ * sg_ * er, 0.0)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            xn = xa - f / fp
        bad = ~np.isfinite(xn) | (xn <= lo_) | (xn >= hi_)
        xa = np.where(bad, 0.5 * (lo_ + hi_), xn)
    raise RuntimeError(f"solve_zone: {idx.size} elements did not converge in {max_iter} iterations")
