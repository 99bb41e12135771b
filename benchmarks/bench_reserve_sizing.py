"""Benchmark: the 10,000-scenario reserve sizing end to end, as `critmin vault size -n 10000` runs it.

Issue 19 target: a 10,000-scenario sizing in under 10 s end to end. Calls ``critmin.runs.reserve.run``
(the CLI's, the ``stockpile`` job's and the reserve page's entry) with the default budget and horizon
(12 months), risk-neutral and with a CVaR term (alpha 0.95, weight 0.5), and splits the time with timing
wrappers around the functions the run calls (nothing else changes):

* Monte Carlo: ``critmin.disruption.montecarlo.run_monte_carlo`` (keep_paths);
* alignment: the rest of ``critmin.vault.sizing.sizing_inputs`` (prices, caps, rules' bases);
* episodes: ``critmin.vault.horizon.episodes_from_paths`` and the rest of ``horizon_problem`` (carry);
* LP build and HiGHS solve: the result's own ``build_seconds`` / ``solve_seconds``;
* explain + rules: the duals' table and the rule comparison (what is left of the run).

The first run starts in a fresh process right after loading the atlas (imports and the numba cache load
are in it); the second repeats it in the same process (warm). Reference in the same run: the same LP
solved in its episode form (one row per episode), the form used before the segments. Exit code 1 when
the warm risk-neutral run takes 10 s or more, or the two forms disagree on the objective (1e-6).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import Any

N_SCENARIOS, TARGET_S, RTOL = 10_000, 10.0, 1e-6
SPLIT = ("monte_carlo", "sizing_inputs", "horizon_problem", "episodes")


def _timed(store: dict[str, float], name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            store[name] = store.get(name, 0.0) + time.perf_counter() - t

    return wrapper


def _instrument(store: dict[str, float]) -> None:
    import critmin.disruption.montecarlo as mc
    import critmin.runs.reserve  # noqa: F401  (imports vault.horizon lazily; import it here)
    import critmin.vault.horizon as horizon

    mc.run_monte_carlo = _timed(store, "monte_carlo", mc.run_monte_carlo)  # type: ignore[assignment]
    horizon.sizing_inputs = _timed(store, "sizing_inputs", horizon.sizing_inputs)  # type: ignore[assignment]
    horizon.episodes_from_paths = _timed(store, "episodes", horizon.episodes_from_paths)  # type: ignore[assignment]
    horizon.horizon_problem = _timed(store, "horizon_problem", horizon.horizon_problem)  # type: ignore[assignment]


def one_run(atlas: Any, cvar: tuple[float, float] | None, label: str) -> tuple[float, Any]:
    """One sizing through ``runs.reserve.run``; prints the split; returns its seconds and result."""
    from critmin.runs.reserve import ReserveSizingRequest, run

    store: dict[str, float] = {}
    _instrument(store)
    request = ReserveSizingRequest(
        n_scenarios=N_SCENARIOS,
        seed=0,
        cvar_alpha=None if cvar is None else cvar[0],
        cvar_weight=None if cvar is None else cvar[1],
    )
    t = time.perf_counter()
    result = run(request, atlas=atlas)
    total = time.perf_counter() - t
    _restore()
    lp_build, lp_solve = result.solve_seconds["build_seconds"], result.solve_seconds["solve_seconds"]
    mc_s = store["monte_carlo"]
    align = store["sizing_inputs"] - mc_s
    episodes = store["horizon_problem"] - store["sizing_inputs"]
    rest = total - store["horizon_problem"] - lp_build - lp_solve
    print(
        f"[{label}] end to end {total:.2f} s = Monte Carlo {mc_s:.2f} + alignment {align:.2f} + episodes "
        f"{episodes:.2f} (of which episodes_from_paths {store['episodes']:.2f}) + LP build {lp_build:.2f} + "
        f"HiGHS solve {lp_solve:.2f} + explain/rules {rest:.2f}; {result.status}; "
        f"load {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    return total, result


_ORIGINAL: dict[str, Any] = {}


def _remember() -> None:
    import critmin.disruption.montecarlo as mc
    import critmin.runs.reserve  # noqa: F401
    import critmin.vault.horizon as horizon

    _ORIGINAL.update(
        mc=mc.run_monte_carlo,
        si=horizon.sizing_inputs,
        ep=horizon.episodes_from_paths,
        hp=horizon.horizon_problem,
    )


def _restore() -> None:
    import critmin.disruption.montecarlo as mc
    import critmin.vault.horizon as horizon

    mc.run_monte_carlo = _ORIGINAL["mc"]
    horizon.sizing_inputs = _ORIGINAL["si"]
    horizon.episodes_from_paths = _ORIGINAL["ep"]
    horizon.horizon_problem = _ORIGINAL["hp"]


def main() -> int:
    from critmin.atlas import load_atlas
    from critmin.optimize.reserve_lp import solve_reserve
    from critmin.vault.horizon import horizon_problem
    from critmin.vault.sizing import default_budget

    print(f"load average at start: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    t = time.perf_counter()
    atlas = load_atlas()
    print(f"atlas load {time.perf_counter() - t:.2f} s (not counted: a server or notebook has it loaded)")
    _remember()
    one_run(atlas, None, "risk-neutral, first run in this process")
    warm, _ = one_run(atlas, None, "risk-neutral, warm")
    one_run(atlas, (0.95, 0.5), "CVaR 0.95 w=0.5, warm")
    data = horizon_problem(atlas, N_SCENARIOS, 0, 12, default_budget())
    seg, full = solve_reserve(data.problem, "segments"), solve_reserve(data.problem, "episodes")
    rel = abs(seg.objective_usd - full.objective_usd) / max(1.0, abs(full.objective_usd))
    print(
        f"reference: the same LP in its episode form ({data.problem.episodes.gap_t.size:,} rows): build "
        f"{full.build_seconds:.2f} s + solve {full.solve_seconds:.2f} s, against segments "
        f"{seg.build_seconds:.2f} + {seg.solve_seconds:.2f} s -> solve ratio "
        f"{full.solve_seconds / seg.solve_seconds:.0f}x; "
        f"objectives differ by {rel:.1e} (relative)"
    )
    print(f"load average at end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    ok = warm < TARGET_S and rel <= RTOL
    print(f"warm risk-neutral sizing {warm:.2f} s, target < {TARGET_S:.0f} s: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
