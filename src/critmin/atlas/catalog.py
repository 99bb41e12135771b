"""What the atlas holds per material: stages, years, basis, editions, flags, notes (`critmin materials`)."""

from __future__ import annotations

import pandas as pd

from critmin.atlas.chain import SupplyChain

#: material -> a note every user should see next to the numbers
NOTES: dict[str, str] = {
    "germanium": "refinery output last published in MCS 2022 (2020, 2021e); MCS 2023-2024 print NA for every "
    "country (US W) and MCS 2025-2026 publish no country table",
    "rhodium": "derived: platinum output x regional Rh:Pt ratios (rhodium_ratios.csv, assumptions)",
    "platinum-group-metals": "derived: platinum + palladium",
    "magnet-rare-earths": "IEA basket as published; the same basket from elements: critmin.atlas.baskets",
    "rare-earths": "USGS REO as published; 1998-2015 from Theler et al. 2020 (secondary)",
    "battery-graphite": "IEA refining block; priced at flake graphite (a lower bound)",
    "thulium": "no price in any bundled edition: excluded from valued results",
}


def _span(years: list[int]) -> str:
    """``1998-2015, 2018-2025`` from a sorted list of years."""
    if not years:
        return ""
    runs, start, prev = [], years[0], years[0]
    for y in years[1:]:
        if y != prev + 1:
            runs.append((start, prev))
            start = y
        prev = y
    runs.append((start, prev))
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def material_catalog(atlas: SupplyChain) -> pd.DataFrame:
    """One row per material and stage with data (plus declared stages without data, marked missing)."""
    p = atlas.production
    prim = p[p["primary"].astype(bool)]
    miss = atlas.missing_stages()
    rows = []
    for m in atlas.materials.itertuples(index=False):
        slug = str(m.slug)
        declared = [s for s in str(m.stages).split(";") if s]
        for stage in dict.fromkeys([*atlas.stages_of(slug), *declared]):
            sel = prim[(prim["material"] == slug) & (prim["stage"] == stage)]
            numbered = sel.dropna(subset=["tonnes"])
            flags = sel["flag"].value_counts().sort_index()
            missing = bool(((miss["material"] == slug) & (miss["stage"] == stage)).any())
            rows.append(
                {
                    "material": slug,
                    "stage": stage,
                    "basis": str(m.basis),
                    "years": _span(sorted({int(y) for y in numbered["year"]})),
                    "editions": ", ".join(sorted(set(sel["edition"]))),
                    "flags": "; ".join(f"{k} {int(v)}" for k, v in flags.items()),
                    "missing": missing,
                    "note": NOTES.get(slug, ""),
                }
            )
    return pd.DataFrame(rows)
