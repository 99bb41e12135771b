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

    N = S * M

    def flat(v: FloatArray) -> FloatArray:
        return np.ascontiguousarray(np.broadcast_to(v, (S, M))).reshape(N)

    q = flat(p.world_t / 12.0)  # tonnes per month, per (scenario, material)
    af, cf = a.reshape(N), c.reshape(N)
    d0 = (1.0 - cf) * q  # outside demand, t/month
    s0 = (1.0 - af) * q  # outside own supply
    ra, rc = af * q, cf * q  # restrictor supply and demand, t/month
    par = {k: flat(v) for k, v in vars(p).items() if k not in ("world_t", "loss_per_t")}
    stock = par["inventory_days"] / 365.0 * 12.0 * d0  # tonnes
    started = np.zeros(N, dtype=bool)
    age = np.zeros(N)
    tot_short = np.zeros(N)
    tot_destroyed = np.zeros(N)
    max_price = np.ones(N)
    has_restrictor = af > 0
    names = (
        "price_outside",
        "price_restrictor",
        "shortfall_t",
        "demand_destroyed_t",
        "consumption_outside_t",
        "inventory_t",
        "released_t",
    )
    paths: dict[str, FloatArray] = {k: np.zeros((S, M, T)) for k in names} if keep_paths else {}
    flat_paths = {k: v.reshape(N, T) for k, v in paths.items()}
    for t in range(T):
        w_all = withheld[:, :, t].reshape(N)
        g_all = w_all if extra_gap is None else w_all + extra_gap[:, :, t].reshape(N)
        shocked = (w_all > 0) | (g_all != 0)
        started |= shocked
        # a (scenario, material) with no gap this month is at the baseline: only the shocked ones are computed
        idx = np.flatnonzero(shocked)
        if keep_paths:
            for k, default in (
                ("price_outside", 1.0),
                ("price_restrictor", 1.0),
                ("shortfall_t", 0.0),
                ("demand_destroyed_t", 0.0),
                ("released_t", 0.0),
            ):
                flat_paths[k][:, t] = default
            flat_paths["consumption_outside_t"][:, t] = d0
        if idx.size:
            w, g, qi, ag = w_all[idx], g_all[idx], q[idx], age[idx]
            pi = {k: v[idx] for k, v in par.items()}
            gap_t = g * qi  # tonnes/month at the baseline price
            positive = np.maximum(gap_t, 0.0)
            rel = (
                np.zeros(idx.size)
                if releases_t is None
                else np.minimum(releases_t[:, :, t].reshape(N)[idx], positive)
            )
            left = positive - rel
            ramp = np.clip((ag - pi["spare_restart_months"] + 1.0) / pi["spare_ramp_months"], 0.0, 1.0)
            spare = np.minimum(pi["spare_share"] * qi * ramp, left)
            left = left - spare
            st = stock[idx]
            draw = np.minimum(st * pi["inventory_draw"], left)
            stock[idx] = st - draw
            residual = np.where(gap_t > 0, left - draw, gap_t)
            decay = np.exp(-ag / pi["adjust_months"])
            ed = pi["ed_lr"] + (pi["ed_sr"] - pi["ed_lr"]) * decay
            es = pi["es_lr"] + (pi["es_sr"] - pi["es_lr"]) * decay
            out = solve_zone(s0[idx], d0[idx], es, ed, residual, pi["cap"], pi["floor"])
            rz = solve_zone(ra[idx], rc[idx], pi["es_restrictor"], ed, -w * qi, pi["cap"], pi["floor"])
            p_r = np.where(has_restrictor[idx], rz.price_index, out.price_index)
            tot_short[idx] += out.shortfall
            tot_destroyed[idx] += out.demand_destroyed
            max_price[idx] = np.maximum(max_price[idx], out.price_index)
            if keep_paths:
                flat_paths["price_outside"][idx, t] = out.price_index
                flat_paths["price_restrictor"][idx, t] = p_r
                flat_paths["shortfall_t"][idx, t] = out.shortfall
                flat_paths["demand_destroyed_t"][idx, t] = out.demand_destroyed
                flat_paths["consumption_outside_t"][idx, t] = d0[idx] - out.demand_destroyed - out.shortfall
                flat_paths["released_t"][idx, t] = rel
        if keep_paths:
            flat_paths["inventory_t"][:, t] = stock
        age[started] += 1.0
    tot_short = tot_short.reshape(S, M)
    tot_destroyed = tot_destroyed.reshape(S, M)
    max_price = max_price.reshape(S, M)
    loss = tot_short * p.loss_per_t
    return KernelOutput(
        shortfall_total_t=tot_short,
        demand_destroyed_total_t=tot_destroyed,
        loss_usd=loss,
        max_price_outside=max_price,
        **paths,
    )
