"""The exposure report on the bundled atlas: regression facts, schema of the CLI JSON, table coverage."""

from __future__ import annotations

import io
import json
from functools import cache

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from critmin.analytics.exposure import (
    PARAMETER_NAMES,
    TABLE_COLUMNS,
    exposure_detail,
    exposure_table,
    parameter_values,
)
from critmin.atlas import load_atlas
from critmin.cli import app
from critmin.parameters import ParameterSet

runner = CliRunner()


@cache
def table() -> pd.DataFrame:
    return exposure_table(load_atlas(), 2024)


def _row(material: str, stage: str) -> pd.Series:
    t = table()
    hit = t[(t["material"] == material) & (t["stage"] == stage)]
    assert len(hit) == 1, (material, stage)
    return hit.iloc[0]


def test_table_has_one_row_per_material_and_stage_present_in_the_atlas() -> None:
    atlas = load_atlas()
    p = atlas.production
    present = p[p["primary"].astype(bool) & p["tonnes"].notna()]
    expected = sorted(set(zip(present["material"], present["stage"], strict=True)))
    t = table()
    assert list(t.columns) == TABLE_COLUMNS
    assert list(zip(t["material"], t["stage"], strict=True)) == expected
    assert len(t) >= 40
    assert t["total_t"].gt(0).all()
    assert t["hhi"].between(0, 10_000).all()
    assert (t["hhi"] <= t["hhi_upper"] + 1e-9).all()
    assert t["china_share"].between(0, 1).all()
    assert t["alliance_share"].between(0, 1).all()
    # shares of China, the alliance and "Other" never exceed the whole (China is not in the alliance)
    assert (t["china_share"] + t["alliance_share"] + t["other_share"] <= 1 + 1e-9).all()
    assert t["supply_risk"].notna().all()
    assert t["supply_risk"].between(0, 10).all()


@pytest.mark.parametrize(
    ("material", "stage", "low", "high"),
    [
        ("gallium", "refine", 0.98, 1.0),
        ("rare-earths", "mine", 0.65, 0.75),
        ("cobalt", "refine", 0.77, 0.79),
        ("lithium", "refine", 0.69, 0.71),
        ("battery-graphite", "refine", 0.95, 0.97),
        ("magnet-rare-earths", "refine", 0.90, 0.92),
    ],
)
def test_china_shares_2024(material: str, stage: str, low: float, high: float) -> None:
    row = _row(material, stage)
    assert int(row["year"]) == 2024
    assert low <= row["china_share"] <= high


def test_indonesia_tops_nickel_refining_and_china_tops_gallium() -> None:
    assert _row("nickel", "refine")["top1_iso3"] == "IDN"
    assert _row("gallium", "refine")["top1_iso3"] == "CHN"


def test_table_agrees_with_detail_on_the_real_data() -> None:
    atlas = load_atlas()
    for material, stage in [
        ("gallium", "refine"),
        ("cobalt", "mine"),
        ("copper", "refine"),
        ("rare-earths", "mine"),
    ]:
        row = _row(material, stage)
        d = exposure_detail(atlas, material, stage, 2024)
        for col in ("year", "total_t", "hhi", "hhi_upper", "top1_share", "china_share", "alliance_share"):
            assert row[col] == pytest.approx(d[col]), (material, stage, col)
        assert row["supply_risk"] == pytest.approx(d["supply_risk"])
        assert row["top1_iso3"] == d["top1_iso3"]
        assert sum(d["shares"].values()) == pytest.approx(1.0)


def test_parameter_values_mirror_parameter_set_get() -> None:
    params = ParameterSet().with_overrides(
        {("eol_rir", "cobalt"): 0.3, ("substitution_index", "default"): 0.8}
    )
    mats = sorted(set(table()["material"]))
    for name in PARAMETER_NAMES:
        np.testing.assert_array_equal(
            parameter_values(params, name, mats), [params.get(name, m) for m in mats]
        )


def test_cli_json_schema_on_real_data() -> None:
    res = runner.invoke(app, ["exposure", "--material", "gallium", "--stage", "refine", "--format", "json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    required = {
        "material": str,
        "stage": str,
        "year": int,
        "total_t": float,
        "hhi": float,
        "shares": dict,
        "group_shares": dict,
        "source": str,
        "data_editions": dict,
        "parameters": dict,
        "parameter_digest": str,
        "critmin_version": str,
    }
    for key, kind in required.items():
        assert isinstance(d[key], kind), key
    assert (d["material"], d["stage"], d["year"], d["group"]) == (
        "gallium",
        "refine",
        2024,
        "ministerial-2026",
    )
    assert all(len(k) == 3 and 0 <= v <= 1 for k, v in d["shares"].items())
    assert sum(d["shares"].values()) == pytest.approx(1.0)
    assert set(d["group_shares"]) >= {"ministerial-2026", "eu27", "msp-2024", "g7", "china"}
    assert d["group_shares"]["china"] == pytest.approx(d["china_share"])
    assert d["china_share"] >= 0.98
    assert 0 <= d["hhi"] <= 10_000
    assert "usgs" in d["source"].lower()


def test_cli_csv_table_on_real_data_and_group_option() -> None:
    res = runner.invoke(app, ["exposure", "--format", "csv"])
    assert res.exit_code == 0, res.output
    df = pd.read_csv(io.StringIO(res.output))
    assert list(df.columns) == [*TABLE_COLUMNS, "note"]  # note: USGS editions disagree (issue 13)
    assert len(df) == len(table())
    res = runner.invoke(app, ["exposure", "--format", "csv", "--group", "china"])
    china = pd.read_csv(io.StringIO(res.output))
    np.testing.assert_allclose(china["alliance_share"], china["china_share"])


def test_trade_block_on_real_data() -> None:
    atlas = load_atlas()
    li = exposure_detail(atlas, "lithium", "refine", 2024)
    assert (li["import_year"], li["import_hs6"]) == (2024, ["283691"])
    # Chile (not an alliance member) is the first supplier of lithium carbonate to the alliance
    assert next(iter(li["import_suppliers"])) == "CHL"
    assert li["import_dependency_china"] == pytest.approx(li["import_suppliers"]["CHN"])
    assert 0 < li["geopolrisk"] <= li["hhi"] / 10_000
    # gallium has no HS6 code of its own: only the shared 811292 exists, and it is not used
    ga = exposure_detail(atlas, "gallium", "refine", 2024)
    assert ga["import_hs6"] == [] and ga["import_shared_hs6"] == ["811292"]
    assert ga["geopolrisk"] is None
    magnets = atlas.trade[atlas.trade["hs6"] == "850511"]
    assert set(zip(magnets["material"], magnets["stage"], strict=True)) == {("magnet-rare-earths", "magnet")}
