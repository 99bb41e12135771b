"""The random restrictions of a Monte Carlo chunk: who restricts, when, for how long, how severely, and
the kernel arrays of the disrupted (scenario, material) pairs (see :mod:`critmin.disruption.montecarlo`
for the generator's law). The loops that need no random draw or transcendental function are compiled and
release the GIL (chunks may run in threads); the draws and ``log1p``/``exp`` stay in numpy, so the
numbers are those of the numpy formulation bit for bit."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from critmin.disruption.candidates import Candidates
from critmin.disruption.chunks import Reduction
from critmin.disruption.kernel import KernelParams
from critmin.disruption.uncertainty import ParameterRanges


@dataclass(frozen=True)
class ChunkSpec:
    """Everything a worker needs for one chunk (plain arrays: cheap to ship to Dask workers)."""

    kernel: KernelParams
    cands: Candidates
    horizon: int
    duration_median: float
    duration_sigma: float
    severity_min: float
    severity_max: float
    ranges: ParameterRanges | None = None  # parameters drawn per scenario (None: values in force)
    param_u: np.ndarray | None = None  # [B, P] quantiles of the B parameter sets
    reduction: Reduction | None = None  # how a chunk reduces its scenarios (chunks.py)
    parallel_kernel: bool = True  # False: the serial GIL-free kernel (chunks run in threads or processes)


@dataclass(frozen=True)
class Draw:
    """Random restrictions of one chunk: per (scenario, material) who, when, how long, how severe."""

    chosen: np.ndarray  # [n, M] candidate index, -1 = no restriction inside the horizon
    start: np.ndarray  # [n, M] first month (int)
    duration: np.ndarray  # [n, M] months (int)
    severity: np.ndarray  # [n, M] share of exports withheld


def draw_events(spec: ChunkSpec, n: int, rng: np.random.Generator) -> Draw:
    """Competing risks: the first restriction of a material starts after an exponential time with the summed
    hazard of its candidates, and comes from candidate ``k`` with probability ``h_k / sum(h)`` (the same law
    as the earliest of independent exponential clocks, with two draws instead of ``K``)."""
    c_ = spec.cands
    M = c_.share.shape[0]
    total = c_.hazard_per_month.sum(axis=1)  # [M]
    cum = np.cumsum(c_.hazard_per_month, axis=1)
    cum = np.divide(cum, total[:, None], out=np.ones_like(cum), where=total[:, None] > 0)
    cum[:, -1] = 1.0
    u_time = rng.random((n, M))
    u_who = rng.random((n, M))
    z = rng.standard_normal((n, M))
    u_sev = rng.random((n, M))
    with np.errstate(divide="ignore"):
        t0 = np.where(total > 0, -np.log1p(-u_time) / total, np.inf)
    chosen, start = _who_and_when(t0, u_who, cum, spec.horizon)
    dur = np.maximum(1.0, np.ceil(spec.duration_median * np.exp(spec.duration_sigma * z)))
    sev = spec.severity_min + (spec.severity_max - spec.severity_min) * u_sev
    return Draw(chosen=chosen, start=start, duration=dur.astype(np.int64), severity=sev)


@njit(cache=True, nogil=True)
def _who_and_when(
    t0: np.ndarray, u_who: np.ndarray, cum: np.ndarray, horizon: int
) -> tuple[np.ndarray, np.ndarray]:
    """``[n, M]`` candidate (-1: none inside the horizon) and first month (the horizon: none): the
    candidate is the number of cumulative shares below ``u`` (``searchsorted(..., side="left")``, no
    ``[n, M, K]`` array)."""
    n, M = t0.shape
    K = cum.shape[1]
    chosen, start = np.empty((n, M), dtype=np.int64), np.empty((n, M), dtype=np.int64)
    for i in range(n):
        for m in range(M):
            if t0[i, m] < horizon:
                lo, hi, u = 0, K, u_who[i, m]
                while lo < hi:  # first k with cum[m, k] >= u
                    mid = (lo + hi) // 2
                    if cum[m, mid] < u:
                        lo = mid + 1
                    else:
                        hi = mid
                chosen[i, m], start[i, m] = lo, math.floor(t0[i, m])
            else:
                chosen[i, m], start[i, m] = -1, horizon
    return chosen, start


@njit(cache=True, nogil=True)
def _pairs_compiled(
    chosen: np.ndarray,
    start: np.ndarray,
    duration: np.ndarray,
    severity: np.ndarray,
    share: np.ndarray,
    export_ratio: np.ndarray,
    s_idx: np.ndarray,
    m_idx: np.ndarray,
    horizon: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    P = s_idx.size
    a, c, w = np.empty(P), np.empty(P), np.zeros((P, horizon))
    for i in range(P):
        s, m = s_idx[i], m_idx[i]
        k = chosen[s, m]
        a_i = share[m, k]
        e = a_i * export_ratio[m, k]
        a[i], c[i] = a_i, a_i - e
        v = severity[s, m] * e
        for t in range(max(start[s, m], 0), min(start[s, m] + duration[s, m], horizon)):
            w[i, t] = v
    return a, c, w


def _pair_arrays(spec: ChunkSpec, d: Draw, s_idx: np.ndarray, m_idx: np.ndarray) -> tuple[np.ndarray, ...]:
    """``a``, ``c`` and withheld ``[P, T]`` of the given (scenario, material) pairs: ``a`` the restrictor's
    share, ``c = a - e`` with ``e = a x export ratio``, withheld ``severity x e`` in the active months
    (compiled, one pass without ``[P, T]`` temporaries; the GIL is released for chunks in threads)."""
    return _pairs_compiled(
        d.chosen,
        d.start,
        d.duration,
        d.severity,
        spec.cands.share,
        spec.cands.export_ratio,
        s_idx,
        m_idx,
        spec.horizon,
    )


def draw_restrictions(spec: ChunkSpec, n: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Full kernel arrays ``(a [n,M], c [n,M], withheld [n,M,T], chosen [n,M])`` of ``n`` random scenarios."""
    d = draw_events(spec, n, rng)
    M = spec.cands.share.shape[0]
    a = np.zeros((n, M))
    c = np.zeros((n, M))
    w = np.zeros((n, M, spec.horizon))
    s_idx, m_idx = np.nonzero(d.chosen >= 0)
    pa, pc, pw = _pair_arrays(spec, d, s_idx, m_idx)
    a[s_idx, m_idx], c[s_idx, m_idx], w[s_idx, m_idx] = pa, pc, pw
    return a, c, w, d.chosen
