"""Which bundled data editions the atlas uses, under which licence, and how many rows of each flag."""

from __future__ import annotations

import pandas as pd

from critmin.atlas.chain import SupplyChain

#: edition key -> (licence, attribution asked for by the licence)
LICENCES: dict[str, tuple[str, str]] = {
    "usgs-mcs2026": (
        "public domain (CC0 1.0, US Government work)",
        "U.S. Geological Survey, Mineral Commodity Summaries 2026 data release, doi:10.5066/P1WKQ63T",
    ),
    "usgs-mcs2025": (
        "public domain (US Government work)",
        "U.S. Geological Survey, Mineral Commodity Summaries 2025 data release, doi:10.5066/P13XCP3R",
    ),
    "usgs-mcs2024": (
        "public domain (US Government work)",
        "U.S. Geological Survey, MCS 2024 data release, doi:10.5066/P144BA54",
    ),
    "usgs-mcs2023": (
        "public domain (US Government work)",
        "U.S. Geological Survey, MCS 2023 data release, doi:10.5066/P9WCYUI6",
    ),
    "usgs-mcs2022": (
        "public domain (US Government work)",
        "U.S. Geological Survey, MCS 2022 data release, doi:10.5066/P9KKMCP4",
    ),
    "usgs-myb2022": (
        "public domain (US Government work)",
        "U.S. Geological Survey, Minerals Yearbook 2022, Rare Earths tables",
    ),
    "usgs-ds140": (
        "public domain (US Government work)",
        "Kelly & Matos, USGS Data Series 140, rare earths statistics",
    ),
    "theler2020": (
        "MIT (transcription); USGS figures public domain",
        "Theler, Kauwe & Sparks (2020), Integr. Mater. Manuf. Innov. 9:144-150, "
        "doi:10.1007/s40192-020-00173-5 (secondary source: a transcription of the USGS Minerals Yearbook)",
    ),
    "iea-cm-2025": (
        "CC BY 4.0",
        "IEA (2025), Global Critical Minerals Outlook 2025 / Critical Minerals Dataset, Licence: CC BY 4.0",
    ),
    "baci-hs17-v202601": (
        "Licence Ouverte / Etalab 2.0",
        "CEPII, BACI (Gaulier & Zignago 2010), HS17 V202601",
    ),
    "wgi-2024": (
        "CC BY 4.0",
        "World Bank, Worldwide Governance Indicators, 2024 update, Licence: CC BY 4.0",
    ),
    "wb-pinksheet-2026-06": (
        "CC BY 4.0",
        "World Bank, Commodity Price Data (The Pink Sheet), Licence: CC BY 4.0",
    ),
    "wb-wdi-2026-07": (
        "CC BY 4.0",
        "The World Bank: World Development Indicators, Licence: CC BY 4.0",
    ),
}


def _flags(series: pd.Series) -> str:
    counts = series.value_counts().sort_index()
    return "; ".join(f"{k} {int(v)}" for k, v in counts.items())


def source_summary(atlas: SupplyChain) -> pd.DataFrame:
    """One row per data edition: description, licence, attribution, atlas tables fed, rows and flag counts."""
    p = atlas.production
    rows = []
    for key, title in atlas.editions.items():
        licence, attribution = LICENCES.get(key, ("see SOURCES.md", ""))
        tables: list[str] = []
        n = 0
        flags = ""
        part = p[p["edition"] == key]
        if len(part):
            tables.append("production")
            n += len(part)
            flags = _flags(part["flag"])
            n_world = int((atlas.world_totals["edition"] == key).sum())
            if n_world:
                tables.append("world_totals")
                n += n_world
        if key == "usgs-mcs2026":
            for t in ("us_nir", "us_import_sources", "prices"):
                tables.append(t)
                n += len(getattr(atlas, t))
            flags += "; NIR: " + _flags(atlas.us_nir["flag"])
        if key.startswith("baci"):
            tables.append("trade")
            n += len(atlas.trade)
        if key == "iea-cm-2025":
            tables.append("projections")
            n += len(atlas.projections)
        if key.startswith("wgi"):
            tables.append("wgi")
            n += len(atlas.wgi)
        if key.startswith("wb-wdi"):
            tables.append("gdp")
            n += len(atlas.gdp)
        rows.append(
            {
                "edition": key,
                "title": title,
                "licence": licence,
                "attribution": attribution,
                "tables": ", ".join(tables) or "(bundled, used by other modules)",
                "rows": n,
                "flags": flags,
            }
        )
    return pd.DataFrame(rows)
