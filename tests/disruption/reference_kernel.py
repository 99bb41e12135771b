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
    s0: float,
    d0: float,
    es: float,
    ed: float,
    gap: float,
    cap: float,
    floor: float,
    hold: float = 0.0,
    want: float = 0.0,
    sigma: float = 1.0,
) -> tuple[float, float, float, float]:
    """(price index, shortfall, demand destroyed, net stock sale) of one zone, by bracketing root search."""

    def sale(x: float) -> float:
        return hold - want * math.exp(-sigma * x)

    def f(x: float) -> float:
        return s0 * (math.exp(es * x) - 1.0) - d0 * (math.exp(ed * x) - 1.0) + sale(x) - gap

    lo, hi = math.log(floor), math.log(cap)
    if abs(f(0.0)) <= 1e-12 * max(s0 + d0, 1e-300):
        x, short = 0.0, 0.0
    elif f(hi) <= 0:
        x, short = hi, max(0.0, -f(hi))
    elif f(lo) >= 0:
        x, short = lo, 0.0
    else:
        x, short = brentq(f, lo, hi, xtol=1e-14, rtol=1e-14, maxiter=500), 0.0
    return math.exp(x), short, -d0 * (math.exp(ed * x) - 1.0), sale(x)


def _integral(p: float, e: float) -> float:
    """Integral of s^e ds from 1 to p in closed form (checked against quad in test_loss.py)."""
    return math.log(p) if abs(e + 1.0) < 1e-9 else (p ** (e + 1.0) - 1.0) / (e + 1.0)


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
    names = ("price_outside", "price_restrictor", "shortfall_t", "demand_destroyed_t", "inventory_t")
    out = {k: np.zeros((S, M, T)) for k in names}
    parts = {
        k: np.zeros((S, M)) for k in ("extra_cost_usd", "priced_out_usd", "unmet_value_usd", "windfall_usd")
    }
    for s in range(S):
        for m in range(M):
            q = p.world_t[m] / 12.0
            d0, s0 = (1 - c[s, m]) * q, (1 - a[s, m]) * q
            p0, vpt = p.price_usd_per_t[m], p.loss_per_t[m]
            target = p.inventory_days[m] / 365.0 * 12.0 * d0
            stock = target
            started, age = False, 0.0
            for t in range(T):
                w = withheld[s, m, t]
                g = w + (0.0 if extra_gap is None else extra_gap[s, m, t])
                if w > 0 or g != 0:
                    started = True
                decay = math.exp(-age / p.adjust_months[m])
                ed = p.ed_lr[m] + (p.ed_sr[m] - p.ed_lr[m]) * decay
                es = p.es_lr[m] + (p.es_sr[m] - p.es_lr[m]) * decay
                if started and not (w > 0 or g != 0) and abs(stock - target) <= 1e-9 * target:
                    out["price_outside"][s, m, t] = out["price_restrictor"][s, m, t] = 1.0
                    out["inventory_t"][s, m, t] = stock
                    age += 1.0
                    continue
                want = p.inventory_draw[m] * target * (1.0 + (p.precaution[m] * decay if w > 0 else 0.0))
                gap = g * q
                left = max(gap, 0.0)
                if releases_t is not None:
                    left -= min(releases_t[s, m, t], left)
                spare = 0.0
                if started:
                    ramp = (age - p.spare_restart_months[m] + 1.0) / p.spare_ramp_months[m]
                    spare = min(p.spare_share[m] * q * min(1.0, max(0.0, ramp)), left)
                    left -= spare
                residual = left if gap > 0 else gap
                po, short, destroyed, sold = clear_zone(
                    s0,
                    d0,
                    es,
                    ed,
                    residual,
                    p.cap[m],
                    p.floor[m],
                    p.inventory_draw[m] * stock,
                    want,
                    p.storage_sigma[m],
                )
                unmet_buy = min(short, max(-sold, 0.0))
                short -= unmet_buy
                stock -= sold + unmet_buy
                if a[s, m] > 0:
                    pr, _, _, _ = clear_zone(
                        a[s, m] * q, c[s, m] * q, p.es_restrictor[m], ed, -w * q, p.cap[m], p.floor[m]
                    )
                else:
                    pr = po
                demand = d0 * po**ed
                parts["extra_cost_usd"][s, m] += (po - 1.0) * p0 * (demand - short)
                parts["priced_out_usd"][s, m] += p0 * (d0 * _integral(po, ed) - (po - 1.0) * demand)
                parts["unmet_value_usd"][s, m] += short * vpt
                parts["windfall_usd"][s, m] += (po - 1.0) * p0 * (s0 * po**es + spare)
                out["price_outside"][s, m, t] = po
                out["price_restrictor"][s, m, t] = pr
                out["shortfall_t"][s, m, t] = short
                out["demand_destroyed_t"][s, m, t] = destroyed
                out["inventory_t"][s, m, t] = stock
                if started:
                    age += 1.0
    priced = np.where(np.isfinite(p.price_usd_per_t), 1.0, np.nan)  # unpriced: NaN, never 0
    out.update({k: v * priced for k, v in parts.items()})
    out["loss_usd"] = out["extra_cost_usd"] + out["priced_out_usd"] + out["unmet_value_usd"]
    return out
