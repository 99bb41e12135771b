"""What every mechanism shares: the monthly context it is evaluated in, its flows and the model base class.

A mechanism is one subclass of :class:`MechanismModel` in its own file plus one row in
:mod:`critmin.pricing.mechanisms.registry`. Prices are USD/t ``[path, month]``, volumes tonnes per month
``[month]``. Sign convention: a positive fiscal flow is a cost to the government, a negative one a receipt.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
MONTHS_PER_YEAR = 12


@dataclass(frozen=True)
class Context:
    """Everything a mechanism's flows depend on, already aligned on ``[path, month]`` / ``[month]``."""

    price: FloatArray  # referenced price, USD/t [path, month]
    landed: FloatArray  # landed import price, USD/t [path, month]
    q: FloatArray  # covered volume (levy: non-member imports before the levy), t per month [month]
    member_q: FloatArray  # member output protected by a levy, t per month [month]
    share: float  # upside share
    take_or_pay: float
    reset_months: int
    lag_months: int
    import_elasticity: float
    start_landed: float | None  # landed price observed before month 1 (levy lag), USD/t


@dataclass(frozen=True)
class Flows:
    """Monthly flows per path, USD (``stock_t`` tonnes, ``levy_per_t`` USD/t, ``imports_t`` tonnes)."""

    fiscal: FloatArray
    producer_revenue: FloatArray
    consumer_cost: FloatArray
    levy_revenue: FloatArray
    stock_t: FloatArray
    levy_per_t: FloatArray | None = None
    imports_t: FloatArray | None = None
    end_value: FloatArray | None = None  # [path] value returned at the horizon (USD, undiscounted)


def zero_flows(ctx: Context, fiscal: FloatArray, revenue: FloatArray) -> Flows:
    """Flows of a mechanism that only pays or receives (no levy, no stock)."""
    z = np.zeros_like(ctx.price)
    return Flows(fiscal, revenue, z, z, z)


class MechanismModel(ABC):
    """One pricing mechanism. ``scalar_flow`` is the plain per-month rule the vectorised ``flows`` must
    match (the loop reference of the tests and the benchmark)."""

    kind: ClassVar[str]
    description: ClassVar[str]
    default_reference: ClassVar[str] = "outside"
    producer_volume: ClassVar[str] = "q"  # which volume is the member producers' output: q or member_q

    @abstractmethod
    def flows(self, strike: float, ctx: Context) -> Flows:
        """Monthly flows of the mechanism at ``strike`` USD/t."""

    @abstractmethod
    def scalar_flow(
        self, price: float, strike: float, share: float, take_or_pay: float
    ) -> tuple[float, float]:
        """Per covered tonne in one month: (fiscal flow USD, tonnes bought into stock)."""

    def summary_extras(self, ctx: Context) -> dict[str, float]:
        """Terms of this kind reported with its results."""
        return {}

    def reference_pv(self, strike: float, ctx: Context, rate: float) -> FloatArray:
        """Plain per-path, per-month loop of the discounted fiscal cost (tests and benchmark)."""
        p = ctx.price
        out = np.empty(p.shape[0])
        for i in range(p.shape[0]):
            total, stock = 0.0, 0.0
            for m in range(p.shape[1]):
                flow, bought = self.scalar_flow(float(p[i, m]), strike, ctx.share, ctx.take_or_pay)
                d = (1.0 + rate) ** (-(m + 1) / MONTHS_PER_YEAR)
                total += flow * float(ctx.q[m]) * d
                stock += bought * float(ctx.q[m])
            if stock:
                total -= stock * float(p[i, -1]) * (1.0 + rate) ** (-p.shape[1] / MONTHS_PER_YEAR)
            out[i] = total
        return out
