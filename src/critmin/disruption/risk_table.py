"""Summary tables of a Monte Carlo run: tail statistics, bands across parameter sets, excluded materials.

* ``expected_loss_usd``: mean over scenarios; ``var_usd`` / ``cvar_usd``: 95% VaR and CVaR;
* ``expected_loss_p5_usd`` / ``_p95_usd``: 5th and 95th percentile, across the parameter sets, of the mean
  loss of the scenarios that used each set (they include the sampling noise of ``n / sets`` scenarios);
* ``peak_price_p5/p50/p95``: percentiles of the highest outside price index among disrupted scenarios;
* a material without a reference price is listed in ``excluded``, never ranked with a zero loss.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from critmin.disruption.chunks import ChunkSummary, peak_percentiles, tail_stats
from critmin.disruption.inputs import MarketInputs
from critmin.disruption.kernel import LOSS_PARTS

VAR_LEVEL = 0.95


def _tail(losses: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """VaR (``level`` quantile) and CVaR (mean of the worst ``ceil((1-level) n)`` scenarios) per column."""
    n = losses.shape[0]
    k = max(1, int(np.ceil((1.0 - level) * n - 1e-9)))
    part = np.partition(losses, n - k, axis=0)  # the k worst at the end, the (n-k)-th in place: O(n)
    var = part[n - k]
    cvar = part[n - k :].mean(axis=0)
    return var, cvar


def summarise(names: list[str], losses: np.ndarray, label: str, level: float = VAR_LEVEL) -> pd.DataFrame:
    """Expected loss, VaR, CVaR and rank (1 = largest expected loss) per column of ``losses``.

    A column with any NaN (an unpriced material: its losses cannot be valued) is ``valued = False`` with
    NaN statistics and no rank: it is never ranked as a zero loss.
    """
    valued = ~np.isnan(losses).any(axis=0) if losses.shape[0] else np.ones(losses.shape[1], dtype=bool)
    clean = np.nan_to_num(losses, nan=0.0)
    var, cvar = _tail(clean, level) if losses.shape[0] else (np.zeros(losses.shape[1]),) * 2
    mean = clean.mean(axis=0) if losses.shape[0] else np.zeros(losses.shape[1])
    return ranked(names, label, mean, var, cvar, valued)


def ranked(
    names: list[str], label: str, mean: np.ndarray, var: np.ndarray, cvar: np.ndarray, valued: np.ndarray
) -> pd.DataFrame:
    """The table of :func:`summarise` from its statistics (NaN and no rank where not ``valued``)."""
    df = pd.DataFrame(
        {
            label: names,
            "expected_loss_usd": np.where(valued, mean, np.nan),
            "var_usd": np.where(valued, var, np.nan),
            "cvar_usd": np.where(valued, cvar, np.nan),
        }
    )
    rank = df["expected_loss_usd"].where(valued).rank(ascending=False, method="first")
    df["rank"] = rank.astype("Int64")
    df["valued"] = valued
    return df.sort_values("rank", kind="stable", na_position="last").reset_index(drop=True)


def _bands(values: np.ndarray, sets: np.ndarray | None, n_sets: int) -> tuple[np.ndarray, np.ndarray]:
    """P5 and P95 across parameter sets of the mean of ``values [n, M]`` within each set (NaN: < 2 sets)."""
    M = values.shape[1]
    if sets is None or n_sets < 2:
        return np.full(M, np.nan), np.full(M, np.nan)
    sums = np.stack([np.bincount(sets, weights=values[:, j], minlength=n_sets) for j in range(M)], axis=1)
    counts = np.bincount(sets, minlength=n_sets)
    means = sums[counts > 0] / counts[counts > 0, None]
    return np.percentile(means, 5, axis=0), np.percentile(means, 95, axis=0)


def material_table(
    inp: MarketInputs,
    loss: np.ndarray,
    parts: dict[str, np.ndarray],
    paths: list[np.ndarray],
    sets: np.ndarray | None,
    n_sets: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(valued materials ranked, with P5-P95 bands of the expected loss across parameter sets, expected
    loss parts and peak-price bands among disrupted scenarios; excluded unpriced materials).
    ``paths`` = [disrupted, shortfall_total_t, max_price], each ``[n, M]``."""
    disrupted, short, peak = paths
    valued = np.isfinite(inp.price_usd_per_t)
    base = summarise(inp.materials, np.where(valued[None, :], loss, np.nan), "material")
    lo, hi = _bands(np.nan_to_num(loss), sets, n_sets)
    peak_d = np.where(disrupted, peak, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a material never disrupted: all-NaN column
        p5, p50, p95 = np.nanpercentile(peak_d, [5, 50, 95], axis=0)
    extra = pd.DataFrame(
        {
            "material": inp.materials,
            "expected_loss_p5_usd": lo,
            "expected_loss_p95_usd": hi,
            **{f"expected_{k}": np.nan_to_num(v).mean(axis=0) for k, v in parts.items()},
            "p_disrupted": disrupted.mean(axis=0),
            "expected_shortfall_t": short.mean(axis=0),
            "peak_price_p5": p5,
            "peak_price_p50": p50,
            "peak_price_p95": p95,
            "allocation_basis": inp.alloc_basis,
            "export_basis": inp.export_basis,
        }
    )
    return split_valued(base.merge(extra, on="material", how="left"))


def split_valued(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(valued rows, excluded rows with the reason)``: a material without a price is listed, never $0."""
    excluded = table[~table["valued"]][["material", "p_disrupted", "expected_shortfall_t", "peak_price_p50"]]
    excluded = excluded.assign(reason="no reference price in the atlas: the loss cannot be valued")
    summary = table[table["valued"]].reset_index(drop=True)  # ``valued`` is True on every row kept
    return summary, excluded.reset_index(drop=True)


def _set_bands(s: ChunkSummary, n_sets: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_bands` from the per-set sums of a chunk summary."""
    M = s.loss.shape[0]
    if n_sets < 2 or s.set_count.size < 2:
        return np.full(M, np.nan), np.full(M, np.nan)
    have = s.set_count > 0
    means = s.set_loss[have] / s.set_count[have, None]
    return np.percentile(means, 5, axis=0), np.percentile(means, 95, axis=0)


def tables_from_summary(
    inp: MarketInputs, s: ChunkSummary, log_cap: np.ndarray, n_sets: int, level: float = VAR_LEVEL
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(valued materials ranked, excluded materials, members ranked) from the merged summary of a run:
    the same columns and values as :func:`material_table` and :func:`summarise` on the full arrays."""
    n = s.n
    priced = np.isfinite(inp.price_usd_per_t)
    valued = priced & (s.unvalued == 0)
    var, cvar = tail_stats(s.tail_material, n, level)
    base = ranked(inp.materials, "material", s.loss / n, var, cvar, valued)
    lo, hi = _set_bands(s, n_sets)
    p5, p50, p95 = peak_percentiles(s, log_cap, (5.0, 50.0, 95.0))
    extra = pd.DataFrame(
        {
            "material": inp.materials,
            "expected_loss_p5_usd": lo,
            "expected_loss_p95_usd": hi,
            **{f"expected_{k}": s.parts[j] / n for j, k in enumerate(LOSS_PARTS)},
            "p_disrupted": s.disrupted / n,
            "expected_shortfall_t": s.shortfall / n,
            "peak_price_p5": p5,
            "peak_price_p50": p50,
            "peak_price_p95": p95,
            "allocation_basis": inp.alloc_basis,
            "export_basis": inp.export_basis,
        }
    )
    summary, excluded = split_valued(base.merge(extra, on="material", how="left"))
    m_var, m_cvar = tail_stats(s.tail_member, n, level)
    members = ranked(
        inp.members, "member", s.member_loss / n, m_var, m_cvar, np.ones(len(inp.members), dtype=bool)
    )
    return summary, excluded.reset_index(drop=True), members


def total_stats(s: ChunkSummary, level: float = VAR_LEVEL) -> dict[str, float]:
    """Expected loss, VaR and CVaR of the loss summed over the valued materials (the perspective shown)."""
    var, cvar = tail_stats(s.tail_total, s.n, level)
    return {
        "expected_loss_usd": float(s.loss.sum() / s.n),
        "var_usd": float(var[0]),
        "cvar_usd": float(cvar[0]),
    }
