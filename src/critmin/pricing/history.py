"""Price histories in USD per metric tonne: USGS annual prices (atlas ``prices``), World Bank Pink Sheet
monthly prices, the NdPr oxide series and user-supplied monthly series.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from critmin.atlas.prices import reference_series
from critmin.parameters import ParameterSet

PINKSHEET_FILE = "worldbank_pinksheet/pinksheet_monthly_metals_nominal_usd.csv"
NO_QUOTE = "…"
TROY_OUNCE_T = 0.0311034768e-3  # tonnes per troy ounce
#: Pink Sheet commodity -> (material slug, factor from the quoted unit to USD/t); iron ore ($/dmtu) left out
PINKSHEET_MATERIALS: dict[str, tuple[str, float]] = {
    "Aluminum": ("aluminum", 1.0),
    "Copper": ("copper", 1.0),
    "Lead": ("lead", 1.0),
    "Tin": ("tin", 1.0),
    "Nickel": ("nickel", 1.0),
    "Zinc": ("zinc", 1.0),
    "Gold": ("gold", 1.0 / TROY_OUNCE_T),
    "Silver": ("silver", 1.0 / TROY_OUNCE_T),
    "Platinum": ("platinum", 1.0 / TROY_OUNCE_T),
    "Phosphate rock": ("phosphate-rock", 1.0),
    "Potassium chloride **": ("potash", 1.0),
}
#: materials pricing knows beyond the atlas materials table
PRICING_MATERIALS = frozenset({"ndpr-oxide"})
ND_OXIDE = "Neodymium oxide"
PR_OXIDE = "Praseodymium oxide"
NDPR_OXIDE = "Neodymium-praseodymium (NdPr) oxide"


class PriceSeriesError(ValueError):
    """A price series that cannot be read: file, row, column, value, expected."""


@dataclass(frozen=True)
class PriceHistory:
    """A price series in USD/t: ``values`` indexed by year (annual) or month start (monthly)."""

    material: str
    values: pd.Series
    frequency: str  # "annual" or "monthly"
    source: str
    series: str


def known_materials() -> set[str]:
    """Material slugs accepted in pricing files: the atlas materials plus :data:`PRICING_MATERIALS`."""
    text = resources.files("critmin.data").joinpath("materials.csv").read_text(encoding="utf-8")
    return {r["slug"] for r in csv.DictReader(io.StringIO(text))} | set(PRICING_MATERIALS)


def atlas_prices() -> pd.DataFrame:
    """The atlas ``prices`` table (USGS annual US prices in USD/t)."""
    from critmin.atlas.loader import load_atlas

    return load_atlas().prices


def _series_rows(prices: pd.DataFrame, needle: str) -> pd.Series:
    rows = prices[prices["series"].str.contains(needle, regex=False)]
    rows = rows.drop_duplicates(["year"])
    if rows.empty:
        raise PriceSeriesError(f"atlas prices: no series containing {needle!r}")
    return rows.set_index("year")["usd_per_t"].sort_index().astype(float)


def usgs_annual(material: str, prices: pd.DataFrame | None = None, series: str | None = None) -> PriceHistory:
    """USGS annual price of ``material`` (USD/t). With several series, ``series`` picks one (substring);
    otherwise the material's reference series (:func:`critmin.atlas.prices.reference_series`) is used."""
    prices = atlas_prices() if prices is None else prices
    if material == "ndpr-oxide":
        return ndpr_oxide_annual(prices)
    rows = prices[prices["material"] == material]
    if series is not None:
        rows = rows[rows["series"].str.contains(series, regex=False)]
    if rows.empty:
        raise PriceSeriesError(f"atlas prices: no USGS price for material {material!r} (series {series!r})")
    if series is None:
        rows = reference_series(rows)
        if rows.empty:
            raise PriceSeriesError(f"atlas prices: no positive USGS price for material {material!r}")
    best = str(rows["series"].iloc[0])
    values = rows[rows["series"] == best].drop_duplicates("year").set_index("year")["usd_per_t"].sort_index()
    return PriceHistory(material, values.astype(float), "annual", "usgs-mcs2026", best)


def ndpr_oxide_annual(prices: pd.DataFrame | None = None, params: ParameterSet | None = None) -> PriceHistory:
    """NdPr oxide from USGS Nd and Pr oxide prices: ``w * Nd + (1 - w) * Pr`` with ``w = ndpr_nd_share``."""
    prices = atlas_prices() if prices is None else prices
    w = (params or ParameterSet()).get("ndpr_nd_share", "ndpr-oxide")
    nd, pr = _series_rows(prices, ND_OXIDE), _series_rows(prices, PR_OXIDE)
    years = nd.index.intersection(pr.index)
    mix = w * nd.loc[years] + (1.0 - w) * pr.loc[years]
    return PriceHistory("ndpr-oxide", mix, "annual", "usgs-mcs2026", f"{w:g} Nd oxide + {1 - w:g} Pr oxide")


def usgs_ndpr_published(prices: pd.DataFrame | None = None) -> pd.Series:
    """The USGS NdPr oxide (99% min) price, USD/t, used to check the mix."""
    return _series_rows(atlas_prices() if prices is None else prices, NDPR_OXIDE)


def pinksheet_monthly() -> pd.DataFrame:
    """Pink Sheet metals, long: ``month`` (Timestamp), ``commodity``, ``material``, ``usd_per_t``.

    ``…`` (no quote) becomes NaN and is dropped; commodities without a tonne conversion are left out.
    """
    text = resources.files("critmin.data").joinpath("raw", PINKSHEET_FILE).read_text(encoding="utf-8")
    df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    df = df[df["commodity"].isin(list(PINKSHEET_MATERIALS))].copy()
    quoted = df["price_nominal_usd"].str.strip() != NO_QUOTE
    df = df[quoted]
    values = pd.to_numeric(df["price_nominal_usd"].str.replace(",", "", regex=False), errors="coerce")
    if values.isna().any():
        bad = df[values.isna()].iloc[0]
        raise PriceSeriesError(
            f"raw/{PINKSHEET_FILE} period {bad['period']}, column price_nominal_usd: "
            f"{bad['price_nominal_usd']!r}; expected a number or {NO_QUOTE!r}"
        )
    factor = df["commodity"].map(lambda c: PINKSHEET_MATERIALS[c][1])
    out = pd.DataFrame(
        {
            "month": pd.to_datetime(dict(year=df["year"].astype(int), month=df["month"].astype(int), day=1)),
            "commodity": df["commodity"],
            "material": df["commodity"].map(lambda c: PINKSHEET_MATERIALS[c][0]),
            "usd_per_t": values * factor,
        }
    )
    return out.sort_values(["material", "month"]).reset_index(drop=True)


def pinksheet_history(material: str, frame: pd.DataFrame | None = None) -> PriceHistory:
    """Monthly Pink Sheet price of ``material`` (USD/t)."""
    df = pinksheet_monthly() if frame is None else frame
    rows = df[df["material"] == material]
    if rows.empty:
        raise PriceSeriesError(f"Pink Sheet: no monthly price for material {material!r}")
    s = rows.set_index("month")["usd_per_t"].astype(float)
    return PriceHistory(material, s, "monthly", "wb-pinksheet-2026-06", str(rows["commodity"].iloc[0]))


def read_monthly_csv(path: str | Path, material: str) -> PriceHistory:
    """A user monthly series: columns ``month`` (YYYY-MM, increasing) and ``usd_per_t`` (positive)."""
    file = str(path)
    reader = csv.DictReader(io.StringIO(Path(path).read_text(encoding="utf-8")))
    cols = [c.strip() for c in reader.fieldnames or []]
    for c in ("month", "usd_per_t"):
        if c not in cols:
            raise PriceSeriesError(f"{file} row 1, column {c}: missing; expected columns month,usd_per_t")
    reader.fieldnames = cols
    months: list[pd.Timestamp] = []
    values: list[float] = []
    for row, rec in enumerate(reader, start=2):
        m = (rec.get("month") or "").strip()
        try:
            ts = pd.Timestamp(pd.Period(m, freq="M").start_time)
            if len(m) != 7:
                raise ValueError(m)
        except ValueError:
            raise PriceSeriesError(f"{file} row {row}, column month: {m!r}; expected YYYY-MM") from None
        if months and ts <= months[-1]:
            raise PriceSeriesError(
                f"{file} row {row}, column month: {m!r}; expected a month after {months[-1]:%Y-%m}"
            )
        v = (rec.get("usd_per_t") or "").strip()
        try:
            x = float(v)
        except ValueError:
            x = float("nan")
        if not (np.isfinite(x) and x > 0):
            raise PriceSeriesError(f"{file} row {row}, column usd_per_t: {v!r}; expected a positive number")
        months.append(ts)
        values.append(x)
    if len(values) < 3:
        raise PriceSeriesError(f"{file}: {len(values)} months; expected at least 3 to fit a model")
    return PriceHistory(material, pd.Series(values, index=pd.DatetimeIndex(months)), "monthly", file, "user")


def priced_materials(prices: pd.DataFrame | None = None) -> list[str]:
    """Materials with a bundled price history: Pink Sheet monthly, USGS annual (positive) or NdPr oxide."""
    prices = atlas_prices() if prices is None else prices
    usgs = set(prices.loc[prices["usd_per_t"] > 0, "material"].astype(str))
    return sorted(usgs | {m for m, _ in PINKSHEET_MATERIALS.values()} | set(PRICING_MATERIALS))
