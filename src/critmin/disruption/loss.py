"""The economic loss of a price path, decomposed (``docs/methods/disruption.md``, section "Loss").

One function, :func:`loss_parts`, serves the disruption kernel, the stockpile LP, floors and planning. It
takes arrays of any common (broadcastable) shape, typically ``[scenario, material, month]``, and returns
the four parts in USD for each element:

* (a) ``extra_cost``: importers' extra cost on what they still buy, ``(p - 1) p0 q`` with
  ``q = D0 p^ed - shortfall`` (the quantity final users actually obtain);
* (b) ``priced_out``: surplus lost on demand priced out, the area under the iso-elastic demand curve
  ``D(s) = D0 s^ed`` between the baseline and ``p`` minus the extra cost on the full demand at ``p``:
  ``p0 D0 [I(p) - (p - 1) p^ed]`` with ``I(p) = (p^(ed+1) - 1) / (ed + 1)`` (``ln p`` when ``ed = -1``);
  always ``>= 0`` (the demand curve slopes down);
* (c) ``unmet_value``: value added lost downstream on demand left unmet at the choke price,
  ``shortfall x value_at_risk_usd_per_t``;
* (d) ``windfall``: outside producers' windfall ``(p - 1) p0 x`` their output sold.

``p`` is a price index (1 = baseline) and ``p0`` the reference price in USD/t; a NaN ``p0`` (unpriced
material) gives NaN parts, never a zero loss. Importers' welfare loss is ``a + b + c``; the net loss of a
zone that also produces is that minus ``d``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class LossParts:
    """The four parts of the loss, USD, each of the broadcast input shape."""

    extra_cost_usd: FloatArray  # (a)
    priced_out_usd: FloatArray  # (b)
    unmet_value_usd: FloatArray  # (c)
    windfall_usd: FloatArray  # (d)

    @property
    def welfare_loss_usd(self) -> FloatArray:
        """Importers' welfare loss ``a + b + c``."""
        return self.extra_cost_usd + self.priced_out_usd + self.unmet_value_usd

    @property
    def net_loss_usd(self) -> FloatArray:
        """Welfare loss net of the producers' windfall ``a + b + c - d``."""
        return self.welfare_loss_usd - self.windfall_usd


def demand_integral(price_index: ArrayLike, ed: ArrayLike) -> FloatArray:
    """``I(p) = integral of s^ed ds from 1 to p`` in closed form (``ln p`` at ``ed = -1``)."""
    p = np.asarray(price_index, dtype=np.float64)
    k = np.asarray(ed, dtype=np.float64) + 1.0
    lp = np.log(p)
    near = np.abs(k) < 1e-9
    safe_k = np.where(near, 1.0, k)
    return np.where(near, lp, np.expm1(safe_k * lp) / safe_k)


def loss_parts(
    price_index: ArrayLike,
    demand0_t: ArrayLike,
    ed: ArrayLike,
    shortfall_t: ArrayLike,
    supply_t: ArrayLike,
    price_usd_per_t: ArrayLike,
    unmet_value_usd_per_t: ArrayLike,
) -> LossParts:
    """Decompose the loss of one zone (all inputs broadcast to one shape).

    ``price_index``: the zone's price, 1 = baseline; ``demand0_t``: its baseline demand of final users in
    the period (tonnes); ``ed``: demand elasticity in force (``<= 0``); ``shortfall_t``: demand left unmet
    at the choke price (tonnes, ``<= D0 p^ed``); ``supply_t``: the zone's own producers' output sold at
    ``p`` (tonnes); ``price_usd_per_t``: reference price ``p0`` (NaN = unpriced);
    ``unmet_value_usd_per_t``: value added lost per tonne left unmet.
    """
    p = np.asarray(price_index, dtype=np.float64)
    d0 = np.asarray(demand0_t, dtype=np.float64)
    e = np.asarray(ed, dtype=np.float64)
    short = np.asarray(shortfall_t, dtype=np.float64)
    p0 = np.asarray(price_usd_per_t, dtype=np.float64)
    if np.any(p <= 0):
        raise ValueError("loss_parts: price index must be > 0")
    if np.any(e > 0):
        raise ValueError("loss_parts: demand elasticity must be <= 0")
    demand_at_p = d0 * np.exp(e * np.log(p))
    rise = p - 1.0
    bought = demand_at_p - short
    extra = rise * p0 * bought
    priced_out = p0 * (d0 * demand_integral(p, e) - rise * demand_at_p)
    unmet = short * np.asarray(unmet_value_usd_per_t, dtype=np.float64)
    unmet = np.where(np.isfinite(p0), unmet, np.nan)
    windfall = rise * p0 * np.asarray(supply_t, dtype=np.float64)
    return LossParts(
        extra_cost_usd=np.asarray(extra, dtype=np.float64),
        priced_out_usd=np.maximum(np.asarray(priced_out, dtype=np.float64), 0.0),  # NaN stays NaN
        unmet_value_usd=np.asarray(unmet, dtype=np.float64),
        windfall_usd=np.asarray(windfall, dtype=np.float64),
    )


def producer_loss(
    price_index: ArrayLike, supply0_t: ArrayLike, es: ArrayLike, price_usd_per_t: ArrayLike
) -> FloatArray:
    """Producer surplus lost by a zone whose price falls to ``p <= 1`` (iso-elastic supply ``S0 p^es``):
    ``p0 S0 (1 - p^(es+1)) / (es + 1) = -p0 S0 I_s(p)``; negative when its price rises."""
    return np.asarray(
        -np.asarray(price_usd_per_t, dtype=np.float64)
        * np.asarray(supply0_t, dtype=np.float64)
        * demand_integral(price_index, es),
        dtype=np.float64,
    )
