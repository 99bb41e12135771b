"""Parse USGS Mineral Commodity Summaries world-production tables into atlas rows.

MCS 2026 (long CSV) gives 2024 and 2025e; MCS 2025 (wide CSV, ``PROD_2023``) gives 2023. The rows taken
are those of :data:`critmin.data.usgs_selection.SELECTION`. Country rows and ``Other countries`` go to
production; ``World total`` rows go to world totals only.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from io import StringIO

import pandas as pd

from critmin.atlas.countries import resolve
from critmin.data.usgs_selection import SELECTION, UsgsRow
from critmin.data.valuetext import parse_value_text

MCS2026_FILE = "usgs_mcs2026/MCS2026_Commodities_Data.csv"
MCS2025_FILE = "usgs_mcs2025/MCS2025_World_Data.csv"
ED_2026 = "usgs-mcs2026"
ED_2025 = "usgs-mcs2025"

UNIT_TO_TONNES: dict[str, float] = {
    "metric tons": 1.0,
    "kilograms": 1e-3,
    "thousand metric tons": 1e3,
    "thousand metric dry tons": 1e3,
    "million metric tons": 1e6,
}


def long_format_files(raw: Traversable) -> list[tuple[str, str]]:
    """``(path, edition)`` of every MCS long-format release in ``raw``, oldest first
    (``usgs_mcsYYYY/MCSYYYY_Commodities_Data.csv``, MCS 2026 and later): a new release dropped into the
    folder is parsed without code edits."""
    out = []
    for d in raw.iterdir():
        m = re.fullmatch(r"usgs_mcs(20\d\d)", d.name)
        if m and d.is_dir() and d.joinpath(f"MCS{m.group(1)}_Commodities_Data.csv").is_file():
            out.append((f"{d.name}/MCS{m.group(1)}_Commodities_Data.csv", f"usgs-mcs{m.group(1)}"))
    return sorted(out)


class UsgsDataError(ValueError):
    """A USGS row the parser cannot take as documented (file, row, column, value, expectation)."""


@dataclass(frozen=True)
class Parsed:
    """Production rows and world-total rows from one file."""

    production: pd.DataFrame
    world_totals: pd.DataFrame


def tonnes_factor(unit: str, where: str) -> float:
    """Multiplier from a USGS unit text to metric tonnes."""
    u = unit.strip()
    if u not in UNIT_TO_TONNES:
        raise UsgsDataError(f"{where}, column unit: {unit!r}; expected one of {sorted(UNIT_TO_TONNES)}")
    return UNIT_TO_TONNES[u]


def _flag(parse_flag: str, estimated: bool) -> str:
    if parse_flag in ("number", "zero"):
        return "estimated" if estimated else "observed"
    return parse_flag


def _row(
    sel: UsgsRow,
    year: int,
    country: str,
    value_text: str,
    unit: str,
    estimated: bool,
    edition: str,
    where: str,
) -> tuple[str, dict[str, object]]:
    ref = resolve(country, "usgs")
    pv = parse_value_text(value_text)
    factor = tonnes_factor(unit, where)
    tonnes = pv.value * factor if pv.is_number else math.nan
    base: dict[str, object] = {
        "material": sel.material,
        "stage": sel.stage,
        "year": year,
        "tonnes": tonnes,
        "source": "usgs",
        "edition": edition,
        "value_text": value_text,
    }
    if ref.kind == "world":
        return "world", base
    if ref.kind not in ("country", "other", "combined"):
        raise UsgsDataError(f"{where}, column country: {country!r} is a {ref.kind} row; expected a country")
    base.update(
        iso3=ref.code,
        flag=_flag(pv.flag, estimated),
        primary=False,
        unit_text=unit.strip(),
        basis=sel.basis,
    )
    return "production", base


def _frames(rows: Iterable[tuple[str, dict[str, object]]]) -> Parsed:
    prod: list[dict[str, object]] = []
    world: list[dict[str, object]] = []
    for kind, r in rows:
        (world if kind == "world" else prod).append(r)
    return Parsed(pd.DataFrame(prod), pd.DataFrame(world))


def _is_total_detail(detail: str, sel: UsgsRow) -> bool:
    d = detail.casefold()
    base = sel.detail.casefold()
    return d in (f"{base}: rounded", f"{base}, rounded")


def parse_mcs2026(raw: Traversable) -> Parsed:
    """World production rows of the selection from every MCS long-format release (MCS 2026: 2024, 2025e)."""
    parts = [_parse_long(raw, path, edition) for path, edition in long_format_files(raw)]
    return Parsed(
        pd.concat([p.production for p in parts], ignore_index=True),
        pd.concat([p.world_totals for p in parts], ignore_index=True),
    )


def _parse_long(raw: Traversable, path: str, edition: str) -> Parsed:
    text = raw.joinpath(path).read_text(encoding="utf-8")
    df = pd.read_csv(StringIO(text), dtype=str, keep_default_na=False)
    df = df[df["Section"].str.startswith("World") & (df["Statistics"] == "Production")]
    rows = []
    for sel in SELECTION:
        chap = df[df["MCS chapter"] == sel.chapter]
        for i, r in chap.iterrows():
            country = r["Country"]
            is_total = country.startswith("World total")
            if not (
                (not is_total and r["Statistics_detail"] == sel.detail)
                or (is_total and _is_total_detail(r["Statistics_detail"], sel))
            ):
                continue
            where = f"{path} row {int(str(i)) + 2}"
            year = int(r["Year"])
            estimated = r["Notes"].startswith("Estimated")
            rows.append(_row(sel, year, country, r["Value"], r["Unit"], estimated, edition, where))
    return _frames(rows)


def parse_mcs2025(raw: Traversable) -> Parsed:
    """2023 world production rows of the selection from the MCS 2025 wide CSV (``PROD_2023``)."""
    text = raw.joinpath(MCS2025_FILE).read_text(encoding="utf-8")
    df = pd.read_csv(StringIO(text), dtype=str, keep_default_na=False)
    df["_commodity"] = df["COMMODITY"].str.strip()
    df["_type"] = df["TYPE"].str.strip()
    rows = []
    for sel in SELECTION:
        if sel.mcs2025_type is None:
            continue
        part = df[(df["_commodity"] == sel.mcs2025_commodity) & (df["_type"] == sel.mcs2025_type)]
        totals = part[part["COUNTRY"].str.strip().str.startswith("World total")]
        if len(totals) > 1:
            raise UsgsDataError(
                f"{MCS2025_FILE}: {sel.mcs2025_commodity} / {sel.mcs2025_type} has {len(totals)} "
                "world-total rows; expected one"
            )
        for i, r in part.iterrows():
            value = r["PROD_2023"]
            if value.strip() == "":
                continue  # no 2023 figure published for this row (e.g. a reserves-only country)
            where = f"{MCS2025_FILE} row {int(str(i)) + 2}"
            estimated = "estimat" in (r["TYPE"] + " " + r["PROD_NOTES"]).casefold()
            rows.append(_row(sel, 2023, r["COUNTRY"], value, r["UNIT_MEAS"], estimated, ED_2025, where))
    return _frames(rows)


#: MCS 2025's estimate column for 2024, the year MCS 2026 publishes again (``critmin.analytics.revisions``)
MCS2025_EST_COLUMN = "PROD_EST_ 2024"
MCS2025_EST_YEAR = 2024


def parse_mcs2025_estimates(raw: Traversable) -> pd.DataFrame:
    """MCS 2025's world totals for 2024 (estimates, ``PROD_EST_ 2024``) of the selection: table
    ``world_estimates`` (material, stage, year, tonnes, source, edition, value_text), numbers only."""
    text = raw.joinpath(MCS2025_FILE).read_text(encoding="utf-8")
    df = pd.read_csv(StringIO(text), dtype=str, keep_default_na=False)
    world = df[df["COUNTRY"].str.strip().str.startswith("World total")]
    rows = []
    for sel in SELECTION:
        if sel.mcs2025_type is None:
            continue
        hit = world[
            (world["COMMODITY"].str.strip() == sel.mcs2025_commodity)
            & (world["TYPE"].str.strip() == sel.mcs2025_type)
        ]
        for i, r in hit.iterrows():
            value = r[MCS2025_EST_COLUMN]
            pv = parse_value_text(value)
            if pv.is_number:
                where = f"{MCS2025_FILE} row {int(str(i)) + 2}"
                rows.append(
                    {
                        "material": sel.material,
                        "stage": sel.stage,
                        "year": MCS2025_EST_YEAR,
                        "tonnes": pv.value * tonnes_factor(r["UNIT_MEAS"], where),
                        "source": "usgs",
                        "edition": ED_2025,
                        "value_text": value,
                    }
                )
    return pd.DataFrame(
        rows, columns=["material", "stage", "year", "tonnes", "source", "edition", "value_text"]
    )
