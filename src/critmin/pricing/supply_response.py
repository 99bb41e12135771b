"""Supply response through the project pipeline: which projects clear their hurdle rate at the price a
mechanism guarantees but not at the market price (docs/methods/mechanisms.md).

A project's break-even price is its capital recovery per tonne plus its unit operating cost::

    breakeven = capex * CRF(hurdle, life) / capacity + unit_opex,  CRF(r, n) = r / (1 - (1 + r) ** -n)

Per price path, a project is *enabled* by the mechanism when the producer's realised price per tonne
(market + mechanism, averaged over the horizon) reaches its break-even while the average market price
does not. Capacity and costs come from the planning pipeline: the caller (``critmin.runs.floor``) passes
the pipeline's candidate table, so this module does not import the planning layer.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from critmin.parameters import ParameterSet

#: pricing material -> (pipeline material, stage, raw project material or None for all)
PROJECT_SCOPE: dict[str, tuple[str, str, str | None]] = {
    "ndpr-oxide": ("magnet-rare-earths", "refine", "ndpr-oxide"),
}
BREAKEVEN_COLUMNS = ["project_id", "name", "status", "capacity_t", "capex_usd", "unit_opex_usd_per_t"]
BREAKEVEN_COLUMNS += ["breakeven_usd_per_t", "defaults_used"]


def capital_recovery_factor(rate: float, years: float) -> float:
    """Annuity factor turning a capital cost into equal yearly payments over ``years`` at ``rate``."""
    if years <= 0:
        raise ValueError(f"project life: {years}; expected > 0 years")
    if rate == 0:
        return 1.0 / years
    return float(rate / (1.0 - (1.0 + rate) ** (-years)))


def project_breakevens(
    material: str,
    candidates: pd.DataFrame,
    *,
    params: ParameterSet | None = None,
    project_ids: set[str] | None = None,
) -> pd.DataFrame:
    """Break-even prices (USD/t) of the pipeline projects that produce ``material``.

    ``candidates``: ``Pipeline.candidates(material, stage)`` for the scope in :data:`PROJECT_SCOPE` (columns
    project_id, name, status, capacity_t, capex_usd, unit_opex_usd_per_t); ``project_ids``: keep only these.
    Projects without a capacity or capex (after the planning class defaults) are left out.
    """
    params = params or ParameterSet()
    cand = candidates.reset_index() if "project_id" not in candidates.columns else candidates
    if project_ids is not None:
        cand = cand[cand["project_id"].isin(project_ids)]
    cand = cand[np.isfinite(cand["capacity_t"]) & (cand["capacity_t"] > 0) & np.isfinite(cand["capex_usd"])]
    crf = capital_recovery_factor(
        params.get("mech_hurdle_rate", material), params.get("mech_project_life_years")
    )
    opex = cand["unit_opex_usd_per_t"].fillna(0.0)
    out = cand.assign(
        unit_opex_usd_per_t=opex, breakeven_usd_per_t=cand["capex_usd"] * crf / cand["capacity_t"] + opex
    )
    if "defaults_used" not in out.columns:
        out["defaults_used"] = ""
    return out[BREAKEVEN_COLUMNS].sort_values(["breakeven_usd_per_t", "project_id"]).reset_index(drop=True)


def projects_enabled(
    breakevens: pd.DataFrame, realised_usd_per_t: ArrayLike, market_usd_per_t: ArrayLike
) -> dict[str, Any]:
    """Per path (average prices over the horizon): capacity of projects enabled by the mechanism."""
    be = breakevens["breakeven_usd_per_t"].to_numpy(float)
    cap = breakevens["capacity_t"].to_numpy(float)
    real = np.asarray(realised_usd_per_t, dtype=float)[:, None]
    market = np.asarray(market_usd_per_t, dtype=float)[:, None]
    enabled = (real >= be[None, :]) & (market < be[None, :])
    added = enabled.astype(float) @ cap
    p5, p50, p95 = np.percentile(added, [5, 50, 95]) if len(added) else (0.0, 0.0, 0.0)
    ids = breakevens["project_id"].astype(str).tolist()
    names = breakevens["name"].astype(str).tolist()
    projects = [
        {
            "project_id": ids[i],
            "name": names[i],
            "capacity_t": float(cap[i]),
            "breakeven_usd_per_kg": float(be[i]) / 1000.0,
            "prob_enabled": float(enabled[:, i].mean()),
            "prob_viable_without": float((market[:, 0] >= be[i]).mean()),
        }
        for i in range(len(be))
    ]
    return {
        "projects_considered": len(be),
        "projects_added_t_per_year": {
            "mean": float(added.mean()),
            "p5": float(p5),
            "p50": float(p50),
            "p95": float(p95),
        },
        "projects": projects,
    }
