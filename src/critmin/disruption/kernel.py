"""The propagation kernel: a pure function of arrays with a leading scenario axis.

Shapes: ``S`` scenarios, ``M`` materials, ``T`` months. Quantities are fractions of the world's annual
output of the material at its market stage (``world_t``) unless named ``*_t`` (tonnes). Per material the
kernel clears two zones each month (see ``docs/methods/disruption.md`` and ``docs/methods/market.md``):

* the restricting country's domestic zone (production share ``a``, consumption share ``c``, exports
  ``a - c``), whose exports fall by the withheld volume ``w``: ``a (p^es_r - 1) - c (p^ed - 1) = -w``;
* the outside zone (supply ``1 - a``, demand ``1 - c``) which loses ``w`` plus any extra gap ``g``
  (outages, demand shocks, feedstock loss); stockpile releases and spare capacity (ramping up after a
  restart time) close what they can at the baseline price; commercial stocks are sold or bought at the
  price, cleared jointly with the zone: holders want ``H* p^-sigma`` (less the higher the price now
  against the baseline they expect) and close ``rho`` of the gap to what they hold each month; a
  restriction raises ``H*`` by a precautionary share (fading), and after it stocks are rebuilt. The rest
  moves the price, bounded by the choke price above which demand goes unmet (shortfall).

Elasticities move from short-run toward long-run values with the months elapsed since the material's
first shock. The loss of every month is decomposed by :func:`critmin.disruption.loss.loss_point` (the core of
:func:`~critmin.disruption.loss.loss_parts`). Nothing
here reads files or parameters: see :mod:`critmin.disruption.inputs`.
"""

from __future__ import annotations

import math
import types
from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit, prange
from numpy.typing import NDArray

from critmin.disruption.clearing import clear_fused, first_guess
from critmin.disruption.loss import loss_log_point, producer_point
from critmin.market.equilibrium import clear_point
from critmin.market.series import SMALL_STEP, exp_small, expm1_known

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
    inventory_days: FloatArray  # normal commercial stocks outside the restrictor H*, days of outside demand
    inventory_draw: FloatArray  # rho: share of the gap between held and wanted stock closed per month
    storage_sigma: FloatArray  # sigma: wanted stock H* p^-sigma falls with the price
    precaution: FloatArray  # rise of the wanted stock when a restriction starts, share of H* (fading)
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


@njit(cache=True)
def _outside(w: FloatArray, top: FloatArray) -> bool:
    """Whether any ``w[i, t]`` lies outside ``[0, top[i]]`` (one pass, no temporary arrays)."""
    for i in range(w.shape[0]):
        for t in range(w.shape[1]):
            if w[i, t] < 0.0 or w[i, t] > top[i]:
                return True
    return False


def _check(a: FloatArray, c: FloatArray, withheld: FloatArray, **arrays: FloatArray | None) -> None:
    S, M, T = withheld.shape
    if a.shape != (S, M) or c.shape != (S, M):
        raise ValueError(f"propagate: a and c must have shape {(S, M)}, got {a.shape} and {c.shape}")
    if np.any(c > a + 1e-12) or np.any(c < 0):
        raise ValueError("propagate: expected 0 <= c <= a (restrictor consumes at most what it produces)")
    if _outside(withheld.reshape(S * M, T), np.ascontiguousarray(a - c).reshape(S * M) + 1e-12):
        raise ValueError("propagate: withheld volume must lie in [0, a - c] (its exports)")
    for name, arr in arrays.items():
        if arr is not None and arr.shape != (S, M, T):
            raise ValueError(f"propagate: {name} must have shape {(S, M, T)}, got {arr.shape}")
    rel = arrays.get("releases_t")
    if rel is not None and np.any(rel < 0):
        raise ValueError("propagate: releases must be >= 0")


# per-material parameter rows, in the order the compiled loop reads them
_ROWS: tuple[str, ...] = (
    "ed_sr",
    "ed_lr",
    "es_sr",
    "es_lr",
    "es_restrictor",
    "adjust_months",
    "spare_share",
    "spare_restart_months",
    "spare_ramp_months",
    "inventory_days",
    "inventory_draw",
    "storage_sigma",
    "precaution",
    "cap",
    "floor",
    "loss_per_t",
    "price_usd_per_t",
)
_PATH_ORDER: tuple[str, ...] = (*PATHS, "inventory_t")
TOL, MAX_ITER = 1e-12, 100


@njit(cache=True, error_model="numpy", inline="always")
def _keep(
    paths: FloatArray,
    i: int,
    t: int,
    got: tuple[float, float, float, float, float, float, float, float],
    losses: tuple[float, float, float, float],
    stock: float,
) -> None:
    """Month ``t`` of cell ``i`` into ``paths`` (``_PATH_ORDER``): prices and quantities, the four loss
    integrals, the commercial stock."""
    for k in range(8):
        paths[k, i, t] = got[k]
    for k in range(4):
        paths[8 + k, i, t] = losses[k]
    paths[12, i, t] = stock


@njit(cache=True, error_model="numpy")
def _cell(
    i: int,
    rows: FloatArray,
    q: FloatArray,
    a: FloatArray,
    c: FloatArray,
    withheld: FloatArray,
    gap_extra: FloatArray,
    offered: FloatArray,
    keep: bool,
    tot: FloatArray,
    paths: FloatArray,
    restrictor: bool,
    lcap: float,
    lfloor: float,
) -> int:
    """The monthly steps of cell ``i`` (see :func:`_cells`); returns its number of failed zone clearings."""
    horizon = withheld.shape[1]
    failed = 0
    has_gap, has_offer = gap_extra.shape == withheld.shape, offered.shape == withheld.shape  # else [1, 1]
    pr = rows[:, i]
    d0, s0, ra, rc = (1.0 - c[i]) * q[i], (1.0 - a[i]) * q[i], a[i] * q[i], c[i] * q[i]
    target = pr[9] / 365.0 * 12.0 * d0
    stock, started, age, x_prev, xr_prev, x_prev2, p_prev = target, False, 0.0, 0.0, 0.0, 0.0, 1.0
    decay, fade = 1.0, math.exp(-1.0 / pr[5])  # the elasticities' decay exp(-age / adjust), one month's
    for t in range(horizon):
        w = withheld[i, t]
        g = w + gap_extra[i, t] if has_gap else w
        shocked = w > 0.0 or g != 0.0
        started = started or shocked
        if keep:
            paths[4, i, t] = d0
            paths[12, i, t] = stock
        if not started or (not shocked and abs(stock - target) <= 1e-9 * target):
            if started:
                age, decay = age + 1.0, decay * fade
            continue  # at the baseline: price 1, nothing unmet, no loss
        ed = pr[1] + (pr[0] - pr[1]) * decay
        es = pr[3] + (pr[2] - pr[3]) * decay
        # the stock holders want: the target, raised by precaution while restricted (fading)
        want = pr[10] * target * (1.0 + (pr[12] * decay if w > 0.0 else 0.0))
        hold = pr[10] * stock
        gap = g * q[i]  # tonnes/month at the baseline price; stockpile releases close the physical gap
        rel = min(offered[i, t], max(gap, 0.0)) if has_offer else 0.0
        left = max(gap, 0.0) - rel
        spare = min(pr[6] * q[i] * min(max((age - pr[7] + 1.0) / pr[8], 0.0), 1.0), left)
        residual = left - spare if gap > 0.0 else gap
        x0 = first_guess(x_prev, x_prev2)
        x, short_all, pes, ped, psig, ok = clear_fused(
            s0, d0, es, ed, residual, lcap, lfloor, hold, want, pr[11], x0, TOL, MAX_ITER
        )
        p_out = p_prev * exp_small(x - x_prev) if abs(x - x_prev) <= SMALL_STEP else math.exp(x)
        sold = hold - want * psig  # net sale of commercial stocks
        unmet_buy = min(short_all, max(-sold, 0.0))  # rationing cuts stock purchases first
        short = short_all - unmet_buy
        stock = stock - sold - unmet_buy
        destroyed = -d0 * expm1_known(ed * x, ped)
        la, lb, lc, ld = loss_log_point(x, p_out, ped, d0, ed, short, s0 * pes + spare, pr[16], pr[15])
        p_r, r_loss = p_out, 0.0
        if restrictor and ra > 0.0:  # the restrictor's zone only when its price or loss is asked for
            xr, _, _, ok_r = clear_point(
                ra, rc, pr[4], ed, -w * q[i], pr[13], pr[14], 0.0, 0.0, 1.0, xr_prev, TOL, MAX_ITER
            )
            xr_prev, ok, p_r = xr, ok and ok_r, math.exp(xr)
            r_loss = producer_point(p_r, ra, pr[4], pr[16])
        failed += 0 if ok else 1
        vals = (short, destroyed, la, lb, lc, ld, r_loss)
        for k in range(7):
            tot[k, i] += vals[k]
        tot[7, i] = max(tot[7, i], p_out)
        if keep:
            bought = max(-sold, 0.0) - unmet_buy
            got = (p_out, p_r, short, destroyed, d0 - destroyed - short, rel, max(sold, 0.0), bought)
            _keep(paths, i, t, got, (la, lb, lc, ld), stock)
        x_prev2, x_prev, p_prev, age, decay = x_prev, x, p_out, age + 1.0, decay * fade
    return failed


@njit(cache=True, error_model="numpy", parallel=True)
def _cells(
    rows: FloatArray,
    q: FloatArray,
    a: FloatArray,
    c: FloatArray,
    withheld: FloatArray,
    gap_extra: FloatArray,
    offered: FloatArray,
    keep: bool,
    tot: FloatArray,
    paths: FloatArray,
    restrictor: bool,
) -> int:
    """Monthly steps of every cell (rows of ``withheld``), compiled; adds to ``tot`` [8, N] (``_TOTALS``
    and the highest outside price) and, if ``keep``, fills ``paths`` [13, N, T] (``_PATH_ORDER``).
    Returns the number of failed zone clearings. Each cell is one call of :func:`_cell`, compiled on its
    own (as optimised as a serial function; numba's parallel lowering of the same loop body was slower)."""
    n = withheld.shape[0]
    failed = 0
    lcap, lfloor = np.log(rows[13]), np.log(rows[14])
    for i in prange(n):  # cells are independent: spread over the cores
        failed += _cell(
            i, rows, q, a, c, withheld, gap_extra, offered, keep, tot, paths, restrictor, lcap[i], lfloor[i]
        )
    return failed


def _serial(fn: Any) -> Any:
    """The same compiled loop without ``prange``'s threads and without the GIL, for callers that run
    several propagations in their own threads (``propagate(..., parallel=False)``). A copy of the Python
    function under its own name: numba's cache key ignores the target options (numba issue 6845), so the
    two variants must not share a cache entry."""
    py = fn.py_func
    copy = types.FunctionType(py.__code__, py.__globals__, f"{py.__name__}_serial", py.__defaults__)
    copy.__qualname__ = f"{py.__qualname__}_serial"
    return njit(cache=True, nogil=True, error_model="numpy")(copy)


_cells_serial = _serial(_cells)


def propagate(
    p: KernelParams,
    a: FloatArray,
    c: FloatArray,
    withheld: FloatArray,
    extra_gap: FloatArray | None = None,
    releases_t: FloatArray | None = None,
    *,
    keep_paths: bool = False,
    restrictor: bool = True,
    parallel: bool = True,
) -> KernelOutput:
    """Run the monthly steps for every scenario at once.

    ``a``, ``c``: ``[S, M]`` restrictor production and consumption shares (0 where no restriction);
    ``withheld``: ``[S, M, T]`` withheld export volume (fraction of world output, ``0 <= w <= a - c``);
    ``extra_gap``: ``[S, M, T]`` other supply gap of the outside zone (may be negative);
    ``releases_t``: ``[S, M, T]`` stockpile releases offered, tonnes per month;
    ``restrictor=False`` skips the restrictor zone's clearing (nothing of the outside zone depends on it):
    ``price_restrictor`` then repeats the outside price and ``restrictor_producer_loss_usd`` is NaN.
    ``parallel=False`` runs the cells on the calling thread with the GIL released (same results).
    """
    _check(a, c, withheld, extra_gap=extra_gap, releases_t=releases_t)
    S, M, T = withheld.shape
    N = S * M

    def flat(v: FloatArray) -> FloatArray:
        return np.ascontiguousarray(np.broadcast_to(v, (S, M)), dtype=np.float64).reshape(N)

    def cells(v: FloatArray | None) -> FloatArray:  # None: a [1, 1] stand-in the loop never reads
        return np.zeros((1, 1)) if v is None else np.ascontiguousarray(v, dtype=np.float64).reshape(N, T)

    rows = np.stack([flat(getattr(p, k)) for k in _ROWS])
    tot = np.zeros((len(_TOTALS) + 1, N))
    tot[-1] = 1.0  # highest outside price index
    store = np.zeros((len(_PATH_ORDER), N, T) if keep_paths else (len(_PATH_ORDER), 1, 1))
    if keep_paths:
        for k, name in enumerate(PATHS):
            store[k] = PATHS[name]
    failed = (_cells if parallel else _cells_serial)(
        rows,
        flat(p.world_t / 12.0),
        np.ascontiguousarray(a, dtype=np.float64).reshape(N),
        np.ascontiguousarray(c, dtype=np.float64).reshape(N),
        cells(withheld),
        cells(extra_gap),
        cells(releases_t),
        keep_paths,
        tot,
        store,
        restrictor,
    )
    if failed:
        raise RuntimeError(f"propagate: {failed} zone clearings did not converge in {MAX_ITER} iterations")
    paths = {k: store[j].reshape(S, M, T) for j, k in enumerate(_PATH_ORDER)} if keep_paths else {}
    totals = dict(zip(_TOTALS, tot[:-1], strict=True))
    if not restrictor:
        totals["restrictor_loss"] = np.full(N, np.nan)  # not computed: never a zero loss
    return _output(p, totals, tot[-1], paths, (S, M))


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
