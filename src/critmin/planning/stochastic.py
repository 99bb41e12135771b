"""Stochastic independence timeline: sampled lead times, delays and failures -> P10/P50/P90 year.

A :class:`TimelineProblem` holds one (material, stage): the baseline (total and non-China tonnes), the
demand index by year, a target non-China share, a *pool* of candidate units (named projects and copies of
generic class units, in the planner's order) and an annual budget path. :func:`simulate` is a pure
function of it (seeded):

1. **Need**: the new non-China capacity ``N*`` that makes the target hold in every year to the horizon
   under both accountings: (a) incumbents keep their output, ``(b_nc + N) / (b + N) >= x``; (b) supply
   equals demand ``d_t = b g_t``, ``s_nc + (1 - s_nc) N / d_t >= x``.
2. **Portfolio**: units are taken in pool order until, in ``confidence`` of the sampled failure outcomes,
   the successful ones cover ``N*`` (independent of budget and lead times).
3. **Starts** (deterministic): unit ``k`` starts in the first year ``>=`` its earliest start in which the
   cumulative budget covers the capex of the budget-funded units ``1..k``; a class with a know-how cap
   ``c`` starts its ``j``-th unit no earlier than a year after its ``(j - c)``-th.
4. **Samples**: success ~ Bernoulli(p); lead = fixed + triangular(permit) + triangular(build) + first-of-
   a-kind extra + delay (with probability ``delay_p`` a uniform ``0..delay_high`` years); the unit
   produces from ``start + ceil(lead)`` on the ramp ``min(1, (k+1)/(R+1))``.
5. **Year**: per sample, the first year from which the target holds in every later year to the horizon;
   P10/P50/P90 over samples with "not reached" counted as later than any year.

Every step is monotone: a larger budget only moves starts earlier, longer lead times only move output
later, and the share rises with new non-China output, so with the same draws no sample's year moves
earlier when lead times grow or later when the budget grows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

UNIT_COLUMNS = [
    "unit_id",
    "kind",
    "klass",
    "capacity_t",
    "capex_usd",
    "opex_usd_per_t",
    "funded",
    "earliest_start",
    "p_success",
    "lead_fixed",
    "permit_low",
    "permit_mode",
    "permit_high",
    "build_low",
    "build_mode",
    "build_high",
    "delay_p",
    "delay_high",
    "ramp_up_years",
    "max_starts",
    "foak_extra",
]
LEAD_COLUMNS = [
    "lead_fixed",
    "permit_low",
    "permit_mode",
    "permit_high",
    "build_low",
    "build_mode",
    "build_high",
    "delay_high",
    "ramp_up_years",
    "foak_extra",
]
QUANTILES = (0.1, 0.5, 0.9)


@dataclass(frozen=True)
class TimelineProblem:
    """Inputs of one stochastic timeline (see the module docstring); ``budget`` is USD per plan year."""

    years: tuple[int, ...]
    baseline_t: float
    baseline_non_china_t: float
    demand_index: np.ndarray
    target: float
    pool: pd.DataFrame
    budget: np.ndarray | None
    confidence: float = 0.9
    samples: int = 1000
    seed: int = 0

    def __post_init__(self) -> None:
        missing = [c for c in UNIT_COLUMNS if c not in self.pool.columns]
        if missing:
            raise ValueError(f"unit pool lacks columns {missing}")
        if self.baseline_t <= 0 or not 0 <= self.baseline_non_china_t <= self.baseline_t:
            raise ValueError(
                f"baseline {self.baseline_t!r} t with {self.baseline_non_china_t!r} t non-China; expected "
                "a positive total and 0 <= non-China <= total"
            )
        if len(self.demand_index) != len(self.years) or not np.isfinite(self.demand_index).all():
            raise ValueError("demand_index must give a finite value for every year")
        if self.budget is not None and len(self.budget) != len(self.years):
            raise ValueError(f"budget path has {len(self.budget)} values; expected {len(self.years)}")
        if not 0 < self.target < 1:
            raise ValueError(f"target {self.target!r}; expected a share strictly between 0 and 1")
        num = self.pool[[c for c in UNIT_COLUMNS if c not in ("unit_id", "kind", "klass", "funded")]]
        if not np.isfinite(num.to_numpy(dtype=float)).all():
            raise ValueError("unit pool has a missing or infinite number")

    def with_budget(self, budget: np.ndarray | float | None) -> TimelineProblem:
        """The same problem with another budget path (a scalar = the same USD every year)."""
        if budget is None:
            return replace(self, budget=None)
        path = np.broadcast_to(np.asarray(budget, dtype=float), (len(self.years),)).copy()
        return replace(self, budget=path)

    def with_lead_scale(self, factor: float) -> TimelineProblem:
        """Every lead-time figure (fixed, permitting, building, delay, ramp-up, first-of-a-kind) x factor."""
        pool = self.pool.copy()
        pool[LEAD_COLUMNS] = pool[LEAD_COLUMNS].to_numpy(dtype=float) * factor
        return replace(self, pool=pool)


@dataclass(frozen=True)
class TimelineResult:
    """Per-sample years and their quantiles, the portfolio and its starts, share bands by year."""

    problem: TimelineProblem
    need_t: float
    portfolio: pd.DataFrame
    year_reached: np.ndarray  # [samples], inf = not reached
    share_bands: pd.DataFrame  # year, p10, p50, p90 of the lower of the two shares

    @property
    def quantile_years(self) -> dict[str, int | None]:
        """``{'p10': year or None, 'p50': ..., 'p90': ...}`` (None = not reached by the horizon)."""
        out: dict[str, int | None] = {}
        for q in QUANTILES:
            v = float(np.quantile(self.year_reached, q, method="inverted_cdf"))
            out[f"p{round(q * 100)}"] = int(v) if np.isfinite(v) else None
        return out

    @property
    def p_reached(self) -> float:
        """Share of samples in which the target is reached by the horizon."""
        return float(np.isfinite(self.year_reached).mean())


def required_capacity(problem: TimelineProblem) -> float:
    """New non-China tonnes ``N*`` for the target in every year under both accountings (0 if met)."""
    b, b_nc, x = problem.baseline_t, problem.baseline_non_china_t, problem.target
    s_nc = b_nc / b
    need_a = (x * b - b_nc) / (1 - x)
    d = b * np.asarray(problem.demand_index, dtype=float)
    need_b = (x - s_nc) * d / (1 - s_nc) if s_nc < 1 else np.zeros_like(d)
    return float(max(0.0, need_a, float(np.max(need_b))))


def triangular(u: np.ndarray, low: np.ndarray, mode: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Inverse CDF of the triangular distribution (degenerate ``low == high`` gives ``low``)."""
    span = high - low
    with np.errstate(invalid="ignore", divide="ignore"):
        cut = np.where(span > 0, (mode - low) / np.where(span > 0, span, 1.0), 0.0)
        left = low + np.sqrt(np.maximum(u * span * (mode - low), 0.0))
        right = high - np.sqrt(np.maximum((1 - u) * span * (high - mode), 0.0))
    return np.where(span > 0, np.where(u < cut, left, right), low)


def _draws(problem: TimelineProblem) -> dict[str, np.ndarray]:
    """Uniforms per sample and pool position (common random numbers across budgets and lead scales)."""
    rng = np.random.default_rng(problem.seed)
    shape = (problem.samples, len(problem.pool))
    return {k: rng.random(shape) for k in ("success", "permit", "build", "delay", "delay_size")}


def portfolio_size(problem: TimelineProblem, success: np.ndarray, need: float) -> int:
    """Fewest leading pool units whose successful capacity covers ``need`` in ``confidence`` of samples."""
    if need <= 0:
        return 0
    cap = problem.pool["capacity_t"].to_numpy(dtype=float)
    cum = np.cumsum(success * cap[None, :], axis=1)
    covered = (cum >= need * (1 - 1e-9)).mean(axis=0)
    ok = np.flatnonzero(covered >= problem.confidence)
    return int(ok[0]) + 1 if len(ok) else len(cap)


def start_years(problem: TimelineProblem, k: int) -> np.ndarray:
    """Start year of each of the first ``k`` pool units (inf = not started within the horizon)."""
    years = np.asarray(problem.years, dtype=float)
    pool = problem.pool.iloc[:k]
    earliest = pool["earliest_start"].to_numpy(dtype=float)
    capex = np.where(pool["funded"].to_numpy(dtype=bool), pool["capex_usd"].to_numpy(dtype=float), 0.0)
    if problem.budget is None:
        by_budget = np.full(k, years[0])
    else:
        cum_budget = np.cumsum(problem.budget)
        need = np.cumsum(capex)
        idx = np.searchsorted(cum_budget, need * (1 - 1e-12) - 1e-6, side="left")
        by_budget = np.where(idx < len(years), years[np.minimum(idx, len(years) - 1)], np.inf)
    start = np.maximum(earliest, by_budget)
    klass = pool["klass"].to_numpy()
    cap = pool["max_starts"].to_numpy(dtype=float)
    history: dict[str, list[float]] = {}
    for i in range(k):
        c = int(cap[i])
        if pool["kind"].iloc[i] != "class" or c <= 0:
            continue
        seen = history.setdefault(str(klass[i]), [])
        if len(seen) >= c:
            start[i] = max(start[i], seen[-c] + 1)
        seen.append(start[i])
    return np.where(start <= years[-1], start, np.inf)


def _leads(pool: pd.DataFrame, d: dict[str, np.ndarray], k: int) -> np.ndarray:
    """Sampled lead time in years [samples, k]."""
    p = {c: pool[c].to_numpy(dtype=float)[None, :k] for c in [*LEAD_COLUMNS, "delay_p"]}
    permit = triangular(d["permit"][:, :k], p["permit_low"], p["permit_mode"], p["permit_high"])
    build = triangular(d["build"][:, :k], p["build_low"], p["build_mode"], p["build_high"])
    delay = (d["delay"][:, :k] < p["delay_p"]) * d["delay_size"][:, :k] * p["delay_high"]
    foak = np.zeros_like(p["foak_extra"])
    first: set[str] = set()
    for i, (kind, klass) in enumerate(zip(pool["kind"].iloc[:k], pool["klass"].iloc[:k], strict=True)):
        if kind == "class" and klass not in first:
            first.add(str(klass))
            foak[0, i] = p["foak_extra"][0, i]
    return p["lead_fixed"] + permit + build + delay + foak


def new_output(problem: TimelineProblem, k: int, d: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(new output [samples, years] in t, start years [k]) of the first ``k`` pool units."""
    years = np.asarray(problem.years, dtype=float)
    n = problem.samples
    if k == 0:
        return np.zeros((n, len(years))), np.zeros(0)
    pool = problem.pool
    start = start_years(problem, k)
    online = start[None, :] + np.ceil(_leads(pool, d, k) - 1e-9)
    ok = d["success"][:, :k] < pool["p_success"].to_numpy(dtype=float)[None, :k]
    ramp = np.round(pool["ramp_up_years"].to_numpy(dtype=float)[:k])
    cap = pool["capacity_t"].to_numpy(dtype=float)[:k]
    out = np.zeros((n, len(years)))
    for j, t in enumerate(years):
        age = t - online  # [n, k]; -inf when not started
        frac = np.where(age >= 0, np.minimum(1.0, (age + 1.0) / (ramp[None, :] + 1.0)), 0.0)
        out[:, j] = (frac * ok * cap[None, :]).sum(axis=1)
    return out, start


def shares(problem: TimelineProblem, new_t: np.ndarray) -> np.ndarray:
    """The lower of the two non-China shares (accountings a and b) for new output [samples, years]."""
    b, b_nc = problem.baseline_t, problem.baseline_non_china_t
    d = b * np.asarray(problem.demand_index, dtype=float)[None, :]
    share_a = (b_nc + new_t) / (b + new_t)
    share_b = np.minimum(1.0, b_nc / b + (1 - b_nc / b) * new_t / d)
    return np.asarray(np.minimum(share_a, share_b))


def first_year_held(years: np.ndarray, held: np.ndarray) -> np.ndarray:
    """Per row, the first year from which ``held`` is True in every later column (inf if none)."""
    suffix = np.flip(np.cumprod(np.flip(held, axis=1), axis=1), axis=1).astype(bool)
    any_ok = suffix.any(axis=1)
    idx = suffix.argmax(axis=1)
    return np.where(any_ok, np.asarray(years, dtype=float)[idx], np.inf)


def simulate(problem: TimelineProblem) -> TimelineResult:
    """Sample the timeline (see the module docstring)."""
    d = _draws(problem)
    need = required_capacity(problem)
    cap = problem.pool["capacity_t"].to_numpy(dtype=float)
    ok = d["success"] < problem.pool["p_success"].to_numpy(dtype=float)[None, :]
    k = portfolio_size(problem, ok, need) if len(cap) else 0
    new_t, start = new_output(problem, k, d)
    share = shares(problem, new_t)
    years = np.asarray(problem.years)
    reached = first_year_held(years, share >= problem.target - 1e-9)
    bands = pd.DataFrame(
        {
            "year": years,
            **{f"p{round(q * 100)}": np.quantile(share, q, axis=0) for q in QUANTILES},
            "mean_new_t": new_t.mean(axis=0),
        }
    )
    port = problem.pool.iloc[:k].copy()
    port["start_year"] = start
    return TimelineResult(problem, need, port, reached, bands)


def reference_simulate(problem: TimelineProblem) -> np.ndarray:
    """Plain-loop reference of :func:`simulate`'s per-sample years (benchmarks and cross-checks)."""
    d = _draws(problem)
    need = required_capacity(problem)
    ok = d["success"] < problem.pool["p_success"].to_numpy(dtype=float)[None, :]
    k = portfolio_size(problem, ok, need) if len(problem.pool) else 0
    start = start_years(problem, k)
    leads = _leads(problem.pool, d, k) if k else np.zeros((problem.samples, 0))
    caps = problem.pool["capacity_t"].to_numpy(dtype=float)[:k].tolist()
    ramps = [round(float(r)) for r in problem.pool["ramp_up_years"].to_numpy(dtype=float)[:k]]
    b, b_nc = problem.baseline_t, problem.baseline_non_china_t
    out = np.full(problem.samples, np.inf)
    for s in range(problem.samples):
        held = []
        for j, t in enumerate(problem.years):
            n_t = 0.0
            for i in range(k):
                if not ok[s, i] or not math.isfinite(start[i]):
                    continue
                age = t - (start[i] + math.ceil(leads[s, i] - 1e-9))
                if age >= 0:
                    n_t += caps[i] * min(1.0, (age + 1) / (ramps[i] + 1))
            dem = b * float(problem.demand_index[j])
            sa = (b_nc + n_t) / (b + n_t)
            sb = min(1.0, b_nc / b + (1 - b_nc / b) * n_t / dem)
            held.append(min(sa, sb) >= problem.target - 1e-9)
        for j in range(len(held)):
            if all(held[j:]):
                out[s] = problem.years[j]
                break
    return out
