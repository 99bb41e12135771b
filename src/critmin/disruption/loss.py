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

import math
from dataclasses import dataclass

import numpy as np
from numba import njit
from numpy.typing import ArrayLike, NDArray

from critmin.market.series import expm1_known

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


@njit(cache=True, error_model="numpy")
def integral_log(lp: float, e: float) -> float:
    """``I(p)`` from ``lp = ln p`` (the kernel has the log price already)."""
    k = e + 1.0
    if abs(k) < 1e-9:
        return lp
    return math.expm1(k * lp) / k


@njit(cache=True, error_model="numpy", inline="always")
def integral_known(lp: float, e: float, pk: float) -> float:
    """``I(p)`` from ``lp = ln p`` and ``pk = p^(e+1)``, without an exp (``series.expm1_known``)."""
    k = e + 1.0
    if abs(k) < 1e-9:
        return lp
    return expm1_known(k * lp, pk) / k


@njit(cache=True, error_model="numpy")
def integral_point(p: float, e: float) -> float:
    """``I(p) = integral of s^e ds from 1 to p`` for one element (``ln p`` at ``e = -1``)."""
    return integral_log(math.log(p), e)


@njit(cache=True, error_model="numpy")
def loss_log_point(
    lp: float, p: float, pe: float, d0: float, ed: float, short: float, supply: float, p0: float, vpt: float
) -> tuple[float, float, float, float]:
    """The four parts ``(a, b, c, d)`` for one element, given ``lp = ln p``, ``p`` and ``pe = p^ed``: the
    single implementation of the formulas (:func:`loss_point` computes ``lp`` and ``pe`` first; the kernel
    passes the ones its zone clearing has already evaluated)."""
    demand = d0 * pe
    rise = p - 1.0
    extra = rise * p0 * (demand - short)
    priced_out = p0 * (d0 * integral_known(lp, ed, p * pe) - rise * demand)
    if priced_out < 0.0:  # rounding only (the integral dominates); NaN stays NaN
        priced_out = 0.0
    unmet = short * vpt if math.isfinite(p0) else math.nan
    return extra, priced_out, unmet, rise * p0 * supply


@njit(cache=True, error_model="numpy")
def loss_point(
    p: float, d0: float, ed: float, short: float, supply: float, p0: float, vpt: float
) -> tuple[float, float, float, float]:
    """The four parts ``(a, b, c, d)`` for one element at price index ``p``."""
    lp = math.log(p)
    return loss_log_point(lp, p, math.exp(ed * lp), d0, ed, short, supply, p0, vpt)


@njit(cache=True, error_model="numpy")
def producer_point(p: float, s0: float, es: float, p0: float) -> float:
    """Producer surplus lost when the price moves from 1 to ``p`` (iso-elastic supply ``S0 p^es``)."""
    return -p0 * s0 * integral_point(p, es)


@njit(cache=True, error_model="numpy")
def _loss_elements(
    p: FloatArray,
    d0: FloatArray,
    ed: FloatArray,
    short: FloatArray,
    supply: FloatArray,
    p0: FloatArray,
    vpt: FloatArray,
) -> FloatArray:
    out = np.empty((4, p.size))
    for i in range(p.size):
        out[0, i], out[1, i], out[2, i], out[3, i] = loss_point(
            p[i], d0[i], ed[i], short[i], supply[i], p0[i], vpt[i]
        )
    return out


@njit(cache=True, error_model="numpy")
def _integral_elements(p: FloatArray, e: FloatArray) -> FloatArray:
    out = np.empty(p.size)
    for i in range(p.size):
        out[i] = integral_point(p[i], e[i])
    return out


def demand_integral(price_index: ArrayLike, ed: ArrayLike) -> FloatArray:
    """``I(p) = integral of s^ed ds from 1 to p`` in closed form (``ln p`` at ``ed = -1``), any shape."""
    p, e = np.broadcast_arrays(np.asarray(price_index, dtype=np.float64), np.asarray(ed, dtype=np.float64))
    out = _integral_elements(np.array(p).reshape(-1), np.array(e).reshape(-1))
    return np.asarray(out.reshape(p.shape), dtype=np.float64)


def loss_parts(
    price_index: ArrayLike,
    demand0_t: ArrayLike,
    ed: ArrayLike,
    shortfall_t: ArrayLike,
    supply_t: ArrayLike,
    price_usd_per_t: ArrayLike,
    unmet_value_usd_per_t: ArrayLike,
) -> LossParts:
    """Decompose the loss of one zone (all inputs broadcast to one shape, e.g. ``[S, M, T]``).

    ``price_index``: the zone's price, 1 = baseline; ``demand0_t``: its baseline demand of final users in
    the period (tonnes); ``ed``: demand elasticity in force (``<= 0``); ``shortfall_t``: demand left unmet
    at the choke price (tonnes, ``<= D0 p^ed``); ``supply_t``: the zone's own producers' output sold at
    ``p`` (tonnes); ``price_usd_per_t``: reference price ``p0`` (NaN = unpriced);
    ``unmet_value_usd_per_t``: value added lost per tonne left unmet. The kernel calls the same
    per-element :func:`loss_point`.
    """
    arrays = np.broadcast_arrays(
        *(
            np.asarray(v, dtype=np.float64)
            for v in (
                price_index,
                demand0_t,
                ed,
                shortfall_t,
                supply_t,
                price_usd_per_t,
                unmet_value_usd_per_t,
            )
        )
    )
    if np.any(arrays[0] <= 0):
        raise ValueError("loss_parts: price index must be > 0")
    if np.any(arrays[2] > 0):
        raise ValueError("loss_parts: demand elasticity must be <= 0")
    shape = arrays[0].shape
    f = [np.array(v, dtype=np.float64).reshape(-1) for v in arrays]
    out = _loss_elements(f[0], f[1], f[2], f[3], f[4], f[5], f[6])
    return LossParts(*(out[k].reshape(shape) for k in range(4)))


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
