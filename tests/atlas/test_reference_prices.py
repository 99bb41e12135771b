"""One reference price series per material, shared by every model that values a tonne."""

from __future__ import annotations

import pandas as pd
import pytest

from critmin.atlas import load_atlas
from critmin.atlas.prices import latest_reference_prices, reference_series, series_choices


def test_each_priced_material_has_exactly_one_reference_series() -> None:
    ref = reference_series(load_atlas().prices)
    assert (ref.groupby("material")["series"].nunique() == 1).all()
    assert not ref.duplicated(["material", "year"]).any()
    # every listed choice is the series actually used on the bundled data (no silent fallback)
    chosen = ref.groupby("material")["series"].first()
    for material, needle in series_choices().items():
        assert needle in chosen[material], (material, needle, chosen[material])


def test_magnet_rare_earths_are_valued_at_ndpr_not_dysprosium() -> None:
    prices = load_atlas().prices
    ref = reference_series(prices)
    series = ref.loc[ref["material"] == "magnet-rare-earths", "series"].iloc[0]
    assert "NdPr" in series
    # USGS 2025: NdPr oxide 69 USD/kg, Dy oxide 239 USD/kg (MCS 2026 salient statistics)
    assert latest_reference_prices(prices)["magnet-rare-earths"] == pytest.approx(69_000.0)


def test_unlisted_material_takes_the_series_with_most_years_then_alphabetical() -> None:
    prices = pd.DataFrame(
        {
            "material": ["x", "x", "x", "x"],
            "year": [2024, 2025, 2025, 2024],
            "series": ["b", "b", "a", "a"],
            "usd_per_t": [2.0, 3.0, 5.0, 4.0],
        }
    )
    ref = reference_series(prices)
    assert ref["series"].tolist() == ["a", "a"] and ref["usd_per_t"].tolist() == [4.0, 5.0]
    assert latest_reference_prices(prices) == {"x": 5.0}


def test_a_choice_matching_several_series_is_an_error_and_matching_none_falls_back() -> None:
    two = ["London Metal Exchange (LME), cash", "London Metal Exchange (LME), 3-month"]
    prices = pd.DataFrame({"material": "cobalt", "year": 2025, "series": two, "usd_per_t": [1.0, 2.0]})
    with pytest.raises(ValueError, match="cobalt"):
        reference_series(prices)
    own = pd.DataFrame({"material": ["cobalt"], "year": [2025], "series": ["own quote"], "usd_per_t": [7.0]})
    assert latest_reference_prices(own) == {"cobalt": 7.0}


def test_disruption_and_vault_value_a_tonne_with_the_same_series() -> None:
    from critmin.disruption.inputs import build_inputs
    from critmin.vault.sizing import price_downside

    atlas = load_atlas()
    latest = latest_reference_prices(atlas.prices)
    inputs = build_inputs(atlas)
    for m, p in zip(inputs.materials, inputs.price_usd_per_t, strict=True):
        assert (m not in latest and p != p) or p == pytest.approx(latest[m])
    assert set(price_downside(atlas.prices).index) <= set(latest)


def _row(material: str, year: int) -> pd.Series:
    p = load_atlas().prices
    sel = p[(p["material"] == material) & (p["year"] == year)]
    assert len(sel) == 1, sel
    return sel.iloc[0]


def test_every_modelled_material_has_a_positive_price_or_is_documented_unpriced() -> None:
    from critmin.atlas.prices import unpriced_materials

    atlas = load_atlas()
    latest = latest_reference_prices(atlas.prices)
    modelled = set(atlas.production.loc[atlas.production["primary"], "material"])
    unpriced = unpriced_materials()
    for m in sorted(modelled):
        assert (m in latest and latest[m] > 0) or m in unpriced, m
    # an unpriced material has no price row at all (never a $0 price)
    assert not set(unpriced) & set(atlas.prices["material"])
    for m in ("battery-graphite", "manganese", "platinum-group-metals", "strontium", "tungsten"):
        assert latest[m] > 0, m


def test_price_conversions_reproduce_the_published_values_by_hand() -> None:
    # MCS 2026 tungsten 2024: 252 USD per dry mtu of WO3; one mtu contains 7.93 kg W
    w = _row("tungsten", 2024)
    assert w["usd_per_t"] == pytest.approx(252 * 1000 / 7.93) and w["basis"] == "converted"
    # manganese 2024: 5.53 USD per metric ton unit (10 kg) of contained Mn
    assert _row("manganese", 2024)["usd_per_t"] == pytest.approx(553.0)
    # strontium 2025: 160 USD per t of celestite at 43.88% Sr
    assert _row("strontium", 2025)["usd_per_t"] == pytest.approx(160 / 0.4388)
    # battery graphite stands in with flake (2024: 1,050 USD/t), labelled a proxy
    g = _row("battery-graphite", 2024)
    assert g["usd_per_t"] == pytest.approx(1050.0) and g["basis"] == "proxy"


def test_pgm_price_is_the_output_weighted_mean_of_platinum_and_palladium() -> None:
    atlas = load_atlas()
    ref = reference_series(atlas.prices).set_index(["material", "year"])["usd_per_t"]
    w = atlas.world_totals
    w = w[(w["edition"] == "usgs-mcs2026") & (w["year"] == 2024) & (w["stage"] == "mine")]
    wt = w.set_index("material")["tonnes"]
    pt, pd_ = float(wt["platinum"]), float(wt["palladium"])
    expected = (ref[("platinum", 2024)] * pt + ref[("palladium", 2024)] * pd_) / (pt + pd_)
    row = _row("platinum-group-metals", 2024)
    assert row["usd_per_t"] == pytest.approx(expected) and row["basis"] == "derived"
    lo, hi = sorted([ref[("platinum", 2024)], ref[("palladium", 2024)]])
    assert lo <= row["usd_per_t"] <= hi
