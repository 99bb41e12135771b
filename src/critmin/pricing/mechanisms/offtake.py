"""Take-or-pay offtake at the strike, resold at the market price."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from critmin.pricing.mechanisms.base import Context, FloatArray, Flows, MechanismModel, zero_flows


def offtake_payment(price: ArrayLike, strike: float, take_or_pay: float) -> FloatArray:
    """Net cost per contracted tonne: above the strike the full volume is taken (a gain of ``P - K``);
    below it only the take-or-pay minimum ``take_or_pay`` is, losing ``K - P`` on that share."""
    p = np.asarray(price, dtype=float)
    return np.where(p >= strike, strike - p, take_or_pay * (strike - p))


class Offtake(MechanismModel):
    kind = "offtake"
    description = "offtake: buy at K (all above K, the take-or-pay share below), resell at P"

    def flows(self, strike: float, ctx: Context) -> Flows:
        p, q, top = ctx.price, ctx.q, ctx.take_or_pay
        fiscal = offtake_payment(p, strike, top) * q
        revenue = np.where(p >= strike, strike * q, strike * top * q + p * (1 - top) * q)
        return zero_flows(ctx, fiscal, revenue)

    def summary_extras(self, ctx: Context) -> dict[str, float]:
        return {"take_or_pay_fraction": ctx.take_or_pay}

    def scalar_flow(
        self, price: float, strike: float, share: float, take_or_pay: float
    ) -> tuple[float, float]:
        return (strike - price if price >= strike else take_or_pay * (strike - price)), 0.0
