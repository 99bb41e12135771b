"""The atlas commands through Typer's CliRunner."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from critmin.cli import app

runner = CliRunner()


def test_materials_json_lists_every_material_with_stages_years_basis_and_flags() -> None:
    res = runner.invoke(app, ["materials", "--format", "json"])
    assert res.exit_code == 0, res.output
    rows = {(r["material"], r["stage"]): r for r in json.loads(res.stdout)}
    assert len({m for m, _ in rows}) >= 69
    assert rows[("gallium", "refine")]["missing"] is False and rows[("gallium", "mine")]["missing"] is True
    assert rows[("rare-earths", "mine")]["years"] == "1998-2015, 2018-2025"
    assert "theler2020" in rows[("rare-earths", "mine")]["editions"]
    ge = rows[("germanium", "refine")]
    assert ge["years"] == "2020-2021" and "MCS 2022" in ge["note"] and "not_available" in ge["flags"]
    dy = rows[("dysprosium", "refine")]
    assert dy["flags"].startswith("derived") and "oxide" in dy["basis"]


def test_countries_of_a_group_csv() -> None:
    res = runner.invoke(app, ["countries", "--group", "g7", "--format", "csv"])
    assert res.exit_code == 0, res.output
    df = pd.read_csv(StringIO(res.stdout), keep_default_na=False)
    assert sorted(df["iso3"]) == ["CAN", "DEU", "FRA", "GBR", "ITA", "JPN", "USA"]
    assert df.set_index("iso3").loc["USA", "name"] == "United States"


def test_countries_unknown_group_is_an_error() -> None:
    res = runner.invoke(app, ["countries", "--group", "nato"])
    assert res.exit_code == 2
    assert "unknown group 'nato'" in res.stderr


def test_countries_with_user_groups_file(tmp_path: Path) -> None:
    f = tmp_path / "g.yaml"
    f.write_text("groups:\n  andes:\n    source: me\n    members: [CHL, PER, BOL, ARG]\n")
    res = runner.invoke(app, ["countries", "--group", "andes", "--groups-file", str(f), "--format", "json"])
    assert res.exit_code == 0, res.output
    assert sorted(r["iso3"] for r in json.loads(res.stdout)) == ["ARG", "BOL", "CHL", "PER"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("groups:\n  x:\n    source: me\n    members: [ZZZ]\n")
    res = runner.invoke(app, ["countries", "--groups-file", str(bad)])
    assert res.exit_code == 2 and "ZZZ" in res.stderr


def test_sources_names_editions_licences_and_flags() -> None:
    res = runner.invoke(app, ["sources", "--format", "json"])
    assert res.exit_code == 0, res.output
    rows = {r["edition"]: r for r in json.loads(res.stdout)}
    assert rows["iea-cm-2025"]["licence"] == "CC BY 4.0"
    assert "IEA (2025)" in rows["iea-cm-2025"]["attribution"]
    assert "withheld" in rows["usgs-mcs2026"]["flags"]
    assert rows["baci-hs17-v202601"]["rows"] > 10_000


def test_load_good_file_shows_rows(tmp_path: Path) -> None:
    f = tmp_path / "mine.csv"
    f.write_text(
        "material,stage,country,year,quantity,unit,basis\nlithium,mine,Chile,2024,5,kt,lithium content\n"
    )
    res = runner.invoke(app, ["load", str(f), "--format", "json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert rows[0]["iso3"] == "CHL" and rows[0]["tonnes"] == 5000.0


def test_load_bad_file_lists_problems_and_exits_1(tmp_path: Path) -> None:
    f = tmp_path / "bad.csv"
    f.write_text("material,stage,country,year,quantity,unit,basis\nlithium,mine,Chile,2024,-5,t,LCE\n")
    res = runner.invoke(app, ["load", str(f), "--format", "json"])
    assert res.exit_code == 1
    probs = json.loads(res.stdout)
    assert [(p["row"], p["column"]) for p in probs] == [(2, "quantity"), (2, "basis")]
    assert "nothing loaded" in res.stderr
