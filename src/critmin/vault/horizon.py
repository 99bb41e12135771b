"""Sizing the Vault over the loan's life (up to 180 months) on the disruption engine's full loss.

:func:`horizon_problem` runs the Monte Carlo (``keep_paths``) and turns every disrupted (scenario, material)
into an episode for :mod:`critmin.optimize.reserve_lp`:

* ``G`` = tonnes the restriction withholds over the episode (what a release can replace);
* ``v`` = the episode's importers' welfare loss (the engine's loss function: extra cost + priced out + unmet
  value) per tonne withheld, discounted to the start at the middle month of the episode, less the premium
  of rebuilding the stock afterwards, ``max(0, p_end - 1) x P`` discounted to the end (releasing the whole
  gap removes the whole loss; a partial release is valued pro rata, a lower bound since the loss is
  convex in the gap);
* ``K`` = the discounted carrying cost of a tonne held for the horizon: price x (loan rate + storage +
  insurance + price risk) per year, monthly, discounted at the loan rate.

:func:`explain` says why the plan holds what it holds (from the LP's duals) and :func:`rule_comparison` sets
it beside the IEA 90-day net-import rule, Japan's 60-day consumption rule and an NDS-style shortfall rule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from critmin.optimize.reserve_lp import (
    Episodes,
    ReserveProblem,
    ReserveSolution,
    evaluate_fixed,
    solve_reserve,
)
from critmin.parameters import ParameterSet
from critmin.vault.sizing import carry_rate, price_downside, sizing_inputs

DAYS_PER_YEAR = 365.0


@dataclass(frozen=True)
class HorizonData:
    """The LP data, the rules' bases and the materials left out (with the reason)."""

    problem: ReserveProblem
    net_imports_t_per_year: pd.Series
    consumption_t_per_year: pd.Series
    horizon_months: int
    excluded: dict[str, str]
    metadata: Any


def _discount(params: ParameterSet, months: np.ndarray) -> np.ndarray:
    rate = params.get("vault_exim_interest_rate")
    return np.asarray((1.0 + rate) ** (-np.asarray(months, dtype=np.float64) / 12.0))


def episodes_from_paths(
    loss_usd: np.ndarray,
    withheld_t: np.ndarray,
    price_index: np.ndarray,
    price_usd_per_t: np.ndarray,
    params: ParameterSet,
) -> Episodes:
    """Episodes of the module docstring from the Monte Carlo's ``[scenario, material(, month)]`` arrays."""
    s_n, _, t_n = withheld_t.shape
    gap = withheld_t.sum(axis=2)
    s_idx, m_idx = np.nonzero((gap > 0) & np.isfinite(loss_usd) & (loss_usd > 0))
    w = withheld_t[s_idx, m_idx]  # [E, T]
    active = w > 0
    months = np.arange(t_n)
    first = np.where(active.any(axis=1), np.argmax(active, axis=1), 0)
    last = t_n - 1 - np.argmax(active[:, ::-1], axis=1)
    mid = 0.5 * (first + last)
    after = np.minimum(last + 1, t_n - 1)
    p_end = price_index[s_idx, m_idx, after]
    g = gap[s_idx, m_idx]
    price = price_usd_per_t[m_idx]
    value = loss_usd[s_idx, m_idx] / g * _discount(params, mid)
    rebuild = np.maximum(p_end - 1.0, 0.0) * price * _discount(params, months[after])
    return Episodes(
        scenario=s_idx.astype(np.int64),
        material=m_idx.astype(np.int64),
        gap_t=g,
        value_per_t=np.maximum(value - rebuild, 0.0),
        n_scenarios=s_n,
    )


def carry_per_tonne(
    params: ParameterSet, material: str, price: float, months: int, downside: pd.Series
) -> float:
    """Discounted cost of holding one tonne for ``months``: price x yearly carry rate / 12 each month."""
    monthly = (
        price * (carry_rate(params, material, downside) + params.get("vault_insurance_rate", material)) / 12
    )
    return float(monthly * _discount(params, np.arange(months)).sum())


def horizon_problem(
    atlas: Any,
    n_scenarios: int,
    seed: int,
    horizon_months: int,
    budget_usd: float,
    params: ParameterSet | None = None,
    cvar: tuple[float, float] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> HorizonData:
    """Monte Carlo + alignment into the LP of :mod:`critmin.optimize.reserve_lp` (``cvar``: alpha, weight)."""
    if not 1 <= horizon_months <= 180:
        raise ValueError(f"horizon_months: value {horizon_months}; expected 1 to 180 (the 15-year loan)")
    ps = params if params is not None else ParameterSet()
    data = sizing_inputs(atlas, n_scenarios, seed, horizon_months, ps, progress, keep_mc=True)
    mc = data.monte_carlo
    assert mc is not None and mc.withheld_t is not None and mc.price_index_outside is not None
    keep = list(data.inputs.materials)
    pos = [mc.materials.index(m) for m in keep]
    price = data.inputs.price_usd_per_t.reindex(keep).to_numpy(dtype=float)
    episodes = episodes_from_paths(
        mc.loss_usd[:, pos], mc.withheld_t[:, pos, :], mc.price_index_outside[:, pos, :], price, ps
    )
    downside = price_downside(atlas.prices)
    carry = np.array(
        [carry_per_tonne(ps, m, p, horizon_months, downside) for m, p in zip(keep, price, strict=True)]
    )
    problem = ReserveProblem(
        materials=keep,
        price_usd_per_t=price,
        cap_t=data.inputs.max_holding_t.reindex(keep).to_numpy(dtype=float),
        carry_usd_per_t=carry,
        episodes=episodes,
        budget_usd=budget_usd,
        cvar_alpha=None if cvar is None else cvar[0],
        cvar_weight=0.0 if cvar is None else cvar[1],
    )
    return HorizonData(
        problem=problem,
        net_imports_t_per_year=data.net_imports_t_per_year,
        consumption_t_per_year=data.consumption_t_per_year,
        horizon_months=horizon_months,
        excluded=data.excluded,
        metadata=data.metadata,
    )


def explain(pr: ReserveProblem, sol: ReserveSolution) -> tuple[pd.DataFrame, str]:
    """Per material: holding, marginal loss avoided per dollar (duals) against the carrying cost per
    dollar, and what binds; and one sentence on the budget (spent, unspent and why)."""
    x = sol.holdings_t.to_numpy()
    marginal = sol.marginal_avoided_usd_per_t.to_numpy() / pr.price_usd_per_t
    carry = pr.carry_usd_per_t / pr.price_usd_per_t
    binds = np.where(
        x >= pr.cap_t - 1e-6 * np.maximum(pr.cap_t, 1.0),
        "cap",
        np.where(x > 1e-9, "budget" if sol.budget_dual > 1e-12 else "benefit = carry", "carry > benefit"),
    )
    table = pd.DataFrame(
        {
            "material": pr.materials,
            "tonnes": x,
            "cost_usd": x * pr.price_usd_per_t,
            "marginal_loss_avoided_per_usd": marginal,
            "carry_per_usd": carry,
            "binding": binds,
        }
    )
    spent = float((x * pr.price_usd_per_t).sum())
    unspent = pr.budget_usd - spent
    if sol.budget_dual > 1e-12:
        why = (
            f"The whole budget is spent ({spent / 1e9:.2f} bn USD): one more dollar would avoid "
            f"{sol.budget_dual:.3f} USD of expected loss net of its carrying cost."
        )
    else:
        why = (
            f"{spent / 1e9:.2f} bn USD of {pr.budget_usd / 1e9:.2f} bn USD is spent; "
            f"{unspent / 1e9:.2f} bn USD is left unspent because no material's next tonne avoids more "
            "expected loss per dollar than it costs to carry, or its cap (a share of world supply) binds."
        )
    return table, why


def _days_plan(pr: ReserveProblem, days: float, basis: pd.Series) -> np.ndarray:
    x = np.minimum(basis.reindex(pr.materials).fillna(0.0).to_numpy() * days / DAYS_PER_YEAR, pr.cap_t)
    cost = float((x * pr.price_usd_per_t).sum())
    return x * min(1.0, pr.budget_usd / cost) if cost > 0 else x


def _nds_plan(pr: ReserveProblem, quantile: float) -> np.ndarray:
    ep = pr.episodes
    x = np.zeros(len(pr.materials))
    for m in range(len(pr.materials)):
        gaps = np.zeros(ep.n_scenarios)
        mine = ep.material == m
        gaps[ep.scenario[mine]] = ep.gap_t[mine]
        x[m] = min(float(np.quantile(gaps, quantile)), pr.cap_t[m])
    cost = float((x * pr.price_usd_per_t).sum())
    return x * min(1.0, pr.budget_usd / cost) if cost > 0 else x


def rule_comparison(data: HorizonData, sol: ReserveSolution, params: ParameterSet) -> pd.DataFrame:
    """The optimised plan beside the IEA, Japan and NDS-style rules (each scaled into the budget): cost,
    expected loss avoided, carrying cost and net benefit on the same episodes."""
    pr = data.problem
    q = params.get("vault_rule_nds_quantile")
    plans = {
        "optimised": sol.holdings_t.to_numpy(),
        f"iea-{params.get('vault_rule_iea_days'):g}-days-net-imports": _days_plan(
            pr, params.get("vault_rule_iea_days"), data.net_imports_t_per_year
        ),
        f"japan-{params.get('vault_rule_japan_days'):g}-days-consumption": _days_plan(
            pr, params.get("vault_rule_japan_days"), data.consumption_t_per_year
        ),
        f"nds-style-p{100 * q:g}-episode-gap": _nds_plan(pr, q),
    }
    return pd.DataFrame([{"plan": name, **evaluate_fixed(pr, x)} for name, x in plans.items()])


def size_over_horizon(data: HorizonData) -> ReserveSolution:
    """Solve the horizon LP (HiGHS)."""
    return solve_reserve(data.problem)
