"""World Bank WDI: GDP (current US$) and industry value added per economy and year, as table ``gdp``.

Two indicator files (``NY.GDP.MKTP.CD`` GDP in current US$, ``NV.IND.TOTL.ZS`` industry incl. construction,
value added, % of GDP) become one table ``iso3, year, gdp_usd, industry_va_usd`` where
``industry_va_usd = gdp_usd * pct / 100`` (our arithmetic, not a WDI series; NaN where the share is not
published). Rows flagged ``is_aggregate`` (World, income and regional groups) are kept out; the other codes
are ISO3 except ``XKX`` (Kosovo) and ``CHI`` (Channel Islands), kept as they are. Taiwan is not in WDI.
(Build time; the run-time reader of table ``gdp`` is :mod:`critmin.atlas.wdi`.)
"""

from __future__ import annotations

from importlib.resources.abc import Traversable
from io import StringIO

import numpy as np
import pandas as pd

from critmin.atlas.wdi import GDP_COLUMNS

WDI_DIR = "worldbank_wdi"
GDP_FILE = "wdi_NY.GDP.MKTP.CD_gdp_current_usd.csv"
INDUSTRY_FILE = "wdi_NV.IND.TOTL.ZS_industry_value_added_pct_gdp.csv"
_RAW_COLUMNS = ["iso3", "is_aggregate", "indicator", "year", "value"]


class WdiDataError(ValueError):
    """A WDI file value that cannot be used (names file, row, column, value and what was expected)."""


def parse_indicator(text: str, file: str, indicator: str) -> pd.Series:
    """One WDI long CSV -> values indexed by (iso3, year), aggregates left out."""
    df = pd.read_csv(StringIO(text), dtype=str, keep_default_na=False)
    missing = [c for c in _RAW_COLUMNS if c not in df.columns]
    if missing:
        raise WdiDataError(f"{file}: missing columns {missing}; expected {_RAW_COLUMNS}")
    checks: list[tuple[str, pd.Series, str]] = [
        ("indicator", df["indicator"] != indicator, f"{indicator!r}"),
        ("is_aggregate", ~df["is_aggregate"].isin(["True", "False"]), "True or False"),
        ("iso3", ~df["iso3"].str.fullmatch(r"[A-Z]{3}"), "a three-letter upper-case code"),
    ]
    years = pd.to_numeric(df["year"], errors="coerce")
    values = pd.to_numeric(df["value"], errors="coerce")
    checks += [
        ("year", years.isna(), "a year"),
        ("value", values.isna() | ~np.isfinite(values), "a finite number"),
    ]
    for column, bad, expected in checks:
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise WdiDataError(
                f"{file} row {i + 2}, column {column}: {df[column].iloc[i]!r}; expected {expected}"
            )
    keep = (df["is_aggregate"] == "False").to_numpy()
    idx = pd.MultiIndex.from_arrays([df["iso3"][keep], years[keep].astype("int64")], names=["iso3", "year"])
    out = pd.Series(values[keep].to_numpy(dtype="float64"), index=idx, name=indicator)
    if out.index.duplicated().any():
        iso, yr = out.index[out.index.duplicated()][0]
        raise WdiDataError(f"{file}: two rows for {iso} {yr}; expected one per economy and year")
    return out


def build_gdp(raw: Traversable) -> pd.DataFrame:
    """Table ``gdp`` (columns :data:`GDP_COLUMNS`) from the ``worldbank_wdi`` folder under ``raw``."""
    folder = raw.joinpath(WDI_DIR)
    gdp = parse_indicator(
        folder.joinpath(GDP_FILE).read_text(encoding="utf-8"), f"{WDI_DIR}/{GDP_FILE}", "NY.GDP.MKTP.CD"
    )
    pct = parse_indicator(
        folder.joinpath(INDUSTRY_FILE).read_text(encoding="utf-8"),
        f"{WDI_DIR}/{INDUSTRY_FILE}",
        "NV.IND.TOTL.ZS",
    )
    bad = pct[(pct < 0) | (pct > 100)]
    if len(bad):
        iso, yr = bad.index[0]
        raise WdiDataError(
            f"{WDI_DIR}/{INDUSTRY_FILE}: {iso} {yr} value {bad.iloc[0]!r}; expected a share in [0, 100]"
        )
    out = pd.DataFrame({"gdp_usd": gdp})
    out["industry_va_usd"] = gdp * pct.reindex(gdp.index) / 100.0
    out = out.reset_index()
    out.attrs["source"] = "wb-wdi-2026-07"
    return out[GDP_COLUMNS]
