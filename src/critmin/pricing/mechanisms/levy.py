"""Adjustable import levy as legislated: reset every period from the previous period's landed price.

For a reference price ``K``, reset period ``P`` months and lag ``L`` months (docs/methods/mechanisms.md)::

    levy in months [r, r + P) = max(0, K - mean landed price over months [r - P - L, r - L)), r = 0, P, 2P
    imports[t]               = imports0[t] * ((landed[t] + levy[t]) / landed[t]) ** import_elasticity
    levy collected[t]        = levy[t] * imports[t]
    consumers pay            = levy[t] * (imports[t] + member output[t])  (the zone price rises by the levy)
    member producers receive = (landed[t] + levy[t]) * member output[t]

Months before the horizon take the landed price observed at the start (``start_landed``, default the first
month's landed price).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from critmin.pricing.mechanisms.base import MONTHS_PER_YEAR, Context, FloatArray, Flows, MechanismModel


def levy_per_t(reference: ArrayLike, landed_import_price: ArrayLike) -> FloatArray:
    """Instantaneous levy gap ``max(0, reference - landed import price)``."""
    return np.maximum(np.asarray(reference, dtype=float) - np.asarray(landed_import_price, dtype=float), 0.0)


def adjustable_levy(
    landed: ArrayLike, reference: float, reset_months: int, lag_months: int, start_landed: float | None = None
) -> FloatArray:
    """Levy per tonne ``[path, month]`` with a reset every ``reset_months`` and a ``lag_months`` lag."""
    p = np.atleast_2d(np.asarray(landed, dtype=float))
    if reset_months < 1 or lag_months < 0:
        raise ValueError(
            f"levy reset {reset_months} / lag {lag_months} months; expected reset >= 1, lag >= 0"
        )
    shift = reset_months + lag_months
    before = np.full((p.shape[0], shift), start_landed) if start_landed is not None else p[:, :1]
    ext = np.concatenate([np.broadcast_to(before, (p.shape[0], shift)), p], axis=1)
    out = np.empty_like(p)
    for r in range(0, p.shape[1], reset_months):
        out[:, r : r + reset_months] = levy_per_t(reference, ext[:, r : r + reset_months].mean(axis=1))[
            :, None
        ]
    return out


def import_response(imports0: ArrayLike, landed: ArrayLike, levy: ArrayLike, elasticity: float) -> FloatArray:
    """Non-member imports after the levy, iso-elastic in the levied landed price."""
    lnd = np.asarray(landed, dtype=float)
    return np.asarray(imports0, dtype=float) * ((lnd + np.asarray(levy, dtype=float)) / lnd) ** elasticity


class AdjustableLevy(MechanismModel):
    kind = "levy"
    description = "levy: K minus last period's landed price, reset every period, on non-member imports"
    default_reference = "landed"
    producer_volume = "member_q"

    def flows(self, strike: float, ctx: Context) -> Flows:
        lv = adjustable_levy(ctx.landed, strike, ctx.reset_months, ctx.lag_months, ctx.start_landed)
        imports = import_response(ctx.q, ctx.landed, lv, ctx.import_elasticity)
        collected = lv * imports
        consumer = lv * (imports + ctx.member_q)
        revenue = (ctx.landed + lv) * ctx.member_q
        z = np.zeros_like(ctx.landed)
        return Flows(-collected, revenue, consumer, collected, z, levy_per_t=lv, imports_t=imports)

    def summary_extras(self, ctx: Context) -> dict[str, float]:
        return {
            "reset_months": ctx.reset_months,
            "lag_months": ctx.lag_months,
            "import_elasticity": ctx.import_elasticity,
        }

    def scalar_flow(
        self, price: float, strike: float, share: float, take_or_pay: float
    ) -> tuple[float, float]:
        return -max(strike - price, 0.0), 0.0

    def reference_pv(self, strike: float, ctx: Context, rate: float) -> FloatArray:
        """Loop over paths and months: the levy set at each reset from the lagged window, imports respond."""
        p, P, L = ctx.landed, ctx.reset_months, ctx.lag_months
        out = np.empty(p.shape[0])
        for i in range(p.shape[0]):
            start = float(p[i, 0]) if ctx.start_landed is None else ctx.start_landed
            total, levy = 0.0, 0.0
            for m in range(p.shape[1]):
                if m % P == 0:
                    window = [float(p[i, t]) if t >= 0 else start for t in range(m - P - L, m - L)]
                    levy = max(strike - sum(window) / P, 0.0)
                imports = (
                    float(ctx.q[m]) * ((float(p[i, m]) + levy) / float(p[i, m])) ** ctx.import_elasticity
                )
                total -= levy * imports * (1.0 + rate) ** (-(m + 1) / MONTHS_PER_YEAR)
            out[i] = total
        return out
