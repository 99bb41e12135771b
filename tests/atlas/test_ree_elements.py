"""Rare-earth elements derived from country REO output x published deposit compositions."""

from __future__ import annotations

import pandas as pd
import pytest

from critmin.atlas import load_atlas
from critmin.atlas.baskets import BASKETS, ELEMENTS, basket_series
from critmin.atlas.prices import latest_reference_prices, unpriced_materials
from critmin.data.build import raw_root
from critmin.data.ree import compositions, country_mix


def _share(material: str, stage: str, year: int, iso3: str) -> float:
    s = load_atlas().stage_series(material, stage, year)
    return float(s.get(iso3, 0.0) / s.sum())


@pytest.mark.parametrize("year", [2024, 2025])
def test_elements_sum_to_the_reo_total_by_country(year: int) -> None:
    atlas = load_atlas()
    reo = atlas.stage_series("rare-earths", "mine", year)
    summed = basket_series(atlas, "rare-earths", "mine", year).reindex(reo.index)
    assert not summed.isna().any()
    assert summed.to_numpy() == pytest.approx(reo.to_numpy(), rel=1e-9)
    # the separation stage conserves the mined tonnes of each element
    for m in ELEMENTS.values():
        assert atlas.stage_series(m, "refine", year).sum() == pytest.approx(
            atlas.stage_series(m, "mine", year).sum()
        )


def test_china_separates_at_least_90_percent_of_heavy_rare_earths_in_2024() -> None:
    assert _share("dysprosium", "refine", 2024, "CHN") >= 0.9
    assert _share("terbium", "refine", 2024, "CHN") >= 0.9
    # while mining of Dy is shared with Myanmar's ionic clays
    assert _share("dysprosium", "mine", 2024, "CHN") < 0.6 and _share("dysprosium", "mine", 2024, "MMR") > 0.3


def test_composition_hand_check_for_mountain_pass_neodymium() -> None:
    # MYB2022 T2 Mountain Pass: Nd 11.7% of the listed 99.95% (Ce 48.8, La 34, Nd 11.7, Pr 4.2, Sm 0.79,
    # Eu 0.13, Gd 0.21, Y 0.12); US 2024 REO 45,500 t (MCS 2026)
    comp = compositions(raw_root())
    listed = 48.8 + 34 + 11.7 + 4.2 + 0.79 + 0.13 + 0.21 + 0.12
    assert comp.loc["Mountain Pass, CA", "Nd"] == pytest.approx(11.7 / listed)
    assert comp.sum(axis=1).to_numpy() == pytest.approx(1.0)
    nd = load_atlas().stage_series("neodymium", "mine", 2024)
    assert nd["USA"] == pytest.approx(45_500 * 11.7 / listed)
    mix, label = country_mix(comp, "CHN")
    assert "Bayan Obo" in label and mix.sum() == pytest.approx(1.0)


def test_every_derived_row_names_its_inputs() -> None:
    p = load_atlas().production
    derived = p[p["flag"] == "derived"]
    assert len(derived) > 500
    texts = derived["value_text"].astype(str)
    assert (texts.str.len() > 10).all()
    names_input = (
        texts.str.contains("USGS MYB2022 T2")  # element mine rows: REO x composition
        | texts.str.contains("ree_separation_routes.csv")  # element separation rows
        | texts.str.startswith("Pt ")  # platinum-group metals: Pt + Pd
        | texts.str.startswith("Total ")  # IEA Rest of world = Total - listed
        | texts.str.contains("Rh:Pt")  # rhodium: Pt x ratio
    )
    assert names_input.all(), derived.loc[~names_input, ["material", "iso3", "value_text"]].head()


def test_elements_are_priced_from_usgs_or_listed_unpriced() -> None:
    latest = latest_reference_prices(load_atlas().prices)
    unpriced = unpriced_materials()
    for m in ELEMENTS.values():
        assert (m in latest and latest[m] > 0) or m in unpriced, m
    # MCS 2026, 2025 estimates: Dy oxide 239 USD/kg, Tb oxide 1,010 USD/kg
    assert latest["dysprosium"] == pytest.approx(239_000.0) and latest["terbium"] == pytest.approx(
        1_010_000.0
    )
    assert "thulium" in unpriced


def test_baskets_are_defined_from_elements_and_the_published_baskets_stay() -> None:
    atlas = load_atlas()
    assert set(BASKETS["magnet-rare-earths"]) == {"neodymium", "praseodymium", "dysprosium", "terbium"}
    magnet = basket_series(atlas, "magnet-rare-earths", "mine", 2024)
    parts = sum(atlas.stage_series(m, "mine", 2024).reindex(magnet.index, fill_value=0.0)
                for m in BASKETS["magnet-rare-earths"])  # fmt: skip
    pd.testing.assert_series_equal(magnet, parts, check_names=False)
    # the IEA block stays as published
    assert atlas.stage_series("magnet-rare-earths", "mine", 2024).sum() == pytest.approx(75_098.79, rel=1e-6)
    with pytest.raises(KeyError, match="unknown basket"):
        basket_series(atlas, "heavy", "mine", 2024)
