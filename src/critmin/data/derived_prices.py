"""Prices derived at build time from other atlas tables (see docs/methods/atlas.md, "Prices").

``platinum-group-metals`` (platinum + palladium content) is valued at the platinum and palladium reference
prices weighted by that year's world mine output of each (the primary edition's published world totals).
"""

from __future__ import annotations

import pandas as pd

from critmin.atlas.prices import reference_series

PGM = "platinum-group-metals"
PGM_PARTS: tuple[str, ...] = ("platinum", "palladium")


def _world_output(world_totals: pd.DataFrame, production: pd.DataFrame, material: str) -> pd.Series:
    """World mine tonnes per year of ``material`` from the edition marked primary for that year."""
    prim = production[production["primary"].astype(bool) & (production["material"] == material)]
    editions = prim.groupby("year")["edition"].first()
    w = world_totals[(world_totals["material"] == material) & (world_totals["stage"] == "mine")]
    w = w[w["edition"] == w["year"].map(editions)]
    return w.groupby("year")["tonnes"].first().dropna()


def derive_pgm_price(
    prices: pd.DataFrame, world_totals: pd.DataFrame, production: pd.DataFrame
) -> pd.DataFrame:
    """Output-weighted Pt + Pd price per year where both prices and both world totals exist (basis
    ``derived``; the series names the inputs, ``unit_text`` the year's weights)."""
    ref = reference_series(prices[prices["material"].isin(PGM_PARTS)])
    px = {m: ref[ref["material"] == m].set_index("year")["usd_per_t"] for m in PGM_PARTS}
    wt = {m: _world_output(world_totals, production, m) for m in PGM_PARTS}
    years = sorted(set.intersection(*(set(px[m].index) & set(wt[m].index) for m in PGM_PARTS)))
    rows = []
    for y in years:
        w = {m: float(wt[m][y]) for m in PGM_PARTS}
        total = sum(w.values())
        value = sum(float(px[m][y]) * w[m] for m in PGM_PARTS) / total
        shares = ", ".join(f"{m} {w[m] / total:.3f}" for m in PGM_PARTS)
        rows.append(
            {
                "material": PGM,
                "year": int(y),
                "usd_per_t": float(f"{value:.12g}"),
                "series": "PLATINUM-GROUP METALS: platinum and palladium prices weighted by the year's world "
                "mine output [derived]",
                "unit_text": f"dollars per troy ounce; weights {shares}",
                "source": str(ref.loc[ref["material"] == "platinum", "source"].iloc[0]),
                "basis": "derived",
            }
        )
    return pd.DataFrame(rows, columns=prices.columns)
