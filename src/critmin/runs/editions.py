"""Which data editions a run actually read (``RunMetadata.data_editions`` of each run).

Production rows carry their edition (``usgs-mcs2026``, ``theler2020``, ...), USGS prices their source; the
other tables are one edition each. A run names the tables it read and, for production, the rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from critmin.provenance import DATA_EDITIONS

#: the single edition behind each non-production atlas table
TABLE_EDITIONS: dict[str, str] = {
    "trade": "baci-hs17-v202601",
    "wgi": "wgi-2024",
    "wdi": "wb-wdi-2026-07",
    "pinksheet": "wb-pinksheet-2026-06",
}
OTHER_TITLES = {
    "theler2020": "Theler et al. 2020 (transcription of the USGS Minerals Yearbook), before 2016",
    "usgs-myb2022": "USGS Minerals Yearbook 2022 (rare-earth deposit compositions)",
}


def title(key: str) -> str:
    """Human title of an edition key (the key itself when no title is known)."""
    return DATA_EDITIONS.get(key) or OTHER_TITLES.get(key) or key


def production_rows(atlas: Any, pairs: Iterable[tuple[str, str]], year: int | None = None) -> pd.DataFrame:
    """Primary production rows of ``pairs`` (material, stage) in the year each uses: the latest on or
    before ``year`` (the latest of all when None)."""
    prod = atlas.production
    prod = prod[prod["primary"] & prod["tonnes"].notna()]
    want = pd.DataFrame(sorted(set(pairs)), columns=["material", "stage"])
    rows = prod.merge(want, on=["material", "stage"])
    if year is not None:
        rows = rows[rows["year"] <= year]
    if rows.empty:
        return rows
    latest = rows.groupby(["material", "stage"])["year"].transform("max")
    return rows[rows["year"] == latest]


def editions_read(
    atlas: Any,
    *,
    production: pd.DataFrame | None = None,
    prices: Iterable[str] | None = None,
    tables: Iterable[str] = (),
) -> dict[str, str]:
    """Edition key -> title of what a run read: the production rows given, the USGS prices of the
    materials given, and whole tables by name (keys of :data:`TABLE_EDITIONS`)."""
    keys: set[str] = set()
    if production is not None and len(production):
        keys |= set(production["edition"].astype(str))
    if prices is not None:
        p = atlas.prices
        keys |= set(p.loc[p["material"].isin(list(prices)), "source"].astype(str))
    for t in tables:
        if t not in TABLE_EDITIONS:
            raise ValueError(f"table {t!r}; expected one of {', '.join(TABLE_EDITIONS)}")
        keys.add(TABLE_EDITIONS[t])
    return {k: title(k) for k in sorted(keys)}
