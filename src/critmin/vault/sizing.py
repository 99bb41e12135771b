"""Sizing a Vault-style reserve on the real data: Monte Carlo shortfalls -> stockpile LP and rule-based plans.

:func:`sizing_inputs` runs the disruption engine's Monte Carlo (``keep_paths``) and aligns its monthly
shortfalls with the atlas prices, the loss per tonne, the market-stage world output (for the caps) and the
outside zone's consumption and net imports (for days of cover and the rules); :func:`size_reserve` and
:func:`rule_plans` return plans that :func:`comparison` puts side by side (expected loss avoided per
dollar). See ``docs/methods/stockpile.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from critmin.atlas.prices import reference_series
from critmin.optimize.stockpile import (
    StockpileConfig,
    StockpileInputs,
    StockpilePlan,
    days_of_cover_plan,
    shortfall_array,
    size_stockpile,
)
from critmin.parameters import ParameterSet
from critmin.provenance import RunMetadata

#: parameters of ``vault.csv`` used by the sizing (recorded in every result's metadata)
SIZING_PARAMETERS = [
    "vault_exim_loan_usd",
    "vault_private_capital_usd",
    "vault_exim_interest_rate",
    "vault_private_capital_return",
    "vault_storage_cost_rate",
    "vault_price_risk_rate",
    "vault_price_risk_from_history",
    "vault_cap_share_world_supply",
    "vault_rule_iea_days",
    "vault_rule_japan_days",
]
NON_COUNTRY = {"OTH", "WLD"}


def default_budget(params: ParameterSet | None = None) -> float:
    """EXIM loan plus private capital (USD)."""
    p = params or ParameterSet()
    return p.get("vault_exim_loan_usd") + p.get("vault_private_capital_usd")


def price_downside(prices: pd.DataFrame) -> pd.Series:
    """Mean annual price fall per material, ``mean_y max(0, 1 - p[y+1] / p[y])`` over consecutive years.

    Uses the same series as the purchase price (the material's reference series,
    :func:`critmin.atlas.prices.reference_series`) from the atlas ``prices`` table (USGS, 2021-2025).
    Materials with fewer than two consecutive years get no value.
    """
    out: dict[str, float] = {}
    for mat, grp in reference_series(prices).groupby("material"):
        hist = grp.set_index("year")["usd_per_t"].sort_index()
        falls = [
            max(0.0, 1.0 - float(hist[y + 1]) / float(hist[y]))
            for y in hist.index[:-1]
            if (y + 1) in hist.index
        ]
        if falls:
            out[str(mat)] = float(np.mean(falls))
    return pd.Series(out, dtype="float64", name="price_downside_per_year")


def price_risk_rate(params: ParameterSet, material: str, downside: pd.Series) -> float:
    """Price-risk part of the carrying cost: the mean annual price fall from the price history when
    ``vault_price_risk_from_history`` is 1 and a history exists, else ``vault_price_risk_rate``."""
    if params.get("vault_price_risk_from_history", material) >= 0.5:
        value = downside.get(material, np.nan)
        if np.isfinite(value):
            return float(value)
    return params.get("vault_price_risk_rate", material)


def carry_rate(params: ParameterSet, material: str, downside: pd.Series | None = None) -> float:
    """Annual carrying cost as a share of value: blended financing + storage + price risk."""
    loan, private = params.get("vault_exim_loan_usd"), params.get("vault_private_capital_usd")
    funds = loan * params.get("vault_exim_interest_rate", material) + private * params.get(
        "vault_private_capital_return", material
    )
    empty = pd.Series(dtype="float64")
    return (
        funds / (loan + private)
        + params.get("vault_storage_cost_rate", material)
        + price_risk_rate(params, material, empty if downside is None else downside)
    )


@dataclass(frozen=True)
class SizingData:
    """LP inputs on the real data plus what the rules need and which materials were left out."""

    inputs: StockpileInputs
    net_imports_t_per_year: pd.Series
    consumption_t_per_year: pd.Series
    reference_restrictor: pd.Series
    excluded: dict[str, str]
    metadata: RunMetadata
    params: ParameterSet
    monte_carlo: Any = None  # the MonteCarloResult, when asked for (keep_mc)


def _reference_restrictor(shares: pd.Series, alliance: frozenset[str]) -> tuple[str, float]:
    """Largest producer outside the alliance (``OTH``, world and combined rows excluded)."""
    s = shares[
        [str(i) not in NON_COUNTRY and "+" not in str(i) and str(i) not in alliance for i in shares.index]
    ]
    if not len(s):
        return "", 0.0
    iso = str(s.idxmax())
    return iso, float(s.max())


def sizing_inputs(
    atlas: Any,
    n_scenarios: int,
    seed: int,
    horizon_months: int = 12,
    params: ParameterSet | None = None,
    progress: Callable[[int, int], None] | None = None,
    keep_mc: bool = False,
) -> SizingData:
    """Run the Monte Carlo and align everything the stockpile LP and the rules need, by material label.

    Materials without an atlas price or a loss per tonne cannot be bought or valued: they are left out and
    listed in ``excluded`` (a gap stays a gap).
    """
    from critmin.disruption.inputs import build_inputs
    from critmin.disruption.montecarlo import run_monte_carlo
    from critmin.options import options

    ps = params if params is not None else ParameterSet()
    mc = run_monte_carlo(
        atlas, n_scenarios, seed, horizon_months=horizon_months, keep_paths=True, params=ps, progress=progress
    )
    inp = build_inputs(atlas, ps, materials=mc.materials)
    assert mc.shortfall_t is not None
    mats = pd.Index(mc.materials, name="material")
    price = pd.Series(inp.price_usd_per_t, index=mats)
    loss = pd.Series(mc.loss_per_tonne_usd, index=mats)
    world = pd.Series(inp.kernel.world_t, index=mats)
    export_share = pd.Series(inp.export_share, index=mats)
    alliance = inp.groups.get(options().alliance_group, frozenset())
    restrictor, share = {}, {}
    for m, stage in zip(mc.materials, inp.market_stage, strict=True):
        restrictor[m], share[m] = _reference_restrictor(inp.shares[(m, stage)], alliance)
    a = pd.Series(share, index=mats)
    net_imports = world * a * export_share
    consumption = world * (1.0 - a * (1.0 - export_share))
    excluded: dict[str, str] = {}
    for m in mats:
        if not np.isfinite(price[m]) or price[m] <= 0:
            excluded[m] = "no atlas price (USD/t)"
        elif not np.isfinite(loss[m]):
            excluded[m] = "no loss per tonne"
        elif not np.isfinite(world[m]) or world[m] <= 0:
            excluded[m] = "no world output at the market stage"
    keep = [m for m in mats if m not in excluded]
    pos = [mc.materials.index(m) for m in keep]
    cap_share = pd.Series([ps.get("vault_cap_share_world_supply", m) for m in keep], index=keep)
    downside = price_downside(atlas.prices)
    rates = pd.Series([carry_rate(ps, m, downside) for m in keep], index=keep)
    inputs = StockpileInputs(
        shortfall_t=shortfall_array(mc.shortfall_t[:, pos, :], keep),
        loss_per_tonne_usd=loss[keep],
        price_usd_per_t=price[keep],
        max_holding_t=world[keep] * cap_share,
        carry_rate_per_year=rates,
        days_basis_t_per_year=consumption[keep],
        notes={
            "market_stage": dict(zip(mc.materials, inp.market_stage, strict=True)),
            "price_risk_rate": {m: price_risk_rate(ps, m, downside) for m in keep},
        },
    )
    meta = mc.metadata.model_copy(
        update={
            "parameters": {**mc.metadata.parameters, **ps.used(SIZING_PARAMETERS)},
            "parameter_digest": ps.digest(),
        }
    )
    return SizingData(
        inputs=inputs,
        net_imports_t_per_year=net_imports[keep],
        consumption_t_per_year=consumption[keep],
        reference_restrictor=pd.Series(restrictor)[keep],
        excluded=excluded,
        metadata=meta,
        params=ps,
        monte_carlo=mc if keep_mc else None,
    )


def _meta(data: SizingData, config: StockpileConfig, extra: dict[str, Any]) -> RunMetadata:
    run = {"budget_usd": config.budget_usd, **extra}
    if config.cvar is not None:
        run.update({"cvar_alpha": config.cvar.alpha, "cvar_weight": config.cvar.weight})
    return data.metadata.model_copy(update={"parameters": {**data.metadata.parameters, **run}})


def size_reserve(data: SizingData, config: StockpileConfig) -> StockpilePlan:
    """The optimised plan (two-stage LP) on the real data."""
    return size_stockpile(data.inputs, config, metadata=_meta(data, config, {"plan": "optimised"}))


def rule_plans(
    data: SizingData, config: StockpileConfig, days: float | None = None, basis: str | None = None
) -> list[StockpilePlan]:
    """Days-of-cover plans within the budget: the IEA (net imports) and Japan (consumption) rules, or one
    rule of ``days`` on ``basis`` (``net-imports`` or ``consumption``)."""
    bases = {"net-imports": data.net_imports_t_per_year, "consumption": data.consumption_t_per_year}
    if days is None:
        rules = [
            ("iea-net-imports", data.params.get("vault_rule_iea_days"), "net-imports"),
            ("japan-consumption", data.params.get("vault_rule_japan_days"), "consumption"),
        ]
    else:
        b = basis or "net-imports"
        if b not in bases:
            raise ValueError(f"basis {b!r}; expected one of {sorted(bases)}")
        rules = [(f"{days:g}-days-{b}", days, b)]
    return [
        days_of_cover_plan(
            data.inputs, d, bases[b], config, name, metadata=_meta(data, config, {"plan": name, "basis": b})
        )
        for name, d, b in rules
    ]


def comparison(plans: list[StockpilePlan]) -> pd.DataFrame:
    """One row per plan: cost, expected loss avoided, avoided per dollar, net benefit."""
    rows = []
    for p in plans:
        t = p.totals
        rows.append(
            {
                "plan": p.name,
                "cost_usd": t["cost_usd"],
                "carry_usd": t["carry_usd"],
                "expected_loss_avoided_usd": t["expected_loss_avoided_usd"],
                "loss_avoided_per_dollar": t["loss_avoided_per_dollar"],
                "net_benefit_usd": t["net_benefit_usd"],
                "budget_scale": t.get("budget_scale", 1.0),
            }
        )
    return pd.DataFrame(rows)
