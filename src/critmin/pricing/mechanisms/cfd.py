"""Two-sided contract for difference: the government pays (or receives) strike minus price."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from critmin.pricing.mechanisms.base import Context, FloatArray, Flows, MechanismModel, zero_flows


def cfd_payment(price: ArrayLike, strike: float) -> FloatArray:
    """Payment per tonne: ``K - P``, either sign."""
    return strike - np.asarray(price, dtype=float)


class ContractForDifference(MechanismModel):
    kind = "cfd"
    description = "cfd: K - P per covered tonne, either sign"

    def flows(self, strike: float, ctx: Context) -> Flows:
        fiscal = cfd_payment(ctx.price, strike) * ctx.q
        return zero_flows(ctx, fiscal, ctx.price * ctx.q + fiscal)

    def scalar_flow(
        self, price: float, strike: float, share: float, take_or_pay: float
    ) -> tuple[float, float]:
        return strike - price, 0.0
