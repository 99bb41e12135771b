"""Facts on the bundled real data (2024) that would be false if parsing, units or selection were wrong.

Shares = tonnes / (sum of country rows + Other countries) of the primary source.
"""

from __future__ import annotations

import pandas as pd
import pytest

from critmin.atlas import SupplyChain, load_atlas
from critmin.atlas.schema import COLUMNS


@pytest.fixture(scope="module")
def atlas() -> SupplyChain:
    return load_atlas()


def share(atlas: SupplyChain, material: str, stage: str, iso3: str, year: int = 2024) -> float:
    s = atlas.stage_series(material, stage, year)
    return float(s.get(iso3, 0.0) / s.sum())


def test_china_gallium_refining_share_at_least_098(atlas: SupplyChain) -> None:
    assert share(atlas, "gallium", "refine", "CHN") >= 0.98
    # USGS MCS 2026: China 839,000 kg of a 848,000 kg world total
    assert atlas.stage_series("gallium", "refine", 2024)["CHN"] == pytest.approx(839.0)


def test_china_rare_earth_mine_share_between_065_and_075(atlas: SupplyChain) -> None:
    assert 0.65 <= share(atlas, "rare-earths", "mine", "CHN") <= 0.75
    assert atlas.stage_series("rare-earths", "mine", 2024)["CHN"] == 270_000.0


@pytest.mark.parametrize(
    ("material", "iea_share"),
    [("cobalt", 0.78), ("lithium", 0.70), ("battery-graphite", 0.96), ("magnet-rare-earths", 0.91)],
)
def test_china_refining_shares_match_iea(atlas: SupplyChain, material: str, iea_share: float) -> None:
    assert abs(share(atlas, material, "refine", "CHN") - iea_share) <= 0.01
    primary = atlas.production[
        atlas.production["primary"] & (atlas.production["material"] == material)
        & (atlas.production["stage"] == "refine") & (atlas.production["year"] == 2024)
    ]  # fmt: skip
    assert set(primary["edition"]) == {"iea-cm-2025"}


def test_indonesia_is_the_top_nickel_refiner_in_iea(atlas: SupplyChain) -> None:
    s = atlas.stage_series("nickel", "refine", 2024).drop("OTH")
    assert s.idxmax() == "IDN"
    assert s["IDN"] == pytest.approx(1_493_200.0)
    # it is IEA that makes it true: USGS MCS 2026 has no nickel refinery table
    usgs = atlas.production[
        (atlas.production["material"] == "nickel") & (atlas.production["source"] == "usgs")
    ]
    assert set(usgs["stage"]) == {"mine"}


def test_at_least_40_materials_with_lowercase_slugs(atlas: SupplyChain) -> None:
    m = atlas.materials
    assert len(m) >= 40
    assert all(s == s.lower() and " " not in s for s in m["slug"])
    for slug in (
        "gallium",
        "rare-earths",
        "magnet-rare-earths",
        "graphite",
        "lithium",
        "platinum-group-metals",
    ):
        assert slug in set(m["slug"])


def test_contract_columns(atlas: SupplyChain) -> None:
    for table, cols in COLUMNS.items():
        assert list(getattr(atlas, table).columns) == cols, table


def test_world_totals_never_in_production(atlas: SupplyChain) -> None:
    assert "WLD" not in set(atlas.production["iso3"])
    assert len(atlas.world_totals) > 100


def test_one_primary_source_per_material_stage_year(atlas: SupplyChain) -> None:
    p = atlas.production[atlas.production["primary"]]
    per = p.groupby(["material", "stage", "year"])["edition"].nunique()
    assert (per == 1).all()
    years = set(p["year"])
    assert years == set(range(1998, 2016)) | set(range(2018, 2026))
    # the newest edition covering a year is primary (USGS rows): 2023 MCS 2025, 2024-25 MCS 2026, 2022
    # MCS 2024, 2021 MCS 2023, 2020 MCS 2022, rare earths 2018-2022 the Minerals Yearbook 2022
    usgs = p[p["source"] == "usgs"]
    expected = {2025: "usgs-mcs2026", 2024: "usgs-mcs2026", 2023: "usgs-mcs2025", 2022: "usgs-mcs2024",
                2021: "usgs-mcs2023", 2020: "usgs-mcs2022"}  # fmt: skip
    ree = usgs["material"] == "rare-earths"
    allp = atlas.production
    for year, edition in expected.items():
        got = usgs[(usgs["year"] == year) & ~ree]
        for material, g in got.groupby("material"):
            have = allp[(allp["material"] == material) & (allp["year"] == year) & (allp["source"] == "usgs")]
            numbered = have.loc[have["tonnes"].notna(), "edition"]
            newest = edition if (numbered == edition).any() else None
            assert newest is None or set(g["edition"]) == {edition}, (material, year)
    assert set(usgs.loc[ree & usgs["year"].between(2018, 2022), "edition"]) == {"usgs-myb2022"}
    # before 2016 only the secondary transcription covers the years
    assert set(p.loc[p["year"] <= 2015, "source"]) == {"theler2020"}
    # superseded editions are kept, not primary
    old = atlas.production[~atlas.production["primary"]]
    assert {"usgs-mcs2024", "usgs-mcs2023", "usgs-mcs2022"} <= set(old["edition"])


def test_gallium_has_no_mine_stage_and_it_is_reported_missing(atlas: SupplyChain) -> None:
    assert atlas.stages_of("gallium") == ["refine"]
    miss = atlas.missing_stages()
    assert ((miss["material"] == "gallium") & (miss["stage"] == "mine")).any()
    # germanium refinery output: MCS 2022 is the last edition that published it (2020, 2021e); MCS 2023 and
    # 2024 print NA for every country, MCS 2026 has no world table
    assert not ((miss["material"] == "germanium") & (miss["stage"] == "refine")).any()
    ge = atlas.production[(atlas.production["material"] == "germanium") & atlas.production["primary"]]
    ge = ge[ge["tonnes"].notna()]
    assert set(ge["edition"]) == {"usgs-mcs2022"} and sorted(set(ge["year"])) == [2020, 2021]
    assert atlas.stage_series("germanium", "refine", 2021).to_dict() == {"CHN": 95.0, "OTH": 40.0, "RUS": 5.0}
    g = atlas.production[atlas.production["material"] == "germanium"]
    later = g[g["edition"].isin(["usgs-mcs2023", "usgs-mcs2024"])]
    assert len(later) and later["tonnes"].isna().all()  # every country NA, the US W


def test_units_converted_to_tonnes(atlas: SupplyChain) -> None:
    p = atlas.production.set_index(["material", "stage", "iso3", "year", "edition"])["tonnes"]
    assert p[("copper", "mine", "CHL", 2024, "usgs-mcs2026")] == 5_510_000.0  # '5,510' thousand metric tons
    assert p[("gallium", "refine", "JPN", 2024, "usgs-mcs2026")] == 3.0  # '3,000' kilograms
    assert p[("lithium", "refine", "CHN", 2024, "iea-cm-2025")] == pytest.approx(
        169_677.59096410308
    )  # kt -> t


def test_withheld_rows_are_nan_with_flag(atlas: SupplyChain) -> None:
    w = atlas.production[atlas.production["flag"] == "withheld"]
    assert len(w) > 0
    assert w["tonnes"].isna().all()
    assert (w["value_text"] == "W").all()


def test_reconciliation_facts(atlas: SupplyChain) -> None:
    r = atlas.reconciliation.set_index(["material", "stage", "year", "source"])
    ga = r.loc[("gallium", "refine", 2024, "usgs-mcs2026")]
    assert ga["sum_t"] == pytest.approx(848.0) and ga["world_t"] == pytest.approx(848.0)
    assert bool(ga["within_rounding"])
    # IEA's nickel and graphite-mining blocks: the published Rest of world double-counts one listed country;
    # re-derived as Total - listed, the blocks reconcile exactly
    for material, stage in (("nickel", "refine"), ("nickel", "mine"), ("graphite", "mine")):
        row = r.loc[(material, stage, 2024, "iea-cm-2025")]
        assert bool(row["within_rounding"]) and abs(row["diff_t"]) < 1e-3, (material, stage)
    assert r["within_rounding"].mean() > 0.9


def test_iea_rest_of_world_double_count_is_re_derived(atlas: SupplyChain) -> None:
    p = atlas.production
    oth = p[(p["edition"] == "iea-cm-2025") & (p["iso3"] == "OTH")].set_index(["material", "stage"])
    # published Rest of world minus the double-counted country: nickel refining 631.42 - Canada 113.1,
    # nickel mining 629 - Australia 100, graphite mining 58.011 - Tanzania 9.059 (kt)
    assert oth.loc[("nickel", "refine"), "tonnes"] == pytest.approx((631.42 - 113.1) * 1e3)
    assert oth.loc[("nickel", "mine"), "tonnes"] == pytest.approx((629.0 - 100.0) * 1e3)
    assert oth.loc[("graphite", "mine"), "tonnes"] == pytest.approx((58.01135 - 9.05935) * 1e3, rel=1e-5)
    for key, who in (
        (("nickel", "refine"), "CAN"),
        (("nickel", "mine"), "AUS"),
        (("graphite", "mine"), "TZA"),
    ):
        assert oth.loc[key, "flag"] == "derived" and who in oth.loc[key, "value_text"]
    # the other blocks keep the published value
    assert oth.loc[("copper", "mine"), "flag"] == "observed"
    # IEA publishes Indonesia's 2024 share of refined nickel as 43%
    ni = atlas.stage_series("nickel", "refine", 2024)
    assert abs(ni["IDN"] / ni.sum() - 0.43) <= 0.01


def test_iea_projections_are_kept_apart_from_observations(atlas: SupplyChain) -> None:
    assert atlas.production.loc[atlas.production["edition"] == "iea-cm-2025", "year"].eq(2024).all()
    pr = atlas.projections
    assert set(pr["year"]) == {2030, 2035, 2040} and set(pr["flag"]) == {"projected", "derived"}
    assert set(pr["scenario"]) == {"IEA base case"}
    # published: Indonesia mines 2,463 kt of nickel in 2024; the 2030 base case is in the projections table
    ni = pr[(pr["material"] == "nickel") & (pr["stage"] == "mine") & (pr["year"] == 2030)]
    assert ni.loc[ni["iso3"] == "IDN", "tonnes"].iloc[0] > 0 and (ni["iso3"] == "WLD").sum() == 1
    # the double-count fix applies to the projection years too: listed + OTH = WLD
    for (_m, _s, _y), g in pr.groupby(["material", "stage", "year"]):
        total = float(g.loc[g["iso3"] == "WLD", "tonnes"].iloc[0])
        assert float(g.loc[g["iso3"] != "WLD", "tonnes"].sum()) == pytest.approx(total, rel=1e-6, abs=1.0)


def test_derived_pgm_is_platinum_plus_palladium(atlas: SupplyChain) -> None:
    pgm = atlas.stage_series("platinum-group-metals", "mine", 2024)
    pt = atlas.stage_series("platinum", "mine", 2024)
    pd_ = atlas.stage_series("palladium", "mine", 2024)
    both = pt.index.intersection(pd_.index)
    assert (pgm[both] == (pt[both] + pd_[both])).all()


def test_us_tables(atlas: SupplyChain) -> None:
    nir = atlas.us_nir.set_index(["material", "year"])
    assert nir.loc[("gallium", 2024), "nir_pct"] == 100.0
    assert nir.loc[("beryllium", 2024), "flag"] == "net_exporter"
    assert nir.loc[("lithium", 2024), "flag"] == "bound" and nir.loc[("lithium", 2024), "value_text"] == ">50"
    src = atlas.us_import_sources
    ga = src[src["material"] == "gallium"]
    assert ga["share"].sum() == pytest.approx(1.0, abs=0.02)
    prices = atlas.prices
    nd = prices[(prices["material"] == "magnet-rare-earths") & (prices["year"] == 2024)]
    series = set(nd["series"])
    assert any("Neodymium oxide" in s for s in series) and any("Praseodymium oxide" in s for s in series)
    li = prices[(prices["material"] == "lithium") & (prices["year"] == 2024)]
    assert li["usd_per_t"].iloc[0] == 11_800.0
    cu = prices[
        (prices["material"] == "copper")
        & (prices["year"] == 2024)
        & prices["series"].str.contains("London Metal Exchange")
    ]
    # cents per pound -> USD/t: x c/lb * 22.0462 = USD/t
    assert float(cu["usd_per_t"].iloc[0]) == pytest.approx(9142.57001281)
    assert isinstance(prices, pd.DataFrame)


def test_mcs2026_numbers_match_the_tidy_helper_file(atlas: SupplyChain) -> None:
    """Cross-check against the independently parsed helper file (``value_num``) shipped with the data."""
    from importlib import resources
    from io import StringIO

    from critmin.atlas.countries import resolve
    from critmin.data.usgs import UNIT_TO_TONNES
    from critmin.data.usgs_selection import SELECTION

    text = (
        resources.files("critmin.data")
        .joinpath("raw/usgs_mcs2026/mcs2026_world_production_reserves_capacity_tidy.csv")
        .read_text(encoding="utf-8")
    )
    tidy = pd.read_csv(StringIO(text), dtype=str, keep_default_na=False)
    tidy = tidy[(tidy["Statistics"] == "Production") & (tidy["value_num"] != "")]
    p = atlas.production
    ours = p[(p["edition"] == "usgs-mcs2026") & p["tonnes"].notna() & (p["flag"] != "derived")]
    checked = 0
    for sel in SELECTION:
        t = tidy[(tidy["MCS chapter"] == sel.chapter) & (tidy["Statistics_detail"] == sel.detail)]
        o = ours[(ours["material"] == sel.material) & (ours["stage"] == sel.stage)]
        for r in t.itertuples(index=False):
            want = float(r.value_num) * UNIT_TO_TONNES[r.Unit.strip()]
            iso3 = resolve(r.Country, "usgs").code
            got = o[(o["iso3"] == iso3) & (o["year"] == int(r.Year))]
            assert len(got) == 1, (sel.material, r.Country, r.Year)
            assert got["tonnes"].iloc[0] == want and got["value_text"].iloc[0] == r.Value
            checked += 1
    assert checked > 900


def test_missing_stages_on_the_bundled_data(atlas: SupplyChain) -> None:
    miss = set(zip(atlas.missing_stages()["material"], atlas.missing_stages()["stage"], strict=True))
    assert miss == {
        ("antimony", "refine"),
        ("bismuth", "mine"),
        ("gallium", "mine"),
        ("germanium", "mine"),
        ("indium", "mine"),
        ("rare-earths", "refine"),
        ("tellurium", "mine"),
    }
    # nothing was filled: no production row exists for a missing pair
    p = atlas.production
    for material, stage in miss:
        assert not ((p["material"] == material) & (p["stage"] == stage)).any()


def test_critical_flag_matches_the_usgs_column(atlas: SupplyChain) -> None:
    from importlib import resources
    from io import StringIO

    text = (
        resources.files("critmin.data")
        .joinpath("raw/usgs_mcs2026/MCS2026_Commodities_Data.csv")
        .read_text(encoding="utf-8")
    )
    raw = pd.read_csv(StringIO(text), dtype=str, keep_default_na=False)
    yes = set(raw.loc[raw["Is critical mineral 2025"] == "Yes", "MCS chapter"])
    for m in atlas.materials.itertuples(index=False):
        assert bool(m.critical_us_2025) == (m.usgs_chapter in yes), m.slug


def test_bundled_atlas_is_consistent(atlas: SupplyChain) -> None:
    assert atlas.consistency_problems() == []


def test_2023_comes_from_mcs2025(atlas: SupplyChain) -> None:
    ree = atlas.stage_series("rare-earths", "mine", 2023)
    assert ree["CHN"] == 255_000.0 and ree["MMR"] == 43_000.0  # MCS 2025 PROD_2023
    # chromite ore, gross weight, in both editions (MCS 2026 row notes; MCS 2025 TYPE)
    assert atlas.years_of("chromium", "mine")[-4:] == [2022, 2023, 2024, 2025]


def test_iea_mining_rows_are_secondary_and_close_to_usgs(atlas: SupplyChain) -> None:
    p = atlas.production
    iea = p[(p["edition"] == "iea-cm-2025") & (p["stage"] == "mine")]
    iea = iea[iea["material"] != "magnet-rare-earths"]  # the only mining source for it, so primary
    assert len(iea) > 20 and not iea["primary"].any()
    usgs = atlas.stage_series("copper", "mine", 2024)
    chl_iea = float(iea[(iea["material"] == "copper") & (iea["iso3"] == "CHL")]["tonnes"].iloc[0])
    assert abs(chl_iea / usgs["CHL"] - 1) < 0.01  # 5,476 kt (IEA) vs 5,510 kt (USGS)


def _china_share(atlas: SupplyChain, year: int) -> float:
    s = atlas.stage_series("rare-earths", "mine", year)
    return float(s["CHN"] / s.sum())


def test_china_rare_earth_mine_share_over_time(atlas: SupplyChain) -> None:
    # USGS Minerals Yearbook via Theler et al. (2020): 2010 China 89,200 t of 99,490 t listed (world 99,500)
    assert _china_share(atlas, 2010) == pytest.approx(89_200 / 99_490)
    assert 0.89 < _china_share(atlas, 2010) < 0.90  # the yearbook's revised figure, not MCS 2011's estimate
    assert all(_china_share(atlas, y) >= 0.93 for y in range(2005, 2010))
    assert _china_share(atlas, 2024) <= 0.75  # MCS 2026: 270,000 of 390,000 listed
    assert _china_share(atlas, 2020) < 0.6  # Minerals Yearbook 2022 table 8: 140,000 of 250,290


def test_history_rows_name_their_edition_and_secondary_rows_are_marked(atlas: SupplyChain) -> None:
    p = atlas.production
    assert (p["edition"] != "").all()
    old = p[p["year"] <= 2015]
    assert set(old["source"]) == {"theler2020"} and set(old["edition"]) == {"theler2020"}
    # revisions kept: rare earths 2021 appear in MCS 2022, MCS 2023 and the Minerals Yearbook 2022
    ree21 = p[(p["material"] == "rare-earths") & (p["year"] == 2021) & (p["iso3"] == "CHN")]
    assert set(ree21["edition"]) == {"usgs-mcs2022", "usgs-mcs2023", "usgs-myb2022"}
    assert ree21.loc[ree21["primary"], "edition"].tolist() == ["usgs-myb2022"]


def test_history_units_are_continuous_across_sources(atlas: SupplyChain) -> None:
    """A unit slip (thousand t read as t) would show as a factor of 1,000 between Theler's 2014 world total
    and the first USGS edition's; real changes over 2014-2020 stay within 0.3x-3x."""
    w = atlas.world_totals
    old = (
        w[(w["edition"] == "theler2020") & (w["year"] == 2014)]
        .groupby(["material", "stage"])["tonnes"]
        .first()
    )
    new = w[(w["source"] == "usgs") & w["year"].between(2020, 2023) & (w["edition"] != "usgs-ds140")]
    new = new.sort_values("year").groupby(["material", "stage"])["tonnes"].first()
    both = old.index.intersection(new.index)
    assert len(both) >= 18
    ratio = (old[both] / new[both]).dropna()
    assert ratio.between(0.3, 3.0).all(), ratio[~ratio.between(0.3, 3.0)]
