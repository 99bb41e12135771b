"""The exposure report on a hand-made SupplyChain: every number worked by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from critmin.analytics.exposure import TABLE_COLUMNS, ExposureError, exposure_detail, exposure_table
from critmin.atlas.chain import SupplyChain
from critmin.atlas.schema import COLUMNS, empty
from critmin.parameters import ParameterSet


def _prod(rows: list[tuple[str, str, str, int, float, bool, str]]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["material", "stage", "iso3", "year", "tonnes", "primary", "flag"])
    df["source"] = "usgs-mcs2026"
    df["edition"] = "usgs-mcs2026"
    df["value_text"] = df["tonnes"].astype(str)
    df["unit_text"] = "metric tons"
    df["basis"] = "content"
    return df[COLUMNS["production"]]


def chain() -> SupplyChain:
    prod = _prod(
        [
            ("x", "mine", "CHN", 2024, 60.0, True, "observed"),
            ("x", "mine", "AUS", 2024, 30.0, True, "observed"),
            ("x", "mine", "OTH", 2024, 10.0, True, "observed"),
            ("x", "mine", "USA", 2024, math.nan, True, "withheld"),
            ("x", "mine", "CHN", 2024, 999.0, False, "observed"),
            ("x", "mine", "CHN", 2023, 10.0, True, "observed"),
            ("x", "mine", "USA", 2023, 10.0, True, "observed"),
            ("x", "refine", "CHN", 2022, 80.0, True, "observed"),
            ("x", "refine", "USA+CAN", 2022, 20.0, True, "estimated"),
            ("y", "mine", "AUS", 2025, 5.0, True, "estimated"),
            ("z", "mine", "BRA", 2024, math.nan, True, "withheld"),
        ]
    )
    mats = pd.DataFrame(
        [
            ("x", "X", "x content", "mine;refine", "X", True),
            ("y", "Y", "y content", "mine", "Y", False),
            ("z", "Z", "z content", "mine", "Z", False),
        ],
        columns=COLUMNS["materials"],
    )
    wgi = pd.DataFrame(
        [
            (c, 2023, ind, est)
            for c, est in (("CHN", -0.5), ("AUS", 1.5), ("USA", 1.0), ("CAN", 1.5))
            for ind in ["va", "pv", "ge", "rq", "rl", "cc"]
        ],
        columns=COLUMNS["wgi"],
    )
    trade = pd.DataFrame(
        [
            (2024, "CHN", "USA", "111111", "x", "mine", 60.0),
            (2024, "AUS", "USA", "111111", "x", "mine", 20.0),
            (2024, "BRA", "USA", "111111", "x", "mine", 20.0),
            (2024, "AUS", "JPN", "111111", "x", "mine", 500.0),
            (2024, "CHN", "USA", "222222", "x|w", "mine", 1e9),
        ],
        columns=COLUMNS["trade"][:7],  # no tonnes in this fixture
    )
    nir = pd.DataFrame([("x", 2024, 80.0, "observed", "80")], columns=COLUMNS["us_nir"])
    return SupplyChain(
        production=prod,
        world_totals=empty("world_totals"),
        reconciliation=empty("reconciliation"),
        materials=mats,
        groups={
            "china": frozenset({"CHN"}),
            "alliance": frozenset({"USA", "AUS"}),
            "na": frozenset({"USA", "CAN"}),
        },
        trade=trade,
        wgi=wgi,
        us_nir=nir,
        us_import_sources=empty("us_import_sources"),
        prices=empty("prices"),
    )


PARAMS = ParameterSet().with_overrides({("eol_rir", "x"): 0.1, ("substitution_index", "x"): 0.9})


def test_detail_by_hand() -> None:
    d = exposure_detail(chain(), "x", "mine", 2024, "alliance", params=PARAMS)
    assert (d["material"], d["stage"], d["year"], d["group"]) == ("x", "mine", 2024, "alliance")
    assert d["total_t"] == 100.0  # 60 + 30 + 10 (OTH in the total, withheld USA and secondary rows out)
    assert d["shares"] == pytest.approx({"CHN": 0.6, "AUS": 0.3, "OTH": 0.1})
    assert list(d["shares"]) == ["CHN", "AUS", "OTH"]  # largest first
    assert d["hhi"] == pytest.approx(4500.0)  # OTH out of the sum of squares
    assert d["hhi_upper"] == pytest.approx(4600.0)
    assert (d["top1_iso3"], d["top1_share"]) == ("CHN", pytest.approx(0.6))
    assert d["china_share"] == pytest.approx(0.6)
    assert d["alliance_share"] == pytest.approx(0.3)
    assert d["other_share"] == pytest.approx(0.1)
    assert d["group_shares"] == pytest.approx({"china": 0.6, "alliance": 0.3, "na": 0.0})
    assert d["withheld"] == ["USA"]
    assert d["flags"] == {"observed": 3, "withheld": 1}
    # WGI scaled: CHN 10*(2.5+0.5)/5 = 6, AUS 10*(2.5-1.5)/5 = 2 -> HHI_WGI = .36*6 + .09*2 = 2.34
    assert d["supply_risk"] == pytest.approx(2.34 * 0.9 * 0.9)
    # imports of {USA, AUS}: AUS is inside the group -> CHN 60, BRA 20 -> .75/.25; shared code 222222 not used
    assert d["import_suppliers"] == pytest.approx({"CHN": 0.75, "BRA": 0.25})
    assert d["import_dependency_china"] == pytest.approx(0.75)
    assert d["import_hs6"] == ["111111"]
    assert d["import_shared_hs6"] == ["222222"]
    # GeoPolRisk: HHI .45 * (g_CHN .6 * .75 + g_BRA (missing -> 0.5) * .25)
    assert d["geopolrisk"] == pytest.approx(0.45 * (0.6 * 0.75 + 0.5 * 0.25))
    assert d["us_nir"] == pytest.approx(0.8)
    # US alone: CHN 60 of 100 imported -> 0.6; with NIR 0.8, 0.48 of US apparent consumption from China
    assert d["us_import_dependency_china"] == pytest.approx(0.6)
    assert d["us_supply_dependency_china"] == pytest.approx(0.48)
    assert d["source"] == "usgs-mcs2026"
    assert d["parameter_digest"] == PARAMS.digest()
    assert d["parameters"]["eol_rir[x]"] == 0.1
    assert "data_editions" in d


def test_year_falls_back_to_latest_before_then_earliest_after() -> None:
    c = chain()
    d = exposure_detail(c, "x", "refine", 2024, "na")
    assert (d["year"], d["requested_year"]) == (2022, 2024)
    # the combined USA+CAN row counts for a group holding both members
    assert d["group_shares"]["na"] == pytest.approx(0.2)
    assert d["top1_iso3"] == "CHN"
    assert exposure_detail(c, "x", "mine", 2023, "na")["year"] == 2023
    assert exposure_detail(c, "y", "mine", 2024, "na")["year"] == 2025


def test_errors_name_what_is_wrong() -> None:
    c = chain()
    with pytest.raises(ExposureError, match="group 'nope' is not defined"):
        exposure_detail(c, "x", "mine", 2024, "nope")
    with pytest.raises(ExposureError, match="stage 'magnet' of 'x' has no production data"):
        exposure_detail(c, "x", "magnet", 2024, "na")
    with pytest.raises(ExposureError, match="material 'q' is not in the atlas"):
        exposure_detail(c, "q", "mine", 2024, "na")
    with pytest.raises(ExposureError, match="has no production data"):
        exposure_detail(c, "z", "mine", 2024, "na")


def test_table_one_row_per_material_stage_with_data_and_matches_detail() -> None:
    c = chain()
    t = exposure_table(c, 2024, "alliance", params=PARAMS)
    assert list(t.columns) == TABLE_COLUMNS
    assert list(zip(t["material"], t["stage"], strict=True)) == [
        ("x", "mine"),
        ("x", "refine"),
        ("y", "mine"),
    ]
    for row in t.itertuples(index=False):
        d = exposure_detail(c, row.material, row.stage, 2024, "alliance", params=PARAMS)
        for col in ("year", "total_t", "hhi", "hhi_upper", "top1_iso3", "top1_share", "china_share"):
            assert getattr(row, col) == pytest.approx(d[col]), col
        assert row.alliance_share == pytest.approx(d["alliance_share"])
        assert row.supply_risk == pytest.approx(d["supply_risk"])
    assert t.attrs["group"] == "alliance"
    assert t.attrs["metadata"]["parameter_digest"] == PARAMS.digest()


def test_changing_the_group_changes_only_the_alliance_share() -> None:
    c = chain()
    a = exposure_table(c, 2024, "alliance")
    b = exposure_table(c, 2024, "china")
    pd.testing.assert_frame_equal(a.drop(columns="alliance_share"), b.drop(columns="alliance_share"))
    np.testing.assert_allclose(b["alliance_share"], b["china_share"])
