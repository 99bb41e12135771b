"""Parsers of the history sources: production by country before 2023 (see docs/methods/atlas.md, "History").

- USGS MCS 2022, 2023 and 2024 world tables (``usgs_mcs2022_2024/mcs2022_2024_world_tidy.csv``): the
  series of ``critmin/data/history_selection.csv`` (material, stage, commodity file, exact ``type``), with
  the content basis of the matching MCS 2026 series (:data:`critmin.data.usgs_selection.SELECTION`).
- USGS Minerals Yearbook 2022 table 8: rare-earth mine production by country 2018-2022 (t REO).
- USGS DS 140: world rare-earth production 1900-2020 (world totals only; no country split).
- Theler, Kauwe & Sparks (2020): a third-party transcription of the USGS Minerals Yearbook 1998-2015
  (source ``theler2020``, a secondary source, ranked below every USGS original); the elements of
  :data:`THELER_ELEMENTS` whose unit and basis match the atlas.
"""

from __future__ import annotations

import math
import re
from importlib import resources
from importlib.resources.abc import Traversable
from io import StringIO

import pandas as pd

from critmin.atlas.countries import CountryRef, UnmappedCountryError, resolve
from critmin.data.usgs import Parsed, UsgsDataError, tonnes_factor
from critmin.data.usgs_selection import SELECTION
from critmin.data.valuetext import ValueTextError, parse_value_text

MCS_TIDY_FILE = "usgs_mcs2022_2024/mcs2022_2024_world_tidy.csv"
MYB_T2_FILE = "usgs_rare_earths_ds140_myb2022/myb2022_T2_ree_composition_of_source_minerals.csv"
MYB_T8_FILE = "usgs_rare_earths_ds140_myb2022/myb2022_T8_ree_world_mine_production_2018_2022.csv"
DS140_FILE = "usgs_rare_earths_ds140_myb2022/ds140_rare_earths_1900_2020_tidy.csv"
THELER_FILE = "theler2020_usgs_myb_1998_2015/production_by_country_1998_2015.csv"
ED_MYB2022 = "usgs-myb2022"
ED_DS140 = "usgs-ds140"
ED_THELER = "theler2020"
SRC_THELER = "theler2020"

#: Theler element -> (material, stage, tonnes per published unit); units from the authors' notes file
THELER_ELEMENTS: dict[str, tuple[str, str, float]] = {
    "Rare Earths": ("rare-earths", "mine", 1.0),
    "W": ("tungsten", "mine", 1.0),
    "Co": ("cobalt", "mine", 1.0),
    "Sb": ("antimony", "mine", 1.0),
    "Pt": ("platinum", "mine", 1e-3),
    "Pd": ("palladium", "mine", 1e-3),
    "Mn": ("manganese", "mine", 1e3),
    "Ni": ("nickel", "mine", 1.0),
    "Mo": ("molybdenum", "mine", 1.0),
    "Nb": ("niobium", "mine", 1.0),
    "V": ("vanadium", "mine", 1.0),
    "Sn": ("tin", "mine", 1.0),
    "Ta": ("tantalum", "mine", 1.0),
    "Re": ("rhenium", "mine", 1e-3),
    "Au": ("gold", "mine", 1e-3),
    "Ag": ("silver", "mine", 1.0),
    "Hg": ("mercury", "mine", 1.0),
    "Cr": ("chromium", "mine", 1.0),  # the notes say thousand t; the figures are t (2015: 28,000,000)
    "Al": ("bauxite", "mine", 1e3),
    "Zn": ("zinc", "mine", 1.0),
}
_TEXT_FLAGS = {"included": "not_available", "less than ½ unit": "below_half_unit"}
_FOOTNOTE = re.compile(r"(?:,\s*\d+)+$|\d+$")


def _text(raw: Traversable, name: str) -> pd.DataFrame:
    return pd.read_csv(StringIO(raw.joinpath(name).read_text(encoding="utf-8-sig")), dtype=str,
                       keep_default_na=False)  # fmt: skip


def _basis() -> dict[tuple[str, str], str]:
    return {(s.material, s.stage): s.basis for s in SELECTION}


def history_selection() -> pd.DataFrame:
    """``critmin/data/history_selection.csv``: material, stage, commodity_slug, type (one row per type)."""
    text = resources.files("critmin.data").joinpath("history_selection.csv").read_text(encoding="utf-8")
    return pd.read_csv(StringIO(text), dtype=str, keep_default_na=False)


def resolve_name(name: str, source: str, where: str) -> CountryRef:
    """Resolve a country cell carrying footnote markers (``China3``, ``Indiae, 4``, ``Cubae``)."""
    raw = name.replace("\xa0", " ").strip().rstrip(":").strip()
    tries = [raw, _FOOTNOTE.sub("", raw).strip()]
    tries += [t[:-1] for t in tries if t.endswith("e")]
    for t in tries:
        try:
            return resolve(t, source)
        except UnmappedCountryError:
            continue
    raise UsgsDataError(f"{where}, column country: {name!r} is not a mapped country; expected a spelling "
                        "in critmin/data/country_aliases.csv")  # fmt: skip


def _value(text: str, where: str) -> tuple[float, str]:
    """``(number or NaN, flag)`` of a published cell (``e3,900`` = an estimate of 3,900)."""
    t = text.strip()
    estimated = bool(re.fullmatch(r"e[\d,.]+", t))
    try:
        pv = parse_value_text(t[1:] if estimated else t)
    except ValueTextError:
        low = t.casefold()
        flag = next((f for key, f in _TEXT_FLAGS.items() if low.startswith(key)), None)
        if flag is None:
            raise UsgsDataError(f"{where}: value {text!r}; expected a number or a documented code") from None
        return math.nan, flag
    if pv.is_number:
        return pv.value, "estimated" if estimated else "observed"
    return math.nan, pv.flag


def _append(prod: list[dict[str, object]], world: list[dict[str, object]], ref: CountryRef,
            base: dict[str, object], flag: str, unit: str, basis: str) -> None:  # fmt: skip
    if ref.kind == "world":
        world.append(base)
        return
    if ref.kind not in ("country", "other", "combined", "former"):
        raise UsgsDataError(f"{base['edition']}: {ref.code} is a {ref.kind} row; expected a country")
    prod.append({**base, "iso3": ref.code, "flag": flag, "primary": False, "unit_text": unit, "basis": basis})


def parse_mcs2022_2024(raw: Traversable) -> Parsed:
    """Production rows of the selected series from the MCS 2022-2024 world tables (years 2020-2023)."""
    df = _text(raw, MCS_TIDY_FILE)
    df = df[df["measure"] == "production"]
    sel = history_selection()
    basis = _basis()
    key = dict(zip(zip(sel["commodity_slug"], sel["type"].str.strip(), strict=True),
                   zip(sel["material"], sel["stage"], strict=True), strict=True))  # fmt: skip
    prod: list[dict[str, object]] = []
    world: list[dict[str, object]] = []
    for i, r in df.iterrows():
        hit = key.get((r["commodity_slug"], r["type"].strip()))
        if hit is None:
            continue
        where = f"{MCS_TIDY_FILE} row {int(str(i)) + 2}"
        material, stage = hit
        value, flag = _value(r["value_text"], where)
        if flag == "observed" and "est" in r["column"].casefold():
            flag = "estimated"
        tonnes = value * tonnes_factor(r["unit"], where) if math.isfinite(value) else math.nan
        edition = f"usgs-{r['edition'].casefold()}"
        base: dict[str, object] = {"material": material, "stage": stage, "year": int(r["year"]),
                                   "tonnes": tonnes, "source": "usgs", "edition": edition,
                                   "value_text": r["value_text"]}  # fmt: skip
        ref = resolve_name(r["country"], "usgs", where)
        _append(prod, world, ref, base, flag, r["unit"].strip(), basis[(material, stage)])
    return Parsed(pd.DataFrame(prod), pd.DataFrame(world))


def parse_myb2022_t8(raw: Traversable) -> Parsed:
    """Rare-earth mine production by country 2018-2022 (t REO), USGS Minerals Yearbook 2022 table 8."""
    df = _text(raw, MYB_T8_FILE)
    prod: list[dict[str, object]] = []
    world: list[dict[str, object]] = []
    for i, r in df.iterrows():
        where = f"{MYB_T8_FILE} row {int(str(i)) + 2}"
        value, flag = _value(r["value_text"], where)
        if flag == "observed" and r["marker"].strip() == "e":
            flag = "estimated"
        base: dict[str, object] = {"material": "rare-earths", "stage": "mine", "year": int(r["year"]),
                                   "tonnes": value, "source": "usgs", "edition": ED_MYB2022,
                                   "value_text": r["value_text"]}  # fmt: skip
        ref = resolve_name(r["country_as_published"], "usgs", where)
        _append(prod, world, ref, base, flag, "metric tons", "rare-earth-oxide (REO) equivalent")
    return Parsed(pd.DataFrame(prod), pd.DataFrame(world))


def parse_ds140_world(raw: Traversable) -> pd.DataFrame:
    """World rare-earth production 1900-2020 (t REO), USGS DS 140: world totals only."""
    df = _text(raw, DS140_FILE)
    df = df[df["series"] == "World production"]
    rows = []
    for i, r in df.iterrows():
        value, _flag = _value(r["value"], f"{DS140_FILE} row {int(str(i)) + 2}")
        rows.append({"material": "rare-earths", "stage": "mine", "year": int(r["year"]), "tonnes": value,
                     "source": "usgs", "edition": ED_DS140, "value_text": r["value"]})  # fmt: skip
    return pd.DataFrame(rows)


def _float_text(text: str) -> str:
    """The file's float rendering of an integer (``126000.0``) back to the integer text."""
    t = text.strip()
    return t[:-2] if re.fullmatch(r"\d+\.0", t) else t


def parse_theler(raw: Traversable) -> Parsed:
    """Production by country 1998-2015 of :data:`THELER_ELEMENTS` (secondary source ``theler2020``);
    the world total is the ``total_world_production`` cell of each element-year."""
    df = _text(raw, THELER_FILE)
    df = df[df["element"].isin(THELER_ELEMENTS)]
    basis = _basis()
    prod: list[dict[str, object]] = []
    world: list[dict[str, object]] = []
    for i, r in df.iterrows():
        where = f"{THELER_FILE} row {int(str(i)) + 2}"
        material, stage, factor = THELER_ELEMENTS[r["element"]]
        common = {"material": material, "stage": stage, "year": int(r["year"]), "source": SRC_THELER,
                  "edition": ED_THELER}  # fmt: skip
        total = _float_text(r["total_world_production"])
        if total:
            value, _ = _value(total, where)
            world.append({**common, "tonnes": value * factor, "value_text": total})
        text = _float_text(r["production"])
        if not text:
            continue  # a listed country without a figure for the year
        value, flag = _value(text, where)
        ref = resolve_name(r["country"], "theler", where)
        base = {**common, "tonnes": value * factor, "value_text": text}
        unit = {1.0: "metric tons", 1e-3: "kilograms", 1e3: "thousand metric tons"}[factor]
        _append(prod, world, ref, base, flag, unit, basis[(material, stage)])
    return Parsed(pd.DataFrame(prod), pd.DataFrame(world))
