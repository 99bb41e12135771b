"""Buyer of last resort: the government buys the covered volume at the strike whenever the price is below
it, and sells the stock at the last month's price at the horizon."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from critmin.pricing.mechanisms.base import Context, FloatArray, Flows, MechanismModel


def reserve_purchase_t(price: ArrayLike, strike: float) -> FloatArray:
    """Share of the covered volume bought at the floor (1 below it, else 0)."""
    return (np.asarray(price, dtype=float) < strike).astype(float)


class Reserve(MechanismModel):
    kind = "reserve"
    description = "reserve: buy the covered volume at K when P < K; stock sold at the horizon"

    def flows(self, strike: float, ctx: Context) -> Flows:
        p, q = ctx.price, ctx.q
        bought = reserve_purchase_t(p, strike) * q
        stock = np.cumsum(bought, axis=-1)
        revenue = np.where(p < strike, strike * q, p * q)
        z = np.zeros_like(p)
        return Flows(bought * strike, revenue, z, z, stock, end_value=stock[:, -1] * p[:, -1])

    def scalar_flow(
        self, price: float, strike: float, share: float, take_or_pay: float
    ) -> tuple[float, float]:
        return (strike, 1.0) if price < strike else (0.0, 0.0)
