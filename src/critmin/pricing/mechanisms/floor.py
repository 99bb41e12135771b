"""One-sided price floor (a put): the government pays the gap below the strike on the covered volume."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from critmin.pricing.mechanisms.base import Context, FloatArray, Flows, MechanismModel, zero_flows


def floor_payment(price: ArrayLike, strike: float) -> FloatArray:
    """Payment per tonne: ``max(strike - price, 0)``."""
    return np.maximum(strike - np.asarray(price, dtype=float), 0.0)


class Floor(MechanismModel):
    kind = "floor"
    description = "floor: the government pays max(K - P, 0) per covered tonne"

    def flows(self, strike: float, ctx: Context) -> Flows:
        fiscal = floor_payment(ctx.price, strike) * ctx.q
        return zero_flows(ctx, fiscal, ctx.price * ctx.q + fiscal)

    def scalar_flow(
        self, price: float, strike: float, share: float, take_or_pay: float
    ) -> tuple[float, float]:
        return max(strike - price, 0.0), 0.0
