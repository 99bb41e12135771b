"""Run Monte Carlo chunks on a Dask ``distributed`` cluster: a scheduler address or a local cluster.

The local cluster has ``risk.threads`` one-thread worker processes (the run's ``threads``), each running
the serial kernel (one core per worker; the parallel kernel would start two numba threads per worker).

The chunk function and its seeds are the same as the local backend's, and the workers merge the chunk
summaries in the same binary tree (:func:`critmin.disruption.chunks.tree_levels`: every merge is a task
that runs on a worker as soon as its two inputs exist), so results are bit-identical to the local
backend's. The client receives only the final merged summary, plus the per-scenario arrays when they are
asked for.

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

from critmin.disruption.chunks import ChunkSummary, merge, tree_levels


def _summary(got: tuple[ChunkSummary, Any]) -> ChunkSummary:
    return got[0]


def _summary_only(chunk_fn: Callable[..., tuple[ChunkSummary, Any]], *args: Any) -> ChunkSummary:
    return chunk_fn(*args)[0]


def _scenarios(got: tuple[ChunkSummary, Any]) -> Any:
    return got[1]


def _cluster(processes: bool, workers: int) -> Any:
    import dask
    from distributed import LocalCluster

    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
        return LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=processes,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
        )


def run_chunks(
    chunk_fn: Callable[..., tuple[ChunkSummary, Any]],
    spec: Any,
    sizes: Sequence[int],
    seeds: Sequence[np.random.SeedSequence],
    keep: str,
    progress: Callable[[int, int], None] | None,
    scheduler: str | None = None,
    processes: bool = True,
    info: dict[str, Any] | None = None,
    workers: int = 2,
) -> tuple[ChunkSummary, list[Any]]:
    """(merged summary, kept per-scenario outputs in chunk order); progress as chunks complete.
    ``info``, when given, receives each worker's peak RSS in MB (``worker_peak_rss_mb``) and CPU
    seconds, user + system, since the worker started (``worker_cpu_s``); ``workers``:
    one-thread worker processes of the local cluster (no ``scheduler``)."""
    from distributed import Client, as_completed

    cluster = _cluster(processes, workers) if scheduler is None else None
    client = Client(cluster if cluster is not None else scheduler)
    try:
        spec_f = client.scatter(spec, broadcast=True)
        pairs = list(zip(sizes, seeds, strict=True))
        kept: list[Any] = []
        leaves: list[Any]
        watched: list[Any]
        if keep == "none":  # the chunk task returns its summary alone
            leaves = [
                client.submit(_summary_only, chunk_fn, spec_f, n, s, keep, pure=False) for n, s in pairs
            ]
            watched = leaves
        else:
            watched = [client.submit(chunk_fn, spec_f, n, s, keep, pure=False) for n, s in pairs]
            leaves = [client.submit(_summary, f, pure=False) for f in watched]
            kept = [client.submit(_scenarios, f, pure=False) for f in watched]
        root = tree_levels(leaves, lambda a, b: client.submit(merge, a, b, pure=False))
        size_of = {f.key: n for f, (n, _) in zip(watched, pairs, strict=True)}
        pending = as_completed(watched)
        del leaves, watched  # a chunk's summary is released on its worker once merged
        total, done = sum(sizes), 0
        for fut in pending:  # no result moves to the client here
            done += size_of[fut.key]
            if progress is not None:
                progress(done, total)
        outs = [f.result() for f in kept]
        summary: ChunkSummary = root.result()
        if info is not None:
            info["worker_peak_rss_mb"] = client.run(_peak_rss_mb)
            info["worker_cpu_s"] = client.run(_cpu_s)
        return summary, outs
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _cpu_s() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
