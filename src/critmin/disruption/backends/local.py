"""Run Monte Carlo chunks one after another in this process."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


def run_chunks(
    run_chunk: Callable[..., Any],
    spec: Any,
    sizes: Sequence[int],
    seeds: Sequence[np.random.SeedSequence],
    keep_paths: bool,
    progress: Callable[[int, int], None] | None,
) -> list[Any]:
    """Chunk outputs in chunk order (``run_chunk(spec, n, seed, keep_paths)`` per chunk; the backends do
    not import the Monte Carlo module, so no import circle)."""
    total, done, outs = sum(sizes), 0, []
    for n, s in zip(sizes, seeds, strict=True):
        outs.append(run_chunk(spec, n, s, keep_paths))
        done += n
        if progress is not None:
            progress(done, total)
    return outs
