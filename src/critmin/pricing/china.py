"""China's responses to the alliance: dumping outside China and retaliation against joining members.

Dumping (docs/methods/mechanisms.md): a sustained cut of the outside-zone price by ``depth`` for
``months`` months from ``start_month``. China must supply what the cut adds to outside demand and removes
from outside supply; with iso-elastic outside demand ``(1 - c) x^ed`` and supply ``(1 - a) x^es`` at the
price index ``x``, China's exports are ``E(x) = (1 - c) x^ed - (1 - a) x^es`` (shares of world output), so the
deepest cut its capacity can sustain solves ``E(x) = (a - c) + spare * a`` (``a``: China's production share,
``c``: its consumption share, ``spare``: ``china_spare_capacity_share``).

Retaliation: an export restriction by China on the joining members (``targets`` = the members), run
through the disruption engine (:func:`critmin.disruption.simulate`).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy.optimize import brentq

from critmin.disruption.events import ExportRestriction, Scenario
from critmin.parameters import ParameterSet
from critmin.pricing.zones import DISRUPTION_MATERIAL, ZonePrices

CHINA = "CHN"
MAX_DEPTH = 0.95


@dataclass(frozen=True)
class Dumping:
    """A sustained cut of the outside-zone price: ``depth`` (0-1) for ``months`` from ``start_month``."""

    depth: float
    start_month: int = 0
    months: int = 12

    def __post_init__(self) -> None:
        if not 0.0 <= self.depth < 1.0:
            raise ValueError(f"dumping depth: {self.depth}; expected a price cut in [0, 1)")
        if self.start_month < 0 or self.months < 0:
            raise ValueError(f"dumping start {self.start_month}, months {self.months}; expected >= 0")


def china_exports(x: float, a: float, c: float, ed: float, es: float) -> float:
    """China's exports (share of world output) that clear the outside zone at price index ``x``."""
    return float((1.0 - c) * x**ed - (1.0 - a) * x**es)


def max_dumping_depth(a: float, c: float, ed: float, es: float, spare: float) -> float:
    """Deepest sustained cut of the outside price China's capacity can supply (see the module docstring)."""
    if not (0.0 <= c <= a <= 1.0) or spare < 0 or ed > 0 or es < 0:
        raise ValueError(
            f"dumping capacity: a={a}, c={c}, ed={ed}, es={es}, spare={spare}; expected 0<=c<=a<=1"
        )
    cap = (a - c) + spare * a
    lo = 1.0 - MAX_DEPTH
    if china_exports(lo, a, c, ed, es) <= cap:
        return MAX_DEPTH
    if spare == 0:
        return 0.0
    x = brentq(lambda v: china_exports(v, a, c, ed, es) - cap, lo, 1.0, xtol=1e-12)
    return float(1.0 - x)


def china_position(
    atlas: Any, material: str, params: ParameterSet, stage: str = "refine"
) -> dict[str, float]:
    """China's production share ``a`` at ``stage`` (latest atlas year) and consumption share ``c``
    (``a`` times one minus ``restrictor_export_share``), with the long-run elasticities."""
    m = DISRUPTION_MATERIAL.get(material, material)
    years = atlas.years_of(m, stage)
    if not years:
        raise ValueError(f"{material}: no {stage} stage in the atlas; dumping capacity is unknown")
    s = atlas.stage_series(m, stage, max(years))
    total = float(s.sum())
    a = float(s.get(CHINA, 0.0)) / total if total > 0 else 0.0
    c = a * (1.0 - params.get("restrictor_export_share", m))
    return {
        "a": a,
        "c": c,
        "ed": params.get("price_elasticity_demand_long_run", m),
        "es": params.get("price_elasticity_supply_long_run", m),
        "spare": params.get("china_spare_capacity_share", material),
        "year": float(max(years)),
    }


def apply_dumping(zones: ZonePrices, dumping: Dumping, max_depth: float | None = None) -> ZonePrices:
    """Outside-zone prices cut by ``min(depth, max_depth)`` in the dumping months (China's own price kept)."""
    depth = dumping.depth if max_depth is None else min(dumping.depth, max_depth)
    months = zones.shape[1]
    index = np.ones(months)
    index[dumping.start_month : min(months, dumping.start_month + dumping.months)] = 1.0 - depth
    out = zones.outside * index[None, :]
    return replace(
        zones, outside=out, source=f"{zones.source} + dumping {depth:.0%} x {dumping.months} months"
    )


def retaliation_materials(atlas: Any, members: Collection[str], stage: str = "refine") -> list[str]:
    """Materials China produces at ``stage`` and the members import (rows in the atlas trade table)."""
    prod = atlas.production
    china = prod[(prod["iso3"] == CHINA) & (prod["stage"] == stage) & (prod["tonnes"] > 0)]
    trade = atlas.trade
    imported = set(trade.loc[trade["importer"].isin(list(members)), "material"])
    return sorted(set(china["material"]) & imported)


def retaliation_scenario(
    members: Collection[str],
    materials: Collection[str],
    *,
    share: float,
    months: int,
    horizon: int,
    stage: str = "refine",
) -> Scenario:
    """China withholds ``share`` of its exports of each material from the joining ``members``."""
    targets = sorted(set(members) - {CHINA})
    if not targets or not materials:
        raise ValueError("retaliation: expected at least one joining member and one material")
    events = [
        ExportRestriction(
            material=m,
            exporter=CHINA,
            stage=stage,
            share=share,
            targets=targets,
            duration_months=months,
        )
        for m in sorted(materials)
    ]
    return Scenario(
        name=f"china-retaliation-{'-'.join(targets) if len(targets) <= 3 else f'{len(targets)}-members'}",
        description=f"China withholds {share:.0%} of its {stage} exports from {', '.join(targets)} "
        f"for {months} months",
        horizon_months=horizon,
        events=events,
    )
