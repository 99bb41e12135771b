"""The propagation kernel: a pure function of arrays with a leading scenario axis.

Shapes: ``S`` scenarios, ``M`` materials, ``T`` months. Quantities are fractions of the world's annual
output of the material at its market stage (``world_t``) unless named ``*_t`` (tonnes). Per material the
kernel clears two zones each month (see ``docs/methods/disruption.md`` and ``docs/methods/market.md``):

* the restricting country's domestic zone (production share ``a``, consumption share ``c``, exports
  ``a - c``), whose exports fall by the withheld volume ``w``: ``a (p^es_r - 1) - c (p^ed - 1) = -w``;
* the outside zone (supply ``1 - a``, demand ``1 - c``) which loses ``w`` plus any extra gap ``g``
  (outages, demand shocks, feedstock loss) and adds the stock purchases of its buyers (precautionary
  demand while a restriction lasts, restocking after it); stockpile releases and spare capacity (ramping up
  after a restart time) close what they can at the baseline price; commercial stocks are price-responsive
  supply cleared jointly with the zone (holders release only above the baseline price); the rest moves the
  price, bounded by the choke price above which demand goes unmet (shortfall).

Elasticities move from short-run toward long-run values with the months elapsed since the material's
first shock. The loss of every month is decomposed by :func:`critmin.disruption.loss.loss_parts`. Nothing
here reads files or parameters: see :mod:`critmin.disruption.inputs`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from critmin.disruption.loss import loss_parts, producer_loss
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
    "storage_release_elasticity",
    "precautionary_demand_share",
    "leakage_share",
    "price_cap_index",
    "price_floor_index",
)
NAN_ALLOWED: tuple[str, ...] = ("loss_per_t", "price_usd_per_t")
LOSS_PARTS: tuple[str, ...] = ("extra_cost_usd", "priced_out_usd", "unmet_value_usd", "windfall_usd")


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
    inventory_days: FloatArray  # target commercial stocks outside the restrictor, days of outside demand
    inventory_draw: FloatArray  # most of the remaining stock released per month; also the restocking rate
    storage_sigma: FloatArray  # price response of releases: R = draw * stock * (1 - p^-sigma), p > 1
    precaution: FloatArray  # precautionary purchases, share of the withheld volume at the start (decaying)
    cap: FloatArray  # choke price index: above it demand is rationed
    floor: FloatArray
    loss_per_t: FloatArray  # USD of value added lost per tonne left unmet (NaN = not valued)
    price_usd_per_t: FloatArray  # reference price p0, USD/t (NaN = unpriced: no loss is valued)

    def __post_init__(self) -> None:
        m = self.world_t.shape
        for name, v in vars(self).items():
            if v.shape != m:
                raise ValueError(f"KernelParams.{name}: shape {v.shape}, expected {m}")
            if name not in NAN_ALLOWED and not np.all(np.isfinite(v)):
                raise ValueError(f"KernelParams.{name}: NaN or infinite value for a material")


@dataclass(frozen=True)
class KernelOutput:
    """Results per scenario. ``*_t`` arrays are tonnes; paths are ``None`` unless ``keep_paths``.

    Losses (USD, outside zone, :func:`critmin.disruption.loss.loss_parts`): ``loss_usd`` = importers'
    welfare loss = ``extra_cost_usd + priced_out_usd + unmet_value_usd``; ``windfall_usd`` is the outside
    producers' gain; ``restrictor_producer_loss_usd`` the restrictor's producer surplus lost. NaN for
    unpriced materials.
    """

    shortfall_total_t: FloatArray  # [S, M] unmet demand over the horizon, outside zone
    demand_destroyed_total_t: FloatArray  # [S, M]
    loss_usd: FloatArray  # [S, M] (a) + (b) + (c)
    max_price_outside: FloatArray  # [S, M]
    extra_cost_usd: FloatArray  # [S, M] (a)
    priced_out_usd: FloatArray  # [S, M] (b)
    unmet_value_usd: FloatArray  # [S, M] (c)
    windfall_usd: FloatArray  # [S, M] (d)
    restrictor_producer_loss_usd: FloatArray  # [S, M]
    price_outside: FloatArray | None = None  # [S, M, T]
    price_restrictor: FloatArray | None = None  # [S, M, T]
    shortfall_t: FloatArray | None = None  # [S, M, T]
    demand_destroyed_t: FloatArray | None = None  # [S, M, T]
    consumption_outside_t: FloatArray | None = None  # [S, M, T]
    inventory_t: FloatArray | None = None  # [S, M, T] commercial stock left at month end
    released_t: FloatArray | None = None  # [S, M, T] stockpile releases used
    stock_release_t: FloatArray | None = None  # [S, M, T] commercial stock sold
    stock_purchase_t: FloatArray | None = None  # [S, M, T] precautionary purchases and restocking
    extra_cost_usd_t: FloatArray | None = None  # [S, M, T]
    priced_out_usd_t: FloatArray | None = None  # [S, M, T]
    unmet_value_usd_t: FloatArray | None = None  # [S, M, T]
    windfall_usd_t: FloatArray | None = None  # [S, M, T]


PATHS: dict[str, float] = {  # path name -> value of a month at the baseline (consumption: d0)
    "price_outside": 1.0,
    "price_restrictor": 1.0,
    "shortfall_t": 0.0,
    "demand_destroyed_t": 0.0,
    "consumption_outside_t": 0.0,
    "released_t": 0.0,
    "stock_release_t": 0.0,
    "stock_purchase_t": 0.0,
    "extra_cost_usd_t": 0.0,
    "priced_out_usd_t": 0.0,
    "unmet_value_usd_t": 0.0,
    "windfall_usd_t": 0.0,
}
_TOTALS = ("shortfall_t", "demand_destroyed_t", *(f"{k}_t" for k in LOSS_PARTS), "restrictor_loss")


def _check(a: FloatArray, c: FloatArray, withheld: FloatArray, **arrays: FloatArray | None) -> None:
    S, M, T = withheld.shape
    if a.shape != (S, M) or c.shape != (S, M):
        raise ValueError(f"propagate: a and c must have shape {(S, M)}, got {a.shape} and {c.shape}")
    if np.any(c > a + 1e-12) or np.any(c < 0):
        raise ValueError("propagate: expected 0 <= c <= a (restrictor consumes at most what it produces)")
    if np.any(withheld < 0) or np.any(withheld > (a - c)[..., None] + 1e-12):
        raise ValueError("propagate: withheld volume must lie in [0, a - c] (its exports)")
    for name, arr in arrays.items():
        if arr is not None and arr.shape != (S, M, T):
            raise ValueError(f"propagate: {name} must have shape {(S, M, T)}, got {arr.shape}")
    rel = arrays.get("releases_t")
    if rel is not None and np.any(rel < 0):
        raise ValueError("propagate: releases must be >= 0")


def _month(
    b: dict[str, FloatArray],
    pi: dict[str, FloatArray],
    w: FloatArray,
    g: FloatArray,
    ag: FloatArray,
    stock: FloatArray,
    offered: FloatArray | None,
) -> dict[str, FloatArray]:
    """One month for the active cells: buffers, the two zone clearings, stock accounting, loss parts."""
    q, d0, s0 = b["q"], b["d0"], b["s0"]
    restricted = w > 0
    decay = np.exp(-ag / pi["adjust_months"])
    ed = pi["ed_lr"] + (pi["ed_sr"] - pi["ed_lr"]) * decay
    es = pi["es_lr"] + (pi["es_sr"] - pi["es_lr"]) * decay
    # buyers' stock purchases: precaution while restricted (fading), restocking toward the target after
    buy = np.where(
        restricted,
        pi["precaution"] * w * q * decay,
        pi["inventory_draw"] * np.maximum(b["target"] - stock, 0.0),
    )
    gap_t = g * q + buy  # tonnes/month at the baseline price
    # stockpile releases close the physical gap only, never the buyers' own stock building
    rel = np.zeros(w.size) if offered is None else np.minimum(offered, np.maximum(g * q, 0.0))
    left = np.maximum(gap_t, 0.0) - rel
    ramp = np.clip((ag - pi["spare_restart_months"] + 1.0) / pi["spare_ramp_months"], 0.0, 1.0)
    spare = np.minimum(pi["spare_share"] * q * ramp, left)
    residual = np.where(gap_t > 0, left - spare, gap_t)
    out = solve_zone(
        s0, d0, es, ed, residual, pi["cap"], pi["floor"], pi["inventory_draw"] * stock, pi["storage_sigma"]
    )
    unmet_buy = np.minimum(out.shortfall, buy)  # rationing cuts stock building first
    short = out.shortfall - unmet_buy
    p_out = out.price_index
    parts = loss_parts(p_out, d0, ed, short, s0 * p_out**es + spare, pi["price_usd_per_t"], pi["loss_per_t"])
    has_r = b["ra"] > 0
    rz = solve_zone(b["ra"], b["rc"], pi["es_restrictor"], ed, -w * q, pi["cap"], pi["floor"])
    p_r = np.where(has_r, rz.price_index, p_out)
    r_loss = np.where(has_r, producer_loss(p_r, b["ra"], pi["es_restrictor"], pi["price_usd_per_t"]), 0.0)
    return {
        "stock": stock - out.released + buy - unmet_buy,
        "price_outside": p_out,
        "price_restrictor": p_r,
        "shortfall_t": short,
        "demand_destroyed_t": out.demand_destroyed,
        "consumption_outside_t": d0 - out.demand_destroyed - short,
        "released_t": rel,
        "stock_release_t": out.released,
        "stock_purchase_t": buy - unmet_buy,
        "extra_cost_usd_t": parts.extra_cost_usd,
        "priced_out_usd_t": parts.priced_out_usd,
        "unmet_value_usd_t": parts.unmet_value_usd,
        "windfall_usd_t": parts.windfall_usd,
        "restrictor_loss": r_loss,
    }


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
    _check(a, c, withheld, extra_gap=extra_gap, releases_t=releases_t)
    S, M, T = withheld.shape
    N = S * M

    def flat(v: FloatArray) -> FloatArray:
        return np.ascontiguousarray(np.broadcast_to(v, (S, M))).reshape(N)

    q = flat(p.world_t / 12.0)  # tonnes per month, per (scenario, material)
    af, cf = a.reshape(N), c.reshape(N)
    b = {"q": q, "d0": (1.0 - cf) * q, "s0": (1.0 - af) * q, "ra": af * q, "rc": cf * q}
    par = {k: flat(v) for k, v in vars(p).items() if k != "world_t"}
    b["target"] = par["inventory_days"] / 365.0 * 12.0 * b["d0"]  # tonnes
    stock = b["target"].copy()
    started = np.zeros(N, dtype=bool)
    age = np.zeros(N)
    tot = {k: np.zeros(N) for k in _TOTALS}
    max_price = np.ones(N)
    paths: dict[str, FloatArray] = (
        {k: np.zeros((S, M, T)) for k in (*PATHS, "inventory_t")} if keep_paths else {}
    )
    fp = {k: v.reshape(N, T) for k, v in paths.items()}
    for t in range(T):
        w_all = withheld[:, :, t].reshape(N)
        g_all = w_all if extra_gap is None else w_all + extra_gap[:, :, t].reshape(N)
        shocked = (w_all > 0) | (g_all != 0)
        started |= shocked
        # cells at the baseline (no gap, stocks full) are not computed; restocking cells are
        refill = started & ~shocked & (stock < b["target"] * (1.0 - 1e-9))
        idx = np.flatnonzero(shocked | refill)
        if keep_paths:
            for k, default in PATHS.items():
                fp[k][:, t] = default
            fp["consumption_outside_t"][:, t] = b["d0"]
        if idx.size:
            offered = None if releases_t is None else releases_t[:, :, t].reshape(N)[idx]
            res = _month(
                {k: v[idx] for k, v in b.items()},
                {k: v[idx] for k, v in par.items()},
                w_all[idx],
                g_all[idx],
                age[idx],
                stock[idx],
                offered,
            )
            stock[idx] = res["stock"]
            for k in _TOTALS:
                tot[k][idx] += res[k]
            max_price[idx] = np.maximum(max_price[idx], res["price_outside"])
            for k in PATHS if keep_paths else ():
                fp[k][idx, t] = res[k]
        if keep_paths:
            fp["inventory_t"][:, t] = stock
        age[started] += 1.0
    return _output(p, tot, max_price, paths, (S, M))


def _output(
    p: KernelParams,
    tot: dict[str, FloatArray],
    max_price: FloatArray,
    paths: dict[str, FloatArray],
    shape: tuple[int, int],
) -> KernelOutput:
    priced = np.where(np.isfinite(p.price_usd_per_t), 1.0, np.nan)  # unpriced: NaN, never a zero loss
    money = {k: tot[f"{k}_t"].reshape(shape) * priced for k in LOSS_PARTS}
    for k in LOSS_PARTS if paths else ():
        paths[f"{k}_t"] = paths[f"{k}_t"] * priced[None, :, None]
    return KernelOutput(
        shortfall_total_t=tot["shortfall_t"].reshape(shape),
        demand_destroyed_total_t=tot["demand_destroyed_t"].reshape(shape),
        loss_usd=money["extra_cost_usd"] + money["priced_out_usd"] + money["unmet_value_usd"],
        max_price_outside=max_price.reshape(shape),
        restrictor_producer_loss_usd=tot["restrictor_loss"].reshape(shape) * priced,
        **money,
        **paths,
    )
