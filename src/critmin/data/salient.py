"""US salient statistics of USGS MCS 2026: net import reliance, import sources 2021-24 and prices.

Each atlas material takes the rows of its ``usgs_chapter`` (``materials.csv``); where a chapter has several
series, :data:`NIR_PICK`, :data:`IMPORT_PICK` and :data:`PRICE_PICK` name the one(s) that belong to the
material (substring of ``Statistics_detail``). Materials in :data:`NOT_FROM_CHAPTER` are defined by another
source (IEA) or derived, so the chapter's US figures are not attached to them. See docs/methods/atlas.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources.abc import Traversable
from io import StringIO

import pandas as pd

from critmin.atlas.countries import resolve
from critmin.data.usgs import long_format_files
from critmin.data.valuetext import parse_value_text

MCS2026_FILE = "usgs_mcs2026/MCS2026_Commodities_Data.csv"
HEAVY_REE = "RARE EARTHS (Heavy)"

NOT_FROM_CHAPTER: frozenset[str] = frozenset(
    {"battery-graphite", "magnet-rare-earths", "platinum-group-metals"}
)

# materials sharing a chapter with another commodity: the ``Commodity`` column value (case-insensitive)
COMMODITY_PICK: dict[str, str] = {
    "bauxite": "Bauxite",
    "alumina": "Alumina",
    "titanium-sponge": "Titanium sponge metal",
    "rhodium": "Rhodium",
    **{
        slug: slug.capitalize()
        for slug in (
            "lanthanum",
            "cerium",
            "praseodymium",
            "neodymium",
            "samarium",
            "europium",
            "gadolinium",
            "terbium",
            "dysprosium",
            "holmium",
            "erbium",
            "thulium",
            "ytterbium",
            "lutetium",
        )
    },
}

NIR_PICK: dict[str, str] = {
    "palladium": ": Palladium",
    "platinum": ": Platinum",
    "rare-earths": ": Compounds and metals",
    "ferrosilicon": ": Ferrosilicon",
    "silicon-metal": ": Silicon metal",
    "zinc": ": Ores and concentrates",
    "zirconium": ": Zirconium ores",
}

IMPORT_PICK: dict[str, str] = {
    "antimony": "Total metal and oxide",
    "arsenic": "All forms of arsenic",
    "bauxite": "Bauxite",
    "alumina": "Alumina",
    "chromium": "Total imports",
    "copper": "Refined copper",
    "germanium": "Combined total",
    "gold": "Total",
    "magnesium": "Combined total",
    "manganese": "Manganese contained in principal manganese imports",
    "molybdenum": "Total",
    "nickel": "Primary nickel",
    "niobium": "Total imports",
    "palladium": "Palladium",
    "platinum": "Platinum",
    "rhenium": "Total imports",
    "selenium": "Selenium",
    "ferrosilicon": "Ferrosilicon",
    "silicon-metal": "Silicon metal",
    "strontium": "Total imports",
    "tantalum": "Total",
    "tin": "Refined tin",
    "titanium-sponge": "Titanium Sponge Metal",
    "vanadium": "Total",
    "zinc": "Ores and concentrates",
    "zirconium": "Zirconium ores and concentrates",
}

# material -> substrings of Statistics_detail (any matches); materials absent here take every price series
PRICE_PICK: dict[str, tuple[str, ...]] = {
    "palladium": (": Palladium",),
    "platinum": (": Platinum",),
    "ferrosilicon": (": Ferrosilicon",),
    "silicon-metal": (": Silicon metal",),
    "ilmenite": (": Ilmenite",),
    "rutile": (": Rutile",),
    "zirconium": ("Zircon,",),
    "titanium-sponge": ("Price, dollars per kilogram",),
    "magnet-rare-earths": (
        "Neodymium oxide",
        "Praseodymium oxide",
        "Neodymium-praseodymium (NdPr) oxide",
        "Dysprosium oxide",
        "Terbium oxide",
    ),
}
PRICE_CHAPTERS: dict[str, tuple[str, ...]] = {"magnet-rare-earths": ("RARE EARTHS", HEAVY_REE)}

PRICE_COLUMNS = ("material", "year", "usd_per_t", "series", "unit_text", "source", "basis")
TROY_OUNCE_KG = 0.0311034768
POUND_KG = 0.45359237
SHORT_TON_T = 0.90718474
#: USD per unit -> USD per metric tonne; units not listed (per carat, per dry metric ton unit, 'per ton' of
#: unstated kind, per N grams of a chemical) are not converted and their series are left out
PRICE_UNIT_TO_USD_PER_T: dict[str, float] = {
    "dollars per metric ton": 1.0,
    "dollars per kilogram": 1e3,
    "dollars per gram": 1e6,
    "dollars per pound": 1e3 / POUND_KG,
    "cents per pound": 1e3 / POUND_KG / 100.0,
    "dollars per troy ounce": 1e3 / TROY_OUNCE_KG,
    "dollars per short ton": 1.0 / SHORT_TON_T,
}


@dataclass(frozen=True)
class UnitRule:
    """A per-material conversion of a price unit the general table leaves out (see docs/methods/atlas.md).

    ``factor`` turns the published value into USD per tonne of the atlas basis; ``note_must_contain`` is
    the statement of the factor in the row's notes, checked so that a new edition with another factor fails
    the build instead of being converted wrongly."""

    unit: str
    factor: float
    basis: str
    how: str
    note_must_contain: str = ""


#: tungsten: USD per dry metric ton unit (10 kg) of WO3 -> USD per t W, with the note's 7.93 kg W per mtu;
#: manganese: USD per metric ton unit (10 kg) of Mn content -> USD per t Mn (x100); strontium: "dollars per
#: ton" (metric: "Data in metric tons" in the chapter header) of celestite -> USD per t of strontium content
#: with the chapter's own 43.88% Sr in celestite (note of its import rows)
UNIT_RULES: dict[str, UnitRule] = {
    "tungsten": UnitRule(
        "dollars per dry metric ton unit",
        1e3 / 7.93,
        "converted",
        "converted to USD per t of tungsten content: 1 mtu WO3 = 7.93 kg W (row note)",
        "7.93 kilograms of tungsten",
    ),
    "manganese": UnitRule(
        "dollars per metric ton",
        100.0,
        "converted",
        "converted to USD per t of manganese content: 1 metric ton unit = 10 kg Mn",
        "manganese content",
    ),
    "strontium": UnitRule(
        "dollars per ton",
        1.0 / 0.4388,
        "converted",
        "converted to USD per t of strontium content: celestite is 43.88% Sr (chapter note)",
    ),
}
#: materials valued at another material's series: material -> (chapter, detail substring, basis, how)
PRICE_PROXY: dict[str, tuple[str, str, str, str]] = {
    "battery-graphite": (
        "GRAPHITE (NATURAL)",
        ": Flake",
        "proxy",
        "flake natural graphite (the feedstock of battery-grade spherical graphite): a lower bound",
    ),
}


class SalientDataError(ValueError):
    """A salient-statistics row the build cannot take as documented."""


def newest_release(raw: Traversable) -> tuple[str, str]:
    """``(path, edition)`` of the newest MCS long-format release: its salient statistics are used."""
    files = long_format_files(raw)
    if not files:
        raise SalientDataError(f"no MCS long-format release (e.g. {MCS2026_FILE}) in the raw folder")
    return files[-1]


def _read(raw: Traversable) -> pd.DataFrame:
    text = raw.joinpath(newest_release(raw)[0]).read_text(encoding="utf-8")
    return pd.read_csv(StringIO(text), dtype=str, keep_default_na=False)


def _usgs_materials(materials: pd.DataFrame) -> list[tuple[str, str]]:
    return [
        (str(r.slug), str(r.usgs_chapter))
        for r in materials.itertuples(index=False)
        if str(r.slug) not in NOT_FROM_CHAPTER
    ]


def _of_material(rows: pd.DataFrame, material: str, chapters: tuple[str, ...]) -> pd.DataFrame:
    sel = rows[rows["MCS chapter"].isin(chapters)]
    if material in COMMODITY_PICK:
        sel = sel[sel["Commodity"].str.casefold() == COMMODITY_PICK[material].casefold()]
    return sel


def _pick(rows: pd.DataFrame, material: str, picks: dict[str, str], what: str) -> pd.DataFrame:
    details = sorted(set(rows["Statistics_detail"]))
    if material in picks:
        chosen = [d for d in details if d == picks[material]] or [d for d in details if picks[material] in d]
        if len(chosen) != 1:
            raise SalientDataError(
                f"{MCS2026_FILE}: {what} of {material!r}: pick {picks[material]!r} matches {chosen}; "
                f"expected one of {details}"
            )
        return rows[rows["Statistics_detail"] == chosen[0]]
    if len(details) > 1:
        raise SalientDataError(
            f"{MCS2026_FILE}: {what} of {material!r} has several series {details}; "
            "expected a pick in salient.py"
        )
    return rows


def build_us_nir(raw: Traversable, materials: pd.DataFrame) -> pd.DataFrame:
    """US net import reliance (% of apparent consumption), 2021-2025, one series per material."""
    df = _read(raw)
    nir = df[df["Statistics"] == "Net import reliance"]
    out = []
    for material, chapter in _usgs_materials(materials):
        rows = _of_material(nir, material, (chapter,))
        if rows.empty:
            continue
        for _, r in _pick(rows, material, NIR_PICK, "net import reliance").iterrows():
            pv = parse_value_text(r["Value"])
            flag = pv.flag
            if pv.is_number:
                flag = "estimated" if r["Notes"].startswith("Estimated") else "observed"
            out.append(
                {
                    "material": material,
                    "year": int(r["Year"]),
                    "nir_pct": pv.value,
                    "flag": flag,
                    "value_text": r["Value"],
                }
            )
    res = pd.DataFrame(out, columns=["material", "year", "nir_pct", "flag", "value_text"])
    dup = res.duplicated(["material", "year"], keep=False)
    if dup.any():
        raise SalientDataError(
            f"net import reliance: two rows for {res[dup].iloc[0].to_dict()}; expected one"
        )
    return res


def build_import_sources(raw: Traversable, materials: pd.DataFrame) -> pd.DataFrame:
    """US import sources, 2021-24 average share of imports by country (fraction; ``OTH`` = others)."""
    df = _read(raw)
    imp = df[df["Section"] == "Import Sources"]
    out = []
    for material, chapter in _usgs_materials(materials):
        rows = _of_material(imp, material, (chapter,))
        if rows.empty:
            continue
        for i, r in _pick(rows, material, IMPORT_PICK, "import sources").iterrows():
            where = f"{MCS2026_FILE} row {int(str(i)) + 2}"
            pv = parse_value_text(r["Value"])
            if not (pv.is_number or pv.flag == "bound"):
                raise SalientDataError(f"{where}, column Value: {r['Value']!r}; expected a percentage")
            ref = resolve(r["Country"], "usgs")
            # a bound such as '<1' stays NaN: the share is not published
            out.append({"material": material, "iso3": ref.code, "share": pv.value / 100.0})
    res = pd.DataFrame(out, columns=["material", "iso3", "share"])
    dup = res.duplicated(["material", "iso3"], keep=False)
    if dup.any():
        raise SalientDataError(f"import sources: two rows for {res[dup].iloc[0].to_dict()}; expected one")
    return res


def _price_factor(material: str, r: pd.Series) -> tuple[float, str, str] | None:
    """``(factor to USD/t, basis, how)`` of a price row, or ``None`` when its unit is not convertible."""
    unit = r["Unit"].strip()
    rule = UNIT_RULES.get(material)
    if rule is not None and unit == rule.unit:
        if rule.note_must_contain and rule.note_must_contain not in r["Notes"] + r["Statistics_detail"]:
            raise SalientDataError(
                f"{MCS2026_FILE}: price of {material!r} ({r['Year']}): notes {r['Notes']!r} do not state "
                f"{rule.note_must_contain!r}; expected the documented conversion"
            )
        return rule.factor, rule.basis, rule.how
    if unit not in PRICE_UNIT_TO_USD_PER_T or "ton unit" in r["Statistics_detail"]:
        return None  # not convertible (a 'ton unit' detail under a 'per metric ton' unit needs a rule)
    return PRICE_UNIT_TO_USD_PER_T[unit], "published", ""


def build_prices(raw: Traversable, materials: pd.DataFrame, known: set[str]) -> pd.DataFrame:
    """US annual prices converted to USD per metric tonne (original unit kept in ``unit_text``).

    ``basis``: ``published`` (unit conversion only), ``converted`` (per unit of a compound -> per tonne of
    content, :data:`UNIT_RULES`), ``proxy`` (another grade's series, :data:`PRICE_PROXY`)."""
    df = _read(raw)
    edition = newest_release(raw)[1]
    price = df[df["Statistics"] == "Price"]
    out = []
    todo = [*_usgs_materials(materials), ("magnet-rare-earths", ""), *((m, "") for m in PRICE_PROXY)]
    for material, chapter in todo:
        if material not in known:
            continue
        proxy = PRICE_PROXY.get(material)
        chapters = (proxy[0],) if proxy else PRICE_CHAPTERS.get(material, (chapter,))
        if proxy:
            rows = price[price["MCS chapter"].isin(chapters)]
            rows = rows[rows["Statistics_detail"].str.contains(proxy[1], regex=False)]
        else:
            rows = _of_material(price, material, chapters)
        if material in PRICE_PICK:
            keep = rows["Statistics_detail"].map(lambda d, m=material: any(s in d for s in PRICE_PICK[m]))
            rows = rows[keep]
        for _, r in rows.iterrows():
            conv = _price_factor(material, r)
            pv = parse_value_text(r["Value"])
            if conv is None or not pv.is_number:
                continue
            factor, basis, how = (conv[0], proxy[2], proxy[3]) if proxy else conv
            series = f"{r['MCS chapter']}: {r['Statistics_detail']}"
            out.append(
                {
                    "material": material,
                    "year": int(r["Year"]),
                    "usd_per_t": float(f"{pv.value * factor:.12g}"),
                    "series": f"{series} [{how}]" if how else series,
                    "unit_text": r["Unit"].strip(),
                    "source": edition,
                    "basis": basis,
                }
            )
    return pd.DataFrame(out, columns=[*PRICE_COLUMNS])
