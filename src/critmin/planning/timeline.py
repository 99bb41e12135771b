"""Independence timeline: the first year a target is met as a function of the annual budget.

For a budget ``B`` the first year is the smallest ``T`` such that a plan meeting the targets in every year
from ``T`` to the horizon end exists within ``B`` a year. Feasibility is monotone in ``T`` (a later ``T``
drops constraints), so ``T`` is found by bisection over the horizon; it is also monotone in ``B`` (a larger
budget only widens the feasible set), so the curve never moves later when the budget rises.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd

from critmin.optimize.expansion import ExpansionProblem, solve_expansion

#: the experts' range for independence from Chinese processing, in years (issue 6; see the methods page)
EXPERT_RANGE_YEARS = (10, 20)


def _feasible(problem: ExpansionProblem, year: int, budget: float | None) -> tuple[bool, float | None]:
    res = solve_expansion(problem.with_target_year(year).with_budget(budget), explain=False)
    return res.feasible, res.solve.objective


def first_year_met(problem: ExpansionProblem, budget: float | None) -> tuple[int | None, float | None]:
    """(first year the targets can hold from, discounted cost of that plan); (None, None) if never."""
    years = list(problem.years)
    ok, cost = _feasible(problem, years[-1], budget)
    if not ok:
        return None, None
    lo, hi = 0, len(years) - 1  # invariant: feasible at hi
    best_cost = cost
    while lo < hi:
        mid = (lo + hi) // 2
        ok, cost = _feasible(problem, years[mid], budget)
        if ok:
            hi, best_cost = mid, cost
        else:
            lo = mid + 1
    return years[hi], best_cost


def independence_timeline(
    problem: ExpansionProblem, budgets: Sequence[float], on_step: Callable[[], None] | None = None
) -> pd.DataFrame:
    """One row per budget: first year met, years from the first plan year, cost, and the expert range.

    Columns: ``budget_per_year_usd, first_year, years_from_start, discounted_cost_usd,
    within_expert_10_20y`` (``first_year`` is ``None`` when no year in the horizon works). ``on_step`` is
    called after each budget (progress display).
    """
    start = problem.years[0]
    rows = []
    for b in sorted(float(x) for x in budgets):
        year, cost = first_year_met(problem, b)
        span = None if year is None else year - start
        lo, hi = EXPERT_RANGE_YEARS
        rows.append(
            {
                "budget_per_year_usd": b,
                "first_year": year,
                "years_from_start": span,
                "discounted_cost_usd": cost,
                "within_expert_10_20y": None if span is None else bool(lo <= span <= hi),
            }
        )
        if on_step is not None:
            on_step()
    return pd.DataFrame(rows)
