"""Run Monte Carlo chunks one after another in this process, merging their summaries as they come."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from critmin.disruption.chunks import ChunkSummary, merge, stream_tree


def run_chunks(
    chunk_fn: Callable[..., tuple[ChunkSummary, Any]],
    spec: Any,
    sizes: Sequence[int],
    seeds: Sequence[np.random.SeedSequence],
    keep: str,
    progress: Callable[[int, int], None] | None,
) -> tuple[ChunkSummary, list[Any]]:
    """(merged summary, kept per-scenario outputs in chunk order). ``chunk_fn(spec, n, seed, keep)`` is the
    chunk contract (:mod:`critmin.disruption.chunks`); summaries merge in the binary tree of
    :func:`~critmin.disruption.chunks.stream_tree`, so at most ``log2(chunks)`` are held at once (the
    backends do not import the Monte Carlo module, so no import circle)."""
    total, done, outs = sum(sizes), 0, []

    def summaries() -> Iterator[ChunkSummary]:
        nonlocal done
        for n, s in zip(sizes, seeds, strict=True):
            summary, out = chunk_fn(spec, n, s, keep)
            if out is not None:
                outs.append(out)
            done += n
            if progress is not None:
                progress(done, total)
            yield summary

    return stream_tree(summaries(), merge), outs
