"""Candidate restrictors of the Monte Carlo and their hazards (see :mod:`critmin.disruption.montecarlo`).

For every material, each country ``k`` with production share ``a_k >= restriction_min_share`` at a
modelled stage has the annual hazard ``h_k = restriction_hazard_per_year * min(1, a_k /
restriction_dominance_share) * listed_k * gov_k`` (``listed_k``: 1 for the seven OECD-listed countries,
``restriction_unlisted_country_factor`` otherwise; ``gov_k``: WGI weakness relative to China's, capped at 2).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from critmin.disruption.inputs import NON_COUNTRY, MarketInputs

OECD_LISTED = frozenset({"CHN", "VNM", "BDI", "RUS", "COD", "ZWE", "LAO"})


@dataclass(frozen=True)
class Candidates:
    """Possible restrictors per material, padded to ``K`` columns (hazard 0 in the padding)."""

    share: np.ndarray  # [M, K] production share at the candidate's stage
    hazard_per_month: np.ndarray  # [M, K]
    country: np.ndarray  # [M, K] ISO3 ('' in padding)
    stage: np.ndarray  # [M, K]
    export_ratio: np.ndarray  # [M, K] exports / output of the candidate at its stage


def _governance_weakness(wgi: pd.DataFrame) -> pd.Series:
    if wgi is None or not len(wgi):
        return pd.Series(dtype="float64")
    w = wgi.dropna(subset=["estimate"])
    latest = w[w["year"] == w["year"].max()]
    return ((2.5 - latest.groupby("iso3")["estimate"].mean()) / 5.0).astype("float64")


def build_candidates(inp: MarketInputs, wgi: pd.DataFrame) -> Candidates:
    """Hazard of each (material, country, stage) candidate restrictor (see the module docstring)."""
    ps = inp.parameters
    weak = _governance_weakness(wgi)
    ref = float(weak.get("CHN", np.nan))
    per: list[list[tuple[float, float, str, str, float]]] = []
    for m in inp.materials:
        h0 = ps.get("restriction_hazard_per_year", m)
        dom = ps.get("restriction_dominance_share", m)
        unlisted = ps.get("restriction_unlisted_country_factor", m)
        min_share = ps.get("restriction_min_share", m)
        rows = []
        for st in inp.stages[m]:
            for iso, a in inp.shares[(m, st)].items():
                iso = str(iso)
                if a < min_share or iso in NON_COUNTRY or "+" in iso:
                    continue
                g = float(weak.get(iso, np.nan))
                gov = min(2.0, g / ref) if np.isfinite(g) and np.isfinite(ref) and ref > 0 else 1.0
                listed = 1.0 if iso in OECD_LISTED else unlisted
                h = h0 * min(1.0, a / dom) * listed * gov
                rows.append((float(a), h / 12.0, iso, st, inp.export_share_of(m, [iso], st)[0]))
        per.append(rows)
    K = max(1, max((len(r) for r in per), default=1))
    M = len(inp.materials)
    share = np.zeros((M, K))
    hz = np.zeros((M, K))
    country = np.full((M, K), "", dtype=object)
    stage = np.full((M, K), "", dtype=object)
    ratio = np.zeros((M, K))
    for i, rows in enumerate(per):
        for k, (a, h, iso, st, x) in enumerate(rows):
            share[i, k], hz[i, k], country[i, k], stage[i, k], ratio[i, k] = a, h, iso, st, x
    return Candidates(share, hz, country, stage, ratio)
