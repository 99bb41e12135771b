"""Monte Carlo over random export restrictions: seeded generator, vectorised kernel, chunked, local or Dask.

Generator (see ``docs/methods/disruption.md``): for every material, each candidate restrictor ``k`` (a
country with production share ``a_k >= restriction_min_share`` at a modelled stage) has an annual hazard

    h_k = restriction_hazard_per_year * min(1, a_k / restriction_dominance_share) * listed_k * gov_k

where ``listed_k`` is 1 for the seven countries behind 94% of the OECD's 2023 net additions and
``restriction_unlisted_country_factor`` otherwise, and ``gov_k`` is the country's WGI weakness
``(2.5 - mean WGI estimate) / 5`` relative to China's (capped at 2). Start months are exponential draws;
the earliest candidate inside the horizon restricts (one restriction per material and scenario), for a
lognormal duration and a uniform severity (share of exports withheld), with targets ``all``.

The withheld volume of candidate ``k`` is its export ratio at its stage (BACI tonnes where the material has
trade data, else ``restrictor_export_share``) times the severity. Parameter uncertainty: ``param_draws``
parameter sets are drawn once per run within the documented ranges (:mod:`critmin.disruption.uncertainty`,
triangular around the values in force) and each scenario uses one of them (drawn after its events), so the
expected loss has a P5-P95 band across parameter sets. Losses are split over countries by
:mod:`critmin.disruption.perspective` (every country's part, so members' losses add up to the world's).

Chunk ``i`` draws from ``SeedSequence(seed).spawn(n_chunks)[i]``, so the same seed and chunk size give
identical results on every backend. The earliest candidate is drawn by competing risks (one exponential
time with the summed hazard, then the candidate in proportion to its hazard).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from critmin.disruption import perspective as persp
from critmin.disruption.candidates import OECD_LISTED, Candidates, build_candidates
from critmin.disruption.chunks import ChunkSummary, PairResults, Reduction, reduce_pairs, tail_size
from critmin.disruption.draw import ChunkSpec, Draw, _pair_arrays, draw_events, draw_restrictions
from critmin.disruption.inputs import InputError, MarketInputs
from critmin.disruption.inputs_cache import inputs_and_candidates
from critmin.disruption.kernel import LOSS_PARTS, KernelOutput, KernelParams, propagate
from critmin.disruption.risk_table import VAR_LEVEL, summarise, tables_from_summary, total_stats
from critmin.disruption.uncertainty import KERNEL_FIELD, material_ranges
from critmin.options import options
from critmin.parameters import ParameterSet
from critmin.provenance import RunMetadata

BACKENDS = ("local", "dask")
KEEP_NONE, KEEP_SCENARIOS, KEEP_PATHS = "none", "scenarios", "paths"
__all__ = [
    "OECD_LISTED",
    "Candidates",
    "ChunkSpec",
    "Draw",
    "build_candidates",
    "draw_events",
    "draw_restrictions",
    "run_monte_carlo",
    "summarise",
]


@dataclass(frozen=True)
class ChunkOutput:
    """Per-scenario results of one chunk."""

    loss_usd: np.ndarray  # [n, M]
    shortfall_total_t: np.ndarray  # [n, M]
    max_price: np.ndarray  # [n, M]
    disrupted: np.ndarray  # [n, M] bool
    restrictor: np.ndarray  # [n, M] candidate index (-1 = none)
    parts: dict[str, np.ndarray] = field(default_factory=dict)  # loss part -> [n, M]
    param_set: np.ndarray | None = None  # [n] parameter set of each scenario
    shortfall_t: np.ndarray | None = None
    price_index_outside: np.ndarray | None = None
    withheld_t: np.ndarray | None = None


@dataclass(frozen=True)
class MonteCarloResult:
    """Summaries and metadata of a run; per-scenario arrays only when asked (``keep_scenarios``/paths).

    ``restrictor`` holds int codes into ``restrictor_countries`` (-1 = no restriction);
    :meth:`restrictor_iso3` gives the ISO3 codes. ``reduced`` is the merged :class:`ChunkSummary`;
    ``totals`` the expected loss, VaR and CVaR of the loss summed over the valued materials.
    """

    materials: list[str]
    members: list[str]
    summary: pd.DataFrame  # valued materials: material, expected_loss_usd, bands, parts, var, cvar, rank
    member_summary: pd.DataFrame  # member, expected_loss_usd, var_usd, cvar_usd, rank
    metadata: RunMetadata
    excluded: pd.DataFrame  # materials without a price: material, reason, p_disrupted, expected_shortfall_t
    perspective: str | None  # ISO3 or group the summary is for (None = world)
    loss_per_tonne_usd: np.ndarray  # [material]
    reduced: ChunkSummary
    totals: dict[str, float]
    restrictor_countries: list[str]
    loss_usd: np.ndarray | None = None  # [scenario, material] world (importing zone) loss, when kept
    shortfall_total_t: np.ndarray | None = None  # [scenario, material], when kept
    max_price_outside: np.ndarray | None = None  # [scenario, material], when kept
    restrictor: np.ndarray | None = None  # [scenario, material] int32 code (-1 = none), when kept
    shortfall_t: np.ndarray | None = None  # [scenario, material, month], outside zone, when keep_paths
    price_index_outside: np.ndarray | None = None  # [scenario, material, month], when keep_paths
    withheld_t: np.ndarray | None = None  # [scenario, material, month] tonnes withheld, when keep_paths
    extra: dict[str, Any] = field(default_factory=dict)

    def restrictor_iso3(self) -> np.ndarray:
        """``[scenario, material]`` ISO3 of the restricting country ('' = none); needs kept scenarios."""
        if self.restrictor is None:
            raise ValueError("restrictor_iso3: run the Monte Carlo with keep_scenarios=True")
        names = np.array([*self.restrictor_countries, ""], dtype=object)
        return names[self.restrictor].astype(str)


def _pair_params(spec: ChunkSpec, m_idx: np.ndarray, sets: np.ndarray | None) -> KernelParams:
    """Kernel parameters of each disrupted pair: its material's, with the drawn ones of its parameter set."""
    fields = {name: np.asarray(v)[m_idx] for name, v in vars(spec.kernel).items()}
    if spec.ranges is not None and spec.param_u is not None and sets is not None:
        B, M = spec.param_u.shape[0], spec.ranges.low.shape[1]
        # values of every (set, material) once ([B, M, P]), then one lookup per pair
        table = spec.ranges.quantile(np.repeat(spec.param_u[:, None, :], M, axis=1), slice(None))
        vals = table.reshape(B, M, -1)[sets, m_idx]
        for j, name in enumerate(spec.ranges.names):
            fields[KERNEL_FIELD[name]] = vals[:, j]
    return KernelParams(**fields)


def _propagate_chunk(
    spec: ChunkSpec, n: int, seed: np.random.SeedSequence, keep_paths: bool
) -> tuple[Draw, np.ndarray | None, np.ndarray, np.ndarray, np.ndarray, KernelOutput]:
    """Draw ``n`` scenarios and propagate their disrupted pairs: (draw, parameter set per scenario,
    pair scenario and material indices, withheld ``[P, T]``, kernel output over the pairs)."""
    rng = np.random.default_rng(seed)
    d = draw_events(spec, n, rng)
    sets = None if spec.param_u is None else rng.integers(0, spec.param_u.shape[0], size=n)
    s_idx, m_idx = np.nonzero(d.chosen >= 0)
    a, c, w = _pair_arrays(spec, d, s_idx, m_idx)
    kp = _pair_params(spec, m_idx, None if sets is None else sets[s_idx])
    out = propagate(
        kp, a[None], c[None], w[None], keep_paths=keep_paths, restrictor=False, parallel=spec.parallel_kernel
    )
    return d, sets, s_idx, m_idx, w, out


def _scenarios(
    spec: ChunkSpec,
    n: int,
    got: tuple[Draw, np.ndarray | None, np.ndarray, np.ndarray, np.ndarray, KernelOutput],
    keep_paths: bool,
) -> ChunkOutput:
    """Per-scenario arrays ``[n, M]`` (and paths ``[n, M, T]``) from the pairs' results."""
    d, sets, s_idx, m_idx, w, out = got
    M, T = spec.cands.share.shape[0], spec.horizon

    def scatter(v: np.ndarray, base: float = 0.0) -> np.ndarray:
        full = np.full((n, M), base)
        full[s_idx, m_idx] = v[0]
        return full

    short_t = price_t = withheld_t = None
    if keep_paths:
        assert out.shortfall_t is not None and out.price_outside is not None
        short_t = np.zeros((n, M, T))
        price_t = np.ones((n, M, T))
        withheld_t = np.zeros((n, M, T))
        short_t[s_idx, m_idx] = out.shortfall_t[0]
        price_t[s_idx, m_idx] = out.price_outside[0]
        withheld_t[s_idx, m_idx] = w * (spec.kernel.world_t[m_idx] / 12.0)[:, None]
    return ChunkOutput(
        loss_usd=scatter(out.loss_usd),
        shortfall_total_t=scatter(out.shortfall_total_t),
        max_price=scatter(out.max_price_outside, 1.0),
        disrupted=d.chosen >= 0,
        restrictor=d.chosen,
        parts={k: scatter(getattr(out, k)) for k in LOSS_PARTS},
        param_set=sets,
        shortfall_t=short_t,
        price_index_outside=price_t,
        withheld_t=withheld_t,
    )


def run_chunk(spec: ChunkSpec, n: int, seed: np.random.SeedSequence, keep_paths: bool = False) -> ChunkOutput:
    """Draw and propagate one chunk of ``n`` scenarios and return its per-scenario arrays.

    Only the disrupted (scenario, material) pairs go through the kernel, each pair as its own column with
    its material's parameters (an undisrupted pair is the baseline: price 1, no shortfall, no loss).
    """
    return _scenarios(spec, n, _propagate_chunk(spec, n, seed, keep_paths), keep_paths)


def summarise_chunk(
    spec: ChunkSpec, n: int, seed: np.random.SeedSequence, keep: str = KEEP_NONE
) -> tuple[ChunkSummary, ChunkOutput | None]:
    """The unit of work of every backend (the chunk contract, :mod:`critmin.disruption.chunks`): the
    :class:`ChunkSummary` of ``n`` scenarios, and their per-scenario arrays when ``keep`` is
    ``"scenarios"`` or ``"paths"``."""
    if spec.reduction is None:
        raise ValueError("summarise_chunk: the spec has no reduction (build it with run_monte_carlo)")
    got = _propagate_chunk(spec, n, seed, keep == KEEP_PATHS)
    d, sets, s_idx, m_idx, _, out = got
    pairs = PairResults(
        n=n,
        s_idx=s_idx,
        m_idx=m_idx,
        k_idx=d.chosen[s_idx, m_idx],
        loss=out.loss_usd[0],
        parts=np.stack([getattr(out, k)[0] for k in LOSS_PARTS]),
        shortfall=out.shortfall_total_t[0],
        peak=out.max_price_outside[0],
        sets=sets,
    )
    summary = reduce_pairs(spec.reduction, pairs)
    return summary, (None if keep == KEEP_NONE else _scenarios(spec, n, got, keep == KEEP_PATHS))


def _spec(inp: MarketInputs, cands: Candidates, horizon: int, param_u: np.ndarray | None = None) -> ChunkSpec:
    ps = inp.parameters
    return ChunkSpec(
        kernel=inp.kernel,
        cands=cands,
        horizon=horizon,
        duration_median=ps.get("restriction_duration_median_months"),
        duration_sigma=ps.get("restriction_duration_sigma"),
        severity_min=ps.get("restriction_severity_min"),
        severity_max=ps.get("restriction_severity_max"),
        ranges=None if param_u is None else material_ranges(ps, inp.materials),
        param_u=param_u,
    )


def _reduction(
    inp: MarketInputs, spec: ChunkSpec, A: np.ndarray, who: list[str] | None, n_total: int, n_sets: int
) -> Reduction:
    """What each chunk reduces to: the perspective's weights, members' shares, tails of the run's size."""
    M, K, _ = A.shape
    pos = {c: j for j, c in enumerate(inp.countries)}
    members = np.zeros((M * K, len(inp.members)))
    for i, m in enumerate(inp.members):
        if m in pos:
            members[:, i] = A[:, :, pos[m]].reshape(M * K)
    cap = np.asarray(spec.kernel.cap, dtype=np.float64)
    if spec.ranges is not None and "price_cap_index" in spec.ranges.names:
        cap = np.maximum(cap, spec.ranges.high[spec.ranges.names.index("price_cap_index")])
    return Reduction(
        weights=None if who is None else persp.weights(A, inp.countries, who),
        members=members,
        valued=np.isfinite(inp.price_usd_per_t),
        log_cap=np.maximum(np.log(cap), 1e-9),
        tail_k=tail_size(n_total, VAR_LEVEL),
        n_sets=n_sets,
    )


def _perspective_of(inp: MarketInputs, perspective: str | None) -> list[str] | None:
    if perspective is None or perspective.upper() in ("WORLD", "WLD"):
        return None
    try:
        code = perspective.upper() if len(perspective) == 3 and perspective.isalpha() else perspective
        return inp.resolve(code)
    except InputError as err:
        raise InputError(f"perspective: {err}") from None


def _check_args(
    n_scenarios: int, chunk_size: int, horizon_months: int, param_draws: int, backend: str, threads: int
) -> None:
    for name, v, least in (
        ("n_scenarios", n_scenarios, 1),
        ("chunk_size", chunk_size, 1),
        ("horizon_months", horizon_months, 1),
        ("param_draws", param_draws, 0),
        ("threads", threads, 1),
    ):
        if v < least:
            raise ValueError(f"{name}: value {v}; expected >= {least}")
    if backend not in BACKENDS:
        raise ValueError(f"backend: value {backend!r}; expected one of {BACKENDS}")


def _execute(
    spec: ChunkSpec,
    n_scenarios: int,
    seed: int,
    chunk_size: int,
    backend: str,
    scheduler: str | None,
    keep: str,
    progress: Callable[[int, int], None] | None,
    info: dict[str, Any],
    threads: int,
) -> tuple[ChunkSummary, list[ChunkOutput]]:
    sizes = [min(chunk_size, n_scenarios - s) for s in range(0, n_scenarios, chunk_size)]
    seeds = np.random.SeedSequence(seed).spawn(len(sizes))
    if backend == "local":
        from critmin.disruption.backends import local

        threads = min(threads, len(sizes))  # one chunk: the parallel kernel spreads it over the cores
        spec = dataclasses.replace(spec, parallel_kernel=threads <= 1)
        return local.run_chunks(summarise_chunk, spec, sizes, seeds, keep, progress, threads=threads)
    from critmin.disruption.backends import dask

    if scheduler is None:  # a LocalCluster of ``threads`` one-thread workers: one core per worker
        spec = dataclasses.replace(spec, parallel_kernel=False)
    return dask.run_chunks(
        summarise_chunk, spec, sizes, seeds, keep, progress, scheduler=scheduler, info=info, workers=threads
    )


def _kept(outs: list[ChunkOutput], cands: Candidates, keep: str) -> tuple[dict[str, Any], list[str]]:
    """Per-scenario arrays of the kept chunks (restrictor as int codes into the returned country list)."""
    names = sorted({str(c) for c in cands.country.ravel() if str(c)})
    if keep == KEEP_NONE:
        return {}, names
    code = {c: i for i, c in enumerate(names)}
    table = np.array([[code.get(str(c), -1) for c in row] for row in cands.country], dtype=np.int32)
    chosen = np.concatenate([o.restrictor for o in outs])
    M = chosen.shape[1]
    restrictor = np.where(chosen >= 0, table[np.arange(M)[None, :], np.maximum(chosen, 0)], -1)

    def cat(name: str) -> np.ndarray | None:
        got = [getattr(o, name) for o in outs]
        return None if got[0] is None else np.concatenate(got)

    arrays: dict[str, Any] = {
        "loss_usd": cat("loss_usd"),
        "shortfall_total_t": cat("shortfall_total_t"),
        "max_price_outside": cat("max_price"),
        "restrictor": restrictor.astype(np.int32),
        "shortfall_t": cat("shortfall_t"),
        "price_index_outside": cat("price_index_outside"),
        "withheld_t": cat("withheld_t"),
    }
    extra = {
        "loss_parts_usd": {k: np.concatenate([o.parts[k] for o in outs]) for k in LOSS_PARTS},
        "param_set": cat("param_set"),
        "chosen": chosen,
    }
    return {"arrays": arrays, "extra": extra}, names


def run_monte_carlo(
    atlas: Any,
    n_scenarios: int,
    seed: int,
    horizon_months: int = 24,
    *,
    backend: str = "local",
    scheduler: str | None = None,
    chunk_size: int = 10_000,
    params: ParameterSet | None = None,
    keep_paths: bool = False,
    keep_scenarios: bool = False,
    progress: Callable[[int, int], None] | None = None,
    perspective: str | None = None,
    param_draws: int = 40,
    as_of: str | None = None,
    threads: int | None = None,
) -> MonteCarloResult:
    """Run ``n_scenarios`` random restriction scenarios over every modelled material.

    ``backend``: ``local`` (in process) or ``dask`` (``scheduler`` address, or a 2-worker LocalCluster).
    ``progress(done, total)`` is called after each chunk with scenario counts. ``perspective``: an ISO3
    code or a group whose part of the loss the summary shows (None: the world). ``param_draws``: number of
    parameter sets drawn within the documented ranges (0: the values in force only). Chunks return
    summaries (:mod:`critmin.disruption.chunks`): the client's memory does not grow with ``n_scenarios``
    beyond the exact tails, unless ``keep_scenarios`` (per-scenario ``[n, M]`` arrays) or ``keep_paths``
    (also ``[n, M, T]`` paths; implies ``keep_scenarios``) asks for the scenarios. ``threads``: chunks
    the local backend runs at once, each in its own thread with the serial kernel (None: the options
    tree's ``risk.threads``; 1: one chunk at a time, the kernel parallel over the cores); the results do
    not depend on it.
    """
    threads = options().risk.threads if threads is None else threads
    _check_args(n_scenarios, chunk_size, horizon_months, param_draws, backend, threads)
    ps = params if params is not None else ParameterSet()
    inp, cands = inputs_and_candidates(atlas, ps, as_of)  # built once per atlas and parameter set
    who = _perspective_of(inp, perspective)
    param_u = None
    if param_draws > 0:
        urng = np.random.default_rng(np.random.SeedSequence([seed, 0x5EED]))
        param_u = urng.random((param_draws, len(material_ranges(ps, inp.materials[:1]).names)))
    spec = _spec(inp, cands, horizon_months, param_u)
    A = persp.outside_shares(inp.consumption_share, inp.countries, cands.country)
    red = _reduction(inp, spec, A, who, n_scenarios, param_draws)
    spec = dataclasses.replace(spec, reduction=red)
    keep = KEEP_PATHS if keep_paths else (KEEP_SCENARIOS if keep_scenarios else KEEP_NONE)
    info: dict[str, Any] = {}  # what the backend reports (Dask: the workers' peak RSS)
    got = _execute(spec, n_scenarios, seed, chunk_size, backend, scheduler, keep, progress, info, threads)
    reduced, outs = got
    summary, excluded, member_summary = tables_from_summary(inp, reduced, red.log_cap, param_draws)
    kept, names = _kept(outs, cands, keep)
    from critmin.disruption.simulate import run_metadata

    meta = run_metadata(inp, atlas)
    run = {
        "n_scenarios": n_scenarios,
        "seed": seed,
        "horizon_months": horizon_months,
        "chunk_size": chunk_size,
        "var_level": VAR_LEVEL,
        "param_draws": param_draws,
        "perspective": perspective or "world",
        "as_of": as_of,
        "member_allocation": "apparent consumption (BACI tonnes) else GDP share; basis per material",
    }
    meta = meta.model_copy(update={"parameters": {**meta.parameters, **run}})
    return MonteCarloResult(
        materials=inp.materials,
        members=inp.members,
        summary=summary,
        member_summary=member_summary,
        metadata=meta,
        excluded=excluded,
        perspective=perspective,
        loss_per_tonne_usd=inp.kernel.loss_per_t,
        reduced=reduced,
        totals=total_stats(reduced),
        restrictor_countries=names,
        **kept.get("arrays", {}),
        extra={"outside_shares": A, "countries": inp.countries, "backend": info, **kept.get("extra", {})},
    )
