"""World Bank Worldwide Governance Indicators (2024 update, estimates 2013-2023) as a tidy ISO3 table.

Codes go through :func:`critmin.atlas.countries.resolve` with source ``wgi`` (legacy ``ZAR`` -> COD,
``ROM`` -> ROU, ``ADO`` -> AND, ``TMP`` -> TLS, ``KSV`` -> XKX, ``WBG`` -> PSE). Rule: a code the alias
table marks ``former`` (``ANT``, Netherlands Antilles) is kept out; an unmapped code is an error. The
published missing marker ``..`` becomes NaN (the row is kept, so gaps stay visible).
"""

from __future__ import annotations

from importlib.resources.abc import Traversable
from io import StringIO

import numpy as np
import pandas as pd

from critmin.atlas.countries import UnmappedCountryError, resolve

WGI_COLUMNS = ["iso3", "year", "indicator", "estimate"]
INDICATORS = {"va", "pv", "ge", "rq", "rl", "cc"}
MISSING = ".."
_WGI_DIR = "worldbank_wgi"
_WGI_FILE = "wgi_2024update_estimates_2013_2023.csv"
_RAW_COLUMNS = ["code", "year", "indicator", "estimate"]


class GovernanceDataError(ValueError):
    """A WGI file value that cannot be used (names file, row, column, value and what was expected)."""


def parse_wgi(text: str, file: str = f"{_WGI_DIR}/{_WGI_FILE}") -> pd.DataFrame:
    """WGI long CSV text -> tidy ``iso3, year, indicator, estimate`` (``..`` -> NaN)."""
    df = pd.read_csv(StringIO(text), dtype=str, keep_default_na=False)
    missing = [c for c in _RAW_COLUMNS if c not in df.columns]
    if missing:
        raise GovernanceDataError(f"{file}: missing columns {missing}; expected {_RAW_COLUMNS}")
    est_text = df["estimate"].str.strip()
    estimate = pd.to_numeric(est_text.where(est_text != MISSING), errors="coerce")
    bad = estimate.isna() & (est_text != MISSING)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise GovernanceDataError(
            f"{file} row {i + 2}, column estimate: {df['estimate'].iloc[i]!r}; expected a number or '..'"
        )
    years = pd.to_numeric(df["year"], errors="coerce")
    if years.isna().any():
        i = int(np.flatnonzero(years.isna().to_numpy())[0])
        raise GovernanceDataError(f"{file} row {i + 2}, column year: {df['year'].iloc[i]!r}; expected a year")
    unknown = ~df["indicator"].isin(INDICATORS)
    if unknown.any():
        i = int(np.flatnonzero(unknown.to_numpy())[0])
        raise GovernanceDataError(
            f"{file} row {i + 2}, column indicator: {df['indicator'].iloc[i]!r}; "
            f"expected one of {sorted(INDICATORS)}"
        )
    codes: dict[str, str | None] = {}
    for code in df["code"].unique():
        try:
            ref = resolve(code, "wgi")
        except UnmappedCountryError as err:
            i = int(np.flatnonzero((df["code"] == code).to_numpy())[0])
            raise GovernanceDataError(f"{file} row {i + 2}, column code: {code!r}; {err}") from err
        if ref.kind == "country":
            codes[code] = ref.code
        elif ref.kind == "former":
            codes[code] = None
        else:
            i = int(np.flatnonzero((df["code"] == code).to_numpy())[0])
            raise GovernanceDataError(
                f"{file} row {i + 2}, column code: {code!r} is a {ref.kind} row; expected one economy"
            )
    iso3 = df["code"].map(codes)
    keep = iso3.notna().to_numpy()
    out = pd.DataFrame(
        {
            "iso3": iso3.astype(object),
            "year": years.astype("int64"),
            "indicator": df["indicator"],
            "estimate": estimate.astype("float64"),
        }
    )[keep].reset_index(drop=True)
    dup = out.duplicated(["iso3", "year", "indicator"])
    if dup.any():
        i = int(np.flatnonzero(keep)[np.flatnonzero(dup.to_numpy())[0]])
        raise GovernanceDataError(
            f"{file} row {i + 2}, column code: {df['code'].iloc[i]!r} maps to an ISO3 already present for "
            f"{df['year'].iloc[i]} {df['indicator'].iloc[i]}; expected one row per economy, year, indicator"
        )
    out = out.astype({"iso3": str, "indicator": str})
    out.attrs["dropped"] = int((~keep).sum())
    out.attrs["source"] = "wgi-2024"
    return out[WGI_COLUMNS]


def build_wgi(raw: Traversable) -> pd.DataFrame:
    """Tidy WGI estimates (columns :data:`WGI_COLUMNS`) from the ``worldbank_wgi`` folder under ``raw``."""
    entry = raw.joinpath(_WGI_DIR).joinpath(_WGI_FILE)
    return parse_wgi(entry.read_text(encoding="utf-8"))
