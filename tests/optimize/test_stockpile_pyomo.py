"""Fast version of the benchmark's cross-check: the Pyomo build of the same LP gives the same optimum."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest

from critmin.optimize.common import quiet_native_stdout
from critmin.optimize.stockpile import (
    CVaRSpec,
    StockpileConfig,
    StockpileInputs,
    build_stockpile_model,
    evaluate_holdings,
    shortfall_array,
    solve_stockpile,
)

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_stockpile.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_stockpile", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("cvar", [None, CVaRSpec(alpha=0.9, weight=0.7)])
def test_pyomo_reference_matches_linopy(cvar: CVaRSpec | None) -> None:
    import pyomo.environ as pyo

    rng = np.random.default_rng(21)
    mats = [f"m{i}" for i in range(6)]
    hit = (rng.random((200, 6, 1)) < 0.05) * (rng.random((200, 6, 12)) < 0.5)
    inputs = StockpileInputs(
        shortfall_t=shortfall_array(rng.exponential(5.0, (200, 6, 12)) * hit, mats),
        loss_per_tonne_usd=pd.Series(rng.uniform(100, 900, 6), index=mats),
        price_usd_per_t=pd.Series(rng.uniform(10, 90, 6), index=mats),
        max_holding_t=pd.Series(rng.uniform(5, 40, 6), index=mats),
        carry_rate_per_year=pd.Series(rng.uniform(0.05, 0.2, 6), index=mats),
    )
    config = StockpileConfig(budget_usd=900.0, cvar=cvar)
    built = build_stockpile_model(inputs, config)
    plan = solve_stockpile(built)
    model = _bench().pyomo_build(inputs, built.params, config)
    with quiet_native_stdout():
        result = pyo.SolverFactory("appsi_highs").solve(model)
    assert str(result.solver.termination_condition) == "optimal"
    constant = (1 - (0.0 if cvar is None else cvar.weight)) * plan.totals["expected_loss_without_usd"]
    assert float(pyo.value(model.obj)) + constant == pytest.approx(plan.totals["objective_usd"], rel=1e-7)
    pyomo_hold = pd.Series([pyo.value(model.hold[m]) for m in mats], index=mats)
    # Pyomo's holdings, evaluated by the closed form, reach the same objective: both plans are optimal
    _, t = evaluate_holdings(inputs, pyomo_hold, config)
    w = 0.0 if cvar is None else cvar.weight
    tail = 0.0 if cvar is None else t["cvar_loss_with_usd"]
    recomputed = t["carry_usd"] + (1 - w) * t["expected_loss_with_usd"] + w * tail
    assert recomputed == pytest.approx(plan.totals["objective_usd"], rel=1e-7)
    assert t["cost_usd"] <= 900.0 + 1e-6
