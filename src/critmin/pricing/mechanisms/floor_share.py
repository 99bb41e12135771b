"""Floor with upside sharing (DoD-MP): the gap below the strike, minus a share of the price above it."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from critmin.pricing.mechanisms.base import Context, FloatArray, Flows, MechanismModel, zero_flows


def floor_share_payment(price: ArrayLike, strike: float, share: float) -> FloatArray:
    """Payment per tonne: ``max(K - P, 0) - share * max(P - K, 0)`` (negative: paid back)."""
    p = np.asarray(price, dtype=float)
    return np.maximum(strike - p, 0.0) - share * np.maximum(p - strike, 0.0)


class FloorShare(MechanismModel):
    kind = "floor-share"
    description = "floor-share: max(K - P, 0) paid, share * max(P - K, 0) paid back"

    def flows(self, strike: float, ctx: Context) -> Flows:
        fiscal = floor_share_payment(ctx.price, strike, ctx.share) * ctx.q
        return zero_flows(ctx, fiscal, ctx.price * ctx.q + fiscal)

    def summary_extras(self, ctx: Context) -> dict[str, float]:
        return {"upside_share": ctx.share}

    def scalar_flow(
        self, price: float, strike: float, share: float, take_or_pay: float
    ) -> tuple[float, float]:
        return max(strike - price, 0.0) - share * max(price - strike, 0.0), 0.0
