"""User production and trade files: every bad cell reported, nothing loaded from a bad file."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from critmin.atlas.userdata import UserDataError, load_user_csv

HEAD = "material,stage,country,year,quantity,unit,basis\n"
GOOD = "lithium,mine,Australia,2024,88000,t,lithium content\n"


def _write(tmp_path: Path, text: str, name: str = "mine.csv") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_good_production_file_is_converted_to_atlas_rows(tmp_path: Path) -> None:
    f = _write(tmp_path, HEAD + GOOD + 'cobalt,refine,FIN,2024,"20.1",kt,cobalt content\n')
    df = load_user_csv(f)
    assert df.attrs["kind"] == "production"
    assert list(df["iso3"]) == ["AUS", "FIN"]
    assert list(df["tonnes"]) == [88_000.0, 20_100.0]
    assert set(df["source"]) == {"user"} and set(df["edition"]) == {"mine.csv"}
    assert not df["primary"].any()


def test_good_trade_file(tmp_path: Path) -> None:
    f = _write(
        tmp_path,
        "year,exporter,importer,material,stage,value_usd\n2024,Chile,USA,lithium,refine,1250000\n",
        "trade.csv",
    )
    df = load_user_csv(f)
    assert df.attrs["kind"] == "trade"
    assert df.iloc[0][["exporter", "importer", "value_usd"]].tolist() == ["CHL", "USA", 1_250_000.0]


@pytest.mark.parametrize(
    ("row", "column", "value", "expected"),
    [
        ("lithium,mine,Atlantis,2024,5,t,lithium content\n", "country", "Atlantis", "ISO3 code"),
        ("lithium,mine,World total,2024,5,t,lithium content\n", "country", "World total", "single country"),
        ("lithium,mine,Chile,2024,-5,t,lithium content\n", "quantity", "-5", "number >= 0"),
        ("lithium,mine,Chile,2024,lots,t,lithium content\n", "quantity", "lots", "number >= 0"),
        ("lithium,mine,Chile,2024,5,m3,lithium content\n", "unit", "m3", "mass unit"),
        ("lithium,mine,Chile,2024,5,t,LCE\n", "basis", "LCE", "'lithium content'"),
        ("unobtainium,mine,Chile,2024,5,t,x\n", "material", "unobtainium", "material slug"),
        ("lithium,smelt,Chile,2024,5,t,lithium content\n", "stage", "smelt", "mine, refine, magnet"),
        ("lithium,mine,Chile,24x,5,t,lithium content\n", "year", "24x", "integer year"),
    ],
)  # fmt: skip
def test_each_bad_cell_is_named_and_nothing_is_loaded(
    tmp_path: Path, row: str, column: str, value: str, expected: str
) -> None:
    f = _write(tmp_path, HEAD + GOOD + row)
    with pytest.raises(UserDataError) as err:
        load_user_csv(f)
    probs = err.value.problems
    assert len(probs) == 1
    p = probs[0]
    assert (p.file, p.row, p.column, p.value) == (str(f), 3, column, value)
    assert expected in p.expected
    msg = str(err.value)
    assert str(f) in msg and "row 3" in msg and f"column {column}" in msg and "nothing loaded" in msg


def test_all_bad_rows_are_listed_together(tmp_path: Path) -> None:
    f = _write(
        tmp_path,
        HEAD
        + "lithium,mine,Atlantis,2024,5,t,lithium content\n"
        + GOOD
        + "lithium,mine,Chile,2024,-1,kg,lithium content\n",
    )
    with pytest.raises(UserDataError) as err:
        load_user_csv(f)
    assert [(p.row, p.column) for p in err.value.problems] == [(2, "country"), (4, "quantity")]


def test_missing_column_is_named(tmp_path: Path) -> None:
    f = _write(tmp_path, "material,stage,country,year,quantity,unit\nlithium,mine,Chile,2024,5,t\n")
    with pytest.raises(UserDataError) as err:
        load_user_csv(f)
    p = err.value.problems[0]
    assert (p.row, p.column) == (1, "basis")
    assert "a column named 'basis'" in p.expected


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UserDataError, match="existing CSV file"):
        load_user_csv(tmp_path / "nope.csv")


def test_trade_with_negative_value(tmp_path: Path) -> None:
    f = _write(tmp_path, "year,exporter,importer,material,stage,value_usd\n2024,CHL,XYZ,lithium,refine,-3\n")
    with pytest.raises(UserDataError) as err:
        load_user_csv(f)
    assert sorted(p.column for p in err.value.problems) == ["importer", "value_usd"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    qty=st.floats(min_value=0, max_value=1e9, allow_nan=False), unit=st.sampled_from(["t", "kg", "kt", "Mt"])
)
def test_quantity_in_any_mass_unit_becomes_tonnes(tmp_path: Path, qty: float, unit: str) -> None:
    f = _write(tmp_path, HEAD + f"lithium,mine,CHL,2024,{qty!r},{unit},lithium content\n")
    tonnes = float(load_user_csv(f)["tonnes"].iloc[0])
    assert tonnes == pytest.approx(qty * {"t": 1.0, "kg": 1e-3, "kt": 1e3, "Mt": 1e6}[unit], rel=1e-12)
