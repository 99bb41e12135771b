"""Benchmark: the stockpile two-stage LP on 10,000 Monte Carlo scenarios x every priced material x 12 months.

Target: build + solve (linopy + HiGHS) under 60 s, for the risk-neutral model and with a CVaR term
(alpha 0.95, weight 0.5). The shortfalls come from the disruption engine's Monte Carlo on the bundled
data (its run time is printed but not counted). Release variables exist where the scenario has a
shortfall (a release is bounded by the shortfall, so the others are fixed at zero); every scenario keeps
its CVaR row.

Reference in the same process: the same model built with Pyomo (the natural indexed-set formulation over
the same sparse index), solved with HiGHS through Pyomo's appsi interface; the objectives must agree.
Prints the build-time ratio Pyomo / linopy (best of three builds each; the 60 s target counts the slowest
linopy build). Exit code 1 if a target is missed or the objectives differ.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import numpy as np

N_SCENARIOS, SEED, HORIZON, TARGET_S, REPEATS = 10_000, 2026, 12, 60.0, 3


def pyomo_build(inputs: Any, params: dict[str, Any], config: Any) -> Any:
    """The same LP as ``build_stockpile_model`` written in Pyomo (sparse index of positive shortfalls)."""
    import pyomo.environ as pyo

    d = inputs.shortfall_t.transpose("scenario", "material", "month").values
    mats = inputs.materials
    price = params["price_usd_per_t"].to_dict()
    loss = params["loss_per_tonne_usd"].to_dict()
    cap = params["max_holding_t"].to_dict()
    carry = (params["price_usd_per_t"] * params["carry_rate_per_year"] * inputs.horizon_years).to_dict()
    prob = params["probability"].to_numpy()
    s_idx, m_idx, t_idx = np.nonzero(d > 0)
    triples = [(int(s), mats[m], int(t)) for s, m, t in zip(s_idx, m_idx, t_idx, strict=True)]
    bound = {k: float(d[k[0], mats.index(k[1]), k[2]]) for k in triples}
    by_pair: dict[tuple[int, str], list[tuple[int, str, int]]] = {}
    by_scen: dict[int, list[tuple[int, str, int]]] = {}
    for k in triples:
        by_pair.setdefault((k[0], k[1]), []).append(k)
        by_scen.setdefault(k[0], []).append(k)
    base = (d * np.array([loss[m] for m in mats])[None, :, None]).sum(axis=(1, 2))
    w = 0.0 if config.cvar is None else config.cvar.weight

    m = pyo.ConcreteModel()
    m.M = pyo.Set(initialize=mats)
    m.R = pyo.Set(initialize=triples, dimen=3)
    m.P = pyo.Set(initialize=list(by_pair), dimen=2)
    m.S = pyo.Set(initialize=range(d.shape[0]))
    m.hold = pyo.Var(m.M, bounds=lambda _, k: (0.0, cap[k]))
    m.release = pyo.Var(m.R, bounds=lambda _, s, k, t: (0.0, bound[(s, k, t)]))
    m.within = pyo.Constraint(
        m.P, rule=lambda mm, s, k: sum(mm.release[r] for r in by_pair[(s, k)]) <= mm.hold[k]
    )
    m.budget = pyo.Constraint(expr=sum(price[k] * m.hold[k] for k in mats) <= config.budget_usd)
    covered = {s: sum(loss[r[1]] * m.release[r] for r in by_scen.get(s, [])) for s in m.S}
    obj = sum(carry[k] * m.hold[k] for k in mats) - (1 - w) * sum(prob[s] * covered[s] for s in m.S)
    if config.cvar is not None:
        m.eta = pyo.Var()
        m.z = pyo.Var(m.S, bounds=(0.0, None))
        m.excess = pyo.Constraint(m.S, rule=lambda mm, s: mm.z[s] + covered[s] + mm.eta >= float(base[s]))
        obj = obj + w * m.eta + (w / (1 - config.cvar.alpha)) * sum(prob[s] * m.z[s] for s in m.S)
    m.obj = pyo.Objective(expr=obj, sense=pyo.minimize)
    return m


def main() -> int:
    from critmin.atlas import load_atlas
    from critmin.optimize.common import quiet_native_stdout
    from critmin.optimize.stockpile import CVaRSpec, StockpileConfig, build_stockpile_model, solve_stockpile
    from critmin.vault.sizing import default_budget, sizing_inputs

    t0 = time.perf_counter()
    data = sizing_inputs(load_atlas(), N_SCENARIOS, SEED, horizon_months=HORIZON)
    mc_s = time.perf_counter() - t0
    d = data.inputs.shortfall_t
    n_pos = int((d > 0).sum())
    print(
        f"Monte Carlo: {N_SCENARIOS:,} scenarios x {d.sizes['material']} priced materials x {HORIZON} months "
        f"({d.size:,} cells, {n_pos:,} with a shortfall) in {mc_s:.1f} s (not counted)"
    )
    failed = False
    budget = default_budget()
    for label, cvar in (("risk-neutral", None), ("CVaR 0.95 w=0.5", CVaRSpec(alpha=0.95, weight=0.5))):
        config = StockpileConfig(budget_usd=budget, cvar=cvar)
        build_times = []
        for _ in range(REPEATS):  # best of REPEATS: the machine is shared
            t = time.perf_counter()
            built = build_stockpile_model(data.inputs, config)
            build_times.append(time.perf_counter() - t)
        build_s = min(build_times)
        t = time.perf_counter()
        plan = solve_stockpile(built)
        solve_s = time.perf_counter() - t
        total = max(build_times) + solve_s
        nv, nc = built.model.nvars, built.model.ncons
        print(
            f"[{label}] linopy build {build_s:.2f} s (best of {REPEATS}; slowest {max(build_times):.2f} s) "
            f"+ HiGHS solve {solve_s:.2f} s = {total:.2f} s "
            f"(target < {TARGET_S:.0f} s); {nv:,} variables, {nc:,} constraints; "
            f"{plan.solve.status}/{plan.solve.condition}; objective {plan.totals['objective_usd']:,.0f} USD; "
            f"held {plan.totals['cost_usd'] / 1e9:.3f} bn USD"
        )
        if not plan.solve.ok or total >= TARGET_S:
            failed = True
        # reference: the same model in Pyomo
        import pyomo.environ as pyo

        pyomo_times = []
        for _ in range(REPEATS):
            t = time.perf_counter()
            pm = pyomo_build(data.inputs, built.params, config)
            pyomo_times.append(time.perf_counter() - t)
        pyomo_s = min(pyomo_times)
        with quiet_native_stdout():
            res = pyo.SolverFactory("appsi_highs").solve(pm)
        const = (1 - (0.0 if cvar is None else cvar.weight)) * plan.totals["expected_loss_without_usd"]
        ref_obj = float(pyo.value(pm.obj)) + const
        agree = abs(ref_obj - plan.totals["objective_usd"]) <= 1e-6 * max(1.0, abs(ref_obj))
        print(
            f"[{label}] Pyomo build {pyomo_s:.2f} s (best of {REPEATS}) -> build-time ratio Pyomo / linopy = "
            f"{pyomo_s / build_s:.1f}x; Pyomo+HiGHS objective {ref_obj:,.0f} USD "
            f"({res.solver.termination_condition}); objectives agree: {agree}"
        )
        failed = failed or not agree
    print("note: timings on a shared 2-core machine are pessimistic")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
