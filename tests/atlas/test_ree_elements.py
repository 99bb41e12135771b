"""Rare-earth elements derived from country REO output x published deposit compositions."""

from __future__ import annotations

import pandas as pd
import pytest

from critmin.atlas import load_atlas
from critmin.atlas.baskets import BASKETS, ELEMENTS, basket_series
from critmin.atlas.prices import latest_reference_prices, unpriced_materials
from critmin.data.build import raw_root
from critmin.data.ree import ROUTES_FILE, ReeDataError, _of_year, compositions, country_mix

#: every year of the REO mine history (Theler et al. 1998-2015, USGS 2018-2025)
HISTORY_YEARS = [*range(1998, 2016), *range(2018, 2026)]


def _share(material: str, stage: str, year: int, iso3: str) -> float:
    s = load_atlas().stage_series(material, stage, year)
    return float(s.get(iso3, 0.0) / s.sum())


def test_element_rows_exist_for_every_year_of_the_reo_history() -> None:
    atlas = load_atlas()
    assert atlas.years_of("rare-earths", "mine") == HISTORY_YEARS
    for m in ("dysprosium", "neodymium", "terbium", "yttrium"):
        assert atlas.years_of(m, "mine") == HISTORY_YEARS and atlas.years_of(m, "refine") == HISTORY_YEARS
    p = atlas.production
    old = p[(p["material"] == "dysprosium") & (p["year"] <= 2015)]
    # the element rows keep the source and edition of their REO row (the secondary transcription)
    assert set(old["source"]) == {"theler2020"} and set(old["flag"]) == {"derived"} and old["primary"].all()


@pytest.mark.parametrize("year", HISTORY_YEARS)
def test_elements_sum_to_the_reo_total_by_country(year: int) -> None:
    atlas = load_atlas()
    reo = atlas.stage_series("rare-earths", "mine", year)
    assert len(reo) > 0
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


def test_china_2010_dysprosium_by_hand_from_the_2011_quota_split() -> None:
    # 2011 quota 93,800 t: 13,400 t medium and heavy (ionic) -> Jiangxi clays 0.0476 each; the light
    # 80,400 t split 0.757 Bayan Obo / 0.243 Maoniuping (ree_deposit_weights.csv, period 1998-2011)
    bo = 0.1 / (23 + 50 + 6.2 + 18.5 + 0.8 + 0.2 + 0.7 + 0.1 + 0.1)  # MYB2022 T2, Dy % / listed %
    mnp = 0.21 / (29.49 + 47.56 + 4.42 + 15.18 + 1.24 + 0.23 + 0.65 + 0.12 + 0.21 + 0.05 + 0.06 + 0.04
                  + 0.05 + 0.007 + 0.7)  # fmt: skip
    longnan = 7.48 / (2.18 + 1.09 + 1.08 + 3.47 + 2.34 + 0.37 + 5.69 + 1.13 + 7.48 + 1.6 + 4.26 + 0.6
                      + 3.34 + 0.47 + 64.9)  # fmt: skip
    xinfeng = 3.71 / (27.26 + 3.23 + 5.62 + 17.55 + 4.54 + 0.93 + 5.96 + 0.68 + 3.71 + 0.74 + 2.48 + 0.27
                      + 1.13 + 0.21 + 24.26)  # fmt: skip
    xunwu = 1.77 / (38 + 3.5 + 7.41 + 30.18 + 5.32 + 0.51 + 4.21 + 0.46 + 1.77 + 0.27 + 0.88 + 0.13
                    + 0.62 + 0.13 + 10.07)  # fmt: skip
    w = [0.6486, 0.2085, 0.0476, 0.0476, 0.0476]
    share = sum(a * b for a, b in zip(w, [bo, mnp, longnan, xinfeng, xunwu], strict=True)) / sum(w)
    dy = load_atlas().stage_series("dysprosium", "mine", 2010)
    assert dy["CHN"] == pytest.approx(89_200 * share, rel=1e-9)  # Theler 2010: China 89,200 t REO
    # the 2024 split (ionic 0.075) gives China less Dy per tonne of REO than the 2011 one (0.143)
    comp = compositions(raw_root())
    assert country_mix(comp, "CHN", 2010)[0]["Dy"] > 1.5 * country_mix(comp, "CHN", 2024)[0]["Dy"]


def test_period_rows_cover_a_year_carry_to_a_new_year_and_a_gap_is_an_error() -> None:
    table = pd.DataFrame(
        {"from_year": [2018, 2000, 1998], "to_year": [2023, 2005, 2025], "mine_iso3": ["USA", "USA", "*"],
         "elements": ["all"] * 3, "separation_iso3": ["CHN", "USA", "CHN"], "share": ["1", "1", "1"]}
    ).to_dict("records")  # fmt: skip
    rows, note = _of_year(table, "mine_iso3", "USA", 2020, ROUTES_FILE)
    assert [r["separation_iso3"] for r in rows] == ["CHN"] and note == ""
    assert len(_of_year(table, "mine_iso3", "BRA", 2010, ROUTES_FILE)[0]) == 1  # the default row
    # a year after every period (a new edition) takes the latest period, and the row text says so
    rows, note = _of_year(table, "mine_iso3", "USA", 2026, ROUTES_FILE)
    assert [r["separation_iso3"] for r in rows] == ["CHN"] and note == "USA 2018-2023 carried to 2026"
    with pytest.raises(ReeDataError, match=r"no row for mine_iso3 'USA' covers 2010"):
        _of_year(table, "mine_iso3", "USA", 2010, ROUTES_FILE)


def test_dysprosium_history_and_2010_exposure_from_the_cli() -> None:
    import json

    from typer.testing import CliRunner

    from critmin.cli import app

    runner = CliRunner()
    res = runner.invoke(app, ["history", "--material", "dysprosium", "--stage", "mining", "-f", "json"])
    assert res.exit_code == 0, res.output
    rows = [r for r in json.loads(res.stdout) if r["kind"] == "observed"]
    assert sorted({r["year"] for r in rows}) == HISTORY_YEARS
    chn = {r["year"]: r["share"] for r in rows if r["iso3"] == "CHN"}
    assert chn[2010] > 0.9 and chn[2024] < 0.6  # Myanmar's ionic clays after 2017
    res = runner.invoke(app, ["exposure", "-m", "dysprosium", "-s", "mine", "--year", "2010", "-f", "json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)
    assert d["year"] == 2010 and d["source"] == "theler2020" and d["flags"] == {"derived": len(d["shares"])}
    res = runner.invoke(app, ["exposure", "-m", "dysprosium", "-s", "separation", "-y", "2010", "-f", "json"])
    assert res.exit_code == 0 and json.loads(res.stdout)["stage"] == "refine"


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
