"""Run-time reading of the atlas table ``gdp`` (World Bank WDI, built by :mod:`critmin.data.wdi`)."""

from __future__ import annotations

import pandas as pd

GDP_COLUMNS = ["iso3", "year", "gdp_usd", "industry_va_usd"]


def latest_gdp(gdp: pd.DataFrame, column: str = "gdp_usd", before: int | None = None) -> pd.Series:
    """Each economy's latest value of ``column`` (year ``< before`` when given), indexed by iso3."""
    g = gdp.dropna(subset=[column])
    if before is not None:
        g = g[g["year"] < before]
    g = g.sort_values(["iso3", "year"]).groupby("iso3").tail(1)
    return pd.Series(g[column].to_numpy(dtype="float64"), index=g["iso3"].to_numpy(), name=column)
