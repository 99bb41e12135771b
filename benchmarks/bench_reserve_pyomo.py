"""Benchmark: the reserve-sizing LP that `critmin vault size` solves, built by critmin and by Pyomo.

Issue 19 item 3: the LP build at least 5x faster than a Pyomo reference, the same objective to 1e-6.

Data: the episodes of the disruption Monte Carlo on the bundled data (10,000 scenarios, 12 months = the
`vault size` horizon default, seed 2026, default budget), built once by ``critmin.vault.horizon``.
The same LP is built in three ways and each is solved with HiGHS:

* ``episodes``: the episode LP of ``critmin.optimize.reserve_lp`` (one release column and one stock row
  per episode; the form with a CVaR term), assembled as a sparse matrix and handed to highspy;
* ``segments``: the risk-neutral form the production path solves (one row per material);
* the Pyomo reference, written here: the same rows and columns as the critmin form it is compared with
  (indexed sets, ``quicksum``), solved by HiGHS through Pyomo's appsi interface.

"Build" is the critmin build (arrays + ``highspy.HighsLp``, the segments' sort and pruning included)
against the Pyomo model's construction alone; Pyomo's hand-off to HiGHS (``set_instance``) is printed
apart and not counted, so the ratio is the conservative one. Best of REPEATS builds each (shared machine).
Exit code 1 if a ratio is below 5x or two objectives differ by more than 1e-6 (relative).
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

N_SCENARIOS, SEED, HORIZON, REPEATS, TARGET_RATIO, RTOL = 10_000, 2026, 12, 3, 5.0, 1e-6


def pyomo_episodes(pr: Any) -> Any:
    """The episode LP of ``reserve_lp.build_matrix`` in Pyomo (CVaR rows when the problem has them)."""
    import pyomo.environ as pyo

    ep = pr.episodes
    mats, e_n, s_n = range(len(pr.materials)), ep.gap_t.size, ep.n_scenarios
    price, cap, carry = pr.price_usd_per_t.tolist(), pr.cap_t.tolist(), pr.carry_usd_per_t.tolist()
    mat, gap, val = ep.material.tolist(), ep.gap_t.tolist(), ep.value_per_t.tolist()
    w = pr.cvar_weight if pr.cvar_alpha is not None else 0.0
    p = 1.0 / s_n
    m = pyo.ConcreteModel()
    m.M = pyo.RangeSet(0, len(pr.materials) - 1)
    m.E = pyo.RangeSet(0, e_n - 1)
    m.x = pyo.Var(m.M, bounds=lambda _, j: (0.0, cap[j]))
    m.y = pyo.Var(m.E, bounds=lambda _, e: (0.0, gap[e]))
    m.budget = pyo.Constraint(expr=pyo.quicksum(price[j] * m.x[j] for j in mats) <= pr.budget_usd)
    m.stock = pyo.Constraint(m.E, rule=lambda mm, e: mm.y[e] - mm.x[mat[e]] <= 0)
    obj = pyo.quicksum(carry[j] * m.x[j] for j in mats) - (1.0 - w) * p * pyo.quicksum(
        val[e] * m.y[e] for e in range(e_n)
    )
    if pr.cvar_alpha is not None:
        by_scen: list[list[int]] = [[] for _ in range(s_n)]
        for e, s in enumerate(ep.scenario.tolist()):
            by_scen[s].append(e)
        base = np.bincount(ep.scenario, weights=ep.gap_t * ep.value_per_t, minlength=s_n).tolist()
        m.S = pyo.RangeSet(0, s_n - 1)
        m.eta = pyo.Var()
        m.z = pyo.Var(m.S, bounds=(0.0, None))
        m.excess = pyo.Constraint(
            m.S,
            rule=lambda mm, s: (
                mm.z[s] + pyo.quicksum(val[e] * mm.y[e] for e in by_scen[s]) + mm.eta >= base[s]
            ),
        )
        obj = obj + w * m.eta + w * p / (1.0 - pr.cvar_alpha) * pyo.quicksum(m.z[s] for s in range(s_n))
    m.obj = pyo.Objective(expr=obj, sense=pyo.minimize)
    return m


def pyomo_segments(pr: Any) -> Any:
    """The segments form of ``reserve_lp.build_segments`` in Pyomo (the same segments, sort and pruning)."""
    import pyomo.environ as pyo

    from critmin.optimize.reserve_lp import build_segments

    seg, _ = build_segments(pr)
    mats = range(len(pr.materials))
    price, cap, carry = pr.price_usd_per_t.tolist(), pr.cap_t.tolist(), pr.carry_usd_per_t.tolist()
    smat, length, value = seg.material.tolist(), seg.length_t.tolist(), seg.value.tolist()
    by_mat: list[list[int]] = [[] for _ in mats]
    for k, j in enumerate(smat):
        by_mat[j].append(k)
    m = pyo.ConcreteModel()
    m.M = pyo.RangeSet(0, len(pr.materials) - 1)
    m.K = pyo.RangeSet(0, len(smat) - 1)
    m.x = pyo.Var(m.M, bounds=lambda _, j: (0.0, cap[j]))
    m.d = pyo.Var(m.K, bounds=lambda _, k: (0.0, length[k]))
    m.budget = pyo.Constraint(expr=pyo.quicksum(price[j] * m.x[j] for j in mats) <= pr.budget_usd)
    m.fill = pyo.Constraint(m.M, rule=lambda mm, j: pyo.quicksum(mm.d[k] for k in by_mat[j]) - mm.x[j] <= 0)
    m.obj = pyo.Objective(
        expr=pyo.quicksum(carry[j] * m.x[j] for j in mats)
        - pyo.quicksum(value[k] * m.d[k] for k in range(len(smat))),
        sense=pyo.minimize,
    )
    return m


def best(build: Callable[[], Any], repeats: int = REPEATS) -> tuple[float, float, Any]:
    """Best and slowest of ``repeats`` builds, and the last model."""
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = build()
        times.append(time.perf_counter() - t)
    return min(times), max(times), out


def solve_pyomo(model: Any, presolve: bool) -> tuple[float, float, float, str]:
    """Hand-off (set_instance) and solve seconds, objective and termination of the Pyomo model."""
    import pyomo.environ as pyo
    from pyomo.contrib.appsi.solvers import Highs

    from critmin.optimize.common import quiet_native_stdout

    opt = Highs()
    if not presolve:
        opt.highs_options = {"presolve": "off"}
    with quiet_native_stdout():
        t = time.perf_counter()
        opt.set_instance(model)
        handoff = time.perf_counter() - t
        t = time.perf_counter()
        res = opt.solve(model)
        solve_s = time.perf_counter() - t
    return handoff, solve_s, float(pyo.value(model.obj)), str(res.termination_condition)


def compare(label: str, pr: Any, form: str) -> bool:
    """Build (critmin and Pyomo), solve both, print the line; True when the targets hold."""
    from critmin.optimize.reserve_lp import build_matrix, build_segments, solve_reserve, to_highs

    def ours() -> Any:
        return to_highs(*(build_segments(pr)[1] if form == "segments" else build_matrix(pr)))

    fast_s, fast_max, _ = best(ours)
    sol = solve_reserve(pr, form)  # type: ignore[arg-type]
    pyomo_build = pyomo_segments if form == "segments" else pyomo_episodes
    slow_s, slow_max, model = best(lambda: pyomo_build(pr))
    handoff, p_solve, p_obj, cond = solve_pyomo(model, presolve=form != "segments")
    rel = abs(p_obj - sol.objective_usd) / max(1.0, abs(p_obj))
    ratio = slow_s / fast_s
    print(
        f"[{label}, {form}] critmin build {fast_s:.3f} s (slowest {fast_max:.3f}) + HiGHS "
        f"{sol.solve_seconds:.2f} s; Pyomo build {slow_s:.2f} s (slowest {slow_max:.2f}) + hand-off "
        f"{handoff:.2f} s + HiGHS {p_solve:.2f} s "
        f"({cond}); build ratio Pyomo / critmin {ratio:.1f}x (target >= {TARGET_RATIO:.0f}x); objectives "
        f"{sol.objective_usd:,.2f} / {p_obj:,.2f} USD, relative difference {rel:.1e} (<= {RTOL:g}: "
        f"{'yes' if rel <= RTOL else 'NO'})",
        flush=True,
    )
    return sol.status == "Optimal" and ratio >= TARGET_RATIO and rel <= RTOL


def main() -> int:
    from critmin.atlas import load_atlas
    from critmin.vault.horizon import horizon_problem
    from critmin.vault.sizing import default_budget

    print(f"load average at start: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    t0 = time.perf_counter()
    data = horizon_problem(load_atlas(), N_SCENARIOS, SEED, HORIZON, default_budget())
    pr = data.problem
    print(
        f"episodes: {pr.episodes.gap_t.size:,} over {N_SCENARIOS:,} scenarios x {len(pr.materials)} "
        f"priced materials x {HORIZON} months (Monte Carlo + alignment {time.perf_counter() - t0:.1f} s, "
        "not counted)",
        flush=True,
    )
    ok = compare("risk-neutral", pr, "segments")
    ok = compare("risk-neutral", pr, "episodes") and ok
    averse = dataclasses.replace(pr, cvar_alpha=0.95, cvar_weight=0.5)
    ok = compare("CVaR 0.95 w=0.5", averse, "episodes") and ok
    print(f"load average at end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"targets (ratio >= {TARGET_RATIO:.0f}x, objectives within {RTOL:g}): {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
