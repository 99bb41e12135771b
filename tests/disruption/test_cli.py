"""``critmin shock`` and ``critmin risk`` through Typer's CliRunner on the real bundled data."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from critmin.cli import app

runner = CliRunner()


def test_shock_json_has_price_paths_shortfall_losses_and_provenance() -> None:
    res = runner.invoke(app, ["shock", "gallium-2023", "--format", "json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)
    g = d["materials"]["gallium"]
    assert len(g["price_index"]["outside"]) == 12 and len(g["price_index"]["restrictor"]) == 12
    assert max(g["price_index"]["outside"]) > 1.5
    assert max(g["price_index"]["restrictor"]) <= 1.0
    assert len(g["shortfall_t"]) == 12 and "loss_usd" in g
    assert d["parameters"]["restrictor_export_share[gallium]"] == 0.108
    assert "usgs-mcs2026" in d["data_editions"]


def test_shock_gallium_2023_reports_a_positive_loss_with_its_parts() -> None:
    res = runner.invoke(app, ["shock", "gallium-2023", "--format", "json"])
    assert res.exit_code == 0, res.output
    g = json.loads(res.stdout)["materials"]["gallium"]
    parts = g["loss_parts_usd"]
    assert g["loss_usd"] > 0 and parts["extra_cost_usd"] > 0 and parts["priced_out_usd"] > 0
    assert g["loss_usd"] == sum(parts[k] for k in ("extra_cost_usd", "priced_out_usd", "unmet_value_usd"))
    assert parts["windfall_usd"] > 0 and "value added lost on demand left unmet" in g["loss_includes"]
    # the ban lasts the whole horizon (exports 0 t, then -73%): the price never falls back to 1.00
    assert min(g["price_index"]["outside"]) > 1.005


def test_shock_table_fits_80_columns_and_never_cuts_a_number() -> None:
    res = runner.invoke(app, ["shock", "rare-earths-2010"], env={"COLUMNS": "80"})
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines) and "…" not in res.stdout
    row = next(line for line in lines if line.startswith(" magnet-rare-earths"))
    assert "bn" in row and "$" in row  # loss and its parts, as compact money
    assert "(a) extra cost on what" in res.stdout  # the one line saying what the loss includes
    wide = runner.invoke(app, ["shock", "rare-earths-2010", "--wide"], env={"COLUMNS": "80"})
    assert wide.exit_code == 0 and "…" not in wide.stdout
    head = next(line for line in wide.stdout.splitlines() if "material" in line)
    assert "(d)" in head and "withheld t" in head and "restr. producers" in head


def test_shock_from_file_with_param_override_and_table(tmp_path: Path) -> None:
    f = tmp_path / "s.yaml"
    f.write_text(
        "name: cut\nhorizon_months: 6\nevents:\n  - {type: export_restriction, exporter: CHN, "
        "material: gallium, stage: refine, share: 1.0}\n"
    )
    res = runner.invoke(app, ["shock", str(f), "-p", "price_cap_index[gallium]=2", "--format", "json"])
    assert res.exit_code == 0, res.output
    assert max(json.loads(res.stdout)["materials"]["gallium"]["price_index"]["outside"]) <= 2.0 + 1e-12
    table = runner.invoke(app, ["shock", str(f)])
    assert table.exit_code == 0 and "Scenario cut (6 months)" in table.stdout
    csv = runner.invoke(app, ["shock", str(f), "--format", "csv"])
    assert csv.exit_code == 0 and csv.stdout.splitlines()[1].startswith("gallium,refine,CHN,")


def test_shock_errors_are_clear(tmp_path: Path) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text(
        "name: bad\nevents:\n  - {type: export_restriction, exporter: CHN, material: gallium, share: 2}\n"
    )
    res = runner.invoke(app, ["shock", str(f)])
    assert res.exit_code == 2
    assert "event 0" in res.output and "field share" in res.output and "2" in res.output
    res = runner.invoke(app, ["shock", "no-such-scenario"])
    assert res.exit_code == 2 and "no bundled scenario" in res.output
    res = runner.invoke(app, ["shock", "gallium-2023", "-p", "oops"])
    assert res.exit_code == 2 and "NAME[MATERIAL]=NUMBER" in res.output


def test_risk_keep_scenarios_writes_every_disrupted_pair_to_parquet(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    out = tmp_path / "scenarios.parquet"
    args = ["risk", "-n", "400", "--seed", "8", "--chunk-size", "150", "--format", "json"]
    res = runner.invoke(app, [*args, "--keep-scenarios", str(out)])
    assert res.exit_code == 0, res.output
    rows = {r["material"]: r for r in json.loads(res.stdout)["rows"]}
    frame = pd.read_parquet(out)
    assert pq.read_schema(out).metadata[b"critmin.n_scenarios"] == b"400"
    assert frame["scenario"].between(0, 399).all() and frame["restrictor"].notna().all()
    assert not frame.duplicated(["scenario", "material"]).any()
    by = frame.groupby("material", observed=True)
    for m, r in rows.items():  # the summary's expected loss and P(restriction) from the pairs
        assert by["loss_usd"].sum()[m] / 400 == pytest.approx(r["expected_loss_usd"], rel=1e-9)
        assert by.size()[m] / 400 == pytest.approx(r["p_disrupted"], rel=1e-12)
    parts = frame[["extra_cost_usd", "priced_out_usd", "unmet_value_usd"]].sum(axis=1)
    valued = frame["loss_usd"].notna()
    np.testing.assert_allclose(parts[valued], frame.loc[valued, "loss_usd"], rtol=1e-9)
    same = runner.invoke(app, args)  # not keeping the scenarios changes no number
    assert json.loads(same.stdout)["rows"] == json.loads(res.stdout)["rows"]


def test_risk_table_json_and_parquet(tmp_path: Path) -> None:
    out = tmp_path / "losses.parquet"
    res = runner.invoke(
        app,
        [
            "risk",
            "--scenarios",
            "300",
            "--seed",
            "4",
            "--chunk-size",
            "100",
            "--parquet",
            str(out),
            "--format",
            "json",
        ],
    )
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)["rows"]
    assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
    assert {"material", "expected_loss_usd", "var_usd", "cvar_usd"} <= set(rows[0])
    frame = pd.read_parquet(out)
    assert frame.shape[0] == 300 and "gallium" in frame.columns
    assert abs(frame[rows[0]["material"]].mean() - rows[0]["expected_loss_usd"]) <= 1e-6 * max(
        1.0, rows[0]["expected_loss_usd"]
    )
    members = runner.invoke(app, ["risk", "-n", "100", "--members", "--format", "csv"])
    assert members.exit_code == 0 and members.stdout.startswith("member,")
    bad = runner.invoke(app, ["risk", "-n", "10", "--backend", "spark"])
    assert bad.exit_code == 2


def test_risk_perspective_usa_json_acceptance() -> None:
    """Issue 20: every priced material ranked, excluded ones listed, no damage with a zero loss."""
    from critmin.atlas import load_atlas
    from critmin.atlas.prices import latest_reference_prices, unpriced_materials
    from critmin.disruption.inputs import build_inputs

    res = runner.invoke(app, ["risk", "--perspective", "USA", "-n", "600", "--seed", "3", "--format", "json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)
    assert d["perspective"] == "USA" and "priced out" in d["loss_includes"]
    ranked = [r["material"] for r in d["rows"]]
    excluded = [r["material"] for r in d["excluded"]]
    priced = set(latest_reference_prices(load_atlas().prices))
    assert set(ranked) <= priced and not set(excluded) & priced
    assert [r["rank"] for r in d["rows"]] == list(range(1, len(ranked) + 1))
    modelled = build_inputs(load_atlas()).materials
    assert sorted(ranked + excluded) == sorted(modelled)  # every modelled material is ranked or excluded
    assert set(excluded) == set(modelled) - priced
    for r in d["rows"]:
        damaged = r["expected_shortfall_t"] > 0 or (r["peak_price_p50"] or 1.0) > 1.0
        assert not damaged or r["expected_loss_usd"] > 0, r["material"]
        assert r["allocation_basis"] in ("apparent-consumption", "net-import-value", "gdp-share")
    # the five materials issue 20 found unpriced are priced now; only the documented unpriced list is excluded
    assert {"battery-graphite", "manganese", "platinum-group-metals", "strontium", "tungsten"} <= set(ranked)
    assert set(excluded) <= set(unpriced_materials())
    assert d["parameters"]["perspective"] == "USA"


def test_risk_table_fits_80_columns_and_says_what_is_excluded() -> None:
    res = runner.invoke(app, ["risk", "-n", "200", "--seed", "1"], env={"COLUMNS": "80"}, terminal_width=80)
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "…" not in res.stdout  # nothing cut
    assert "Excluded (no price)" in res.stdout
    wide = runner.invoke(app, ["risk", "-n", "200", "--seed", "1", "--wide", "--format", "csv"])
    assert "expected_loss_p95_usd" in wide.stdout.splitlines()[0]
    help_text = runner.invoke(app, ["risk", "--help"], env={"COLUMNS": "120"}).stdout
    assert "losses ." not in help_text and "Parquet" in help_text


def test_disruption_commands_do_not_slow_the_cli_import() -> None:
    heavy = "('dask', 'distributed', 'scipy.optimize')"
    code = f"import sys, critmin.cli; print(any(m in sys.modules for m in {heavy}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
