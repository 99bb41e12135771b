"""Benchmark: the stochastic independence timeline for the key set (1,000 samples) in under 60 s.

Instance: the real atlas, the bundled pipeline and the generic capacity classes for every stage of the key
materials (``critmin.planning.independence.KEY_SET`` present in the atlas), target 50% non-China share,
within 2 bn USD a year per material and stage, 1,000 samples, seed 0 -- what ``critmin plan timeline
--budget-per-year 2e9`` runs. The wall time includes building the pipeline and the unit pools and the
extra runs that explain a "not reached" (no budget limit, no know-how cap).

Reference implementation, run in the same process on the same unit pools: a plain Python loop over samples,
years and units (:func:`critmin.planning.stochastic.reference_simulate`), on the first 100 samples of each
stage (its per-sample cost is constant; the full 1,000 would take minutes). Its years must equal the
vectorised ones sample by sample; the ratio printed is the reference's time per sample over the
vectorised core's. Exit code 1 if the timeline takes 60 s or more or the two disagree.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import replace

import numpy as np

from critmin.atlas import load_atlas
from critmin.planning.independence import TimelineRequest, run_timeline
from critmin.planning.stochastic import reference_simulate, simulate

TARGET_S, SAMPLES, REF_SAMPLES = 60.0, 1000, 100


def main() -> int:
    load_atlas()  # the atlas is cached by every command; its cold load is not the model's cost
    t0 = time.perf_counter()
    rep = run_timeline(TimelineRequest(samples=SAMPLES, budget_per_year=2e9))
    wall = time.perf_counter() - t0
    problems = [s.result.problem for s in rep.stages if s.result is not None]
    t1 = time.perf_counter()
    for p in problems:
        simulate(p)
    core = time.perf_counter() - t1
    ref_s, equal = 0.0, True
    for p in problems:
        small = replace(p, samples=REF_SAMPLES)
        t2 = time.perf_counter()
        ref = reference_simulate(small)
        ref_s += time.perf_counter() - t2
        equal &= bool(np.array_equal(ref, simulate(small).year_reached))
    per_ref, per_vec = ref_s / REF_SAMPLES, core / SAMPLES
    print(f"key set: {len(rep.table)} material-stage rows, {len(problems)} sampled, {SAMPLES} samples each")
    print(rep.table[["material", "stage", "p10", "p50", "p90", "p_reached"]].to_string(index=False))
    print(f"timeline wall time {wall:.2f} s (target < {TARGET_S:.0f} s); vectorised core {core:.2f} s")
    print(f"reference loop {ref_s:.2f} s for {REF_SAMPLES} samples a stage; years identical: {equal}")
    print(f"ratio reference / vectorised per sample: {per_ref / per_vec:.0f}x")
    print(f"load average (1, 5, 15 min): {os.getloadavg()}")
    return 0 if wall < TARGET_S and equal else 1


if __name__ == "__main__":
    sys.exit(main())
