"""Independence timeline: the first year a target is met as a function of the annual budget.

For a budget ``B`` the first year is the smallest ``T`` such that a plan meeting the targets in every year
from ``T`` to the horizon end exists within ``B`` a year. Feasibility is monotone in ``T`` (a later ``T``
drops constraints), so ``T`` is found by bisection over the horizon; it is also monotone in ``B`` (a larger
budget only widens the feasible set), so the curve never moves later when the budget rises.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd

from critmin.optimize.expansion import ExpansionProblem, ExpansionResult, solve_expansion

#: the experts' range for independence from Chinese processing, in years (issue 6; see the methods page)
EXPERT_RANGE_YEARS = (10, 20)


def first_year_plan(
    problem: ExpansionProblem, budget: float | None
) -> tuple[int | None, ExpansionResult | None]:
    """(first year the targets can hold from, the least-cost plan for that year); (None, None) if never."""
    years = list(problem.years)

    def attempt(year: int) -> ExpansionResult:
        return solve_expansion(problem.with_target_year(year).with_budget(budget), explain=False)

    best = attempt(years[-1])
    if not best.feasible:
        return None, None
    lo, hi = 0, len(years) - 1  # invariant: feasible at hi, best is its plan
    while lo < hi:
        mid = (lo + hi) // 2
        res = attempt(years[mid])
        if res.feasible:
            hi, best = mid, res
        else:
            lo = mid + 1
    return years[hi], best


def first_year_met(problem: ExpansionProblem, budget: float | None) -> tuple[int | None, float | None]:
    """(first year the targets can hold from, discounted cost of that plan); (None, None) if never."""
    year, plan = first_year_plan(problem, budget)
    return year, (None if plan is None else plan.solve.objective)


def independence_timeline(
    problem: ExpansionProblem, budgets: Sequence[float], on_step: Callable[[], None] | None = None
) -> pd.DataFrame:
    """One row per budget: first year met, years from the first plan year, cost, and the expert range.

    Columns: ``budget_per_year_usd, first_year, years_from_start, discounted_cost_usd,
    within_expert_10_20y, projects`` (``first_year`` is ``None`` when no year in the horizon works;
    ``projects`` lists the plan's project ids as ``id@start year``, ``;``-joined). ``on_step`` is called
    after each budget (progress display).
    """
    start = problem.years[0]
    rows = []
    for b in sorted(float(x) for x in budgets):
        year, plan = first_year_plan(problem, b)
        cost = None if plan is None else plan.solve.objective
        chosen = (
            ""
            if plan is None
            else ";".join(f"{r.project_id}@{r.start_year}" for r in plan.schedule.itertuples())
        )
        span = None if year is None else year - start
        lo, hi = EXPERT_RANGE_YEARS
        rows.append(
            {
                "budget_per_year_usd": b,
                "first_year": year,
                "years_from_start": span,
                "discounted_cost_usd": cost,
                "within_expert_10_20y": None if span is None else bool(lo <= span <= hi),
                "projects": chosen,
            }
        )
        if on_step is not None:
            on_step()
    return pd.DataFrame(rows)
