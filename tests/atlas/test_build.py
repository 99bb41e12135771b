"""The reproducible build and its parsers, on the real raw files and on tiny hand-made ones."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from critmin.atlas.countries import UnmappedCountryError
from critmin.atlas.schema import COLUMNS
from critmin.data.build import (
    build_tables,
    default_out_dir,
    mark_primary,
    reconcile,
    write_tables,
)
from critmin.data.iea import parse_iea
from critmin.data.usgs import UsgsDataError, parse_mcs2025, parse_mcs2026, tonnes_factor

HEADER_2026 = (
    "MCS chapter,Section,Commodity,Country,Statistics,Statistics_detail,Unit,Year,Value,Notes,"
    "Is critical mineral 2025,Other notes\n"
)


def _mcs2026(tmp_path: Path, rows: list[str]) -> Path:
    root = tmp_path / "raw"
    (root / "usgs_mcs2026").mkdir(parents=True)
    (root / "usgs_mcs2026" / "MCS2026_Commodities_Data.csv").write_text(HEADER_2026 + "".join(rows), "utf-8")
    return root


def _cobalt(country: str, value: str, notes: str = "", detail: str = "Mine production") -> str:
    return (
        f'COBALT,World Mine Production and Reserves,Cobalt,"{country}",Production,{detail},metric tons,2024,'
        f'"{value}",{notes},Yes,"(Data in metric tons, cobalt content)"\n'
    )


def test_rebuild_is_byte_identical_to_the_committed_tables(tmp_path: Path) -> None:
    write_tables(build_tables(), tmp_path)
    committed = default_out_dir()
    names = sorted(p.name for p in committed.glob("*.csv"))
    assert names == sorted(f"{t}.csv" for t in COLUMNS)
    for name in names:
        assert (tmp_path / name).read_bytes() == (committed / name).read_bytes(), (
            f"{name} differs from a rebuild: run `python -m critmin.data.build`, commit critmin/data/built/"
        )


def test_mcs2026_tiny_file(tmp_path: Path) -> None:
    root = _mcs2026(
        tmp_path,
        [
            _cobalt("Congo (Kinshasa)", "226,000", "Estimated."),
            _cobalt("United States", "W"),
            _cobalt("Other countries", "—"),
            _cobalt("World total", "230,000", detail="Mine production: rounded"),
        ],
    )
    parsed = parse_mcs2026(root)
    p = parsed.production.set_index("iso3")
    assert p.loc["COD", "tonnes"] == 226_000.0 and p.loc["COD", "flag"] == "estimated"
    assert math.isnan(p.loc["USA", "tonnes"]) and p.loc["USA", "flag"] == "withheld"
    assert p.loc["OTH", "tonnes"] == 0.0 and p.loc["OTH", "flag"] == "observed"
    assert p.loc["COD", "basis"] == "cobalt content" and p.loc["COD", "value_text"] == "226,000"
    assert list(parsed.world_totals["tonnes"]) == [230_000.0]
    rec = reconcile(parsed.production, parsed.world_totals).iloc[0]
    # 226,000 vs 230,000: the rounding unit of "230,000" is 10,000, half is 5,000 -> within rounding
    assert rec["diff_t"] == -4_000.0 and bool(rec["within_rounding"])


def test_unmapped_country_is_an_error(tmp_path: Path) -> None:
    root = _mcs2026(tmp_path, [_cobalt("Atlantis", "5")])
    with pytest.raises(UnmappedCountryError, match="Atlantis"):
        parse_mcs2026(root)


def test_unknown_unit_is_an_error() -> None:
    with pytest.raises(UsgsDataError, match="million carats"):
        tonnes_factor("million carats", "f row 2")
    assert tonnes_factor("thousand metric tons", "x") == 1e3
    assert tonnes_factor("kilograms", "x") == 1e-3


def test_mcs2025_tiny_file(tmp_path: Path) -> None:
    root = tmp_path / "raw"
    (root / "usgs_mcs2025").mkdir(parents=True)
    head = (
        "SOURCE,COMMODITY,COUNTRY,TYPE,UNIT_MEAS,PROD_2023,PROD_EST_ 2024,PROD_NOTES,CAP_2023,CAP_EST_ 2024,"
        "CAP_NOTES,RESERVES_2024,RESERVE_NOTES\n"
    )
    t = '"Mine production, lithium content"'
    rows = [
        f"MCS2025,Lithium ,United\xa0States,{t},metric tons,W,W,,,,,,\n",
        f"MCS2025,Lithium ,Chile ,{t},metric tons,41400,44000,,,,,,\n",
        f"MCS2025,Lithium ,Canada,{t},metric tons,,,,,,,3000000,\n",  # no 2023 figure: not a row
        f"MCS2025,Lithium ,World total (rounded),{t},metric tons,41400,44000,,,,,,\n",
    ]
    (root / "usgs_mcs2025" / "MCS2025_World_Data.csv").write_text(head + "".join(rows), "utf-8")
    parsed = parse_mcs2025(root)
    p = parsed.production.set_index("iso3")
    assert sorted(p.index) == ["CHL", "USA"]
    assert set(parsed.production["year"]) == {2023}
    assert p.loc["CHL", "tonnes"] == 41_400.0 and p.loc["USA", "flag"] == "withheld"
    assert list(parsed.world_totals["tonnes"]) == [41_400.0]


def test_iea_kt_to_tonnes_and_totals_apart(tmp_path: Path) -> None:
    root = tmp_path / "raw"
    (root / "iea_critical_minerals_2025").mkdir(parents=True)
    (root / "iea_critical_minerals_2025" / "iea_cm_supply_mining_refining_by_country.csv").write_text(
        "mineral,stage,country,year,value_kt,is_projection\n"
        "Cobalt,refining,China,2024,196.5,False\n"
        "Cobalt,refining,China,2030,250,True\n"
        "Cobalt,refining,Rest of world,2024,3.5,False\n"
        "Cobalt,refining,Total,2024,200,False\n",
        "utf-8",
    )
    parsed = parse_iea(root)
    assert parsed.production.set_index("iso3")["tonnes"].to_dict() == {"CHN": 196_500.0, "OTH": 3_500.0}
    assert set(parsed.production["year"]) == {2024}
    assert list(parsed.world_totals["tonnes"]) == [200_000.0]


def _prod(rows: list[tuple[str, str, str, int, float]]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["material", "stage", "source", "year", "tonnes"])
    df["edition"] = df["source"]
    df["iso3"] = "CHN"
    return df


def test_primary_precedence() -> None:
    p = mark_primary(
        _prod(
            [
                ("cobalt", "refine", "iea", 2024, 1.0),
                ("cobalt", "mine", "usgs", 2024, 1.0),
                ("cobalt", "mine", "iea", 2024, 1.0),
                ("copper", "refine", "usgs", 2025, 1.0),  # IEA first for copper refining, but no IEA 2025
                ("magnet-rare-earths", "mine", "iea", 2024, 1.0),  # only source -> primary
            ]
        )
    )
    got = {(r.material, r.stage, r.source, r.year): r.primary for r in p.itertuples()}
    assert got == {
        ("cobalt", "refine", "iea", 2024): True,
        ("cobalt", "mine", "usgs", 2024): True,
        ("cobalt", "mine", "iea", 2024): False,
        ("copper", "refine", "usgs", 2025): True,
        ("magnet-rare-earths", "mine", "iea", 2024): True,
    }


def test_sources_md_lists_the_sha256_of_every_bundled_raw_file() -> None:
    import re
    from importlib import resources

    from critmin.data.build import raw_hashes

    text = resources.files("critmin.data").joinpath("SOURCES.md").read_text(encoding="utf-8")
    block = text.split("<!-- sha256:begin -->")[1].split("<!-- sha256:end -->")[0]
    listed = dict(re.findall(r"\| `([^`]+)` \| `([0-9a-f]{64})` \|", block))
    actual = dict(raw_hashes())
    assert listed == actual
