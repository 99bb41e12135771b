"""BACI and WGI loaders: code mapping (Taiwan, legacy WGI codes), the drop rule, '..', and clear errors."""

from __future__ import annotations

from functools import cache
from importlib import resources
from io import StringIO

import pandas as pd
import pytest

from critmin.atlas.trade_rows import trade_of
from critmin.data.governance import WGI_COLUMNS, GovernanceDataError, build_wgi, parse_wgi
from critmin.data.trade import (
    TRADE_COLUMNS,
    TradeDataError,
    build_trade,
    hs6_table,
    parse_hs6_table,
    read_baci_file,
)

RAW = resources.files("critmin.data").joinpath("raw")
HEADER = "year,exporter_iso3,importer_iso3,hs6,value_usd\n"


@cache
def real_trade() -> pd.DataFrame:
    return build_trade(RAW)


@cache
def real_wgi() -> pd.DataFrame:
    return build_wgi(RAW)


# --- HS6 table ---------------------------------------------------------------------------------------


def test_hs6_table_covers_every_code_in_the_bundled_baci_files() -> None:
    codes = set(real_trade()["hs6"])
    assert codes == set(hs6_table())
    assert len(codes) == 30


def test_shared_codes_are_marked_and_never_attributed_to_one_material() -> None:
    table = hs6_table()
    assert table["811292"].shared
    assert set(table["811292"].materials) >= {
        "gallium",
        "germanium",
        "indium",
        "niobium",
        "vanadium",
        "hafnium",
    }
    assert table["280429"].shared
    assert not table["283691"].shared
    t = real_trade()
    assert trade_of(t, "gallium").empty
    shared = trade_of(t, "gallium", shared=True)
    assert set(shared["hs6"]) == {"811292"}
    # niobium: own code 720293 (ferro-niobium) plus the shared 811292
    assert set(trade_of(t, "niobium")["hs6"]) == {"720293"}
    assert set(trade_of(t, "niobium", shared=True)["hs6"]) == {"720293", "811292"}


def test_hs6_table_rejects_bad_stage_naming_row_and_value() -> None:
    text = "hs6,description,material,stage,note\n283691,Lithium carbonates,lithium,smelt,x\n"
    with pytest.raises(TradeDataError, match=r"row 2, column stage: 'smelt'"):
        parse_hs6_table(text)


# --- BACI --------------------------------------------------------------------------------------------


def test_trade_schema_and_real_data_facts() -> None:
    t = real_trade()
    assert list(t.columns) == TRADE_COLUMNS
    assert set(t["year"]) == {2022, 2024}
    assert (t["value_usd"] >= 0).all()
    assert t["exporter"].str.fullmatch(r"[A-Z]{3}").all()
    assert t["importer"].str.fullmatch(r"[A-Z]{3}").all()
    # row counts of the two bundled files (23,167 + 21,723), nothing dropped
    assert len(t) == 23_167 + 21_723
    assert t.attrs["dropped"] == 0


def test_taiwan_s19_becomes_twn() -> None:
    t = real_trade()
    assert "S19" not in set(t["exporter"]) | set(t["importer"])
    assert (t["exporter"] == "TWN").any()
    assert (t["importer"] == "TWN").any()


def test_baci_former_and_aggregate_codes_are_dropped_and_counted() -> None:
    text = HEADER + "2024,CHN,S19,283691,100\n2024,SUN,USA,283691,5\n2024,CHN,R20,750210,7\n"
    df, dropped = read_baci_file(text, "x.csv", hs6_table())
    assert dropped == 2
    assert df[["exporter", "importer", "value_usd"]].values.tolist() == [["CHN", "TWN", 100.0]]
    assert df["material"].tolist() == ["lithium"]
    assert df["stage"].tolist() == ["refine"]


@pytest.mark.parametrize(
    ("line", "pattern"),
    [
        ("2024,CHN,XXQ,283691,1", r"x\.csv row 3, column importer_iso3: 'XXQ'"),
        ("2024,CHN,USA,283691,-4", r"x\.csv row 3, column value_usd: '-4'; expected a number >= 0"),
        ("2024,CHN,USA,283691,abc", r"x\.csv row 3, column value_usd: 'abc'"),
        ("2024,CHN,USA,999999,1", r"x\.csv row 3, column hs6: '999999'"),
    ],
)
def test_baci_bad_rows_fail_naming_file_row_column_value(line: str, pattern: str) -> None:
    text = HEADER + "2024,CHN,USA,283691,1\n" + line + "\n"
    with pytest.raises(TradeDataError, match=pattern):
        read_baci_file(text, "x.csv", hs6_table())


def test_baci_missing_column_is_an_error() -> None:
    with pytest.raises(TradeDataError, match="missing columns"):
        read_baci_file("year,exporter_iso3,hs6,value_usd\n2024,CHN,283691,1\n", "x.csv", hs6_table())


# --- WGI ---------------------------------------------------------------------------------------------


def test_wgi_legacy_codes_are_mapped() -> None:
    w = real_wgi()
    assert list(w.columns) == WGI_COLUMNS
    codes = set(w["iso3"])
    for legacy in ("ZAR", "ROM", "ADO", "TMP", "KSV", "WBG", "ANT"):
        assert legacy not in codes
    for iso in ("COD", "ROU", "AND", "TLS", "XKX", "PSE", "TWN"):
        assert iso in codes
    # one row per economy, year and indicator: 6 indicators x 11 years each
    assert not w.duplicated(["iso3", "year", "indicator"]).any()
    assert (w.groupby("iso3").size() == 66).all()


def test_wgi_dots_are_nan_and_rows_kept() -> None:
    w = real_wgi()
    raw_text = RAW.joinpath("worldbank_wgi").joinpath("wgi_2024update_estimates_2013_2023.csv").read_text()
    raw = pd.read_csv(StringIO(raw_text), dtype=str, keep_default_na=False)
    kept = raw[raw["code"] != "ANT"]
    assert len(w) == len(kept)
    assert int(w["estimate"].isna().sum()) == int((kept["estimate"] == "..").sum())
    assert w["estimate"].dropna().between(-3, 3).all()


def test_wgi_hand_made_file() -> None:
    text = (
        "code,countryname,year,indicator,estimate\n"
        "ZAR,Congo DR,2023,pv,-2.0\n"
        "ROM,Romania,2023,pv,..\n"
        "ANT,Netherlands Antilles,2023,pv,0.5\n"
    )
    w = parse_wgi(text, "w.csv")
    assert w["iso3"].tolist() == ["COD", "ROU"]
    assert w["estimate"].iloc[0] == -2.0
    assert pd.isna(w["estimate"].iloc[1])
    assert w.attrs["dropped"] == 1


@pytest.mark.parametrize(
    ("line", "pattern"),
    [
        ("XYZ,Nowhere,2023,pv,0.1", r"w\.csv row 3, column code: 'XYZ'"),
        ("CHN,China,2023,pv,n/a", r"w\.csv row 3, column estimate: 'n/a'; expected a number or '\.\.'"),
        ("CHN,China,2023,zz,0.1", r"w\.csv row 3, column indicator: 'zz'"),
    ],
)
def test_wgi_bad_rows_fail_naming_file_row_column_value(line: str, pattern: str) -> None:
    text = "code,countryname,year,indicator,estimate\nUSA,United States,2023,pv,0.2\n" + line + "\n"
    with pytest.raises(GovernanceDataError, match=pattern):
        parse_wgi(text, "w.csv")
