"""The local backend's threads: chunks run at once, results bit-identical, progress in chunk order."""

from __future__ import annotations

import dataclasses
import threading

import numpy as np
import pandas as pd
import pytest

from critmin.atlas.chain import SupplyChain
from critmin.disruption.backends import local
from critmin.disruption.chunks import ChunkSummary, merge, merge_all
from critmin.disruption.inputs import build_inputs
from critmin.disruption.kernel import LOSS_PARTS, _cells_serial, propagate
from critmin.disruption.montecarlo import _spec, build_candidates, draw_restrictions, run_monte_carlo
from critmin.options import options


def _same_reduction(a: object, b: object) -> bool:
    return all(
        np.array_equal(getattr(a, f.name), getattr(b, f.name))
        for f in dataclasses.fields(a)  # type: ignore[arg-type]
    )


def test_threads_give_bit_identical_results_and_ordered_progress(chain: SupplyChain) -> None:
    runs, seen = {}, {}
    for th in (1, 2, 3):
        got: list[tuple[int, int]] = []
        runs[th] = run_monte_carlo(
            chain,
            1_030,
            seed=5,
            chunk_size=100,
            keep_scenarios=True,
            threads=th,
            progress=lambda d, t, got=got: got.append((d, t)),
        )
        seen[th] = got
    expected = [(min(100 * i, 1_030), 1_030) for i in range(1, 12)]
    one = runs[1]
    assert (one.loss_usd > 0).any()
    for th in (2, 3):
        assert seen[th] == expected  # called in chunk order with growing counts, whatever the timing
        pd.testing.assert_frame_equal(runs[th].summary, one.summary, check_exact=True)
        pd.testing.assert_frame_equal(runs[th].member_summary, one.member_summary, check_exact=True)
        assert runs[th].totals == one.totals
        assert _same_reduction(runs[th].reduced, one.reduced)
        np.testing.assert_array_equal(runs[th].loss_usd, one.loss_usd)  # kept chunks in chunk order
        np.testing.assert_array_equal(runs[th].restrictor, one.restrictor)


def test_serial_kernel_releases_the_gil_and_matches_the_parallel_one(chain: SupplyChain) -> None:
    assert _cells_serial.targetoptions["nogil"] and "parallel" not in _cells_serial.targetoptions
    inp = build_inputs(chain)
    spec = _spec(inp, build_candidates(inp, chain.wgi), 12)
    a, c, w, _ = draw_restrictions(spec, 400, np.random.default_rng(3))
    par = propagate(inp.kernel, a, c, w, keep_paths=True)
    ser = propagate(inp.kernel, a, c, w, keep_paths=True, parallel=False)
    assert (par.loss_usd > 0).any()
    for f in dataclasses.fields(par):
        x, y = getattr(par, f.name), getattr(ser, f.name)
        if x is not None:
            np.testing.assert_array_equal(x, y, err_msg=f.name)


def test_chunks_run_at_once_in_threads_and_report_in_order() -> None:
    """Chunks 0 and 1 are in flight together (each waits for the other to start) and chunk 0 finishes
    last; progress still comes from the calling thread in chunk order."""
    started, order, caller = threading.Barrier(2, timeout=10), [], threading.current_thread()
    finished_1 = threading.Event()

    def chunk(spec: object, n: int, seed: np.random.SeedSequence, keep: str) -> tuple[ChunkSummary, None]:
        if n <= 2:
            started.wait()  # BrokenBarrierError unless chunks 0 and 1 run at the same time
            if n == 1:
                assert finished_1.wait(timeout=10)
            else:
                finished_1.set()
        order.append(n)
        return dataclasses.replace(_TEMPLATE, n=n), None

    seeds = np.random.SeedSequence(1).spawn(5)
    progress: list[tuple[int, bool]] = []

    def report(done: int, total: int) -> None:
        progress.append((done, threading.current_thread() is caller))

    summary, outs = local.run_chunks(chunk, None, [1, 2, 3, 4, 5], seeds, "none", report, threads=2)
    assert order[0] == 2 and order.index(2) < order.index(1)  # chunk 1 (n=2) finished before chunk 0
    assert summary.n == 15 and outs == []
    assert progress == [(1, True), (3, True), (6, True), (10, True), (15, True)]


def test_an_error_in_a_chunk_thread_reaches_the_caller() -> None:
    ran: list[int] = []

    def chunk(spec: object, n: int, seed: np.random.SeedSequence, keep: str) -> tuple[ChunkSummary, None]:
        ran.append(n)
        if n == 3:
            raise RuntimeError("chunk 3 failed")
        return dataclasses.replace(_TEMPLATE, n=n), None

    seeds = np.random.SeedSequence(1).spawn(40)
    with pytest.raises(RuntimeError, match="chunk 3 failed"):
        local.run_chunks(chunk, None, list(range(1, 41)), seeds, "none", None, threads=2)
    assert len(ran) < 40  # no more chunks started once the error was seen
    assert not [t for t in threading.enumerate() if t.name.startswith("critmin-chunk")]  # threads ended


def test_a_progress_callback_that_raises_stops_the_run_and_its_threads(chain: SupplyChain) -> None:
    class Cancelled(Exception):
        pass

    def cancel_at_300(done: int, total: int) -> None:
        if done >= 300:
            raise Cancelled  # as a cancelled job does

    with pytest.raises(Cancelled):
        run_monte_carlo(chain, 3_000, seed=1, chunk_size=100, threads=2, progress=cancel_at_300)
    assert not [t for t in threading.enumerate() if t.name.startswith("critmin-chunk")]


def test_threads_option_default_env_override_and_bound(
    chain: SupplyChain, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    options.cache_clear()
    assert options().risk.threads == min(2, os.cpu_count() or 1)
    monkeypatch.setenv("CRITMIN_RISK__THREADS", "3")
    options.cache_clear()
    try:
        assert options().risk.threads == 3
    finally:
        monkeypatch.delenv("CRITMIN_RISK__THREADS")
        options.cache_clear()
    with pytest.raises(ValueError, match="threads"):
        run_monte_carlo(chain, 10, seed=1, threads=0)


def _template() -> ChunkSummary:
    z = np.zeros(1)
    s = ChunkSummary(
        n=0,
        loss=z,
        parts=np.zeros((len(LOSS_PARTS), 1)),
        shortfall=z,
        disrupted=np.zeros(1, dtype=np.int64),
        unvalued=np.zeros(1, dtype=np.int64),
        set_loss=np.zeros((0, 1)),
        set_count=np.zeros(0, dtype=np.int64),
        member_loss=z,
        peak_hist=np.zeros((1, 4), dtype=np.int64),
        peak_min=np.full(1, np.inf),
        peak_max=np.full(1, -np.inf),
        tail_material=np.zeros((1, 0)),
        tail_total=np.zeros((1, 0)),
        tail_member=np.zeros((1, 0)),
        tail_k=3,
    )
    assert merge(s, s).n == 0 and merge_all([s]).n == 0
    return s


_TEMPLATE = _template()
