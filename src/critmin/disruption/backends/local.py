"""Run Monte Carlo chunks one after another in this process."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from critmin.disruption.montecarlo import ChunkOutput, ChunkSpec, run_chunk


def run_chunks(
    spec: ChunkSpec,
    sizes: Sequence[int],
    seeds: Sequence[np.random.SeedSequence],
    keep_paths: bool,
    progress: Callable[[int, int], None] | None,
) -> list[ChunkOutput]:
    """Chunk outputs in chunk order."""
    total, done, outs = sum(sizes), 0, []
    for n, s in zip(sizes, seeds, strict=True):
        outs.append(run_chunk(spec, n, s, keep_paths))
        done += n
        if progress is not None:
            progress(done, total)
    return outs
