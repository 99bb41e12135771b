"""``critmin exposure`` on the hand-made chain: JSON object, table, filters and errors."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from test_exposure_fixture import chain
from typer.testing import CliRunner

import critmin.atlas
from critmin.cli import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def fixture_atlas(monkeypatch: pytest.MonkeyPatch) -> None:
    c = chain()
    monkeypatch.setattr(critmin.atlas, "load_atlas", lambda groups_file=None: c)


def test_detail_json_object() -> None:
    res = runner.invoke(app, ["exposure", "-m", "x", "-s", "mine", "-g", "alliance", "--format", "json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert d["shares"] == pytest.approx({"CHN": 0.6, "AUS": 0.3, "OTH": 0.1})
    assert d["hhi"] == pytest.approx(4500.0)
    assert d["alliance_share"] == pytest.approx(0.3)
    assert d["group"] == "alliance"


def test_table_csv_every_material_and_stage() -> None:
    res = runner.invoke(app, ["exposure", "--group", "alliance", "--format", "csv"])
    assert res.exit_code == 0, res.output
    df = pd.read_csv(io.StringIO(res.output))
    assert list(zip(df["material"], df["stage"], strict=True)) == [
        ("x", "mine"),
        ("x", "refine"),
        ("y", "mine"),
    ]
    assert df.loc[0, "china_share"] == pytest.approx(0.6)


def test_material_without_stage_filters_the_table_and_table_format_renders() -> None:
    res = runner.invoke(app, ["exposure", "-m", "x", "-g", "alliance", "--format", "json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    assert [r["stage"] for r in rows] == ["mine", "refine"]
    res = runner.invoke(app, ["exposure", "-m", "x", "-s", "mine", "-g", "alliance"])
    assert res.exit_code == 0, res.output
    assert "CHN" in res.output and "Withheld" in res.output


def test_table_format_renders_key_columns() -> None:
    res = runner.invoke(app, ["exposure", "-g", "alliance"])
    assert res.exit_code == 0, res.output
    lines = [ln.split() for ln in res.output.splitlines()]
    row = next(ln for ln in lines if ln[:2] == ["x", "mine"])
    # material, stage, year, tonnes, hhi, top1, share, china, allied, risk
    assert row[2:8] == ["2024", "100", "4,500", "CHN", "0.60", "0.60"]
    assert row[8] == "0.30"
    assert "allied = share of 'alliance'" in res.output


def test_unknown_group_and_missing_stage_exit_2_with_message() -> None:
    res = runner.invoke(app, ["exposure", "--group", "nope"])
    assert res.exit_code == 2
    assert "group 'nope' is not defined" in res.output
    res = runner.invoke(app, ["exposure", "-m", "x", "-s", "magnet", "-g", "alliance"])
    assert res.exit_code == 2
    assert "no production data" in res.output
    res = runner.invoke(app, ["exposure", "-s", "smelt", "-g", "alliance"])
    assert res.exit_code == 2
    assert "stage 'smelt'" in res.output and "['mine', 'refine']" in res.output
    res = runner.invoke(app, ["exposure", "-m", "q", "-g", "alliance"])
    assert res.exit_code == 2
    assert "material 'q'" in res.output
