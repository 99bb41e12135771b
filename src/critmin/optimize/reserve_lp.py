"""The reserve-sizing LP over the loan's life, assembled directly as a sparse matrix for HiGHS.

First stage: tonnes ``x[m]`` held per material (bought at ``P[m]`` within the budget ``B`` and a cap).
Second stage, per disruption episode ``e`` (one material ``m(e)`` in one scenario ``s(e)``): tonnes released
``y[e] <= G[e]`` (the supply the restriction withholds over the episode) and ``y[e] <= x[m(e)]`` (the stock,
rebuilt after each episode). A tonne released in episode ``e`` avoids ``v[e]`` USD of discounted loss::

    min  sum_m K[m] x[m] - (1 - w) sum_e p[s(e)] v[e] y[e] + w (eta + sum_s p[s] z[s] / (1 - alpha))
    s.t. sum_m P[m] x[m] <= B,   y[e] - x[m(e)] <= 0,   z[s] + sum_{e in s} v[e] y[e] + eta >= L0[s]
         0 <= x <= cap,  0 <= y <= G,  z >= 0

``K[m]`` is the discounted carrying cost of a tonne over the horizon and ``L0[s]`` the scenario's
discounted loss without the reserve.

Risk-neutral (``w = 0``) the episodes of a material interact only through ``x[m]``: the best release is
``y[e] = min(x[m(e)], G[e])``, so the expected benefit of holding ``x`` is concave and piecewise linear with
breakpoints at the sorted gaps. The *segments* form (:func:`build_segments`) writes it with one column per
segment between consecutive gaps (worth ``p`` times the values of every episode at least that long) and one
row per material, ``sum_k d[m, k] <= x[m]``: the same optimum, holdings and duals (the material row's dual is
the sum of the episode rows' duals), from ``1 + M`` rows instead of ``1 + E``, which HiGHS solves in a
fraction of the time. The duals explain the plan: ``lambda`` of the budget row (USD of
objective per USD of budget) and ``mu[e]`` of the episode rows, whose probability-weighted sum per
material is the marginal loss avoided by one more tonne held. See ``docs/methods/stockpile.md``.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from critmin.optimize.common import quiet_native_stdout


@dataclass(frozen=True)
class Episodes:
    """Disruption episodes: scenario and material index, tonnes withheld, discounted value per tonne."""

    scenario: np.ndarray  # [E] int
    material: np.ndarray  # [E] int
    gap_t: np.ndarray  # [E] > 0
    value_per_t: np.ndarray  # [E] >= 0, discounted USD of loss avoided per tonne released
    n_scenarios: int

    def __post_init__(self) -> None:
        e = self.scenario.shape
        for name in ("material", "gap_t", "value_per_t"):
            if getattr(self, name).shape != e:
                raise ValueError(f"episodes: {name} has shape {getattr(self, name).shape}, expected {e}")
        if np.any(self.gap_t <= 0) or not np.all(np.isfinite(self.gap_t)):
            raise ValueError("episodes: gap_t must be finite and > 0")
        if np.any(self.value_per_t < 0) or not np.all(np.isfinite(self.value_per_t)):
            raise ValueError("episodes: value_per_t must be finite and >= 0")
        if e[0] and (self.scenario.min() < 0 or self.scenario.max() >= self.n_scenarios):
            raise ValueError("episodes: scenario index out of range")


@dataclass(frozen=True)
class ReserveProblem:
    """The LP's data, aligned on ``materials`` (every array checked finite)."""

    materials: list[str]
    price_usd_per_t: np.ndarray
    cap_t: np.ndarray
    carry_usd_per_t: np.ndarray  # discounted carrying cost of one tonne over the horizon
    episodes: Episodes
    budget_usd: float
    cvar_alpha: float | None = None
    cvar_weight: float = 0.0

    def __post_init__(self) -> None:
        m = len(self.materials)
        for name in ("price_usd_per_t", "cap_t", "carry_usd_per_t"):
            v = getattr(self, name)
            if v.shape != (m,) or not np.all(np.isfinite(v)) or np.any(v < 0):
                raise ValueError(f"reserve problem: {name} must be {m} finite values >= 0")
        if np.any(self.price_usd_per_t <= 0):
            raise ValueError("reserve problem: every price must be > 0")
        if not np.isfinite(self.budget_usd) or self.budget_usd < 0:
            raise ValueError(f"reserve problem: budget {self.budget_usd!r}; expected a finite value >= 0")
        if self.cvar_alpha is not None and not 0 < self.cvar_alpha < 1:
            raise ValueError(f"reserve problem: cvar_alpha {self.cvar_alpha}; expected 0 < alpha < 1")
        if not 0 <= self.cvar_weight <= 1:
            raise ValueError(f"reserve problem: cvar_weight {self.cvar_weight}; expected 0..1")


Formulation = Literal["auto", "episodes", "segments"]


@dataclass(frozen=True)
class Segments:
    """The risk-neutral form: per material, the tonnes between consecutive episode gaps and their value."""

    material: np.ndarray  # [K] int, sorted
    length_t: np.ndarray  # [K] > 0
    value: np.ndarray  # [K] probability-weighted USD per tonne, non-increasing within a material


@dataclass(frozen=True)
class ReserveSolution:
    """Holdings, releases and the duals that explain them."""

    status: str
    holdings_t: pd.Series
    releases_t: np.ndarray  # [E]
    objective_usd: float
    budget_dual: float  # USD of objective saved per extra USD of budget (>= 0)
    marginal_avoided_usd_per_t: pd.Series  # expected discounted loss avoided by one more tonne held
    build_seconds: float
    solve_seconds: float


def build_matrix(
    pr: ReserveProblem,
) -> tuple[np.ndarray, sp.csc_matrix, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(cost, A, row_lower, row_upper, col_lower, col_upper)`` of the LP (columns: x, y, [eta, z])."""
    ep = pr.episodes
    m, e, s = len(pr.materials), ep.gap_t.size, ep.n_scenarios
    prob = 1.0 / s
    cvar = pr.cvar_alpha is not None
    w = pr.cvar_weight if cvar else 0.0
    n_col = m + e + (1 + s if cvar else 0)
    cost = np.concatenate([pr.carry_usd_per_t, -(1.0 - w) * prob * ep.value_per_t])
    rows_i: list[np.ndarray] = [np.zeros(m, dtype=np.int64)]
    cols_j: list[np.ndarray] = [np.arange(m)]
    vals: list[np.ndarray] = [pr.price_usd_per_t]
    lower = [-np.inf]
    upper = [pr.budget_usd]
    r = 1 + np.arange(e)  # y[e] - x[m(e)] <= 0
    rows_i += [r, r]
    cols_j += [m + np.arange(e), ep.material.astype(np.int64)]
    vals += [np.ones(e), -np.ones(e)]
    lower += [-np.inf] * e
    upper += [0.0] * e
    if cvar:
        assert pr.cvar_alpha is not None
        cost = np.concatenate([cost, [w], np.full(s, w * prob / (1.0 - pr.cvar_alpha))])
        base = np.bincount(ep.scenario, weights=ep.gap_t * ep.value_per_t, minlength=s)
        r0 = 1 + e
        rows_i += [r0 + ep.scenario, r0 + np.arange(s), r0 + np.arange(s)]
        cols_j += [m + np.arange(e), np.full(s, m + e), m + e + 1 + np.arange(s)]
        vals += [ep.value_per_t, np.ones(s), np.ones(s)]
        lower += list(base)
        upper += [np.inf] * s
    a = sp.csc_matrix(
        (np.concatenate(vals), (np.concatenate(rows_i), np.concatenate(cols_j))), shape=(len(lower), n_col)
    )
    col_lo = np.zeros(n_col)
    col_hi = np.concatenate([pr.cap_t, ep.gap_t, [np.inf] * (1 + s if cvar else 0)])
    if cvar:
        col_lo[m + e] = -np.inf
    return cost, a, np.array(lower), np.array(upper), col_lo, col_hi


def build_segments(pr: ReserveProblem) -> tuple[Segments, tuple[np.ndarray, ...]]:
    """The risk-neutral LP as the concave expected benefit of each holding (module docstring, "segments").

    Per material the episodes are sorted by gap ``G``; the tonnes between two consecutive gaps serve every
    episode at least that long, so segment ``k`` (length ``G_(k) - G_(k-1)``) is worth
    ``p sum_{j >= k} v_(j)`` per tonne. Columns: ``x`` then the segments ``d``; rows: the budget, then
    ``sum_k d[m, k] - x[m] <= 0`` per material. Segments that no optimum uses are left out (exact): those
    worth no more than their carrying cost (the values fall along a material, so an optimum never needs
    them) and those that start at or above the cap. Returns the segments and ``(cost, A, row_lo, row_hi,
    col_lo, col_hi)``."""
    ep = pr.episodes
    m = len(pr.materials)
    order = np.lexsort((ep.gap_t, ep.material))
    mat, gap = ep.material[order], ep.gap_t[order]
    val = ep.value_per_t[order] / ep.n_scenarios
    bounds = np.searchsorted(mat, np.arange(m + 1))
    suffix, prev = np.empty_like(val), np.zeros_like(gap)
    for lo, hi in itertools.pairwise(bounds):  # per material: no cancellation across them
        if hi > lo:  # a material without episodes has no segment
            suffix[lo:hi] = np.cumsum(val[lo:hi][::-1])[::-1]
            prev[lo + 1 : hi] = gap[lo : hi - 1]
    keep = (gap > prev) & (suffix > pr.carry_usd_per_t[mat]) & (prev < pr.cap_t[mat])
    seg = Segments(material=mat[keep].astype(np.int64), length_t=(gap - prev)[keep], value=suffix[keep])
    k = seg.material.size
    cost = np.concatenate([pr.carry_usd_per_t, -seg.value])
    rows = np.concatenate([np.zeros(m, dtype=np.int64), 1 + np.arange(m), 1 + seg.material])
    cols = np.concatenate([np.arange(m), np.arange(m), m + np.arange(k)])
    vals = np.concatenate([pr.price_usd_per_t, -np.ones(m), np.ones(k)])
    a = sp.csc_matrix((vals, (rows, cols)), shape=(1 + m, m + k))
    r_lo, r_hi = np.full(1 + m, -np.inf), np.concatenate([[pr.budget_usd], np.zeros(m)])
    c_hi = np.concatenate([pr.cap_t, seg.length_t])
    return seg, (cost, a, r_lo, r_hi, np.zeros(m + k), c_hi)


def marginal_avoided(pr: ReserveProblem, holdings_t: np.ndarray) -> np.ndarray:
    """Risk-neutral expected discounted loss avoided by one more tonne of each material held: the values of
    the episodes whose gap exceeds the holding (the right derivative of the concave expected benefit)."""
    ep = pr.episodes
    x = np.asarray(holdings_t, dtype=np.float64)[ep.material]
    longer = ep.gap_t > x + 1e-9 * np.maximum(ep.gap_t, 1.0)
    weights = np.where(longer, ep.value_per_t / ep.n_scenarios, 0.0)
    return np.bincount(ep.material, weights=weights, minlength=len(pr.materials))


def to_highs(
    cost: np.ndarray, a: sp.csc_matrix, r_lo: np.ndarray, r_hi: np.ndarray, c_lo: np.ndarray, c_hi: np.ndarray
) -> Any:
    """A ``highspy.HighsLp`` of the arrays (columnwise matrix)."""
    import highspy

    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = a.shape[1], a.shape[0]
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = cost, c_lo, c_hi
    lp.row_lower_, lp.row_upper_ = r_lo, r_hi
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = a.indptr, a.indices, a.data
    return lp


def _run(lp: Any, presolve: bool) -> tuple[str, np.ndarray | None, np.ndarray | None, float]:
    """Solve with HiGHS (quiet): status, column values, row duals (``None`` when invalid), objective."""
    import highspy

    with quiet_native_stdout():
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        if not presolve:
            h.setOptionValue("presolve", "off")
        h.passModel(lp)
        h.run()
    sol = h.getSolution()
    col = np.asarray(sol.col_value) if sol.value_valid else None
    dual = np.asarray(sol.row_dual) if sol.dual_valid else None
    return h.modelStatusToString(h.getModelStatus()), col, dual, float(h.getInfo().objective_function_value)


def solve_reserve(pr: ReserveProblem, formulation: Formulation = "auto") -> ReserveSolution:
    """Build the LP as a sparse matrix, solve it with HiGHS and read back holdings and duals.

    ``formulation``: ``episodes`` (one release column and row per episode, the form with CVaR),
    ``segments`` (risk-neutral only: the same optimum from one row per material, module docstring) or
    ``auto`` (segments when the CVaR weight is 0)."""
    neutral = pr.cvar_alpha is None or pr.cvar_weight == 0.0
    if formulation == "segments" and not neutral:
        raise ValueError("formulation 'segments' needs a risk-neutral problem (no CVaR weight)")
    if formulation not in ("auto", "episodes", "segments"):
        raise ValueError(f"formulation {formulation!r}; expected auto, episodes or segments")
    segments = formulation == "segments" or (formulation == "auto" and neutral)
    start = time.perf_counter()
    m, e = len(pr.materials), pr.episodes.gap_t.size
    arrays = build_segments(pr)[1] if segments else build_matrix(pr)
    lp = to_highs(*arrays)
    built = time.perf_counter()
    # HiGHS's presolve spends seconds on the segments' many singleton columns and removes nothing
    status, col, dual, objective = _run(lp, presolve=not segments)
    n_col, n_row = arrays[1].shape[1], arrays[1].shape[0]
    col = np.full(n_col, np.nan) if col is None else col
    dual = np.full(n_row, np.nan) if dual is None else dual
    x = col[:m]
    # with segments: the best releases for the holdings
    releases = np.minimum(x[pr.episodes.material], pr.episodes.gap_t) if segments else col[m : m + e]
    if neutral:  # the right derivative: the same in both forms (at a breakpoint a solver's dual may be
        # anything between the left and right derivatives)
        marginal = marginal_avoided(pr, x)
    else:  # row duals of min problems are <= 0 on binding <= rows: report them as positive values
        marginal = np.bincount(pr.episodes.material, weights=-dual[1 : 1 + e], minlength=m)
    mats = pd.Index(pr.materials, name="material")
    return ReserveSolution(
        status=status,
        holdings_t=pd.Series(x, index=mats, name="tonnes"),
        releases_t=releases,
        objective_usd=objective,
        budget_dual=float(max(0.0, -dual[0])),
        marginal_avoided_usd_per_t=pd.Series(marginal, index=mats),
        build_seconds=built - start,
        solve_seconds=time.perf_counter() - built,
    )


def evaluate_fixed(pr: ReserveProblem, holdings_t: np.ndarray) -> dict[str, float]:
    """Expected discounted loss avoided, carrying cost and purchase cost of fixed holdings (optimal
    releases: ``y[e] = min(x[m(e)], G[e])``)."""
    ep = pr.episodes
    x = np.asarray(holdings_t, dtype=np.float64)
    released = np.minimum(x[ep.material], ep.gap_t)
    avoided = float((released * ep.value_per_t).sum() / ep.n_scenarios)
    carry = float((pr.carry_usd_per_t * x).sum())
    return {
        "cost_usd": float((pr.price_usd_per_t * x).sum()),
        "carry_usd": carry,
        "expected_loss_avoided_usd": avoided,
        "net_benefit_usd": avoided - carry,
        "expected_loss_without_usd": float((ep.gap_t * ep.value_per_t).sum() / ep.n_scenarios),
    }
