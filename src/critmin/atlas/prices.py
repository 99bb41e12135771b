"""One reference price series per material, chosen by a documented rule.

USGS publishes several price series for many materials (LME and US quotes, ore and metal, several oxides).
Every model that values a tonne of a material uses the same series: the one named in
``critmin/data/price_series.csv`` (with the reason for the choice), otherwise (a material not listed, or
a table without the listed series) the series with the most years, then the alphabetically first.
``usd_per_t`` is in US dollars per tonne, as in the atlas.
"""

from __future__ import annotations

import io
from functools import cache
from importlib import resources

import pandas as pd


@cache
def series_choices() -> dict[str, str]:
    """``material -> substring of the chosen series`` from ``price_series.csv``."""
    text = resources.files("critmin.data").joinpath("price_series.csv").read_text(encoding="utf-8")
    table = pd.read_csv(io.StringIO(text), dtype=str)
    return dict(zip(table["material"], table["series_contains"], strict=True))


# content digest of a table -> its selection (tables are often fresh copies of the same rows: an atlas
# filtered for a year, a run's own atlas), bounded: tables of tests and user data come and go.
_REFERENCE_CACHE: dict[int, pd.DataFrame] = {}
_CACHE_SIZE = 32


def _fingerprint(prices: pd.DataFrame) -> int:
    """A digest of the table's content and columns (an in-place edit gives another digest)."""
    cells = int(pd.util.hash_pandas_object(prices, index=False).sum())
    return hash((cells, tuple(prices.columns), len(prices)))


def reference_series(prices: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``prices`` (the atlas ``prices`` table) that belong to each material's reference series.

    Rows without a positive price are dropped. A listed choice that matches several series raises
    ``ValueError``; one that matches none (a user's or a test's own table) falls back to the default rule.
    The selection is cached by the table's content (a copy is returned: callers may modify it).
    """
    digest = _fingerprint(prices)
    hit = _REFERENCE_CACHE.get(digest)
    if hit is None:
        hit = _select_reference(prices)
        if len(_REFERENCE_CACHE) >= _CACHE_SIZE:
            _REFERENCE_CACHE.pop(next(iter(_REFERENCE_CACHE)))
        _REFERENCE_CACHE[digest] = hit
    return hit.copy()


def _select_reference(prices: pd.DataFrame) -> pd.DataFrame:
    p = prices.dropna(subset=["usd_per_t"])
    p = p[p["usd_per_t"] > 0]
    choices = series_choices()
    parts = []
    for material, rows in p.groupby("material", sort=True):
        needle = choices.get(str(material))
        chosen = rows.iloc[0:0]
        if needle is not None:
            chosen = rows[rows["series"].str.contains(needle, regex=False)]
            if chosen["series"].nunique() > 1:
                raise ValueError(
                    f"price_series.csv: {needle!r} matches {chosen['series'].nunique()} series of "
                    f"{material!r}; expected exactly one"
                )
        if chosen.empty:  # not listed, or a table (user data, a fixture) without the listed series
            counts = rows.groupby("series")["year"].nunique()
            best = sorted(counts.index, key=lambda s: (-int(counts[s]), str(s)))[0]
            chosen = rows[rows["series"] == best]
        parts.append(chosen.drop_duplicates("year").sort_values("year"))
    if not parts:
        return p.iloc[0:0]
    return pd.concat(parts, ignore_index=True)


def latest_reference_prices(prices: pd.DataFrame) -> dict[str, float]:
    """``material -> USD/t`` of the reference series in its latest year."""
    ref = reference_series(prices)
    latest = ref.sort_values("year").groupby("material").tail(1)
    return {str(m): float(v) for m, v in zip(latest["material"], latest["usd_per_t"], strict=True)}


@cache
def unpriced_materials() -> dict[str, str]:
    """``material -> reason`` of the documented materials without any bundled price
    (``critmin/data/unpriced.csv``); they are excluded from valued results, never given a $0 price."""
    text = resources.files("critmin.data").joinpath("unpriced.csv").read_text(encoding="utf-8")
    table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    return dict(zip(table["material"], table["reason"], strict=True))
