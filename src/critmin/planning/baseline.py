"""The baseline of a plan: atlas production of a (material, stage) and the IEA demand index.

Shared by the expansion plan (:mod:`critmin.planning.plan`) and the independence timeline
(:mod:`critmin.planning.independence`).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from io import StringIO

import numpy as np
import pandas as pd

IEA_DEMAND_MINERALS = {
    "copper": "Copper",
    "cobalt": "Cobalt",
    "lithium": "Lithium",
    "nickel": "Nickel",
    "graphite": "Graphite",
    "battery-graphite": "Graphite",
    "magnet-rare-earths": "Rare Earth Elements",
}


@dataclass(frozen=True)
class Baseline:
    """Production by ISO3 in the baseline year, with where it came from."""

    tonnes: pd.Series
    year: int
    source: str


def atlas_baseline(material: str, stage: str) -> Baseline:
    """Primary production for (material, stage) in the latest atlas year with tonnes (``OTH`` kept)."""
    from critmin.atlas import load_atlas
    from critmin.planning.names import check_material, check_stage

    atlas = load_atlas()
    check_material(material, [str(m) for m in atlas.materials["slug"]])
    check_stage(material, stage, atlas.stages_of(material))
    years = atlas.years_of(material, stage)
    if not years:
        raise ValueError(f"the atlas has no production years for material {material!r} at stage {stage!r}")
    for year in sorted(years, reverse=True):  # the latest year with tonnes (later years may be withheld)
        s = atlas.stage_series(material, stage, year).astype(float)
        if float(s[s > 0].sum()) > 0:
            note = "" if year == max(years) else " (later years withheld or not available)"
            return Baseline(
                s[s > 0], year, f"critmin atlas, primary rows for {material}/{stage} {year}{note}"
            )
    raise ValueError(
        f"the atlas has no positive tonnes for material {material!r} at stage {stage!r} in any year "
        f"({min(years)}-{max(years)}: withheld or not available)"
    )


def demand_index(material: str, years: list[int], base_year: int, scenario: str) -> tuple[pd.Series, str]:
    """IEA total demand relative to ``base_year`` for each year (linear between published years).

    Materials without an IEA total-demand series get a flat index (1.0) and a note saying so.
    """
    name = IEA_DEMAND_MINERALS.get(material)
    if scenario == "flat":
        return pd.Series(1.0, index=years), "demand held flat at the baseline year (scenario 'flat')"
    if name is None:
        return pd.Series(1.0, index=years), f"no IEA total-demand projection for {material}: demand held flat"
    text = (
        resources.files("critmin.data")
        .joinpath("raw/iea_critical_minerals_2025/iea_cm_total_demand_key_minerals.csv")
        .read_text(encoding="utf-8")
    )
    df = pd.read_csv(StringIO(text))
    d = df[(df["mineral"] == name) & (df["sector"] == "Total demand")]
    d = d[(d["scenario"] == scenario) | (d["scenario"] == "Base year (observed)")]
    series = d.set_index("year")["value_kt"].sort_index()
    grid = np.arange(min(series.index.min(), base_year), max(max(years), series.index.max()) + 1)
    interp = np.interp(grid, series.index.to_numpy(), series.to_numpy())
    full = pd.Series(interp, index=grid)
    idx = full.reindex(years) / full[base_year]
    note = (
        f"IEA Critical Minerals Dataset 2025, {name} total demand, {scenario}, relative to {base_year} "
        "(linear between published years; held at the last published year beyond it)"
    )
    return idx, note
