"""Validate a user's own production or trade CSV before it joins the atlas.

Production file columns (one row per material, stage, country and year)::

    material,stage,country,year,quantity,unit,basis
    lithium,mine,Australia,2024,88000,t,lithium content

* ``material``: a slug of ``critmin/data/materials.csv``; ``stage``: ``mine``, ``refine`` or ``magnet``;
* ``country``: an ISO3 code or a spelling the alias table knows (one country, not a group or "Other");
* ``year``: an integer year 1900-2100; ``quantity``: a number >= 0;
* ``unit``: a mass unit ``t``, ``kg``, ``kt`` or ``Mt`` of contained content, and ``basis``: the material's
  content basis exactly as in the registry (``lithium content``, not ``LCE``) -- a quantity on another basis
  (gross weight, carbonate equivalent, a volume, a value) is rejected, never converted by guess.

Trade file columns: ``year,exporter,importer,material,stage,value_usd`` (``value_usd`` >= 0).

Every bad cell is reported (file, row, column, value, what was expected) in one :class:`UserDataError`;
if there is any, nothing from the file is returned.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from critmin.atlas.countries import UnmappedCountryError, resolve
from critmin.atlas.schema import COLUMNS, STAGES

PRODUCTION_COLUMNS = ["material", "stage", "country", "year", "quantity", "unit", "basis"]
TRADE_COLUMNS = ["year", "exporter", "importer", "material", "stage", "value_usd"]
MASS_UNITS: dict[str, float] = {"t": 1.0, "kg": 1e-3, "kt": 1e3, "Mt": 1e6}


@dataclass(frozen=True)
class Problem:
    """One bad cell of a user file (``row`` is the line number in the file; the header is line 1)."""

    file: str
    row: int
    column: str
    value: str
    expected: str

    def __str__(self) -> str:
        return f"{self.file} row {self.row}, column {self.column}: {self.value!r}; expected {self.expected}"


class UserDataError(ValueError):
    """A user file with one or more bad cells; ``problems`` lists them all."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(
            f"{len(problems)} problem(s), nothing loaded:\n" + "\n".join(f"  {p}" for p in problems)
        )


def _registry() -> dict[str, tuple[str, set[str]]]:
    from importlib import resources

    from critmin.atlas.loader import read_table

    text = resources.files("critmin.data").joinpath("built", "materials.csv").read_text(encoding="utf-8")
    m = read_table(text, "materials")  # the built registry (the atlas never imports the build)
    return {str(r.slug): (str(r.basis), set(str(r.stages).split(";"))) for r in m.itertuples(index=False)}


def _country(value: str, file: str, row: int, column: str, problems: list[Problem]) -> str:
    try:
        ref = resolve(value, "user")
    except UnmappedCountryError:
        problems.append(
            Problem(file, row, column, value, "an ISO3 code or a country name in the alias table")
        )
        return ""
    if ref.kind != "country":
        problems.append(
            Problem(file, row, column, value, "a single country (not a world, other or combined row)")
        )
        return ""
    return ref.code


def _number(value: str, file: str, row: int, column: str, problems: list[Problem]) -> float:
    try:
        x = float(value.replace(",", "")) if value.strip() else math.nan
    except ValueError:
        x = math.nan
    if not math.isfinite(x) or x < 0:
        problems.append(Problem(file, row, column, value, "a finite number >= 0"))
        return math.nan
    return x


def _year(value: str, file: str, row: int, problems: list[Problem]) -> int:
    v = value.strip()
    if not v.isdigit() or not 1900 <= int(v) <= 2100:
        problems.append(Problem(file, row, "year", value, "an integer year between 1900 and 2100"))
        return 0
    return int(v)


def _material_stage(
    r: dict[Any, Any], file: str, row: int, reg: dict[str, tuple[str, set[str]]], problems: list[Problem]
) -> str | None:
    mat = r["material"].strip()
    if mat not in reg:
        problems.append(
            Problem(file, row, "material", r["material"], "a material slug of critmin/data/materials.csv")
        )
        mat_ok = None
    else:
        mat_ok = mat
    if r["stage"].strip() not in STAGES:
        problems.append(Problem(file, row, "stage", r["stage"], f"one of {', '.join(STAGES)}"))
    return mat_ok


def _production(df: pd.DataFrame, file: str) -> tuple[pd.DataFrame, list[Problem]]:
    reg = _registry()
    problems: list[Problem] = []
    out = []
    for i, r in enumerate(df.to_dict(orient="records")):
        row = i + 2
        mat = _material_stage(r, file, row, reg, problems)
        iso3 = _country(r["country"], file, row, "country", problems)
        year = _year(r["year"], file, row, problems)
        qty = _number(r["quantity"], file, row, "quantity", problems)
        unit = r["unit"].strip()
        if unit not in MASS_UNITS:
            problems.append(
                Problem(
                    file, row, "unit", r["unit"], f"a mass unit of contained content: {', '.join(MASS_UNITS)}"
                )
            )
        if mat is not None and r["basis"].strip().casefold() != reg[mat][0].casefold():
            problems.append(Problem(file, row, "basis", r["basis"], f"{reg[mat][0]!r} (the basis of {mat})"))
        if unit in MASS_UNITS and math.isfinite(qty):
            out.append(
                {
                    "material": mat,
                    "stage": r["stage"].strip(),
                    "iso3": iso3,
                    "year": year,
                    "tonnes": qty * MASS_UNITS[unit],
                    "flag": "observed",
                    "source": "user",
                    "edition": Path(file).name,
                    "primary": False,
                    "value_text": r["quantity"],
                    "unit_text": unit,
                    "basis": reg[mat][0] if mat is not None else r["basis"],
                }
            )
    return pd.DataFrame(out, columns=COLUMNS["production"]), problems


def _trade(df: pd.DataFrame, file: str) -> tuple[pd.DataFrame, list[Problem]]:
    reg = _registry()
    problems: list[Problem] = []
    out = []
    for i, r in enumerate(df.to_dict(orient="records")):
        row = i + 2
        mat = _material_stage(r, file, row, reg, problems)
        exp = _country(r["exporter"], file, row, "exporter", problems)
        imp = _country(r["importer"], file, row, "importer", problems)
        year = _year(r["year"], file, row, problems)
        val = _number(r["value_usd"], file, row, "value_usd", problems)
        out.append(
            {
                "year": year,
                "exporter": exp,
                "importer": imp,
                "hs6": "user",
                "material": mat,
                "stage": r["stage"].strip(),
                "value_usd": val,
            }
        )
    return pd.DataFrame(out, columns=COLUMNS["trade"]), problems


def load_user_csv(path: str | Path) -> pd.DataFrame:
    """Validate a production or trade CSV (kind chosen by its header) and return its rows in the atlas
    columns (``production`` or ``trade``; ``df.attrs['kind']`` says which). Raises :class:`UserDataError`
    listing every bad cell; nothing is returned then."""
    file = str(path)
    p = Path(path)
    if not p.is_file():
        raise UserDataError([Problem(file, 0, "-", "", "an existing CSV file")])
    try:
        df = pd.read_csv(p, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise UserDataError(
            [Problem(file, 1, "-", str(exc)[:80], "a UTF-8 CSV file with a header row")]
        ) from exc
    df.columns = [str(c).strip() for c in df.columns]
    kind = "trade" if "exporter" in df.columns or "importer" in df.columns else "production"
    need = TRADE_COLUMNS if kind == "trade" else PRODUCTION_COLUMNS
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise UserDataError(
            [
                Problem(file, 1, c, "", f"a column named {c!r} (a {kind} file has {', '.join(need)})")
                for c in missing
            ]
        )
    rows, problems = _trade(df, file) if kind == "trade" else _production(df, file)
    if problems:
        raise UserDataError(problems)
    rows.attrs["kind"] = kind
    return rows
