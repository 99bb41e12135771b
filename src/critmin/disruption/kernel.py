"""The propagation kernel: a pure function of arrays with a leading scenario axis.

Shapes: ``S`` scenarios, ``M`` materials, ``T`` months. Quantities are fractions of the world's annual
output of the material at its market stage (``world_t``) unless named ``*_t`` (tonnes). Per material the
kernel clears two zones each month (see ``docs/methods/disruption.md``):

* the restricting country's domestic zone (production share ``a``, consumption share ``c``, exports
  ``a - c``), whose exports fall by the withheld volume ``w``: ``a (p^es_r - 1) - c (p^ed - 1) = -w``;
* the outside zone (supply ``1 - a``, demand ``1 - c``) which loses ``w`` plus any extra gap ``g``
  (outages, demand shocks, feedstock loss); stockpile releases, spare capacity (ramping up after a
  restart time) and commercial inventories (running down) close what they can at the baseline price; the
  rest moves the price, bounded by the cap above which demand goes unmet (shortfall).

Elasticities move from short-run toward long-run values with the months elapsed since the material's
first shock. Nothing here reads files or parameters: see :mod:`critmin.disruption.inputs`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from critmin.market.equilibrium import solve_zone

FloatArray = NDArray[np.float64]

KERNEL_PARAMETERS: tuple[str, ...] = (
    "price_elasticity_demand_short_run",
    "price_elasticity_demand_long_run",
    "price_elasticity_supply_short_run",
    "price_elasticity_supply_long_run",
    "restrictor_supply_elasticity",
    "elasticity_adjustment_months",
    "spare_capacity_share",
    "spare_capacity_restart_months",
    "spare_capacity_ramp_months",
    "commercial_inventory_days",
    "inventory_max_draw_share",
    "leakage_share",
    "price_cap_index",
    "price_floor_index",
)


@dataclass(frozen=True)
class KernelParams:
    """Per-material model parameters, each an array of shape ``[M]`` (see :data:`KERNEL_PARAMETERS`)."""

    world_t: FloatArray  # annual world output at the market stage, tonnes
    ed_sr: FloatArray
    ed_lr: FloatArray
    es_sr: FloatArray
    es_lr: FloatArray
    es_restrictor: FloatArray
    adjust_months: FloatArray
    spare_share: FloatArray  # idle capacity outside the restrictor, share of world annual output
    spare_restart_months: FloatArray  # months after the first shock before idle capacity produces again
    spare_ramp_months: FloatArray  # months from restart to full idle capacity (linear)
    inventory_days: FloatArray  # commercial stocks outside the restrictor, days of outside demand
    inventory_draw: FloatArray  # max share of the remaining stock drawn per month
    cap: FloatArray
    floor: FloatArray
    loss_per_t: FloatArray  # USD of economic loss per tonne of shortfall

    def __post_init__(self) -> None:
        m = self.world_t.shape
        for name, v in vars(self).items():
            if v.shape != m:
                raise ValueError(f"KernelParams.{name}: shape {v.shape}, expected {m}")
            if name != "loss_per_t" and not np.all(np.isfinite(v)):
                raise ValueError(f"KernelParams.{name}: NaN or infinite value for a material")


@dataclass(frozen=True)
class KernelOutput:
    """Results per scenario. ``*_t`` arrays are tonnes; paths are ``None`` unless ``keep_paths``."""

    shortfall_total_t: FloatArray  # [S, M] unmet demand over the horizon, outside zone
    demand_destroyed_total_t: FloatArray  # [S, M]
    loss_usd: FloatArray  # [S, M]
    max_price_outside: FloatArray  # [S, M]
    price_outside: FloatArray | None = None  # [S, M, T]
    price_restrictor: FloatArray | None = None  # [S, M, T]
    shortfall_t: FloatArray | None = None  # [S, M, T]
    demand_destroyed_t: FloatArray | None = None  # [S, M, T]
    consumption_outside_t: FloatArray | None = None  # [S, M, T]
    inventory_t: FloatArray | None = None  # [S, M, T] commercial stock left at month end
    released_t: FloatArray | None = None  # [S, M, T] stockpile releases used


def propagate(
    p: KernelParams,
    a: FloatArray,
    c: FloatArray,
    withheld: FloatArray,
    extra_gap: FloatArray | None = None,
    releases_t: FloatArray | None = None,
    *,
    keep_paths: bool = False,
) -> KernelOutput:
    """Run the monthly steps for every scenario at once.

    ``a``, ``c``: ``[S, M]`` restrictor production and consumption shares (0 where no restriction);
    ``withheld``: ``[S, M, T]`` withheld export volume (fraction of world output, ``0 <= w <= a - c``);
    ``extra_gap``: ``[S, M, T]`` other supply gap of the outside zone (may be negative);
    ``releases_t``: ``[S, M, T]`` stockpile releases offered, tonnes per month.
    """
    S, M, T = withheld.shape
    if a.shape != (S, M) or c.shape != (S, M):
        raise ValueError(f"propagate: a and c must have shape {(S, M)}, got {a.shape} and {c.shape}")
    if np.any(c > a + 1e-12) or np.any(c < 0):
        raise ValueError("propagate: expected 0 <= c <= a (restrictor consumes at most what it produces)")
    if np.any(withheld < 0) or np.any(withheld > (a - c)[..., None] + 1e-12):
        raise ValueError("propagate: withheld volume must lie in [0, a - c] (its exports)")
    for name, arr in (("extra_gap", extra_gap), ("releases_t", releases_t)):
        if arr is not None and arr.shape != (S, M, T):
            raise ValueError(f"propagate: {name} must have shape {(S, M, T)}, got {arr.shape}")
    if releases_t is not None and np.any(releases_t < 0):
        raise ValueError("propagate: releases must be >= 0")

    q_month = p.world_t / 12.0  # [M] tonnes per month
    d0 = (1.0 - c) * q_month  # outside demand, t/month
    s0 = (1.0 - a) * q_month  # outside own supply
    ra = a * q_month  # restrictor supply / demand, t/month
    rc = c * q_month
    stock = p.inventory_days / 365.0 * 12.0 * d0  # [S, M] tonnes
    started = np.zeros((S, M), dtype=bool)
    age = np.zeros((S, M))
    tot_short = np.zeros((S, M))
    tot_destroyed = np.zeros((S, M))
    max_price = np.ones((S, M))
    paths: dict[str, FloatArray] = {}
    if keep_paths:
        for k in (
            "price_outside",
            "price_restrictor",
            "shortfall_t",
            "demand_destroyed_t",
            "consumption_outside_t",
            "inventory_t",
            "released_t",
        ):
            paths[k] = np.zeros((S, M, T))
    has_restrictor = a > 0
    for t in range(T):
        w = withheld[:, :, t]
        g = w if extra_gap is None else w + extra_gap[:, :, t]
        shocked = (w > 0) | (g != 0)
        started |= shocked
        gap_t = g * q_month  # tonnes/month at the baseline price
        positive = np.maximum(gap_t, 0.0)
        rel = np.zeros((S, M)) if releases_t is None else np.minimum(releases_t[:, :, t], positive)
        left = positive - rel
        ramp = np.clip((age - p.spare_restart_months + 1.0) / p.spare_ramp_months, 0.0, 1.0)
        spare_avail = p.spare_share * q_month * ramp
        spare = np.where(started, np.minimum(spare_avail, left), 0.0)
        left = left - spare
        draw = np.minimum(stock * p.inventory_draw, left)
        stock = stock - draw
        residual = np.where(gap_t > 0, left - draw, gap_t)
        decay = np.exp(-age / p.adjust_months)
        ed = p.ed_lr + (p.ed_sr - p.ed_lr) * decay
        es = p.es_lr + (p.es_sr - p.es_lr) * decay
        out = solve_zone(s0, d0, es, ed, residual, p.cap, p.floor)
        rz = solve_zone(ra, rc, p.es_restrictor, ed, -w * q_month, p.cap, p.floor)
        p_r = np.where(has_restrictor, rz.price_index, out.price_index)
        tot_short += out.shortfall
        tot_destroyed += out.demand_destroyed
        np.maximum(max_price, out.price_index, out=max_price)
        if keep_paths:
            paths["price_outside"][:, :, t] = out.price_index
            paths["price_restrictor"][:, :, t] = p_r
            paths["shortfall_t"][:, :, t] = out.shortfall
            paths["demand_destroyed_t"][:, :, t] = out.demand_destroyed
            paths["consumption_outside_t"][:, :, t] = d0 - out.demand_destroyed - out.shortfall
            paths["inventory_t"][:, :, t] = stock
            paths["released_t"][:, :, t] = rel
        age = np.where(started, age + 1.0, age)
    loss = tot_short * p.loss_per_t
    return KernelOutput(
        shortfall_total_t=tot_short,
        demand_destroyed_total_t=tot_destroyed,
        loss_usd=loss,
        max_price_outside=max_price,
        **paths,
    )
