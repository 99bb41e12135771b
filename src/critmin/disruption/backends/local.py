"""Run Monte Carlo chunks in this process, merging their summaries in chunk order as they come.

With ``threads > 1`` up to ``threads`` chunks run at once, each in its own thread (the chunk's kernel is
the serial, GIL-free variant, ``spec.parallel_kernel`` False, set by the caller); the summaries are still
merged in chunk order in the binary tree of :func:`~critmin.disruption.chunks.stream_tree`, so the result
is bit-identical to the sequential run whatever the timing, and ``progress`` is called from the calling
thread in chunk order with growing counts. Threads, not processes: nothing is forked or pickled, so it is
safe inside the API's job workers and needs no ``__main__`` guard.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

from critmin.disruption.chunks import ChunkSummary, merge, stream_tree


def _in_order(
    chunk_fn: Callable[..., tuple[ChunkSummary, Any]],
    spec: Any,
    pairs: list[tuple[int, np.random.SeedSequence]],
    keep: str,
    threads: int,
) -> Generator[tuple[ChunkSummary, Any], None, None]:
    """Chunk results in chunk order; at most ``threads`` chunks run and ``threads`` finished ones wait."""
    if threads <= 1 or len(pairs) <= 1:
        for n, s in pairs:
            yield chunk_fn(spec, n, s, keep)
        return
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="critmin-chunk") as pool:
        window: deque[Future[tuple[ChunkSummary, Any]]] = deque()
        todo = iter(pairs)
        try:
            for n, s in todo:
                window.append(pool.submit(chunk_fn, spec, n, s, keep))
                if len(window) >= 2 * threads:
                    yield window.popleft().result()
            while window:
                yield window.popleft().result()
        finally:  # an error (or a closed generator): start no more chunks, wait for the running ones
            for f in window:
                f.cancel()


def run_chunks(
    chunk_fn: Callable[..., tuple[ChunkSummary, Any]],
    spec: Any,
    sizes: Sequence[int],
    seeds: Sequence[np.random.SeedSequence],
    keep: str,
    progress: Callable[[int, int], None] | None,
    threads: int = 1,
) -> tuple[ChunkSummary, list[Any]]:
    """(merged summary, kept per-scenario outputs in chunk order). ``chunk_fn(spec, n, seed, keep)`` is the
    chunk contract (:mod:`critmin.disruption.chunks`); summaries merge in the binary tree of
    :func:`~critmin.disruption.chunks.stream_tree`, so at most ``log2(chunks)`` are held at once, plus
    the ``2 * threads`` chunks in flight (the backends do not import the Monte Carlo module, so no import
    circle)."""
    total, done, outs = sum(sizes), 0, []
    pairs = list(zip(sizes, seeds, strict=True))
    results = _in_order(chunk_fn, spec, pairs, keep, threads)

    def summaries() -> Iterator[ChunkSummary]:
        nonlocal done
        for (n, _), (summary, out) in zip(pairs, results, strict=True):
            if out is not None:
                outs.append(out)
            done += n
            if progress is not None:
                progress(done, total)
            yield summary

    try:
        return stream_tree(summaries(), merge), outs
    finally:  # an error (a failed chunk, a progress callback that cancels): the threads stop here
        results.close()
