"""Bilateral trade from CEPII BACI (HS 2017, release V202601): exporter, importer, HS6, material, stage, USD,
tonnes.

``tonnes`` (gross product weight, metric tonnes) comes from the quantity extract ``cepii_baci_q`` (2024
only; empty where BACI has no usable quantity); other years have NaN tonnes. A year present in both
folders is read from the quantity file after checking that its (exporter, importer, hs6, value) rows are
identical to the value-only file's.

Country codes go through :func:`critmin.atlas.countries.resolve` with source ``baci`` (Taiwan ``S19`` ->
``TWN``). Rule for non-country codes: a code the alias table marks ``former`` (a dissolved state) or
``aggregate`` (a BACI residual such as "Europe EFTA, nes") is kept out of the table, because it names no
present-day country a share could be attributed to; the dropped rows are counted in
``df.attrs["dropped"]``. Any other code that does not resolve to one country is an error.

The material and stage of each HS6 code come from ``critmin/data/hs6_materials.csv``, written from the
HS 2017 nomenclature (WCO Harmonized System 2017 edition, headings and subheadings as published by the
UN Statistics Division). A shared code (one HS6 covering several materials, e.g. 811292 for Ga, Ge, Hf,
In, Nb, Re and V) has its slugs joined by ``|`` in ``material``: its value is never attributed to one of
them. :func:`critmin.atlas.trade_rows.trade_of` selects the rows of one material, optionally with the shared
codes (run time, on the atlas ``trade`` table).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from io import StringIO

import numpy as np
import pandas as pd

from critmin.atlas.countries import UnmappedCountryError, resolve
from critmin.atlas.trade_rows import SHARED_SEPARATOR

TRADE_COLUMNS = ["year", "exporter", "importer", "hs6", "material", "stage", "value_usd", "tonnes"]
HS6_COLUMNS = ["hs6", "description", "material", "stage", "note"]
STAGES = {"mine", "refine", "magnet"}
_DROPPED_KINDS = {"former", "aggregate"}
_RAW_COLUMNS = ["year", "exporter_iso3", "importer_iso3", "hs6", "value_usd"]
_BACI_DIR = "cepii_baci"
_BACI_Q_DIR = "cepii_baci_q"
_BACI_PREFIX = "baci_hs17_v202601_critical_hs6_"


class TradeDataError(ValueError):
    """A BACI file or the HS6 table with a value that cannot be used (names file, row, column, value)."""


@dataclass(frozen=True)
class HS6Entry:
    """One row of the HS6 -> material table."""

    hs6: str
    description: str
    material: str
    stage: str
    note: str

    @property
    def materials(self) -> tuple[str, ...]:
        """The material slugs the code covers (more than one for a shared code)."""
        return tuple(self.material.split(SHARED_SEPARATOR))

    @property
    def shared(self) -> bool:
        """True when the code covers several materials whose values cannot be split."""
        return len(self.materials) > 1


def parse_hs6_table(text: str, name: str = "hs6_materials.csv") -> dict[str, HS6Entry]:
    """Parse and validate the HS6 -> (material, stage) table."""
    reader = csv.DictReader(StringIO(text))
    missing = [c for c in HS6_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise TradeDataError(f"{name}: missing columns {missing}; expected {HS6_COLUMNS}")
    out: dict[str, HS6Entry] = {}
    for i, row in enumerate(reader, start=2):
        code = row["hs6"].strip()
        if len(code) != 6 or not code.isdigit():
            raise TradeDataError(f"{name} row {i}, column hs6: {code!r}; expected a 6-digit HS code")
        if code in out:
            raise TradeDataError(f"{name} row {i}, column hs6: {code!r} appears twice; expected unique codes")
        if row["stage"] not in STAGES:
            raise TradeDataError(
                f"{name} row {i}, column stage: {row['stage']!r}; expected one of {sorted(STAGES)}"
            )
        slugs = row["material"].split(SHARED_SEPARATOR)
        if not all(s and s == s.strip().lower() for s in slugs):
            raise TradeDataError(
                f"{name} row {i}, column material: {row['material']!r}; expected lowercase slugs, '|'-joined"
            )
        out[code] = HS6Entry(code, row["description"], row["material"], row["stage"], row["note"])
    return out


@cache
def hs6_table() -> dict[str, HS6Entry]:
    """The bundled HS6 -> (material, stage) table, keyed by 6-digit code."""
    text = resources.files("critmin.data").joinpath("hs6_materials.csv").read_text(encoding="utf-8")
    return parse_hs6_table(text)


def _country_map(codes: pd.Series, file: str, column: str, rows: pd.Index) -> dict[str, str | None]:
    """Code -> ISO3 (None = dropped by rule); raises naming the first row of an unmapped code."""
    out: dict[str, str | None] = {}
    for code in codes.unique():
        try:
            ref = resolve(str(code), "baci")
        except UnmappedCountryError as err:
            row = int(rows[(codes == code).to_numpy()][0]) + 2
            raise TradeDataError(f"{file} row {row}, column {column}: {code!r}; {err}") from err
        if ref.kind == "country":
            out[str(code)] = ref.code
        elif ref.kind in _DROPPED_KINDS:
            out[str(code)] = None
        else:
            row = int(rows[(codes == code).to_numpy()][0]) + 2
            raise TradeDataError(
                f"{file} row {row}, column {column}: {code!r} is a {ref.kind} row ({ref.code}); "
                "expected one country, a former state or a BACI aggregate"
            )
    return out


def _tonnes(df: pd.DataFrame, file: str) -> pd.Series:
    """The optional ``tonnes`` column: empty -> NaN, otherwise a number >= 0 (NaN when absent)."""
    if "tonnes" not in df.columns:
        return pd.Series(np.nan, index=df.index, dtype="float64")
    text = df["tonnes"].str.strip()
    t = pd.to_numeric(text.where(text != ""), errors="coerce")
    bad = (t.isna() & (text != "")) | (t < 0)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise TradeDataError(
            f"{file} row {i + 2}, column tonnes: {df['tonnes'].iloc[i]!r}; expected a number >= 0 or empty"
        )
    return t.astype("float64")


def read_baci_file(text: str, file: str, table: dict[str, HS6Entry]) -> tuple[pd.DataFrame, int]:
    """One BACI CSV -> (tidy rows, number of rows dropped by the former/aggregate rule)."""
    df = pd.read_csv(
        StringIO(text),
        dtype={
            "exporter_iso3": str,
            "importer_iso3": str,
            "hs6": str,
            "year": str,
            "value_usd": str,
            "tonnes": str,
        },
        keep_default_na=False,
    )
    missing = [c for c in _RAW_COLUMNS if c not in df.columns]
    if missing:
        raise TradeDataError(f"{file}: missing columns {missing}; expected {_RAW_COLUMNS}")
    values = pd.to_numeric(df["value_usd"], errors="coerce")
    bad = values.isna() | (values < 0)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise TradeDataError(
            f"{file} row {i + 2}, column value_usd: {df['value_usd'].iloc[i]!r}; expected a number >= 0"
        )
    tonnes = _tonnes(df, file)
    years = pd.to_numeric(df["year"], errors="coerce")
    if years.isna().any():
        i = int(np.flatnonzero(years.isna().to_numpy())[0])
        raise TradeDataError(f"{file} row {i + 2}, column year: {df['year'].iloc[i]!r}; expected a year")
    hs6 = df["hs6"].str.strip().str.zfill(6)
    unknown = ~hs6.isin(table.keys())
    if unknown.any():
        i = int(np.flatnonzero(unknown.to_numpy())[0])
        raise TradeDataError(
            f"{file} row {i + 2}, column hs6: {df['hs6'].iloc[i]!r}; expected a code listed in "
            "critmin/data/hs6_materials.csv"
        )
    exp_map = _country_map(df["exporter_iso3"], file, "exporter_iso3", df.index)
    imp_map = _country_map(df["importer_iso3"], file, "importer_iso3", df.index)
    exporter = df["exporter_iso3"].map(exp_map)
    importer = df["importer_iso3"].map(imp_map)
    keep = exporter.notna() & importer.notna()
    out = pd.DataFrame(
        {
            "year": years.astype("int64"),
            "exporter": exporter.astype(object),
            "importer": importer.astype(object),
            "hs6": hs6,
            "material": hs6.map({k: v.material for k, v in table.items()}),
            "stage": hs6.map({k: v.stage for k, v in table.items()}),
            "value_usd": values.astype("float64"),
            "tonnes": tonnes,
        }
    )[keep.to_numpy()]
    return out.reset_index(drop=True), int((~keep).sum())


def _baci_files(raw: Traversable, folder_name: str, suffix: str) -> dict[str, Traversable]:
    """``{year text: file}`` of the BACI extracts named ``<prefix><year><suffix>`` in one folder."""
    folder = raw.joinpath(folder_name)
    if not folder.is_dir():
        return {}
    out = {}
    for e in folder.iterdir():
        if e.name.startswith(_BACI_PREFIX) and e.name.endswith(suffix):
            year = e.name[len(_BACI_PREFIX) : -len(suffix)]
            if year.isdigit():
                out[year] = e
    return out


def build_trade(raw: Traversable) -> pd.DataFrame:
    """Tidy BACI trade (:data:`TRADE_COLUMNS`) from ``cepii_baci`` and ``cepii_baci_q`` under ``raw``."""
    values = _baci_files(raw, _BACI_DIR, ".csv")
    quantities = _baci_files(raw, _BACI_Q_DIR, "_q.csv")
    if not values:
        raise TradeDataError(f"{_BACI_DIR}/: no files named {_BACI_PREFIX}<year>.csv; expected BACI extracts")
    table = hs6_table()
    frames: list[pd.DataFrame] = []
    dropped = 0
    for year in sorted(values):
        name = f"{_BACI_DIR}/{values[year].name}"
        df, n = read_baci_file(values[year].read_text(encoding="utf-8"), name, table)
        if year in quantities:
            qname = f"{_BACI_Q_DIR}/{quantities[year].name}"
            qdf, _ = read_baci_file(quantities[year].read_text(encoding="utf-8"), qname, table)
            keys = ["exporter", "importer", "hs6"]
            a = df.sort_values(keys).reset_index(drop=True)
            b = qdf.sort_values(keys).reset_index(drop=True)
            same = len(a) == len(b) and a[keys].equals(b[keys])
            if not same or not np.allclose(a["value_usd"], b["value_usd"], rtol=1e-9, atol=0.0):
                raise TradeDataError(
                    f"{qname}: its (exporter, importer, hs6, value_usd) rows differ from {name}; "
                    "expected the same flows with tonnes added"
                )
            df = qdf
        frames.append(df)
        dropped += n
    out = pd.concat(frames, ignore_index=True)
    out = out.astype({"exporter": str, "importer": str, "hs6": str, "material": str, "stage": str})
    out.attrs["dropped"] = dropped
    out.attrs["source"] = "baci-hs17-v202601"
    return out[TRADE_COLUMNS]
