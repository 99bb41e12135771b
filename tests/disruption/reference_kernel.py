"""A straightforward per-scenario, per-material, per-month reference of the propagation kernel.

Scalar Python loops and ``scipy.optimize.brentq``: slow and obvious. The fast vectorised kernel must match
it (tests) and the benchmark times it on a subsample to report the speed-up.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import brentq

from critmin.disruption.kernel import KernelParams


def clear_zone(
    s0: float, d0: float, es: float, ed: float, gap: float, cap: float, floor: float
) -> tuple[float, float, float]:
    """(price index, shortfall, demand destroyed) of one zone, by bracketing root search."""

    def f(x: float) -> float:
        return s0 * (math.exp(es * x) - 1.0) - d0 * (math.exp(ed * x) - 1.0) - gap

    lo, hi = math.log(floor), math.log(cap)
    if abs(gap) <= 1e-12 * max(s0 + d0, 1e-300):
        x, short = 0.0, 0.0
    elif f(hi) <= 0:
        x, short = hi, max(0.0, -f(hi))
    elif f(lo) >= 0:
        x, short = lo, 0.0
    else:
        x, short = brentq(f, lo, hi, xtol=1e-14, rtol=1e-14, maxiter=500), 0.0
    return math.exp(x), short, -d0 * (math.exp(ed * x) - 1.0)


def reference_propagate(
    p: KernelParams,
    a: np.ndarray,
    c: np.ndarray,
    withheld: np.ndarray,
    extra_gap: np.ndarray | None = None,
    releases_t: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Same model as :func:`critmin.disruption.kernel.propagate`, one scenario and material at a time."""
    S, M, T = withheld.shape
    out = {
        k: np.zeros((S, M, T))
        for k in ("price_outside", "price_restrictor", "shortfall_t", "demand_destroyed_t")
    }
    loss = np.zeros((S, M))
    for s in range(S):
        for m in range(M):
            q = p.world_t[m] / 12.0
            d0, s0 = (1 - c[s, m]) * q, (1 - a[s, m]) * q
            stock = p.inventory_days[m] / 365.0 * 12.0 * d0
            started, age, total = False, 0.0, 0.0
            for t in range(T):
                w = withheld[s, m, t]
                g = w + (0.0 if extra_gap is None else extra_gap[s, m, t])
                if w > 0 or g != 0:
                    started = True
                gap = g * q
                left = max(gap, 0.0)
                if releases_t is not None:
                    left -= min(releases_t[s, m, t], left)
                if started:
                    ramp = (age - p.spare_restart_months[m] + 1.0) / p.spare_ramp_months[m]
                    spare = p.spare_share[m] * q * min(1.0, max(0.0, ramp))
                    left -= min(spare, left)
                draw = min(stock * p.inventory_draw[m], left)
                stock -= draw
                residual = left - draw if gap > 0 else gap
                decay = math.exp(-age / p.adjust_months[m])
                ed = p.ed_lr[m] + (p.ed_sr[m] - p.ed_lr[m]) * decay
                es = p.es_lr[m] + (p.es_sr[m] - p.es_lr[m]) * decay
                po, short, destroyed = clear_zone(s0, d0, es, ed, residual, p.cap[m], p.floor[m])
                if a[s, m] > 0:
                    pr, _, _ = clear_zone(
                        a[s, m] * q, c[s, m] * q, p.es_restrictor[m], ed, -w * q, p.cap[m], p.floor[m]
                    )
                else:
                    pr = po
                out["price_outside"][s, m, t] = po
                out["price_restrictor"][s, m, t] = pr
                out["shortfall_t"][s, m, t] = short
                out["demand_destroyed_t"][s, m, t] = destroyed
                total += short
                if started:
                    age += 1.0
            loss[s, m] = total * p.loss_per_t[m]
    out["loss_usd"] = loss
    return out
