"""Evaluation of a mechanism over price paths: every money figure as a distribution over paths.

:func:`evaluate` takes :class:`~critmin.pricing.zones.ZonePrices` (the engine's two zones on the
calibrated baseline) or a bare ``[path, month]`` array (one world price), picks the price the mechanism
references, applies the registered model to all paths at once and summarises (mean, P5, P50, P95).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from critmin.parameters import ParameterError, ParameterSet
from critmin.pricing.mechanisms.base import MONTHS_PER_YEAR, Context, FloatArray, Flows
from critmin.pricing.mechanisms.spec import Mechanism
from critmin.pricing.volumes import monthly
from critmin.pricing.zones import ZonePrices, from_array
from critmin.provenance import DATA_EDITIONS, RunMetadata

MECH_PARAMETERS = [
    "mech_discount_rate",
    "mech_upside_share",
    "mech_take_or_pay_fraction",
    "mech_supply_elasticity",
    "price_elasticity_supply_long_run",
    "mech_hurdle_rate",
    "mech_project_life_years",
    "levy_reset_months",
    "levy_lag_months",
    "levy_import_elasticity",
    "landed_cost_markup",
]
#: pricing materials whose market parameters are those of an atlas material
MARKET_MATERIAL = {"ndpr-oxide": "magnet-rare-earths"}


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


def supply_elasticity(material: str, params: ParameterSet) -> float:
    """Long-run supply elasticity from the market parameters (NdPr oxide takes the magnet rare earths'),
    else the pricing fallback ``mech_supply_elasticity``."""
    try:
        return params.get("price_elasticity_supply_long_run", MARKET_MATERIAL.get(material, material))
    except ParameterError:
        return params.get("mech_supply_elasticity", material)


def _zones(prices: ZonePrices | ArrayLike, material: str, path_source: str) -> ZonePrices:
    if isinstance(prices, ZonePrices):
        return prices
    p = np.asarray(prices, dtype=float)
    if p.ndim != 2 or p.shape[1] < MONTHS_PER_YEAR:
        raise ValueError(f"paths: shape {p.shape}; expected [path, month] with at least 12 months")
    if not np.isfinite(p).all() or (p <= 0).any():
        raise ValueError("paths: expected finite, positive prices in USD/t")
    return from_array(material, p, path_source)


def build_context(mech: Mechanism, zones: ZonePrices, material: str, params: ParameterSet) -> Context:
    """The referenced price, landed price, monthly volumes and the mechanism's parameters."""
    months = zones.shape[1]
    if months < MONTHS_PER_YEAR:
        raise ValueError(f"paths: {months} months; expected at least 12")
    share = mech.upside_share if mech.upside_share is not None else params.get("mech_upside_share", material)
    top = mech.take_or_pay_fraction
    reset = mech.reset_months or int(params.get("levy_reset_months", material))
    lag = mech.lag_months if mech.lag_months is not None else int(params.get("levy_lag_months", material))
    return Context(
        price=zones.price(mech.referenced, params),
        landed=zones.landed(params),
        q=monthly(mech.volume_t_per_year, months),
        member_q=monthly(mech.member_output_t_per_year, months, "member_output_t_per_year"),
        share=share,
        take_or_pay=top if top is not None else params.get("mech_take_or_pay_fraction", material),
        reset_months=reset,
        lag_months=lag,
        import_elasticity=params.get("levy_import_elasticity", material),
        start_landed=None,
    )


@dataclass(frozen=True)
class MechanismResult:
    """Distributions over paths of every quantity the forum asks about, plus per-path arrays."""

    mechanism: Mechanism
    material: str
    summary: dict[str, Any]
    fiscal_cost_pv: FloatArray
    flows: Flows
    metadata: RunMetadata = field(default_factory=RunMetadata)


def _summary(
    mech: Mechanism, ctx: Context, fl: Flows, df: FloatArray, material: str, rate: float
) -> dict[str, Any]:
    months = ctx.price.shape[1]
    years = months / MONTHS_PER_YEAR
    fiscal_pv = fl.fiscal @ df
    if fl.end_value is not None:
        fiscal_pv = fiscal_pv - fl.end_value * df[-1]
    covered = float(ctx.q.sum())
    out: dict[str, Any] = {
        "material": material,
        "mechanism": mech.kind,
        "reference": mech.referenced,
        "stage": mech.stage,
        "strike_usd_per_t": mech.strike_usd_per_t,
        "volume_t_per_year": list(mech.volume_t_per_year)
        if isinstance(mech.volume_t_per_year, tuple)
        else mech.volume_t_per_year,
        "volume_t_total": covered,
        "paths": ctx.price.shape[0],
        "years": years,
        "discount_rate": rate,
        "fiscal_cost_pv_usd": distribution(fiscal_pv),
        "fiscal_outlay_pv_usd": distribution(np.maximum(fl.fiscal, 0.0) @ df),
        "fiscal_cost_per_year_usd": distribution(fl.fiscal.sum(-1) / years),
        "fiscal_cost_total_usd": distribution(fl.fiscal.sum(-1)),
        "fiscal_cost_per_t_usd": distribution(fl.fiscal.sum(-1) / covered if covered else 0.0 * fiscal_pv),
        "prob_government_pays": float((fiscal_pv > 0).mean()),
        "consumer_cost_pv_usd": distribution(fl.consumer_cost @ df),
        "levy_revenue_pv_usd": distribution(fl.levy_revenue @ df),
        "reserve_stock_t": distribution(fl.stock_t[:, -1]),
    }
    if fl.imports_t is not None:
        out["imports_t_per_year"] = distribution(fl.imports_t.sum(-1) / years)
        out["imports_t_per_year_without"] = covered / years
    return out


def evaluate(
    mech: Mechanism,
    prices: ZonePrices | ArrayLike,
    *,
    material: str,
    params: ParameterSet | None = None,
    path_source: str = "user",
    projects: pd.DataFrame | None = None,
) -> MechanismResult:
    """Evaluate one mechanism over price paths (``ZonePrices`` or a ``[path, month]`` array, USD/t).

    ``projects``: break-even table from :func:`critmin.pricing.supply_response.project_breakevens`; when
    given, the summary also lists the pipeline projects the mechanism brings over their hurdle rate.
    """
    from critmin.pricing.supply_response import projects_enabled

    params = params or ParameterSet()
    zones = _zones(prices, material, path_source)
    ctx = build_context(mech, zones, material, params)
    rate = params.get("mech_discount_rate", material)
    fl = mech.model.flows(mech.strike_usd_per_t, ctx)
    df = discount_factors(ctx.price.shape[1], rate)
    summary = _summary(mech, ctx, fl, df, material, rate)
    fiscal_pv = fl.fiscal @ df - (0.0 if fl.end_value is None else fl.end_value * df[-1])

    # supply response: output at the realised price per tonne vs the market price, iso-elastic
    eps = supply_elasticity(material, params)
    pq = ctx.member_q if mech.model.producer_volume == "member_q" else ctx.q
    market = (ctx.price * pq).sum(-1) / pq.sum() if pq.sum() > 0 else ctx.price.mean(-1)
    if pq.sum() > 0:
        realised = fl.producer_revenue.sum(-1) / pq.sum()
        response = (realised / market) ** eps - 1.0
    else:
        realised = market + (fl.levy_per_t.mean(-1) if fl.levy_per_t is not None else 0.0)
        response = np.zeros(ctx.price.shape[0])
    baseline_rev = ctx.price * pq
    summary |= {
        "producer_revenue_cv": distribution(np.nan_to_num(revenue_cv(fl.producer_revenue))),
        "producer_revenue_cv_without": distribution(np.nan_to_num(revenue_cv(baseline_rev))),
        "supply_response_pct": distribution(100.0 * response),
        "supply_response_t_per_year": distribution(response * pq.sum() / summary["years"]),
        "supply_elasticity": eps,
    }
    if projects is not None:
        summary["hurdle_rate"] = params.get("mech_hurdle_rate", material)
        summary |= projects_enabled(projects, realised, market)
    summary |= mech.model.summary_extras(ctx)
    meta = RunMetadata(
        data_editions=dict(DATA_EDITIONS) | {"price_paths": zones.source},
        parameters=params.used(MECH_PARAMETERS),
        parameter_digest=params.digest(),
    )
    return MechanismResult(mech, material, summary, np.asarray(fiscal_pv, dtype=float), fl, meta)


def worked_example(
    mech: Mechanism, benchmarks_usd_per_t: list[float], params: ParameterSet | None = None, material: str = ""
) -> list[dict[str, float]]:
    """The per-tonne arithmetic of the mechanism at given benchmark prices (USD/kg in the output)."""
    params = params or ParameterSet()
    mat = material or "default"
    share = mech.upside_share if mech.upside_share is not None else params.get("mech_upside_share", mat)
    top = mech.take_or_pay_fraction
    top = top if top is not None else params.get("mech_take_or_pay_fraction", mat)
    rows = []
    for p in benchmarks_usd_per_t:
        flow, _ = mech.model.scalar_flow(float(p), mech.strike_usd_per_t, share, top)
        rows.append(
            {
                "benchmark_usd_per_kg": p / 1000.0,
                "strike_usd_per_kg": mech.strike_usd_per_t / 1000.0,
                "government_pays_usd_per_kg": max(flow, 0.0) / 1000.0 + 0.0,
                "paid_back_usd_per_kg": max(-flow, 0.0) / 1000.0 + 0.0,
            }
        )
    return rows


def evaluate_reference(
    mech: Mechanism,
    prices: ZonePrices | ArrayLike,
    rate: float,
    share: float,
    take_or_pay: float,
    params: ParameterSet | None = None,
) -> FloatArray:
    """Per-path, per-month loop of the discounted fiscal cost (benchmark and test reference)."""
    params = params or ParameterSet()
    zones = _zones(prices, "reference", "user")
    ctx = build_context(mech, zones, "default", params)
    ctx = Context(**{**vars(ctx), "share": share, "take_or_pay": take_or_pay})
    return mech.model.reference_pv(mech.strike_usd_per_t, ctx, rate)


def mechanism_flows(
    mech: Mechanism, prices: ZonePrices | ArrayLike, share: float, take_or_pay: float
) -> Flows:
    """Monthly flows of ``mech`` on ``prices`` with the given upside share and take-or-pay fraction."""
    zones = _zones(prices, "default", "user")
    ctx = build_context(mech, zones, "default", ParameterSet())
    ctx = Context(**{**vars(ctx), "share": share, "take_or_pay": take_or_pay})
    return mech.model.flows(mech.strike_usd_per_t, ctx)
