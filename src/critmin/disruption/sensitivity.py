"""What drives the expected loss: Morris screening, then Sobol indices (SALib), per material and in total.

The factors are the market parameters with a documented range (:mod:`critmin.disruption.uncertainty`),
each given as its quantile ``u`` in [0, 1] of the triangular range around the value in force (the same
law as the Monte Carlo's parameter draws, the same ``u`` for every material). The model output is the
expected loss over ``n_scenarios`` random restriction scenarios drawn once (common random numbers: every
evaluation sees the same events, so differences come from the parameters only).

1. Morris elementary effects (``morris_trajectories`` trajectories, 4 levels) screen every factor:
   ``mu_star`` (mean absolute effect) and ``sigma`` (interactions / non-linearity), scaled by the output.
2. Sobol indices (Saltelli sampling, ``sobol_n`` base samples, first and total order) for the factors the
   screening keeps (``mu_star`` of the total at least ``screen_share`` of the largest, at most
   ``max_sobol`` factors); the others stay at their central values. ``S1`` is the factor's share of the
   variance on its own, ``ST`` with its interactions; ``*_conf`` are 95% bootstrap half-widths.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from critmin.disruption.inputs import build_inputs
from critmin.disruption.montecarlo import ChunkSpec, _spec, build_candidates, run_chunk
from critmin.disruption.uncertainty import material_ranges
from critmin.parameters import ParameterSet

TOTAL = "total"


@dataclass(frozen=True)
class SensitivityResult:
    """Ranked indices (one row per output and parameter) and how they were computed."""

    table: pd.DataFrame  # output, parameter, morris_mu_star, morris_sigma, S1, S1_conf, ST, ST_conf, rank
    outputs: list[str]  # "total" then the materials, by expected loss at the central values
    parameters: list[str]
    screened_in: list[str]
    evaluations: int
    settings: dict[str, Any]


def _evaluator(spec: ChunkSpec, n: int, seed: int) -> Callable[[np.ndarray], np.ndarray]:
    """``u [P] -> expected loss [M]`` (NaN for unpriced materials) on fixed random scenarios."""
    seq = np.random.SeedSequence(seed)

    def f(u: np.ndarray) -> np.ndarray:
        s = dataclasses.replace(spec, param_u=np.asarray(u, dtype=np.float64)[None, :])
        out = run_chunk(s, n, seq)
        return np.asarray(out.loss_usd.mean(axis=0), dtype=np.float64)

    return f


def _with_total(y: np.ndarray, valued: np.ndarray) -> np.ndarray:
    return np.column_stack([np.nansum(y[:, valued], axis=1), y])


def _run_design(
    f: Callable[[np.ndarray], np.ndarray],
    X: np.ndarray,
    done: int,
    total: int,
    progress: Callable[[int, int], None] | None,
) -> np.ndarray:
    """``f`` on every row of the design ``X`` (progress counted from ``done`` of ``total``)."""
    rows = []
    for i, x in enumerate(X):
        rows.append(f(x))
        if progress is not None:
            progress(done + i + 1, total)
    return np.array(rows)


def _screen(mu_total: np.ndarray, names: tuple[str, ...], share: float, most: int) -> list[str]:
    """Factors whose Morris ``mu_star`` on the total is at least ``share`` of the largest (at most ``most``,
    largest first; the largest alone when every effect is 0)."""
    order = np.argsort(-mu_total, kind="stable")
    top = mu_total.max()
    keep = [names[i] for i in order if top > 0 and mu_total[i] >= share * top]
    return keep[:most] or [names[int(order[0])]]


def run_sensitivity(
    atlas: Any,
    *,
    n_scenarios: int = 400,
    seed: int = 0,
    horizon_months: int = 24,
    morris_trajectories: int = 6,
    sobol_n: int = 32,
    screen_share: float = 0.05,
    max_sobol: int = 5,
    params: ParameterSet | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SensitivityResult:
    """Morris screening of every ranged parameter, then Sobol indices of the screened-in ones."""
    from SALib.analyze import morris as morris_analyze
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import morris as morris_sample
    from SALib.sample import sobol as sobol_sample

    if sobol_n < 2 or sobol_n & (sobol_n - 1):
        raise ValueError(f"sobol_n: value {sobol_n}; expected a power of 2 (Saltelli/Sobol sequence)")
    for name, v in (("n_scenarios", n_scenarios), ("morris_trajectories", morris_trajectories)):
        if v < 2:
            raise ValueError(f"{name}: value {v}; expected >= 2")
    ps = params if params is not None else ParameterSet()
    inp = build_inputs(atlas, ps)
    names = material_ranges(ps, inp.materials).names
    base = _spec(inp, build_candidates(inp, atlas.wgi), horizon_months)
    valued = np.isfinite(inp.price_usd_per_t)
    problem: dict[str, Any] = {
        "num_vars": len(names),
        "names": list(names),
        "bounds": [[0.0, 1.0]] * len(names),
    }
    f = _evaluator(dataclasses.replace(base, ranges=material_ranges(ps, inp.materials)), n_scenarios, seed)
    X_m = morris_sample.sample(problem, morris_trajectories, num_levels=4, seed=seed)
    Y_m = _with_total(_run_design(f, X_m, 0, len(X_m) + sobol_n * (2 + max_sobol), progress), valued)
    outputs = [TOTAL, *inp.materials]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SALib's own deprecation and divide warnings on flat outputs
        mor = [
            morris_analyze.analyze(problem, X_m, Y_m[:, j], num_levels=4, seed=seed)
            for j in range(len(outputs))
        ]
    keep = _screen(
        np.asarray(np.ma.filled(mor[0]["mu_star"], 0.0), dtype=np.float64), names, screen_share, max_sobol
    )
    sub = {"num_vars": len(keep), "names": keep, "bounds": [[0.0, 1.0]] * len(keep)}
    central = material_ranges(ps, inp.materials, tuple(keep))
    f_s = _evaluator(dataclasses.replace(base, ranges=central), n_scenarios, seed)
    X_s = sobol_sample.sample(sub, sobol_n, calc_second_order=False, seed=seed)
    Y_s = _with_total(_run_design(f_s, X_s, len(X_m), len(X_m) + len(X_s), progress), valued)
    table = _table(outputs, list(names), keep, mor, problem, sub, Y_s, Y_m, seed, sobol_analyze)
    mean_loss = np.nan_to_num(Y_m.mean(axis=0))  # over the Morris design: the whole parameter space
    ranked = sorted(
        (m for m, v in zip(inp.materials, valued, strict=True) if v),
        key=lambda m: -mean_loss[1 + inp.materials.index(m)],
    )
    order_out = [TOTAL, *ranked]
    return SensitivityResult(
        table=table[table["output"].isin(order_out)].reset_index(drop=True),
        outputs=order_out,
        parameters=list(names),
        screened_in=keep,
        evaluations=len(X_m) + len(X_s),
        settings={
            "n_scenarios": n_scenarios,
            "seed": seed,
            "horizon_months": horizon_months,
            "morris_trajectories": morris_trajectories,
            "sobol_n": sobol_n,
            "screen_share": screen_share,
            "max_sobol": max_sobol,
            "parameter_digest": ps.digest(),
        },
    )


def _table(
    outputs: list[str],
    names: list[str],
    keep: list[str],
    mor: list[dict[str, Any]],
    problem: dict[str, Any],
    sub: dict[str, Any],
    Y_s: np.ndarray,
    Y_m: np.ndarray,
    seed: int,
    sobol_analyze: Any,
) -> pd.DataFrame:
    rows = []
    for j, out in enumerate(outputs):
        y = Y_s[:, j]
        scale = float(np.abs(Y_m[:, j]).mean()) or 1.0
        flat = not np.isfinite(y).all() or float(np.var(y)) <= 1e-12 * max(1.0, float(np.mean(y)) ** 2)
        si: dict[str, Any] = {}
        if not flat:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                si = sobol_analyze.analyze(sub, y, calc_second_order=False, seed=seed)
        for i, name in enumerate(names):
            k = keep.index(name) if name in keep else -1
            rows.append(
                {
                    "output": out,
                    "parameter": name,
                    "morris_mu_star": float(np.ma.filled(mor[j]["mu_star"], np.nan)[i]) / scale,
                    "morris_sigma": float(np.ma.filled(mor[j]["sigma"], np.nan)[i]) / scale,
                    "S1": float(si["S1"][k]) if si and k >= 0 else (0.0 if flat and k >= 0 else np.nan),
                    "S1_conf": float(si["S1_conf"][k]) if si and k >= 0 else np.nan,
                    "ST": float(si["ST"][k]) if si and k >= 0 else (0.0 if flat and k >= 0 else np.nan),
                    "ST_conf": float(si["ST_conf"][k]) if si and k >= 0 else np.nan,
                    "sobol": k >= 0,
                }
            )
    df = pd.DataFrame(rows)
    key = df["ST"].fillna(-1.0) * 1e6 + df["morris_mu_star"].fillna(0.0)
    df["rank"] = key.groupby(df["output"]).rank(ascending=False, method="first").astype("int64")
    pos = {o: i for i, o in enumerate(outputs)}
    df["_o"] = df["output"].map(pos)
    return df.sort_values(["_o", "rank"]).drop(columns="_o").reset_index(drop=True)


def tornado(
    atlas: Any,
    *,
    n_scenarios: int = 300,
    seed: int = 0,
    horizon_months: int = 24,
    params: ParameterSet | None = None,
) -> pd.DataFrame:
    """One-at-a-time swings of the total expected loss (world, USD): each ranged parameter at the low and
    the high end of its range, the others at their values in force, on the same random scenarios.

    Columns ``parameter, low_usd, central_usd, high_usd, swing_usd`` sorted by ``swing_usd`` (largest
    first): the bars of a tornado chart.
    """
    ps = params if params is not None else ParameterSet()
    inp = build_inputs(atlas, ps)
    ranges = material_ranges(ps, inp.materials)
    base = _spec(inp, build_candidates(inp, atlas.wgi), horizon_months)
    valued = np.isfinite(inp.price_usd_per_t)
    seq = np.random.SeedSequence(seed)

    def total(spec: ChunkSpec) -> float:
        return float(np.nansum(run_chunk(spec, n_scenarios, seq).loss_usd.mean(axis=0)[valued]))

    central = total(base)
    rows = []
    for j, name in enumerate(ranges.names):
        one = material_ranges(ps, inp.materials, (name,))
        ends = []
        for u in (0.0, 1.0 - 1e-12):
            spec = dataclasses.replace(base, ranges=one, param_u=np.array([[u]]))
            ends.append(total(spec))
        rows.append(
            {
                "parameter": name,
                "low_usd": ends[0],
                "central_usd": central,
                "high_usd": ends[1],
                "swing_usd": abs(ends[1] - ends[0]),
                "range_low_default": float(ranges.low[j, 0]),
                "range_high_default": float(ranges.high[j, 0]),
            }
        )
    return pd.DataFrame(rows).sort_values("swing_usd", ascending=False, kind="stable").reset_index(drop=True)
