"""Prices page: a material's published price history, the fitted price model, the floor / CfD / levy /
offtake / reserve evaluator with cost distributions, and reference prices assessed from a deals file the
user uploads.

The page only parses its form, builds the same :class:`critmin.runs.floor.FloorRequest` the CLI
(``critmin floor``) and the API (``floor`` job) build, calls :func:`critmin.runs.floor.run` and renders the
result (history, model and paths included); the deals file goes through :func:`critmin.runs.price.run`.
Defaults come from the data and the options tree, not from the dashboard: the strike defaults to the
model's start price (the last observed price, :func:`critmin.runs.floor.start_price_usd_per_kg`), the
volume to 1 t/yr (every cost then reads per tonne covered per year), years and paths to ``options().floor``
(the page's path count to ``floor.page_paths``: it evaluates while the user waits).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from critmin.pricing.mechanisms.registry import MECHANISMS
from critmin.web import figures
from critmin.web.page import Block, Page, PageError, int_param, require

KG_PER_T = 1000.0
DEFAULT_MATERIAL = "ndpr-oxide"
PARAM_KEYS = ("material", "mechanism", "strike", "volume_t", "years", "paths", "seed")


def _float_param(
    params: Mapping[str, str], name: str, default: float | None, lo: float, hi: float
) -> float | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise PageError(
            f"parameter {name}={raw!r} is not a number; expected {lo:g}..{hi:g}", status=422
        ) from None
    if not (math.isfinite(value) and lo <= value <= hi):
        raise PageError(f"parameter {name}={value:g} is out of range; expected {lo:g}..{hi:g}", status=422)
    return value


def distribution_frame(summary: Mapping[str, Any]) -> pd.DataFrame:
    """Rows ``quantity, mean, p5, p50, p95`` of every distribution in a mechanism summary."""
    rows = [
        {"quantity": k, **{q: v[q] for q in ("mean", "p5", "p50", "p95")}}
        for k, v in summary.items()
        if isinstance(v, dict) and {"mean", "p5", "p50", "p95"} <= set(v)
    ]
    return pd.DataFrame(rows, columns=["quantity", "mean", "p5", "p50", "p95"])


def fan_frame(paths: np.ndarray) -> pd.DataFrame:
    """Monthly P5 / P50 / P95 of simulated prices, USD per kg."""
    q = np.quantile(paths, [0.05, 0.5, 0.95], axis=0) / KG_PER_T
    return pd.DataFrame({"month": np.arange(1, paths.shape[1] + 1), "p5": q[0], "p50": q[1], "p95": q[2]})


def _history_block(history: Any) -> Block:
    """The published price history as a line chart, USD per kg."""
    values = history.values
    hist = pd.DataFrame(
        {"period": [str(i)[:10] for i in values.index], "usd_per_kg": values.to_numpy() / KG_PER_T}
    )
    hist["series"] = history.series
    hist_fig = figures.lines(hist, "period", "usd_per_kg", "series", f"{history.source}", "USD per kg")
    if len(hist) > 60:
        hist_fig["data"][0]["mode"] = "lines"
    return Block("history", f"Published prices: {history.series}", hist, hist_fig)


def _model_frame(model: Any) -> pd.DataFrame:
    """The fitted model's parameters and fit notes as a two-column table."""
    rows = {
        "start price (USD/kg)": math.exp(model.x0) / KG_PER_T,
        "long-run price (USD/kg)": model.long_run_price / KG_PER_T,
        "mean reversion (per year)": model.kappa,
        "volatility (per year)": model.sigma,
        **{f"fit: {k}": v for k, v in model.fit.items()},
    }
    return pd.DataFrame({"quantity": list(rows), "value": [str(v) for v in rows.values()]})


def _fan_block(paths: np.ndarray, years: int) -> Block:
    """Monthly P5 / P50 / P95 of the simulated (no-event) prices as lines."""
    fan = fan_frame(paths)
    fan_long = fan.melt(id_vars="month", var_name="quantile", value_name="usd_per_kg")
    fan_fig = figures.lines(fan_long, "month", "usd_per_kg", "quantile", "Simulated prices", "USD per kg")
    for trace in fan_fig["data"]:
        trace["mode"] = "lines"
    return Block("paths", f"{paths.shape[0]:,} simulated price paths, {years} years", fan, fan_fig)


def floor_request(params: Mapping[str, str], materials: list[str]) -> Any:
    """The :class:`critmin.runs.floor.FloorRequest` of the page's form (the fields the CLI's ``critmin floor``
    and the ``floor`` job take: material, mechanism, strike, volume, years, paths, seed; nothing else is set,
    so every other field keeps the request's default)."""
    from pydantic import ValidationError

    from critmin.options import options
    from critmin.pricing.history import PriceSeriesError
    from critmin.runs.floor import FloorRequest, start_price_usd_per_kg

    f = options().floor
    material = require(params, "material", materials, DEFAULT_MATERIAL)
    mechanism = require(params, "mechanism", list(MECHANISMS), "floor")
    strike = _float_param(params, "strike", None, 1e-6, 1e9)
    if strike is None:
        try:
            strike = start_price_usd_per_kg(material)
        except PriceSeriesError as err:
            raise PageError(f"{material}: no usable price history ({err})", status=422) from err
    fields = {
        "material": material,
        "mechanism": mechanism,
        "strike_usd_per_kg": strike,
        "volume_t": _float_param(params, "volume_t", 1.0, 0.0, 1e9),
        "years": int_param(params, "years", f.years.default, f.years.min, f.years.max),
        "paths": int_param(params, "paths", f.page_paths.default, f.page_paths.min, f.page_paths.max),
        "seed": int_param(params, "seed", 2026, 0, 2**31 - 1),
    }
    try:
        return FloorRequest(**fields)
    except ValidationError as err:
        msgs = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors())
        raise PageError(f"prices page: {msgs}", status=422) from err


def prices_page(params: Mapping[str, str]) -> Page:
    """The prices page model (material, mechanism, strike in USD/kg, volume t/yr, years, paths, seed):
    :func:`floor_request`, :func:`critmin.runs.floor.run`, then only rendering."""
    from critmin.pricing.history import PriceSeriesError, known_materials
    from critmin.runs.floor import run

    materials = sorted(known_materials())
    req = floor_request(params, materials)
    try:
        out = run(req)
    except PriceSeriesError as err:
        raise PageError(f"{req.material}: no usable price history ({err})", status=422) from err
    result, summary, paths, history = out.result, out.summary, out.zones.outside, out.history
    mechanism, strike, volume = req.mechanism, req.strike_usd_per_kg, req.volume_t

    fiscal = pd.DataFrame({"path": np.arange(1, req.paths + 1), "fiscal_cost_pv_usd": result.fiscal_cost_pv})
    fiscal["mechanism"] = mechanism
    fiscal_fig = figures.histogram(
        fiscal, "fiscal_cost_pv_usd", "mechanism", "Fiscal cost, present value", "USD (> 0: government pays)"
    )
    blocks = [
        _history_block(history),
        Block("model", "Fitted no-event price model", _model_frame(out.model)),
        _fan_block(paths, req.years),
        Block(
            "fiscal-cost",
            f"{mechanism} at {strike:,.4g} USD/kg on {volume:g} t/yr: fiscal cost distribution",
            fiscal,
            fiscal_fig,
            f"P(government pays) = {summary['prob_government_pays']:.0%}; discount rate "
            f"{summary['discount_rate']:.1%}.",
        ),
        Block(
            "distribution",
            "Cost and response distributions (USD, present values)",
            distribution_frame(summary),
            wide=True,
        ),
    ]
    from critmin.provenance import DATA_EDITIONS

    editions = {
        "price_history": f"{DATA_EDITIONS.get(history.source, history.source)}: {history.series} "
        f"({history.frequency})"
    }
    return Page(
        name="prices",
        title="Prices: history, price model and support mechanisms",
        blocks=blocks,
        editions=editions,
        # only the parameters given are carried to the CSV links (a default is recomputed identically)
        params={k: str(params[k]) for k in PARAM_KEYS if params.get(k)},
        intro=f"Model fit confidence: {out.model.fit.get('confidence', 'n/a')}. Parameter set "
        f"{result.metadata.parameter_digest}.",
        template="prices.html",
        context={
            "materials": materials,
            "mechanisms": MECHANISMS,
            "assessment": None,
            "request": req,
            "form": _form(
                req.material, mechanism, strike, float(volume or 0.0), req.years, req.paths, req.seed
            ),
        },
    )


def _form(
    material: str, mechanism: str, strike: float, volume: float, years: int, paths: int, seed: int
) -> dict[str, Any]:
    """The evaluator form's values as shown (rounded strike and volume)."""
    shown = {"strike": f"{strike:.6g}", "volume_t": f"{volume:g}"}
    return {
        "material": material,
        "mechanism": mechanism,
        **shown,
        "years": years,
        "paths": paths,
        "seed": seed,
    }


@lru_cache(maxsize=64)
def _cached(items: tuple[tuple[str, str], ...]) -> Page:
    return prices_page(dict(items))


def build_prices(params: Mapping[str, str]) -> Page:
    """Prices page (cached per parameter set)."""
    return _cached(tuple(sorted((k, v) for k, v in params.items() if k in PARAM_KEYS and v != "")))


def assess_upload(text: str, filename: str, as_of: str, window_days: str) -> dict[str, Any]:
    """Reference prices from an uploaded deals CSV: ``{"ok", "frame" | "error", ...}`` for the template."""
    from datetime import date

    from critmin.pricing.history import known_materials
    from critmin.pricing.transactions import TransactionFileError, parse_transactions
    from critmin.runs.price import PriceRequest, run

    try:
        day = date.fromisoformat(as_of)
        days = int(window_days)
        if days <= 0:
            raise ValueError(f"window {window_days!r}; expected a positive number of days")
    except ValueError as err:
        return {"ok": False, "error": f"assessment date / window: {err}"}
    try:
        txs = parse_transactions(text, filename, materials=known_materials(), as_of=day)
    except TransactionFileError as err:
        return {"ok": False, "error": str(err)}
    try:
        result = run(PriceRequest(transactions=txs, as_of=day, window_days=days))
    except ValueError as err:  # pydantic's ValidationError included: no deals, or one after the date
        return {"ok": False, "error": f"{filename}: {str(err).splitlines()[-1].strip()}"}
    return {"ok": True, "frame": result.prices, "deals": len(txs), "as_of": day.isoformat(), "days": days}
