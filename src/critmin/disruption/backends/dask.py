"""Run Monte Carlo chunks on a Dask ``distributed`` cluster: a scheduler address or a local 2-worker cluster.

The chunk function and its seeds are the same as the local backend's, so results are identical.

The local cluster's worker processes are started without distributed's default
``MALLOC_TRIM_THRESHOLD_=65536``: setting it switches off glibc's adaptive mmap threshold, so every
temporary array of the kernel becomes a fresh mmap and a chunk runs about four times slower (measured:
2.5 s -> 10 s per 10,000 scenarios). Workers of a remote scheduler keep their own settings.

The local cluster listens on 127.0.0.1 only and its diagnostics HTTP server takes a free port
(``dashboard_address="127.0.0.1:0"``): ``dashboard_address=None`` still binds the default 8787, which
the critmin dashboard or another cluster may hold (issue 13 item 7).
"""

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
    scheduler: str | None = None,
    processes: bool = True,
) -> list[Any]:
    """Chunk outputs in chunk order (gathered as they complete, for progress)."""
    import dask
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler is None:
        with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
            cluster = LocalCluster(
                n_workers=2,
                threads_per_worker=1,
                processes=processes,
                host="127.0.0.1",
                dashboard_address="127.0.0.1:0",
            )
        client = Client(cluster)
    else:
        client = Client(scheduler)
    try:
        spec_f = client.scatter(spec, broadcast=True)
        futures = [
            client.submit(run_chunk, spec_f, n, s, keep_paths, pure=False)
            for n, s in zip(sizes, seeds, strict=True)
        ]
        order = {f.key: i for i, f in enumerate(futures)}
        outs: list[Any] = [None] * len(futures)
        total, done = sum(sizes), 0
        for fut in as_completed(futures):
            i = order[fut.key]
            outs[i] = fut.result()
            done += sizes[i]
            if progress is not None:
                progress(done, total)
        return [o for o in outs if o is not None]
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
