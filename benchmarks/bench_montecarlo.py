"""Benchmark: 100,000 random disruption scenarios over every material, 24 months (and 1e6 on request).

Targets (issues 3, 19, 20): 1e5 x 24 months < 5 s on this machine's 2 cores (best of ``--repeats`` whole
runs), and not slower than before issue 20 (13.8 s, measured when issue 19 was filed); with
``--scenarios 1000000`` the 1e6 run < 60 s with peak RSS < 2 GB, local and (``--dask``) on a LocalCluster
of ``risk.threads`` (2) workers (the client's peak RSS and each worker's are printed); at least 50x faster
than the straightforward per-scenario reference implementation kept in the tests
(``tests/disruption/reference_kernel.py``). The reference is timed on a subsample of the same random
scenarios and extrapolated linearly to the full run (said in the output); the fast kernel's results on that
subsample must match it. Because the machine's cores are shared, both sides of the ratio are the best of
``--repeats`` timings (reference: the subsample; fast path: one chunk, scaled to the run); the ratio on the
single timing of the whole run is printed as well.

Run: ``.venv/bin/python benchmarks/bench_montecarlo.py [--scenarios N] [--reference-sample K] [--dask]``.
Exits non-zero when a target is missed.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
TIME_TARGET_S = {100_000: 5.0, 1_000_000: 60.0}  # by scenario count; others scale linearly from 1e6
MEMORY_TARGET_MB = 2048.0
RATIO_TARGET = 50.0
BEFORE_ISSUE_20_S = 13.8  # 1e5 x 24 months when issue 19 was filed (load ~2.5)


def _reference():  # type: ignore[no-untyped-def]
    path = ROOT / "tests" / "disruption" / "reference_kernel.py"
    spec = importlib.util.spec_from_file_location("reference_kernel", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.reference_propagate


def peak_rss_mb() -> float:
    """Peak resident memory of this process (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def load() -> str:
    """The 1-minute load average, to print with every timing (the 2 cores are shared)."""
    return f"load {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"


def time_target(n: int) -> float:
    return TIME_TARGET_S.get(n, TIME_TARGET_S[1_000_000] * n / 1_000_000)


def _dask_only(atlas: object, args: argparse.Namespace, run_monte_carlo: object) -> int:
    """The dask backend alone: time, the client's peak RSS (this process) and the workers'."""
    t0 = time.perf_counter()
    dres = run_monte_carlo(  # type: ignore[operator]
        atlas, args.scenarios, seed=args.seed, horizon_months=args.horizon, chunk_size=args.chunk_size,
        backend="dask", threads=args.threads,
    )  # fmt: skip
    dask_s = time.perf_counter() - t0
    client = peak_rss_mb()
    workers = dres.extra["backend"].get("worker_peak_rss_mb", {})
    cpu = dres.extra["backend"].get("worker_cpu_s", {})
    print(
        f"dask only (LocalCluster, {len(workers)} worker processes, reduced on the workers): {dask_s:.2f} s "
        f"for "
        f"{args.scenarios:,} ({load()}); client peak RSS {client:,.0f} MB; workers' peak RSS "
        + ", ".join(f"{v:,.0f} MB" for v in workers.values())
        + "; workers' CPU (user + system, start-up included) "
        + ", ".join(f"{v:,.1f} s" for v in cpu.values())
    )
    target = time_target(args.scenarios)
    ok = dask_s < target and client < MEMORY_TARGET_MB and all(v < MEMORY_TARGET_MB for v in workers.values())
    print(("PASS " if ok else "FAIL ") + f"dask {dask_s:.1f} s < {target:.0f} s, every process < 2 GB")
    return 0 if ok else 1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenarios", type=int, default=100_000)
    ap.add_argument("--horizon", type=int, default=24)
    ap.add_argument("--chunk-size", type=int, default=10_000)
    ap.add_argument("--reference-sample", type=int, default=100)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument(
        "--threads",
        type=int,
        default=None,
        help="chunks run at once (local) / LocalCluster workers (dask); default: the options tree's "
        "risk.threads (1: one chunk at a time on the parallel kernel)",
    )
    ap.add_argument("--repeats", type=int, default=3, help="timings per side of the ratio (best is kept)")
    ap.add_argument("--run-repeats", type=int, default=3, help="whole local runs timed (best is kept)")
    ap.add_argument(
        "--dask-only",
        action="store_true",
        help="time only the dask backend (the process's peak RSS is then the client's alone)",
    )
    ap.add_argument("--dask", action="store_true", help="also time the dask backend on a LocalCluster")
    args = ap.parse_args()

    from critmin.atlas import load_atlas
    from critmin.disruption.inputs import build_inputs
    from critmin.disruption.montecarlo import (
        _spec,
        build_candidates,
        draw_restrictions,
        run_chunk,
        run_monte_carlo,
    )
    from critmin.options import options

    atlas = load_atlas()
    inp = build_inputs(atlas)
    threads = args.threads if args.threads is not None else options().risk.threads
    print(
        f"materials: {len(inp.materials)}, members: {len(inp.members)}, scenarios: {args.scenarios:,}, "
        f"horizon: {args.horizon} months, chunk size: {args.chunk_size:,}, threads: {threads}"
    )
    for th in (1, threads):  # warm-up (imports, caches, both kernels)
        run_monte_carlo(atlas, 400, seed=0, horizon_months=args.horizon, chunk_size=200, threads=th)

    runs: list[float] = []
    for _ in range(0 if args.dask_only else args.run_repeats):
        c0, t0 = os.times(), time.perf_counter()
        res = run_monte_carlo(
            atlas,
            args.scenarios,
            seed=args.seed,
            horizon_months=args.horizon,
            chunk_size=args.chunk_size,
            threads=threads,
        )
        runs.append(time.perf_counter() - t0)
        c1 = os.times()
        cpu = c1.user - c0.user + c1.system - c0.system
        # CPU seconds (both threads) do not depend on the other jobs as much as wall time does: on an idle
        # 2-core machine the run takes about cpu / 2 if the work spreads over both cores
        print(f"  local run: {runs[-1]:.2f} s wall, {cpu:.2f} s CPU ({load()})")
    if args.dask_only:
        return _dask_only(atlas, args, run_monte_carlo)
    fast_s = min(runs)
    mem_mb = peak_rss_mb()
    print(
        f"fast (local backend, {threads} chunks at once, one thread each): best of {len(runs)}: "
        f"{fast_s:.2f} s for "
        f"{args.scenarios:,} scenarios ({args.scenarios / fast_s:,.0f} scenarios/s); "
        f"peak RSS {mem_mb:,.0f} MB ({load()})"
    )
    if args.scenarios == 100_000:
        print(
            f"before issue 20 (when issue 19 was filed): {BEFORE_ISSUE_20_S:.1f} s -> now {fast_s:.2f} s "
            f"({BEFORE_ISSUE_20_S / fast_s:.2f}x)"
        )
    print(f"share of (scenario, material) pairs disrupted: {np.mean(res.summary['p_disrupted']):.3f}")
    top = res.summary.head(5)[["material", "expected_loss_usd", "var_usd", "cvar_usd"]]
    print("top 5 materials by expected loss:\n" + top.to_string(index=False))

    dask_s = None
    dask_ok = True
    if args.dask:
        rss0 = peak_rss_mb()
        t0 = time.perf_counter()
        dres = run_monte_carlo(
            atlas,
            args.scenarios,
            seed=args.seed,
            horizon_months=args.horizon,
            chunk_size=args.chunk_size,
            backend="dask",
            threads=threads,
        )
        dask_s = time.perf_counter() - t0
        same = dres.summary.equals(res.summary) and dres.member_summary.equals(res.member_summary)
        workers = dres.extra["backend"].get("worker_peak_rss_mb", {})
        print(
            f"dask (LocalCluster, {threads} worker processes, reduced on the workers): {dask_s:.2f} s "
            f"({load()}); "
            f"client peak RSS {peak_rss_mb():,.0f} MB (before the run {rss0:,.0f} MB); workers' peak RSS "
            + ", ".join(f"{v:,.0f} MB" for v in workers.values())
            + "; workers' CPU "
            + ", ".join(f"{v:,.1f} s" for v in dres.extra["backend"].get("worker_cpu_s", {}).values())
            + f"; summaries identical to local: {same}"
        )
        dask_ok = same and dask_s < time_target(args.scenarios)
        if not same:
            print("FAIL: dask results differ from local")

    # reference: per-scenario loops on a subsample of the same generator, extrapolated linearly
    reference_propagate = _reference()
    cands = build_candidates(inp, atlas.wgi)
    spec = _spec(inp, cands, args.horizon)
    k = args.reference_sample
    seed = np.random.SeedSequence(args.seed + 1)
    a, c, w, _ = draw_restrictions(spec, k, np.random.default_rng(seed))
    ref_runs = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        ref = reference_propagate(inp.kernel, a, c, w)
        ref_runs.append(time.perf_counter() - t0)
    sub = run_chunk(spec, k, seed)  # per-scenario arrays of the subsample
    # materials without a price have NaN loss: compare shortfalls, and losses where valued. Near the baseline
    # the loss is (p - 1) x a large volume, so the solvers' stopping rules (|f| <= 1e-12 (S0 + D0) against
    # brentq's xtol 1e-14) show as ~1e-7 relative differences when p - 1 ~ 1e-5: losses agree to 1e-6
    match = np.allclose(
        sub.shortfall_total_t, ref["shortfall_t"].sum(axis=2), rtol=1e-7, atol=1e-6
    ) and np.allclose(np.nan_to_num(sub.loss_usd), np.nan_to_num(ref["loss_usd"]), rtol=1e-6, atol=1e-3)
    ref_s = min(ref_runs)
    ref_full_s = ref_s * args.scenarios / k
    print(
        f"reference (per-scenario loops, scipy brentq): best of {args.repeats}: {ref_s:.2f} s for {k} "
        f"scenarios -> extrapolated {ref_full_s:,.0f} s for {args.scenarios:,}; fast kernel matches it on "
        f"the subsample: {match}"
    )
    # the same best-of-N timing for the fast path, on one chunk: the machine's 2 cores are shared, and the
    # minimum over repeats is the least disturbed estimate for both sides of the ratio
    chunk_runs = []
    for i in range(args.repeats):
        t0 = time.perf_counter()
        run_chunk(spec, args.chunk_size, np.random.SeedSequence([args.seed, i]))
        chunk_runs.append(time.perf_counter() - t0)
    fast_chunk_full_s = min(chunk_runs) * args.scenarios / args.chunk_size
    ratio_run = ref_full_s / fast_s
    ratio_best = ref_full_s / fast_chunk_full_s
    print(
        f"fast kernel, best of {args.repeats} chunks of {args.chunk_size:,}: {min(chunk_runs):.2f} s -> "
        f"{fast_chunk_full_s:.1f} s for {args.scenarios:,}"
    )
    print(
        f"ratio reference / fast (both best of {args.repeats}): {ratio_best:,.1f}x "
        f"(target >= {RATIO_TARGET:.0f}x)"
    )
    print(f"ratio reference / fast (whole {args.scenarios:,}-scenario run, single timing): {ratio_run:,.1f}x")
    print("note: timings taken on a machine whose 2 cores are shared with other jobs are pessimistic")
    ratio = ratio_best

    ok = True
    target = time_target(args.scenarios)
    checks = [
        (f"time {fast_s:.1f} s < {target:.0f} s ({load()})", fast_s < target),
        (f"peak memory {mem_mb:,.0f} MB < {MEMORY_TARGET_MB:,.0f} MB", mem_mb < MEMORY_TARGET_MB),
        (f"ratio {ratio:,.1f} >= {RATIO_TARGET:.0f}", ratio >= RATIO_TARGET),
        ("fast kernel matches the reference", bool(match)),
    ]
    if args.scenarios == 100_000:
        checks.append(
            (f"not slower than before issue 20 ({BEFORE_ISSUE_20_S} s)", fast_s <= BEFORE_ISSUE_20_S)
        )
    if dask_s is not None:
        checks.append((f"dask {dask_s:.1f} s < {target:.0f} s and identical to local", dask_ok))
    for label, good in checks:
        print(("PASS " if good else "FAIL ") + label)
        ok &= good
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
