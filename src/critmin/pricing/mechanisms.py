"""Price-support mechanisms: per-period payoffs and their evaluation over paths (docs/methods/mechanisms.md).

Prices are USD per tonne, volumes tonnes per year, paths an array ``[path, month]``. Every payoff is a
vectorised numpy function of the price; :func:`evaluate` applies one mechanism to all paths at once and
reports every money figure as a distribution over paths (mean, P5, P50, P95), never as one number.
Sign convention: a positive fiscal flow is a cost to the government (a payment), a negative one a receipt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from critmin.parameters import ParameterError, ParameterSet
from critmin.provenance import DATA_EDITIONS, RunMetadata

MechanismKind = Literal["floor", "floor-share", "cfd", "levy", "offtake", "reserve"]
MECHANISMS: tuple[str, ...] = get_args(MechanismKind)
MONTHS_PER_YEAR = 12
FloatArray = NDArray[np.float64]


# --- per-period payoffs, USD per tonne (positive = government pays) -------------------------------


def floor_payment(price: ArrayLike, strike: float) -> FloatArray:
    """One-sided floor (a put): the government pays the gap below the strike."""
    return np.maximum(strike - np.asarray(price, dtype=float), 0.0)


def floor_share_payment(price: ArrayLike, strike: float, share: float) -> FloatArray:
    """Floor with upside sharing: the gap below the strike, minus ``share`` of the price above it."""
    p = np.asarray(price, dtype=float)
    return np.maximum(strike - p, 0.0) - share * np.maximum(p - strike, 0.0)


def cfd_payment(price: ArrayLike, strike: float) -> FloatArray:
    """Two-sided contract for difference: strike minus price, either sign."""
    return strike - np.asarray(price, dtype=float)


def levy_per_t(reference: ArrayLike, landed_import_price: ArrayLike) -> FloatArray:
    """Variable import levy on non-member supply: ``max(0, reference - landed import price)``."""
    return np.maximum(np.asarray(reference, dtype=float) - np.asarray(landed_import_price, dtype=float), 0.0)


def offtake_payment(price: ArrayLike, strike: float, take_or_pay: float) -> FloatArray:
    """Net cost per contracted tonne of a take-or-pay offtake at ``strike``, resold at the market price.

    Above the strike the offtaker takes the full volume (a gain of ``price - strike`` per tonne); below it
    takes only the take-or-pay minimum ``take_or_pay`` and loses ``strike - price`` on that share.
    """
    p = np.asarray(price, dtype=float)
    return np.where(p >= strike, strike - p, take_or_pay * (strike - p))


def reserve_purchase_t(price: ArrayLike, strike: float) -> FloatArray:
    """Share of the covered volume the buyer of last resort buys at the floor (1 below it, else 0)."""
    return (np.asarray(price, dtype=float) < strike).astype(float)


# --- evaluation over paths ------------------------------------------------------------------------


@dataclass(frozen=True)
class Mechanism:
    """A mechanism on one material. ``volume_t_per_year`` is the covered member output, or for ``levy``
    the non-member import volume; ``member_output_t_per_year`` is the member output that a levy protects."""

    kind: MechanismKind
    strike_usd_per_t: float
    volume_t_per_year: float
    upside_share: float | None = None
    take_or_pay_fraction: float | None = None
    member_output_t_per_year: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in MECHANISMS:
            raise ValueError(f"mechanism: {self.kind!r}; expected one of {MECHANISMS}")
        if not self.strike_usd_per_t > 0:
            raise ValueError(f"strike: {self.strike_usd_per_t}; expected a positive price in USD/t")
        if self.volume_t_per_year < 0 or self.member_output_t_per_year < 0:
            raise ValueError("volume_t_per_year and member_output_t_per_year must be >= 0 t")
        for name in ("upside_share", "take_or_pay_fraction"):
            v = getattr(self, name)
            if v is not None and not 0.0 <= v <= 1.0:
                raise ValueError(f"{name}: {v}; expected a fraction in [0, 1]")


@dataclass(frozen=True)
class Flows:
    """Monthly flows per path, USD (``stock_t`` in tonnes)."""

    fiscal: FloatArray
    producer_revenue: FloatArray
    consumer_cost: FloatArray
    levy_revenue: FloatArray
    stock_t: FloatArray


def mechanism_flows(mech: Mechanism, paths: FloatArray, share: float, take_or_pay: float) -> Flows:
    """Monthly fiscal flow, member producer revenue, extra consumer cost, levy revenue and reserve stock."""
    p = np.asarray(paths, dtype=float)
    k = mech.strike_usd_per_t
    q = mech.volume_t_per_year / MONTHS_PER_YEAR
    zeros = np.zeros_like(p)
    stock = zeros
    consumer = zeros
    levy_rev = zeros
    if mech.kind == "floor":
        fiscal = floor_payment(p, k) * q
        revenue = p * q + fiscal
    elif mech.kind == "floor-share":
        fiscal = floor_share_payment(p, k, share) * q
        revenue = p * q + fiscal
    elif mech.kind == "cfd":
        fiscal = cfd_payment(p, k) * q
        revenue = p * q + fiscal
    elif mech.kind == "offtake":
        fiscal = offtake_payment(p, k, take_or_pay) * q
        revenue = np.where(p >= k, k * q, k * take_or_pay * q + p * (1 - take_or_pay) * q)
    elif mech.kind == "reserve":
        bought = reserve_purchase_t(p, k) * q
        fiscal = bought * k
        stock = np.cumsum(bought, axis=-1)
        revenue = np.where(p < k, k * q, p * q)
    else:  # levy: the zone price rises to the reference on imports and on member output
        lv = levy_per_t(k, p)
        member = mech.member_output_t_per_year / MONTHS_PER_YEAR
        levy_rev = lv * q
        fiscal = -levy_rev
        consumer = lv * (q + member)
        revenue = (p + lv) * member
    return Flows(fiscal, revenue, consumer, levy_rev, stock)


def discount_factors(n_months: int, rate: float) -> FloatArray:
    """End-of-month discount factors ``(1 + rate) ** (-m / 12)``, m = 1..n."""
    m = np.arange(1, n_months + 1, dtype=float)
    return np.asarray((1.0 + rate) ** (-m / MONTHS_PER_YEAR), dtype=float)


def distribution(x: ArrayLike) -> dict[str, float]:
    """Mean and P5 / P50 / P95 over paths."""
    a = np.asarray(x, dtype=float)
    p5, p50, p95 = np.percentile(a, [5, 50, 95])
    return {"mean": float(a.mean()), "p5": float(p5), "p50": float(p50), "p95": float(p95)}


def annual(x: FloatArray) -> FloatArray:
    """Monthly ``[path, month]`` summed to ``[path, year]`` (complete years only)."""
    years = x.shape[-1] // MONTHS_PER_YEAR
    return x[..., : years * MONTHS_PER_YEAR].reshape(*x.shape[:-1], years, MONTHS_PER_YEAR).sum(-1)


def revenue_cv(revenue: FloatArray) -> FloatArray:
    """Per path: coefficient of variation of annual revenue (std / mean across years; NaN if mean is 0)."""
    yr = annual(revenue)
    mean = yr.mean(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(np.where(mean > 0, yr.std(-1) / mean, np.nan), dtype=float)


@dataclass(frozen=True)
class MechanismResult:
    """Distributions over paths of every quantity the forum asks about, plus per-path arrays."""

    mechanism: Mechanism
    material: str
    summary: dict[str, Any]
    fiscal_cost_pv: FloatArray
    metadata: RunMetadata = field(default_factory=RunMetadata)


MECH_PARAMETERS = [
    "mech_discount_rate",
    "mech_upside_share",
    "mech_take_or_pay_fraction",
    "mech_supply_elasticity",
    "price_elasticity_supply_long_run",
    "mech_hurdle_rate",
    "mech_project_life_years",
]
#: pricing materials whose market parameters are those of an atlas material
MARKET_MATERIAL = {"ndpr-oxide": "rare-earths"}


def supply_elasticity(material: str, params: ParameterSet) -> float:
    """Long-run supply elasticity from the market parameters (``price_elasticity_supply_long_run``; NdPr
    oxide takes the rare-earths row), else the pricing fallback ``mech_supply_elasticity``."""
    try:
        return params.get("price_elasticity_supply_long_run", MARKET_MATERIAL.get(material, material))
    except ParameterError:
        return params.get("mech_supply_elasticity", material)


def evaluate(
    mech: Mechanism,
    paths: ArrayLike,
    *,
    material: str,
    params: ParameterSet | None = None,
    path_source: str = "user",
    projects: pd.DataFrame | None = None,
) -> MechanismResult:
    """Evaluate one mechanism over price paths ``[path, month]`` (USD/t) for ``material``.

    ``projects``: break-even table from :func:`critmin.pricing.supply_response.project_breakevens`; when
    given, the summary also lists the pipeline projects the mechanism brings over their hurdle rate.
    """
    params = params or ParameterSet()
    p = np.asarray(paths, dtype=float)
    if p.ndim != 2 or p.shape[1] < MONTHS_PER_YEAR:
        raise ValueError(f"paths: shape {p.shape}; expected [path, month] with at least 12 months")
    if not np.isfinite(p).all() or (p <= 0).any():
        raise ValueError("paths: expected finite, positive prices in USD/t")
    rate = params.get("mech_discount_rate", material)
    share = mech.upside_share if mech.upside_share is not None else params.get("mech_upside_share", material)
    top = mech.take_or_pay_fraction
    top = top if top is not None else params.get("mech_take_or_pay_fraction", material)
    eps = supply_elasticity(material, params)
    fl = mechanism_flows(mech, p, share, top)
    df = discount_factors(p.shape[1], rate)
    years = p.shape[1] / MONTHS_PER_YEAR

    fiscal_pv = fl.fiscal @ df
    outlay_pv = np.maximum(fl.fiscal, 0.0) @ df
    if mech.kind == "reserve":  # the stock is sold at the last month's price at the end of the horizon
        fiscal_pv = fiscal_pv - fl.stock_t[:, -1] * p[:, -1] * df[-1]

    # supply response: output at the realised price per tonne vs the market price, iso-elastic
    producer_t = mech.member_output_t_per_year if mech.kind == "levy" else mech.volume_t_per_year
    if producer_t > 0:
        realised = fl.producer_revenue.sum(-1) / (producer_t * years)
        response = (realised / p.mean(-1)) ** eps - 1.0
    else:
        realised = (p + levy_per_t(mech.strike_usd_per_t, p)).mean(-1) if mech.kind == "levy" else p.mean(-1)
        response = np.zeros(p.shape[0])
    baseline_rev = p * producer_t / MONTHS_PER_YEAR

    summary: dict[str, Any] = {
        "material": material,
        "mechanism": mech.kind,
        "strike_usd_per_t": mech.strike_usd_per_t,
        "volume_t_per_year": mech.volume_t_per_year,
        "paths": p.shape[0],
        "years": years,
        "discount_rate": rate,
        "fiscal_cost_pv_usd": distribution(fiscal_pv),
        "fiscal_outlay_pv_usd": distribution(outlay_pv),
        "fiscal_cost_per_year_usd": distribution(fl.fiscal.sum(-1) / years),
        "prob_government_pays": float((fiscal_pv > 0).mean()),
        "consumer_cost_pv_usd": distribution(fl.consumer_cost @ df),
        "levy_revenue_pv_usd": distribution(fl.levy_revenue @ df),
        "producer_revenue_cv": distribution(np.nan_to_num(revenue_cv(fl.producer_revenue))),
        "producer_revenue_cv_without": distribution(np.nan_to_num(revenue_cv(baseline_rev))),
        "supply_response_pct": distribution(100.0 * response),
        "supply_response_t_per_year": distribution(response * producer_t),
        "supply_elasticity": eps,
        "reserve_stock_t": distribution(fl.stock_t[:, -1]),
    }
    if projects is not None:
        from critmin.pricing.supply_response import projects_enabled

        summary["hurdle_rate"] = params.get("mech_hurdle_rate", material)
        summary |= projects_enabled(projects, realised, p.mean(-1))
    if mech.kind == "floor-share":
        summary["upside_share"] = share
    if mech.kind == "offtake":
        summary["take_or_pay_fraction"] = top
    meta = RunMetadata(
        data_editions=dict(DATA_EDITIONS) | {"price_paths": path_source},
        parameters=params.used(MECH_PARAMETERS),
        parameter_digest=params.digest(),
    )
    return MechanismResult(mech, material, summary, np.asarray(fiscal_pv, dtype=float), meta)


def evaluate_reference(
    mech: Mechanism, paths: ArrayLike, rate: float, share: float, take_or_pay: float
) -> FloatArray:
    """Plain per-path, per-month loop computing the discounted fiscal cost (benchmark and test reference)."""
    p = np.asarray(paths, dtype=float)
    k, q = mech.strike_usd_per_t, mech.volume_t_per_year / MONTHS_PER_YEAR
    out = np.empty(p.shape[0])
    for i in range(p.shape[0]):
        total, stock = 0.0, 0.0
        for m in range(p.shape[1]):
            price = float(p[i, m])
            d = (1.0 + rate) ** (-(m + 1) / MONTHS_PER_YEAR)
            if mech.kind == "floor":
                flow = max(k - price, 0.0) * q
            elif mech.kind == "floor-share":
                flow = (max(k - price, 0.0) - share * max(price - k, 0.0)) * q
            elif mech.kind == "cfd":
                flow = (k - price) * q
            elif mech.kind == "offtake":
                flow = (k - price) * q if price >= k else take_or_pay * (k - price) * q
            elif mech.kind == "reserve":
                flow = k * q if price < k else 0.0
                stock += q if price < k else 0.0
            else:
                flow = -max(k - price, 0.0) * q
            total += flow * d
        if mech.kind == "reserve":
            total -= stock * float(p[i, -1]) * (1.0 + rate) ** (-p.shape[1] / MONTHS_PER_YEAR)
        out[i] = total
    return out
