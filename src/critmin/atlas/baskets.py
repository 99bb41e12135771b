"""Rare-earth elements and the baskets defined from them (see docs/methods/atlas.md).

The published basket series stay in the atlas as published (USGS ``rare-earths`` in REO, IEA
``magnet-rare-earths``); :func:`basket_series` gives the same basket summed from the derived elements, so the
two can be compared.
"""

from __future__ import annotations

import pandas as pd

from critmin.atlas.chain import SupplyChain

#: element symbol -> material slug
ELEMENTS: dict[str, str] = {
    "La": "lanthanum",
    "Ce": "cerium",
    "Pr": "praseodymium",
    "Nd": "neodymium",
    "Sm": "samarium",
    "Eu": "europium",
    "Gd": "gadolinium",
    "Tb": "terbium",
    "Dy": "dysprosium",
    "Ho": "holmium",
    "Er": "erbium",
    "Tm": "thulium",
    "Yb": "ytterbium",
    "Lu": "lutetium",
    "Y": "yttrium",
}
#: baskets defined from elements
BASKETS: dict[str, tuple[str, ...]] = {
    "magnet-rare-earths": ("neodymium", "praseodymium", "dysprosium", "terbium"),
    "rare-earths": tuple(ELEMENTS.values()),
}


def basket_series(atlas: SupplyChain, basket: str, stage: str, year: int) -> pd.Series:
    """Tonnes by country of a basket summed from its elements' primary rows (explicit label alignment)."""
    if basket not in BASKETS:
        raise KeyError(f"unknown basket {basket!r}; expected one of {sorted(BASKETS)}")
    parts = [atlas.stage_series(m, stage, year) for m in BASKETS[basket]]
    index = sorted(set().union(*(p.index for p in parts)))
    total = sum((p.reindex(index, fill_value=0.0) for p in parts), pd.Series(0.0, index=index))
    total.name = f"{basket}/{stage}/{year} (from elements)"
    total.index.name = "iso3"
    return total.astype("float64")
