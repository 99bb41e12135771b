"""WDI GDP table and BACI tonnes: parsers on tiny files, facts on the bundled data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from critmin.atlas import load_atlas
from critmin.atlas.wdi import latest_gdp
from critmin.data.trade import TradeDataError, build_trade
from critmin.data.wdi import GDP_FILE, INDUSTRY_FILE, WdiDataError, build_gdp

HEAD = "iso3,country_name,is_aggregate,indicator,unit,year,value\n"


def _wdi(tmp_path: Path, gdp_rows: str, ind_rows: str) -> Path:
    root = tmp_path / "raw"
    (root / "worldbank_wdi").mkdir(parents=True)
    (root / "worldbank_wdi" / GDP_FILE).write_text(HEAD + gdp_rows, "utf-8")
    (root / "worldbank_wdi" / INDUSTRY_FILE).write_text(HEAD + ind_rows, "utf-8")
    return root


def test_gdp_tiny_files_industry_value_added_in_usd(tmp_path: Path) -> None:
    root = _wdi(
        tmp_path,
        "AAA,A,False,NY.GDP.MKTP.CD,current US$,2023,1000\n"
        "AAA,A,False,NY.GDP.MKTP.CD,current US$,2024,2000\n"
        "BBB,B,False,NY.GDP.MKTP.CD,current US$,2024,500\n"
        "WLD,World,True,NY.GDP.MKTP.CD,current US$,2024,2500\n",
        "AAA,A,False,NV.IND.TOTL.ZS,% of GDP,2024,25\nWLD,World,True,NV.IND.TOTL.ZS,% of GDP,2024,30\n",
    )
    df = build_gdp(root)
    assert list(df.columns) == ["iso3", "year", "gdp_usd", "industry_va_usd"]
    assert sorted(df["iso3"].unique()) == ["AAA", "BBB"]  # the aggregate is kept out
    row = df[(df["iso3"] == "AAA") & (df["year"] == 2024)].iloc[0]
    assert row["gdp_usd"] == 2000.0 and row["industry_va_usd"] == 500.0  # 2000 * 25 / 100
    assert np.isnan(df[(df["iso3"] == "BBB")]["industry_va_usd"].iloc[0])
    assert latest_gdp(df).to_dict() == {"AAA": 2000.0, "BBB": 500.0}
    assert latest_gdp(df, before=2024).to_dict() == {"AAA": 1000.0}


@pytest.mark.parametrize(
    ("row", "column"),
    [
        ("AAA,A,False,NY.GDP.MKTP.CD,current US$,2024,lots\n", "value"),
        ("AAA,A,maybe,NY.GDP.MKTP.CD,current US$,2024,1\n", "is_aggregate"),
        ("aa,A,False,NY.GDP.MKTP.CD,current US$,2024,1\n", "iso3"),
        ("AAA,A,False,NY.GDP.PCAP.CD,current US$,2024,1\n", "indicator"),
    ],
)
def test_gdp_bad_cell_names_file_row_and_column(tmp_path: Path, row: str, column: str) -> None:
    root = _wdi(tmp_path, row, "")
    with pytest.raises(WdiDataError, match=rf"{GDP_FILE} row 2, column {column}:"):
        build_gdp(root)


def test_gdp_real_data_facts() -> None:
    gdp = load_atlas().gdp
    assert not {"WLD", "EUU", "HIC"} & set(gdp["iso3"])
    usa = gdp[(gdp["iso3"] == "USA") & (gdp["year"] == 2023)].iloc[0]
    assert 2.5e13 < usa["gdp_usd"] < 3.0e13  # US GDP 2023 is about $27.7 trillion
    # the US industry share is published up to 2021 only: later years have no industry value added
    assert np.isnan(usa["industry_va_usd"])
    usa21 = gdp[(gdp["iso3"] == "USA") & (gdp["year"] == 2021)].iloc[0]
    assert 0.15 < usa21["industry_va_usd"] / usa21["gdp_usd"] < 0.2  # 17.6% in the WDI file
    assert "TWN" not in set(gdp["iso3"])  # Taiwan is not in WDI (said in SOURCES.md)


def _baci(tmp_path: Path, value_rows: str, q_rows: str) -> Path:
    root = tmp_path / "raw"
    (root / "cepii_baci").mkdir(parents=True)
    (root / "cepii_baci_q").mkdir(parents=True)
    name = "baci_hs17_v202601_critical_hs6_2024"
    (root / "cepii_baci" / f"{name}.csv").write_text(
        "year,exporter_iso3,importer_iso3,hs6,value_usd\n" + value_rows, "utf-8"
    )
    (root / "cepii_baci_q" / f"{name}_q.csv").write_text(
        "year,exporter_iso3,importer_iso3,hs6,value_usd,tonnes\n" + q_rows, "utf-8"
    )
    return root


def test_tonnes_join_the_value_rows(tmp_path: Path) -> None:
    root = _baci(
        tmp_path,
        "2024,CHN,USA,810194,100.0\n2024,CHN,JPN,810194,50.0\n",
        "2024,CHN,USA,810194,100,2.5\n2024,CHN,JPN,810194,50,\n",
    )
    df = build_trade(root).set_index("importer")
    assert df.loc["USA", "tonnes"] == 2.5
    assert np.isnan(df.loc["JPN", "tonnes"])  # empty quantity stays missing


def test_tonnes_file_with_other_values_is_an_error(tmp_path: Path) -> None:
    root = _baci(tmp_path, "2024,CHN,USA,810194,100.0\n", "2024,CHN,USA,810194,101,2.5\n")
    with pytest.raises(TradeDataError, match="differ from"):
        build_trade(root)


def test_negative_tonnes_is_an_error(tmp_path: Path) -> None:
    root = _baci(tmp_path, "2024,CHN,USA,810194,100.0\n", "2024,CHN,USA,810194,100,-1\n")
    with pytest.raises(TradeDataError, match=r"row 2, column tonnes: '-1'"):
        build_trade(root)


def test_real_trade_has_tonnes_for_2024_only() -> None:
    tr = load_atlas().trade
    y24 = tr[tr["year"] == 2024]
    assert tr[tr["year"] == 2022]["tonnes"].isna().all()
    share_with_q = float(y24["tonnes"].notna().mean())
    assert 0.9 < share_with_q < 0.99  # SOURCES.md: 1,030 of 21,723 rows lack a quantity
    # China's unwrought tungsten exports in 2024 are hundreds of tonnes, not kilotonnes or grams
    w = y24[(y24["hs6"] == "810194") & (y24["exporter"] == "CHN")]["tonnes"].sum()
    assert 10 < w < 5000
