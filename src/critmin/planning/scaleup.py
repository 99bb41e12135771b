"""Synthetic scale-up of a real expansion problem and a greedy reference plan (for benchmarks and checks).

:func:`resample_projects` draws ``n`` projects with replacement (seeded) from a problem's real candidate
projects: each copy keeps a real row's lead time, ramp-up and host country, its capacity and capex per
tonne are multiplied by independent log-normal factors (sigma 0.25), and its earliest start moves 0-6
years later (capped at the horizon end). The result is labelled synthetic by its project ids
(``<real id>#<k>``). :func:`greedy_plan` is the simple reference heuristic: projects in order of
discounted cost per tonne of capacity, each started in its first allowed year that fits the remaining
annual budgets, until every target row holds.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from critmin.optimize.expansion import ExpansionProblem, coefficients, target_rows


def resample_projects(problem: ExpansionProblem, n: int, seed: int) -> ExpansionProblem:
    """The same problem with ``n`` synthetic projects resampled from its real ones (see module docstring)."""
    src = problem.projects
    if src.empty:
        raise ValueError("no real projects to resample")
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(src), n)
    rows = src.iloc[pick].reset_index(drop=True)
    cap_jitter = rng.lognormal(0.0, 0.25, n)
    cost_jitter = rng.lognormal(0.0, 0.25, n)
    rows["capacity_t"] = rows["capacity_t"].to_numpy() * cap_jitter
    rows["capex_usd"] = rows["capex_usd"].to_numpy() * cap_jitter * cost_jitter
    last = float(problem.years[-1])
    rows["earliest_start"] = np.minimum(rows["earliest_start"].to_numpy() + rng.integers(0, 7, n), last)
    rows.index = pd.Index([f"{src.index[i]}#{k}" for k, i in enumerate(pick)], name="project_id")
    return replace(problem, projects=rows)


def greedy_plan(problem: ExpansionProblem) -> tuple[float | None, pd.Series]:
    """(discounted cost or None if the targets are not reached, start year per chosen project)."""
    arrays = coefficients(problem)
    rows = target_rows(problem, arrays)
    ny = arrays.valid.shape[1]
    budget = np.full(ny, np.inf if problem.budget_per_year is None else float(problem.budget_per_year))
    cap = problem.projects["capacity_t"].to_numpy(dtype=float)
    per_t = np.where(arrays.valid, arrays.cost, np.inf).min(axis=1) / np.maximum(cap, 1e-12)
    lhs = {r.name: np.zeros(len(r.years)) for r in rows}
    total = 0.0
    starts: dict[str, int] = {}

    def met() -> bool:
        return all(bool((lhs[r.name] >= r.rhs - 1e-6).all()) for r in rows)

    for i in np.argsort(per_t, kind="stable"):
        if met():
            break
        for j in np.flatnonzero(arrays.valid[i]):
            if bool((arrays.spend[i, j] <= budget + 1e-6).all()):
                budget -= arrays.spend[i, j]
                for r in rows:
                    lhs[r.name] += r.coef[i, j]
                total += float(arrays.cost[i, j])
                starts[str(problem.projects.index[i])] = int(problem.years[j])
                break
    return (total if met() else None), pd.Series(starts, dtype=float)
