"""The Monte Carlo chunk contract: what a chunk receives, what it returns, and how two returns merge.

**A chunk receives** ``(spec, size, seed)``: the run's :class:`~critmin.disruption.draw.ChunkSpec`
(plain arrays: kernel parameters, restriction candidates, parameter ranges, and the :class:`Reduction`
below), the number of scenarios ``size`` and its ``numpy.random.SeedSequence`` (chunk ``i`` of a run gets
``SeedSequence(seed).spawn(n_chunks)[i]``), so the same seed and chunk size give the same scenarios on
every backend.

**A chunk returns** a :class:`ChunkSummary`: sums and counts per material (loss, each loss part and
shortfall of the perspective shown, disrupted scenarios, scenarios with an unvalued loss), sums per
parameter set (the P5-P95 bands), the world loss of every member summed, a histogram of the highest
outside price of the disrupted scenarios, and the exact tails: the ``k`` largest values of the shown loss
per material, of its total over the valued materials, and of each member's loss, where
``k = ceil((1 - VAR_LEVEL) N) + 1`` for the run's ``N`` scenarios. Per-scenario arrays leave a chunk only
when the caller asks for them (``keep_scenarios``).

**Two summaries merge** with :func:`merge`: sums and counts add, tails keep the ``k`` largest of the union
(each tail is kept sorted, so a merge is one O(k) pass per column, not a partition).
The merge is associative and commutative (the top ``k`` of a union does not depend on how it was
grouped), so backends may reduce chunks in any order or tree, and the result equals the summary of all
scenarios at once to rounding. VaR (the ``k_N``-th largest, ``k_N = ceil((1 - level) N)``) and CVaR (the
mean of the ``k_N`` largest) of the merged tails are those of the full arrays because ``k >= k_N``.

Only the highest-price percentiles are approximate: the peak index ``p`` of a disrupted scenario is
counted in one of :data:`PEAK_BINS` equal bins of ``ln p`` over ``[0, ln cap]`` (the price never exceeds
the choke price ``cap``); a percentile is read at its bin's centre, interpolated as ``numpy.percentile``
does, with the exact minimum and maximum kept. Its relative error is at most half a bin,
``ln(cap) / (2 PEAK_BINS)`` (2.3e-4 at ``cap = 6.5``): harmless for a peak index shown with two decimals.

:func:`stream_tree` (local backend) and :func:`tree_levels` (Dask, on the workers) merge chunk summaries in
the same binary tree, so both backends give bit-identical summaries for the same seed and chunk size.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
from numba import njit
from numpy.typing import NDArray

from critmin.disruption.kernel import LOSS_PARTS

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
PEAK_BINS = 4096
T = TypeVar("T")


def tail_size(n_total: int, level: float) -> int:
    """Rows kept in each tail: ``ceil((1 - level) n) + 1``, one more than :func:`var_rank` needs."""
    return var_rank(n_total, level) + 1


def var_rank(n: int, level: float) -> int:
    """Number of worst scenarios averaged by CVaR; VaR is the smallest of them (>= 1)."""
    return max(1, int(np.ceil((1.0 - level) * n - 1e-9)))


@dataclass(frozen=True)
class Reduction:
    """How a chunk reduces its scenarios (shipped with the spec to every worker).

    ``weights [M, K]``: the perspective's share of the loss when candidate ``k`` restricts (None: the
    world, weight 1); ``members [M * K, C]``: each member's share (row ``m * K + k``); ``valued [M]``:
    materials with a price; ``log_cap [M]``: upper end of the peak-price histogram; ``tail_k``: rows kept
    per tail; ``n_sets``: parameter sets (0: none drawn).
    """

    weights: FloatArray | None
    members: FloatArray
    valued: NDArray[np.bool_]
    log_cap: FloatArray
    tail_k: int
    n_sets: int


@dataclass(frozen=True)
class ChunkSummary:
    """The reduction of ``n`` scenarios (see the module docstring). ``M`` materials, ``C`` members,
    ``B`` parameter sets; each tail row holds at most ``tail_k`` values of one column (material, total,
    member), sorted from the largest down."""

    n: int
    loss: FloatArray  # [M] shown loss (NaN counted as 0)
    parts: FloatArray  # [len(LOSS_PARTS), M]
    shortfall: FloatArray  # [M] shown shortfall, tonnes
    disrupted: IntArray  # [M]
    unvalued: IntArray  # [M] disrupted scenarios whose loss is NaN (unpriced)
    set_loss: FloatArray  # [B, M] shown loss summed per parameter set
    set_count: IntArray  # [B] scenarios per parameter set
    member_loss: FloatArray  # [C] world loss of each member
    peak_hist: IntArray  # [M, PEAK_BINS] disrupted scenarios by highest outside price
    peak_min: FloatArray  # [M] (inf: none disrupted)
    peak_max: FloatArray  # [M] (-inf: none disrupted)
    tail_material: FloatArray  # [M, <= k], descending
    tail_total: FloatArray  # [1, <= k], descending
    tail_member: FloatArray  # [C, <= k], descending
    tail_k: int


def top(values: FloatArray, k: int) -> FloatArray:
    """``[X, min(n, k)]``: the ``k`` largest values of each column of ``values [n, X]``, descending."""
    n = values.shape[0]
    v = np.ascontiguousarray(np.asarray(values, dtype=np.float64).reshape(n, -1).T)
    if n > k:
        v = np.partition(v, n - k, axis=1)[:, n - k :]
    return np.ascontiguousarray(np.sort(v, axis=1)[:, ::-1])


@njit(cache=True, nogil=True)
def _merge_sorted(a: FloatArray, b: FloatArray, k: int) -> FloatArray:
    """The ``k`` largest of each row of two row-wise descending arrays, descending (one pass, O(k))."""
    X, na, nb = a.shape[0], a.shape[1], b.shape[1]
    size = min(k, na + nb)
    out = np.empty((X, size))
    for x in range(X):
        i = j = 0
        for t in range(size):
            if j >= nb or (i < na and a[x, i] >= b[x, j]):
                out[x, t] = a[x, i]
                i += 1
            else:
                out[x, t] = b[x, j]
                j += 1
    return out


@njit(cache=True, nogil=True)
def top_groups(values: FloatArray, groups: IntArray, n_groups: int, n_rows: int, k: int) -> FloatArray:
    """``[G, min(n_rows, k)]``: what :func:`top` gives for a dense ``[n_rows, G]`` array that holds
    ``values`` in the rows of their ``groups`` and zeros elsewhere, without the dense array (the
    disrupted pairs of a chunk: one sort per group of its values, zeros filled in between)."""
    width = min(n_rows, k)
    count = np.zeros(n_groups, dtype=np.int64)
    for g in groups:
        count[g] += 1
    start = np.zeros(n_groups + 1, dtype=np.int64)
    start[1:] = np.cumsum(count)
    fill, buf = start[:-1].copy(), np.empty(values.size)
    for i in range(values.size):
        buf[fill[groups[i]]] = values[i]
        fill[groups[i]] += 1
    out = np.zeros((n_groups, width))
    for g in range(n_groups):
        v = np.sort(buf[start[g] : start[g + 1]])
        t, j, zeros = 0, v.size - 1, n_rows - count[g]
        while t < width and j >= 0 and v[j] > 0.0:  # the positive values, largest first
            out[g, t] = v[j]
            t, j = t + 1, j - 1
        t = min(t + zeros, width)  # the rows without a value (out is zero there)
        while t < width and j >= 0:  # zeros and negative values
            out[g, t] = v[j]
            t, j = t + 1, j - 1
    return out


@dataclass(frozen=True)
class PairResults:
    """Kernel results of the disrupted (scenario, material) pairs of one chunk of ``n`` scenarios."""

    n: int
    s_idx: IntArray  # [P] scenario of each pair
    m_idx: IntArray  # [P] material
    k_idx: IntArray  # [P] restricting candidate
    loss: FloatArray  # [P] world (importing zone) loss, NaN when unpriced
    parts: FloatArray  # [len(LOSS_PARTS), P]
    shortfall: FloatArray  # [P] tonnes
    peak: FloatArray  # [P] highest outside price index
    sets: IntArray | None  # [n] parameter set of each scenario


def reduce_pairs(r: Reduction, p: PairResults) -> ChunkSummary:
    """The :class:`ChunkSummary` of one chunk from its disrupted pairs (an undisrupted pair is the
    baseline: no loss, no shortfall, not counted in the peak prices)."""
    M, K = r.log_cap.shape[0], r.members.shape[0] // max(r.log_cap.shape[0], 1)
    n, s, m, k = p.n, p.s_idx, p.m_idx, p.k_idx
    w = np.ones(s.size) if r.weights is None else r.weights[m, k]
    shown = p.loss * w
    clean = np.nan_to_num(shown)

    def per_m(v: FloatArray) -> FloatArray:
        return np.bincount(m, weights=v, minlength=M).astype(np.float64)

    B = r.n_sets
    set_loss: FloatArray = np.zeros((B, M))
    set_count: IntArray = np.zeros(B, dtype=np.int64)
    if p.sets is not None and B > 0:
        set_loss = np.bincount(p.sets[s] * M + m, weights=clean, minlength=B * M).astype(np.float64)
        set_loss = set_loss.reshape(B, M)
        set_count = np.bincount(p.sets, minlength=B).astype(np.int64)
    total = np.bincount(s, weights=np.where(r.valued[m], clean, 0.0), minlength=n).astype(np.float64)
    member_n = _member_scenarios(r, p, M, K)
    bins = np.clip((np.log(p.peak) / r.log_cap[m] * PEAK_BINS).astype(np.int64), 0, PEAK_BINS - 1)
    hist = np.bincount(m * PEAK_BINS + bins, minlength=M * PEAK_BINS).reshape(M, PEAK_BINS)
    peak_min, peak_max = np.full(M, np.inf), np.full(M, -np.inf)
    np.minimum.at(peak_min, m, p.peak)
    np.maximum.at(peak_max, m, p.peak)
    return ChunkSummary(
        n=n,
        loss=per_m(clean),
        parts=np.stack([per_m(np.nan_to_num(p.parts[j] * w)) for j in range(len(LOSS_PARTS))]),
        shortfall=per_m(p.shortfall * w),
        disrupted=np.bincount(m, minlength=M).astype(np.int64),
        unvalued=np.bincount(m, weights=np.isnan(shown), minlength=M).astype(np.int64),
        set_loss=set_loss,
        set_count=set_count,
        member_loss=member_n.sum(axis=0),
        peak_hist=hist.astype(np.int64),
        peak_min=peak_min,
        peak_max=peak_max,
        tail_material=_tail_material(clean, s, m, (n, M), r.tail_k),
        tail_total=top(total, r.tail_k),
        tail_member=top(member_n, r.tail_k),
        tail_k=r.tail_k,
    )


def _tail_material(clean: FloatArray, s: IntArray, m: IntArray, shape: tuple[int, int], k: int) -> FloatArray:
    """The per-material tails of a chunk: from the pairs when a partition is needed (``n > k``: 60 -> 16 ms
    CPU per chunk of 10,000 at 1e5, ``k`` = 5,001), else numpy's sort of the dense array (12 against 16 ms
    at 1e6, where ``k`` exceeds the chunk); the same values either way."""
    n, M = shape
    if n > k:
        return top_groups(clean, m, M, n, k)
    dense = np.zeros(shape)
    dense[s, m] = clean
    return top(dense, k)


def _member_scenarios(r: Reduction, p: PairResults, M: int, K: int) -> FloatArray:
    """``[n, C]``: each member's part of the world loss of every scenario, summed over the valued
    materials (a sparse product: pair losses at column ``m * K + k``, times ``members``)."""
    from scipy import sparse

    vals = np.where(r.valued[p.m_idx], np.nan_to_num(p.loss), 0.0)
    S = sparse.csr_matrix((vals, (p.s_idx, p.m_idx * K + p.k_idx)), shape=(p.n, M * K))
    return np.asarray(S @ r.members, dtype=np.float64)


def merge(a: ChunkSummary, b: ChunkSummary) -> ChunkSummary:
    """The summary of the scenarios of ``a`` and ``b`` together (associative and commutative)."""
    if a.tail_k != b.tail_k or a.loss.shape != b.loss.shape or a.set_loss.shape != b.set_loss.shape:
        raise ValueError(
            f"merge: summaries of different runs (tail_k {a.tail_k} / {b.tail_k}, "
            f"materials {a.loss.shape} / {b.loss.shape}, sets {a.set_loss.shape} / {b.set_loss.shape})"
        )
    k = a.tail_k
    return ChunkSummary(
        n=a.n + b.n,
        loss=a.loss + b.loss,
        parts=a.parts + b.parts,
        shortfall=a.shortfall + b.shortfall,
        disrupted=a.disrupted + b.disrupted,
        unvalued=a.unvalued + b.unvalued,
        set_loss=a.set_loss + b.set_loss,
        set_count=a.set_count + b.set_count,
        member_loss=a.member_loss + b.member_loss,
        peak_hist=a.peak_hist + b.peak_hist,
        peak_min=np.minimum(a.peak_min, b.peak_min),
        peak_max=np.maximum(a.peak_max, b.peak_max),
        tail_material=_merge_sorted(a.tail_material, b.tail_material, k),
        tail_total=_merge_sorted(a.tail_total, b.tail_total, k),
        tail_member=_merge_sorted(a.tail_member, b.tail_member, k),
        tail_k=k,
    )


def merge_all(summaries: Iterable[ChunkSummary]) -> ChunkSummary:
    """Left fold of :func:`merge` (raises on an empty input)."""
    it = iter(summaries)
    try:
        acc = next(it)
    except StopIteration:
        raise ValueError("merge_all: no chunk summaries") from None
    for s in it:
        acc = merge(acc, s)
    return acc


def stream_tree(items: Iterable[T], combine: Callable[[T, T], T]) -> T:
    """Fold ``items`` (in order, as they arrive) in a binary tree: neighbours pair up level by level and
    an odd one is carried up; at most ``log2(n)`` partial results are held. The grouping is the one of
    :func:`tree_levels`."""
    stack: list[tuple[int, T]] = []
    for item in items:
        level, acc = 0, item
        while stack and stack[-1][0] == level:
            acc = combine(stack.pop()[1], acc)
            level += 1
        stack.append((level, acc))
    if not stack:
        raise ValueError("stream_tree: nothing to merge")
    acc = stack.pop()[1]
    while stack:
        acc = combine(stack.pop()[1], acc)
    return acc


def tree_levels(items: list[T], combine: Callable[[T, T], T]) -> T:
    """The same binary tree as :func:`stream_tree`, built level by level (for futures: every ``combine``
    is submitted at once and the scheduler runs each as soon as its two inputs exist)."""
    if not items:
        raise ValueError("tree_levels: nothing to merge")
    level = list(items)
    while len(level) > 1:
        nxt = [combine(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def tail_stats(tail: FloatArray, n: int, level: float) -> tuple[FloatArray, FloatArray]:
    """VaR and CVaR per row of a descending tail ``[X, >= var_rank(n)]`` of ``n`` scenarios (exact: the
    tail holds the largest values; the mean is taken in descending order, whatever the merge tree)."""
    k = var_rank(n, level)
    if tail.shape[1] < k:
        raise ValueError(f"tail_stats: {tail.shape[1]} tail values for {n} scenarios; expected >= {k}")
    worst = tail[:, :k]
    return worst[:, k - 1].copy(), worst.mean(axis=1)


def peak_percentiles(s: ChunkSummary, log_cap: FloatArray, qs: tuple[float, ...]) -> FloatArray:
    """``[len(qs), M]`` percentiles of the highest outside price among disrupted scenarios (NaN when a
    material was never disrupted), from the histogram (see the module docstring)."""
    M = s.peak_hist.shape[0]
    out = np.full((len(qs), M), np.nan)
    width = log_cap / PEAK_BINS
    for j in range(M):
        cnt = int(s.disrupted[j])
        if cnt == 0:
            continue
        cum = np.cumsum(s.peak_hist[j])

        def order(r: int, j: int = j, cum: IntArray = cum, cnt: int = cnt) -> float:
            if r <= 0:
                return float(s.peak_min[j])
            if r >= cnt - 1:
                return float(s.peak_max[j])
            b = int(np.searchsorted(cum, r, side="right"))
            v = math.exp((b + 0.5) * width[j])
            return min(max(v, float(s.peak_min[j])), float(s.peak_max[j]))

        for i, q in enumerate(qs):
            h = (cnt - 1) * q / 100.0
            lo = math.floor(h)
            v_lo = order(lo)
            out[i, j] = v_lo + (h - lo) * (order(lo + 1) - v_lo) if h > lo else v_lo
    return out
