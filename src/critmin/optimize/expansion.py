"""Capacity-expansion MILP: which projects to start in which year to meet supply targets at least cost.

Built apart from solved: :func:`build_expansion_model` returns a ``linopy.Model``;
:func:`solve_expansion` solves it with HiGHS through :func:`critmin.optimize.common.solve` and, when the
targets cannot be met, returns an explanation naming the target, the year and what is missing instead of
raising. The formulation is documented in ``docs/methods/planning.md``:

* ``x[p, s]`` binary: project ``p`` starts in year ``s`` (at most once; only from its earliest start and
  only if it comes online within the horizon).
* Output of ``p`` in year ``t``: ``cap_p * f(t - s - L_p)`` with ramp ``f(k) = min(1, (k+1)/(R_p+1))`` for
  ``k >= 0`` (0 before first production).
* Capex is spent evenly over the ``max(L_p, 1)`` years from the start year; the annual spend is capped
  by the budget; the objective is discounted capex plus discounted operating cost within the horizon.
* Every share target must hold under two supply accountings: (a) incumbents keep their baseline output,
  supply = baseline + new; (b) supply = demand ``D_t = B * g_t`` (IEA demand growth), the gap to the new
  capacity filled by incumbents in proportion to their baseline shares.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from critmin.optimize.common import Hook, SolveResult

if TYPE_CHECKING:
    import linopy

from critmin.optimize.expansion_data import (
    CHINA,
    PROJECT_FIELDS,
    Arrays,
    ExpansionProblem,
    ShareRows,
    Target,
    capacity_shortfalls,
    coefficients,
    evaluate_schedule,
    project_output,
    ramp_fraction,
    target_rows,
)

__all__ = [
    "CHINA",
    "PROJECT_FIELDS",
    "Arrays",
    "ExpansionProblem",
    "ExpansionResult",
    "ShareRows",
    "Target",
    "build_expansion_model",
    "capacity_shortfalls",
    "coefficients",
    "evaluate_schedule",
    "project_output",
    "ramp_fraction",
    "solve_expansion",
    "target_rows",
]


def build_expansion_model(
    problem: ExpansionProblem, relax: bool = False, elastic: bool = False
) -> linopy.Model:
    """The MILP (or, with ``relax``, its LP relaxation) as a linopy model; nothing is solved here.

    With ``elastic`` every target row gets a slack ``short_<row>[year] >= 0`` in tonnes of missing capacity
    and the objective is the total slack (budgets stay hard): a phase-1 model that is always feasible and
    whose optimum is 0 exactly when the MILP is feasible.
    """
    import linopy
    import xarray as xr

    arrays = coefficients(problem)
    proj = pd.Index(problem.projects.index.astype(str), name="project")
    start = pd.Index(list(problem.years), name="start")
    year = pd.Index(list(problem.years), name="year")
    m = linopy.Model()
    # (project, start) pairs that are not allowed get an upper bound of 0 (removed by HiGHS presolve)
    upper = xr.DataArray(arrays.valid.astype(float), coords=[proj, start])
    x = m.add_variables(lower=0, upper=upper, integer=not relax, coords=[proj, start], name="x")
    m.add_constraints(x.sum("start") <= 1, name="start_once")
    for k, (ids, cap) in enumerate(problem.start_caps):
        group = [str(i) for i in ids if str(i) in proj]
        if group:
            m.add_constraints(x.sel(project=group).sum("project") <= cap, name=f"start_cap_{k}")
    if problem.budget_per_year is not None:
        spend = xr.DataArray(arrays.spend, coords=[proj, start, year])
        m.add_constraints((spend * x).sum(["project", "start"]) <= problem.budget_per_year, name="budget")
    shortfall = []
    for rows in target_rows(problem, arrays):
        if not len(rows.years):
            continue
        yr = pd.Index(rows.years.tolist(), name="year")
        coef = xr.DataArray(rows.coef, coords=[proj, start, yr])
        rhs = xr.DataArray(rows.rhs, coords=[yr])
        lhs = (coef * x).sum(["project", "start"])
        if elastic:
            short = m.add_variables(lower=0, coords=[yr], name=f"short_{rows.name}")
            shortfall.append(short.sum())
            lhs = lhs + (rows.per_tonne if rows.per_tonne > 0 else 1.0) * short
        m.add_constraints(lhs >= rhs, name=rows.name)
    if elastic:
        m.add_objective(sum(shortfall[1:], shortfall[0]) if shortfall else (0 * x).sum())
    else:
        m.add_objective((xr.DataArray(arrays.cost, coords=[proj, start]) * x).sum())
    return m


@dataclass(frozen=True)
class ExpansionResult:
    """A solved plan: which projects start when, supply shares by year, cost, and solver outcome."""

    problem: ExpansionProblem
    solve: SolveResult
    schedule: pd.DataFrame
    supply: pd.DataFrame
    explanation: str
    shortfalls: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def feasible(self) -> bool:
        """True when a plan meeting every target within the budget was found."""
        return self.solve.objective is not None

    def spend_peak(self) -> tuple[int, float]:
        """(year, USD) of the largest annual capex spend of the plan."""
        i = int(self.supply["capex_usd"].to_numpy().argmax())
        return int(self.supply["year"].iloc[i]), float(self.supply["capex_usd"].iloc[i])


def _explain(
    problem: ExpansionProblem, result: SolveResult, time_limit: float | None
) -> tuple[str, pd.DataFrame]:
    short = capacity_shortfalls(problem)
    if len(short):
        first = short.sort_values(["year", "shortfall_t"], ascending=[True, False]).iloc[0]
        worst = short.iloc[int(short["shortfall_t"].to_numpy().argmax())]
        text = (
            f"infeasible: {first['target']} cannot be met in {first['year']}: capacity is short by "
            f"{first['shortfall_t']:,.0f} t even with every eligible project ({first['helpful_projects']}) "
            f"online at its earliest; the largest gap is {worst['shortfall_t']:,.0f} t in {worst['year']} "
            f"({worst['target']}). The budget was not the limit."
        )
        return text, short
    if result.condition == "time_limit":
        return (
            f"no plan found within the time limit of {time_limit} s: the targets are within the reach of "
            "the pipeline's capacity, but HiGHS neither found a plan nor proved that none exists; "
            "allow more time or relax the targets",
            short,
        )
    if problem.budget_per_year is not None:
        free = solve_expansion(problem.with_budget(None), explain=False, time_limit=time_limit)
        if free.solve.objective is not None:
            peak = free.spend_peak()
            return (
                f"infeasible within a budget of {problem.budget_per_year:,.0f} USD a year: the targets "
                "can be met with every eligible project, but the cheapest plan without the budget limit "
                f"spends {peak[1]:,.0f} USD in {peak[0]}; raise the budget or move the target year later.",
                short,
            )
    return (
        "infeasible: every target can be met on its own, but not together within the horizon; "
        + result.explanation,
        short,
    )


def _schedule_frame(problem: ExpansionProblem, arrays: Arrays, xval: np.ndarray) -> pd.DataFrame:
    years = np.asarray(problem.years)
    rows = []
    p = problem.projects
    for i, pid in enumerate(p.index):
        js = np.flatnonzero(xval[i] > 0.5)
        if not len(js):
            continue
        s = int(years[js[0]])
        lead = math.ceil(float(p["lead_time_years"].iloc[i]) - 1e-9)
        rows.append(
            {
                "project_id": pid,
                "start_year": s,
                "first_output_year": s + lead,
                "country_iso3": p["country_iso3"].iloc[i],
                "capacity_t": float(p["capacity_t"].iloc[i]),
                "capex_usd": float(p["capex_usd"].iloc[i]),
                "discounted_cost_usd": float(arrays.cost[i, js[0]]),
            }
        )
    cols = ["project_id", "start_year", "first_output_year", "country_iso3", "capacity_t", "capex_usd"]
    return pd.DataFrame(rows, columns=[*cols, "discounted_cost_usd"])


#: above this many allowed (project, start) pairs a phase-1 model (:func:`build_expansion_model` with
#: ``elastic``) decides feasibility first, so the MILP is only solved when it is feasible: HiGHS's
#: infeasible-subsystem search on a large infeasible MILP can run for many minutes
PHASE1_PAIRS = 500
#: relative gap for phase 1: any gap below 1 proves a positive optimum (infeasibility) once one is found
PHASE1_GAP = 0.1


def _phase1(
    problem: ExpansionProblem, arrays: Arrays, explain: bool, time_limit: float | None
) -> ExpansionResult | None:
    """None when phase 1 finds a plan with no shortfall; otherwise the infeasible result, explained."""
    model = build_expansion_model(problem, elastic=True)
    res = _quiet_solve(model, None, mip_rel_gap=PHASE1_GAP, time_limit=time_limit)
    tol = 1e-6 * max(1.0, float(problem.baseline.sum()))
    if res.objective is None or res.objective <= tol or res.condition not in {"optimal", "time_limit"}:
        return None
    proven = res.condition == "optimal"
    rows = []
    for name in model.variables:
        if not str(name).startswith("short_"):
            continue
        sol = model.variables[name].solution
        for yr, val in zip(sol.coords["year"].values, sol.to_numpy(), strict=True):
            if val > 1e-6:
                rows.append({"constraint": str(name)[6:], "year": int(yr), "shortfall_t": float(val)})
    short = pd.DataFrame(rows, columns=["constraint", "year", "shortfall_t"])
    desc = {r.name: r.target.describe() for r in target_rows(problem, arrays)}
    short.insert(0, "target", [desc[c] for c in short["constraint"]])
    pre = SolveResult(
        "warning",
        "infeasible" if proven else "time_limit",
        None,
        "phase 1: no plan without a shortfall" + ("" if proven else f" found within {time_limit} s"),
        0.0,
        res.solve_seconds,
    )
    empty = _schedule_frame(problem, arrays, np.zeros(arrays.valid.shape))
    supply = evaluate_schedule(problem, pd.Series(dtype=float))
    if not explain or short.empty:
        return ExpansionResult(problem, pre, empty, supply, pre.explanation, short)
    first = short.sort_values(["year", "shortfall_t"], ascending=[True, False]).iloc[0]
    limit = (
        f"within a budget of {problem.budget_per_year:,.0f} USD a year"
        if problem.budget_per_year is not None
        else "with the projects' earliest starts and lead times"
    )
    text = (
        f"infeasible {limit}: every eligible project together has the capacity, but the closest plan "
        f"is still short by {first['shortfall_t']:,.0f} t in {first['year']} ({first['target']}); "
        "raise the budget or move the target year later."
    )
    if not proven:
        text = (
            f"no plan found within the time limit of {time_limit} s {limit}: the closest plan found is short "
            f"by {first['shortfall_t']:,.0f} t in {first['year']} ({first['target']}); infeasibility is not "
            "proven, allow more time or relax the targets."
        )
    return ExpansionResult(problem, pre, empty, supply, text, short)


def _quiet_solve(model: linopy.Model, hook: Hook | None, **options: Any) -> SolveResult:
    from critmin.optimize.common import solve

    quiet = logging.getLogger("linopy")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # linopy logs a warning for every infeasible solve; we explain it instead
    try:
        return solve(model, hook, **options)
    finally:
        quiet.setLevel(level)


def solve_expansion(
    problem: ExpansionProblem,
    hook: Hook | None = None,
    *,
    mip_rel_gap: float = 1e-6,
    time_limit: float | None = None,
    threads: int | None = None,
    explain: bool = True,
) -> ExpansionResult:
    """Build, (hook), solve; return the plan or, when infeasible, an explanation of what is missing.

    Without a hook two exact checks run first and skip the MILP when they prove it infeasible: the
    capacity shortfall with every helpful project at its earliest (:func:`capacity_shortfalls`), and, for
    more than :data:`PHASE1_PAIRS` start options, the phase-1 elastic model (shortfall within the budget).
    """
    arrays = coefficients(problem)
    if hook is None:
        if not capacity_shortfalls(problem).empty:
            pre = SolveResult(
                "warning", "infeasible", None, "proved before the MILP: capacity short with every project"
            )
            return _failed(problem, arrays, pre, explain, time_limit)
        if int(arrays.valid.sum()) > PHASE1_PAIRS:
            failed = _phase1(problem, arrays, explain, time_limit)
            if failed is not None:
                return failed
    t0 = time.perf_counter()
    model = build_expansion_model(problem)
    built = time.perf_counter() - t0
    res = _quiet_solve(
        model, hook, mip_rel_gap=mip_rel_gap, time_limit=time_limit, threads=threads, build_seconds=built
    )
    if res.objective is not None:
        xval = np.nan_to_num(model.variables["x"].solution.to_numpy(), nan=0.0)
        schedule = _schedule_frame(problem, arrays, xval)
        supply = evaluate_schedule(problem, schedule.set_index("project_id")["start_year"].astype(float))
        return ExpansionResult(problem, res, schedule, supply, res.explanation)
    return _failed(problem, arrays, res, explain, time_limit)


def _failed(
    problem: ExpansionProblem, arrays: Arrays, res: SolveResult, explain: bool, time_limit: float | None
) -> ExpansionResult:
    empty = _schedule_frame(problem, arrays, np.zeros(arrays.valid.shape))
    supply = evaluate_schedule(problem, pd.Series(dtype=float))
    if not explain:
        return ExpansionResult(problem, res, empty, supply, res.explanation)
    text, short = _explain(problem, res, time_limit)
    return ExpansionResult(problem, res, empty, supply, text, short)
