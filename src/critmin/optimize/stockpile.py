"""Stockpile sizing as a two-stage stochastic linear programme (linopy + HiGHS).

First stage: tonnes ``x[m]`` held per material, bought at the atlas price within a budget and a cap.
Second stage, per scenario ``s`` and month ``t``: releases ``r[s, m, t]`` that cover the alliance's
shortfall ``D[s, m, t]`` (``0 <= r <= D``, ``sum_t r[s, m, t] <= x[m]``). Objective::

    min  sum_m k[m] x[m]                                   carrying cost over the horizon
       + (1 - w) * sum_s p[s] loss[s]                      expected economic loss
       + w * (eta + 1 / (1 - alpha) * sum_s p[s] z[s])     CVaR_alpha of the loss (Rockafellar-Uryasev)
    loss[s] = sum_{m,t} L[m] (D[s, m, t] - r[s, m, t]),   z[s] >= loss[s] - eta,  z[s] >= 0

with ``k[m] = P[m] * rate[m] * T / 12`` (``rate`` = financing + storage + price risk, per year), budget
``sum_m P[m] x[m] <= B`` and cap ``x[m] <= cap[m]``. The model is built by :func:`build_stockpile_model`
apart from being solved by :func:`solve_stockpile` (with an optional hook between the two). Every
parameter is aligned by material label to the model's coordinates and checked for missing values before
it enters an equation. See ``docs/methods/stockpile.md``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from critmin.optimize.common import Hook, SolveResult, solve
from critmin.optimize.stockpile_inputs import (  # noqa: F401  (re-exported: the stockpile API)
    DAYS_PER_YEAR,
    DIMS,
    CVaRSpec,
    Holders,
    StockpileConfig,
    StockpileInputError,
    StockpileInputs,
    align,
    shortfall_array,
    validate_holders,
    validate_inputs,
)
from critmin.provenance import RunMetadata
from critmin.serialize import plain

if TYPE_CHECKING:
    import linopy
    import xarray as xr


@dataclass
class StockpileModel:
    """A built (not yet solved) stockpile LP with the aligned data it was built from."""

    model: linopy.Model
    inputs: StockpileInputs
    config: StockpileConfig
    params: dict[str, pd.Series]
    build_seconds: float
    holders: Holders | None = None


def _da(series: pd.Series, dim: str) -> xr.DataArray:
    import xarray as xr

    return xr.DataArray(series.to_numpy(dtype=float), dims=[dim], coords={dim: series.index.to_numpy()})


def build_stockpile_model(inputs: StockpileInputs, config: StockpileConfig) -> StockpileModel:
    """Build the two-stage LP (see the module docstring); nothing is solved here."""
    import linopy

    start = time.perf_counter()
    params = validate_inputs(inputs)
    d = inputs.shortfall_t
    materials = pd.Index(inputs.materials, name="material")
    scenarios = pd.Index(d.coords["scenario"].values, name="scenario")
    price = _da(params["price_usd_per_t"], "material")
    loss = _da(params["loss_per_tonne_usd"], "material")
    prob = _da(params["probability"], "scenario")
    carry = _da(params["price_usd_per_t"] * params["carry_rate_per_year"] * inputs.horizon_years, "material")
    for name, arr in (("price", price), ("loss", loss), ("probability", prob), ("carry", carry)):
        assert not bool(arr.isnull().any()), f"{name} has NaN after alignment"

    m = linopy.Model()
    cap = _da(params["max_holding_t"], "material")
    x = m.add_variables(lower=0.0, upper=cap, coords=[materials], name="hold")
    m.add_constraints((price * x).sum() <= config.budget_usd, name="budget")
    carry_term = (carry * x).sum()
    w = 0.0 if config.cvar is None else config.cvar.weight
    objective = carry_term

    # releases exist only where a scenario has a shortfall (r <= D fixes the others at 0): select the
    # materials and scenarios with any shortfall by label, and mask the remaining empty cells
    at_risk = pd.Index(materials[(d > 0).any(["scenario", "month"]).values], name="material")
    hit = d.sel(material=at_risk)
    active_s = pd.Index(scenarios[(hit > 0).any(["material", "month"]).values], name="scenario")
    covered = None
    if len(at_risk) and len(active_s):
        d_act = hit.sel(scenario=active_s)
        cell = d_act > 0
        r = m.add_variables(lower=0.0, upper=d_act, name="release", mask=cell)
        released = r.fillna(0)
        x_risk = x.sel(material=at_risk)
        assert released.indexes["material"].equals(x_risk.indexes["material"]), "material labels misaligned"
        m.add_constraints(
            released.sum("month") - x_risk <= 0, name="release_within_holding", mask=cell.any("month")
        )
        # loss[s] = C[s] - sum_{m,t} L[m] r[s,m,t]; the constant C enters only the CVaR rows
        covered = (released * loss.sel(material=at_risk)).sum(["material", "month"])
        objective = objective - (1.0 - w) * (covered * prob.sel(scenario=active_s)).sum()
    if config.cvar is not None:
        eta = m.add_variables(name="cvar_eta")
        z = m.add_variables(lower=0.0, coords=[scenarios], name="cvar_excess")
        quiet = scenarios.difference(active_s) if covered is not None else scenarios
        if covered is not None:
            base_loss = (d_act * loss.sel(material=at_risk)).sum(["material", "month"])
            z_act = z.sel(scenario=active_s)
            assert z_act.indexes["scenario"].equals(covered.indexes["scenario"]), "scenario labels misaligned"
            m.add_constraints(z_act + covered + eta >= base_loss, name="cvar_excess_def")
        if len(quiet):  # no shortfall at all: loss 0, so z[s] >= -eta
            m.add_constraints(z.sel(scenario=quiet) + eta >= 0, name="cvar_excess_quiet")
        objective = objective + w * eta + (w / (1.0 - config.cvar.alpha)) * (z * prob).sum()
    m.add_objective(objective)
    return StockpileModel(m, inputs, config, params, time.perf_counter() - start)


def build_holder_model(inputs: StockpileInputs, config: StockpileConfig, holders: Holders) -> StockpileModel:
    """The LP with a first stage per holder: ``hold[holder, material]``; holder ``h`` releases at most
    ``share[h, m] D[s, m, t]`` from its own stock; the cap applies to the sum over holders, the budget to
    the total and, when given, to each holder. With one holder of share 1 it is the pooled model."""
    import linopy
    import xarray as xr

    start = time.perf_counter()
    params = validate_inputs(inputs)
    materials = pd.Index(inputs.materials, name="material")
    share, budget_h = validate_holders(holders, materials)
    d = inputs.shortfall_t
    scenarios = pd.Index(d.coords["scenario"].values, name="scenario")
    price = _da(params["price_usd_per_t"], "material")
    loss = _da(params["loss_per_tonne_usd"], "material")
    prob = _da(params["probability"], "scenario")
    carry = _da(params["price_usd_per_t"] * params["carry_rate_per_year"] * inputs.horizon_years, "material")
    share_da = xr.DataArray(
        share.to_numpy(), dims=["holder", "material"], coords={"holder": share.index, "material": materials}
    )
    for name, arr in (
        ("price", price),
        ("loss", loss),
        ("probability", prob),
        ("carry", carry),
        ("share", share_da),
    ):
        assert not bool(arr.isnull().any()), f"{name} has NaN after alignment"

    m = linopy.Model()
    x = m.add_variables(lower=0.0, coords=[share.index, materials], name="hold")
    m.add_constraints(x.sum("holder") <= _da(params["max_holding_t"], "material"), name="cap")
    m.add_constraints((price * x).sum() <= config.budget_usd, name="budget")
    if budget_h is not None:
        m.add_constraints((price * x).sum("material") <= _da(budget_h, "holder"), name="holder_budget")
    w = 0.0 if config.cvar is None else config.cvar.weight
    objective = (carry * x).sum()

    at_risk = pd.Index(materials[(d > 0).any(["scenario", "month"]).values], name="material")
    hit = d.sel(material=at_risk)
    active_s = pd.Index(scenarios[(hit > 0).any(["material", "month"]).values], name="scenario")
    covered = None
    if len(at_risk) and len(active_s):
        d_act = hit.sel(scenario=active_s)
        upper = (share_da.sel(material=at_risk) * d_act).transpose("holder", "scenario", "material", "month")
        cell = upper > 0
        r = m.add_variables(lower=0.0, upper=upper, name="release", mask=cell)
        released = r.fillna(0)
        x_risk = x.sel(material=at_risk)
        assert released.indexes["material"].equals(x_risk.indexes["material"]), "material labels misaligned"
        assert released.indexes["holder"].equals(x_risk.indexes["holder"]), "holder labels misaligned"
        within = released.sum("month") - x_risk <= 0
        m.add_constraints(within, name="release_within_holding", mask=cell.any("month"))
        covered = (released * loss.sel(material=at_risk)).sum(["holder", "material", "month"])
        objective = objective - (1.0 - w) * (covered * prob.sel(scenario=active_s)).sum()
    if config.cvar is not None:
        eta = m.add_variables(name="cvar_eta")
        z = m.add_variables(lower=0.0, coords=[scenarios], name="cvar_excess")
        quiet = scenarios.difference(active_s) if covered is not None else scenarios
        if covered is not None:
            base_loss = (d_act * loss.sel(material=at_risk)).sum(["material", "month"])
            z_act = z.sel(scenario=active_s)
            assert z_act.indexes["scenario"].equals(covered.indexes["scenario"]), "scenario labels misaligned"
            m.add_constraints(z_act + covered + eta >= base_loss, name="cvar_excess_def")
        if len(quiet):
            m.add_constraints(z.sel(scenario=quiet) + eta >= 0, name="cvar_excess_quiet")
        objective = objective + w * eta + (w / (1.0 - config.cvar.alpha)) * (z * prob).sum()
    m.add_objective(objective)
    return StockpileModel(m, inputs, config, params, time.perf_counter() - start, holders=holders)


@dataclass(frozen=True)
class StockpilePlan:
    """Holdings per material and what they do in the scenarios (``table``), totals, solve status."""

    table: pd.DataFrame
    totals: dict[str, float]
    solve: SolveResult
    metadata: RunMetadata
    name: str = "optimised"
    by_holder: pd.DataFrame | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain, strictly JSON-safe dict (NaN and infinities become ``None``; numpy scalars Python ones)."""
        out = {
            "plan": self.name,
            "solve": self.solve.as_dict(),
            "totals": self.totals,
            "materials": self.table.to_dict(orient="records"),
            "metadata": self.metadata.model_dump(mode="json"),
        }
        if self.by_holder is not None:
            out["by_holder"] = self.by_holder.to_dict(orient="records")
        return plain(out)


def cvar(losses: np.ndarray, prob: np.ndarray, alpha: float) -> float:
    """CVaR_alpha of a discrete loss distribution (mean of the worst ``1 - alpha`` probability mass)."""
    order = np.argsort(losses)[::-1]
    tail = 1.0 - alpha
    taken, total = 0.0, 0.0
    for i in order:
        take = min(prob[i], tail - taken)
        if take <= 0:
            break
        total += take * losses[i]
        taken += take
    return total / tail


def _covered(
    total_short: np.ndarray,
    materials: pd.Index,
    holdings_t: pd.Series | pd.DataFrame,
    holders: Holders | None,
) -> tuple[pd.Series, np.ndarray]:
    """Total holdings per material and the shortfall they cover in each scenario ``[s, m]``."""
    if holders is None:
        if isinstance(holdings_t, pd.DataFrame):
            raise StockpileInputError("holdings by holder need the holders' shares (holders=...)")
        x = align(holdings_t, materials, "holdings_t")
        return x, np.minimum(total_short, x.to_numpy()[None, :])
    share, _ = validate_holders(holders, materials)
    if not isinstance(holdings_t, pd.DataFrame):
        raise StockpileInputError(
            "with holders, holdings_t must be a DataFrame (index holder, columns material)"
        )
    by_h = holdings_t.astype(float).reindex(index=share.index, columns=materials)
    if by_h.isna().to_numpy().any():
        raise StockpileInputError("holdings_t: no value for some (holder, material) of the holders' shares")
    # [h, s, m]: each holder covers its own share of the shortfall with its own stock
    covered = np.minimum(share.to_numpy()[:, None, :] * total_short[None, :, :], by_h.to_numpy()[:, None, :])
    return by_h.sum(axis=0).rename_axis("material"), covered.sum(axis=0)


def evaluate_holdings(
    inputs: StockpileInputs,
    holdings_t: pd.Series | pd.DataFrame,
    config: StockpileConfig | None = None,
    params: dict[str, pd.Series] | None = None,
    holders: Holders | None = None,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Per-material table and totals for fixed holdings, releasing optimally in every scenario.

    With a linear loss the best release covers ``min(x[m], sum_t D[s, m, t])`` in scenario ``s``, so the
    evaluation is exact for the LP's second stage. With ``holders``, ``holdings_t`` is a DataFrame
    (index holder, columns material) and holder ``h`` covers ``min(x[h, m], share[h, m] sum_t D[s, m, t])``.
    """
    params = params or validate_inputs(inputs)
    materials = pd.Index(inputs.materials, name="material")
    total_short = inputs.shortfall_t.sum("month").transpose("scenario", "material").values  # [s, m]
    x, covered = _covered(total_short, materials, holdings_t, holders)
    price, loss = params["price_usd_per_t"], params["loss_per_tonne_usd"]
    prob = params["probability"].to_numpy()
    lossv = loss.to_numpy()
    without = (prob[:, None] * total_short * lossv[None, :]).sum(axis=0)
    avoided = (prob[:, None] * covered * lossv[None, :]).sum(axis=0)
    cost = x * price
    carry = cost * params["carry_rate_per_year"] * inputs.horizon_years
    basis = inputs.days_basis_t_per_year
    days = (
        pd.Series(np.nan, index=materials)
        if basis is None
        else x / basis.astype(float).reindex(materials).where(lambda b: b > 0) * DAYS_PER_YEAR
    )
    table = pd.DataFrame(
        {
            "material": materials,
            "tonnes": x.to_numpy(),
            "cost_usd": cost.to_numpy(),
            "carry_usd": carry.to_numpy(),
            "days_of_cover": days.to_numpy(),
            "expected_shortfall_t": (prob[:, None] * total_short).sum(axis=0),
            "expected_loss_without_usd": without,
            "expected_loss_avoided_usd": avoided,
            "expected_loss_with_usd": without - avoided,
        }
    )
    scen_without = total_short @ lossv
    scen_with = scen_without - covered @ lossv
    cost_total = float(cost.sum())
    totals: dict[str, float] = {
        "tonnes": float(x.sum()),
        "cost_usd": cost_total,
        "carry_usd": float(carry.sum()),
        "expected_loss_without_usd": float(without.sum()),
        "expected_loss_avoided_usd": float(avoided.sum()),
        "expected_loss_with_usd": float(without.sum() - avoided.sum()),
        "loss_avoided_per_dollar": float(avoided.sum() / cost_total) if cost_total > 0 else float("nan"),
        "net_benefit_usd": float(avoided.sum() - carry.sum()),
    }
    if config is not None:
        totals["budget_usd"] = config.budget_usd
        if config.cvar is not None:
            totals["cvar_alpha"] = config.cvar.alpha
            totals["cvar_loss_without_usd"] = float(cvar(scen_without, prob, config.cvar.alpha))
            totals["cvar_loss_with_usd"] = float(cvar(scen_with, prob, config.cvar.alpha))
    return table, totals


def solve_stockpile(
    built: StockpileModel,
    hook: Hook | None = None,
    metadata: RunMetadata | None = None,
    **solver_options: Any,
) -> StockpilePlan:
    """Solve a built model with HiGHS and write the plan back (never raises on infeasibility)."""
    result = solve(built.model, hook, build_seconds=built.build_seconds, **solver_options)
    materials = pd.Index(built.inputs.materials, name="material")
    by_holder = None
    if result.ok:
        sol = built.model.variables["hold"].solution
        holdings: pd.Series | pd.DataFrame
        if built.holders is None:
            holdings = sol.to_series().reindex(materials).clip(lower=0.0)
        else:
            frame = pd.DataFrame(
                sol.transpose("holder", "material").values,
                index=pd.Index(sol.indexes["holder"], name="holder"),
                columns=pd.Index(sol.indexes["material"], name="material"),
            ).reindex(columns=materials)
            holdings = frame.clip(lower=0.0)
            by_holder = _holder_table(frame.clip(lower=0.0), built.params)
        table, totals = evaluate_holdings(built.inputs, holdings, built.config, built.params, built.holders)
        lp_avoided = 0.0
        if "release" in built.model.variables:
            released = built.model.variables["release"].solution.fillna(0.0)
            if "holder" in released.dims:
                released = released.sum("holder")
            loss = built.params["loss_per_tonne_usd"].reindex(released.indexes["material"])
            prob = built.params["probability"].reindex(released.indexes["scenario"])
            per_scenario = (
                released.sum("month").transpose("scenario", "material").values * loss.to_numpy()
            ).sum(axis=1)
            lp_avoided = float(per_scenario @ prob.to_numpy())
        totals["lp_expected_loss_avoided_usd"] = lp_avoided
    else:
        nothing = pd.Series(0.0, index=materials)
        table, totals = evaluate_holdings(built.inputs, nothing, built.config, built.params)
        table = table.iloc[0:0]
    # the solver's objective leaves out the constant (1 - w) * E[loss without stock]; add it back
    w = 0.0 if built.config.cvar is None else built.config.cvar.weight
    constant = (1.0 - w) * totals["expected_loss_without_usd"]
    totals["objective_usd"] = float("nan") if result.objective is None else result.objective + constant
    return StockpilePlan(table, totals, result, metadata or RunMetadata(), by_holder=by_holder)


def _holder_table(by_h: pd.DataFrame, params: dict[str, pd.Series]) -> pd.DataFrame:
    """Long table holder, material, tonnes, cost_usd (rows with stock only)."""
    values = by_h.to_numpy()
    rows = [
        (str(h), str(m), float(values[i, j]))
        for i, h in enumerate(by_h.index)
        for j, m in enumerate(by_h.columns)
        if values[i, j] > 0
    ]
    long = pd.DataFrame(rows, columns=["holder", "material", "tonnes"])
    long["cost_usd"] = long["tonnes"] * params["price_usd_per_t"].reindex(long["material"]).to_numpy()
    return long


def size_stockpile(
    inputs: StockpileInputs,
    config: StockpileConfig,
    hook: Hook | None = None,
    metadata: RunMetadata | None = None,
) -> StockpilePlan:
    """Build then solve (the one-call form)."""
    return solve_stockpile(build_stockpile_model(inputs, config), hook, metadata)


# ---------------------------------------------------------------------------------------------- rules
RuleBasis = Callable[[StockpileInputs], pd.Series]


def days_of_cover_plan(
    inputs: StockpileInputs,
    days: float,
    basis_t_per_year: pd.Series,
    config: StockpileConfig,
    name: str,
    metadata: RunMetadata | None = None,
    fit_budget: bool = True,
) -> StockpilePlan:
    """A rule of thumb: hold ``days / 365`` of an annual tonnage per material, evaluated like the LP plan.

    Materials without a basis (NaN) hold nothing. With ``fit_budget`` the whole plan is scaled down pro
    rata when it costs more than the budget (``totals['budget_scale']`` says by how much).
    """
    if days < 0 or not np.isfinite(days):
        raise StockpileInputError(f"days = {days}; expected a finite number >= 0")
    params = validate_inputs(inputs)
    materials = pd.Index(inputs.materials, name="material")
    basis = basis_t_per_year.astype(float).reindex(materials)
    holdings = (basis.fillna(0.0).clip(lower=0.0) * days / DAYS_PER_YEAR).rename("tonnes")
    full_cost = float((holdings * params["price_usd_per_t"]).sum())
    scale = 1.0
    if fit_budget and full_cost > config.budget_usd:
        scale = config.budget_usd / full_cost
        holdings = holdings * scale
    table, totals = evaluate_holdings(inputs, holdings, config, params)
    totals["unscaled_cost_usd"] = full_cost
    totals["budget_scale"] = scale
    totals["days"] = float(days)
    totals["materials_without_basis"] = float(basis.isna().sum())
    status = SolveResult("ok", "rule", None, "rule of thumb: no optimisation")
    return StockpilePlan(table, totals, status, metadata or RunMetadata(), name=name)
