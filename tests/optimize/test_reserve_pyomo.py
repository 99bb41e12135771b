"""Fast version of bench_reserve_pyomo's cross-check: its Pyomo models of the reserve LP (episodes with and
without CVaR, segments) reach critmin's optimum on a small random problem."""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from critmin.optimize.reserve_lp import Episodes, ReserveProblem, solve_reserve

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_reserve_pyomo.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_reserve_pyomo", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _problem() -> ReserveProblem:
    rng = np.random.default_rng(5)
    s, m = 150, 4
    si, mi = np.nonzero(rng.random((s, m)) < 0.25)
    price = rng.uniform(100, 900, m)
    return ReserveProblem(
        materials=[f"m{i}" for i in range(m)],
        price_usd_per_t=price,
        cap_t=rng.uniform(10, 50, m),
        carry_usd_per_t=price * rng.uniform(0.05, 0.2, m),
        episodes=Episodes(si, mi, rng.exponential(15.0, si.size) + 0.5, rng.uniform(100, 4000, si.size), s),
        budget_usd=1.2e4,
    )


@pytest.mark.parametrize(("form", "cvar"), [("segments", None), ("episodes", None), ("episodes", (0.9, 0.6))])
def test_pyomo_reference_reaches_the_same_objective(form: str, cvar: tuple[float, float] | None) -> None:
    bench = _bench()
    pr = _problem()
    if cvar is not None:
        pr = dataclasses.replace(pr, cvar_alpha=cvar[0], cvar_weight=cvar[1])
    sol = solve_reserve(pr, form)  # type: ignore[arg-type]
    model = (bench.pyomo_segments if form == "segments" else bench.pyomo_episodes)(pr)
    _, _, objective, condition = bench.solve_pyomo(model, presolve=True)
    assert condition.endswith("optimal")
    assert objective == pytest.approx(sol.objective_usd, rel=1e-7)
    if cvar is None:  # with CVaR: the term is in the model, its optimum is not the risk-neutral one
        return
    neutral = solve_reserve(dataclasses.replace(pr, cvar_alpha=None, cvar_weight=0.0))
    assert objective != pytest.approx(neutral.objective_usd, rel=1e-3)
