"""The reference-series selection is cached per table; the cache never serves a stale or shared table."""

from __future__ import annotations

from critmin.atlas import load_atlas
from critmin.atlas.prices import _select_reference, reference_series


def test_cached_selection_equals_a_fresh_one_and_is_a_private_copy() -> None:
    prices = load_atlas().prices
    first = reference_series(prices)
    first.loc[first.index[0], "usd_per_t"] = -1.0  # a caller edits its copy
    again = reference_series(prices)
    fresh = _select_reference(prices)
    assert again.equals(fresh)
    assert (again["usd_per_t"] > 0).all()


def test_an_in_place_edit_of_the_table_is_not_served_from_the_cache() -> None:
    prices = load_atlas().prices.copy()
    before = reference_series(prices)
    row = before.index[0]
    material, year = before.loc[row, "material"], before.loc[row, "year"]
    mask = (
        (prices["material"] == material)
        & (prices["year"] == year)
        & (prices["series"] == before.loc[row, "series"])
    )
    prices.loc[mask, "usd_per_t"] = before.loc[row, "usd_per_t"] * 2
    after = reference_series(prices)
    got = after[(after["material"] == material) & (after["year"] == year)]["usd_per_t"].iloc[0]
    assert got == before.loc[row, "usd_per_t"] * 2
