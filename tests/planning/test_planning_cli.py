"""``critmin plan`` and ``critmin plan timeline`` through Typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from critmin.cli import app

runner = CliRunner()
REE = ["--material", "magnet-rare-earths", "--stage", "refine"]


def test_plan_json_names_projects_sources_and_defaults() -> None:
    args = ["plan", *REE, "--target", "0.12", "--by", "2030", "--budget-per-year", "2e8"]
    res = runner.invoke(app, [*args, "--no-third-country-cap", "--format", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["feasible"] is True and out["first_year_target_met"] <= 2030
    assert out["projects"] and all(p["source_url"].startswith("http") for p in out["projects"])
    assert all(p["from_defaults"] == bool(p["defaults_used"]) for p in out["projects"])
    assert "plan_ramp_up_years" in out["depends_on_defaults"]
    assert out["metadata"]["parameter_digest"]


def test_plan_table_with_burden_sharing() -> None:
    args = ["plan", *REE, "--target", "0.12", "--by", "2030", "--no-third-country-cap"]
    res = runner.invoke(app, [*args, "--burden", "equal", "--members", "USA,AUS,FRA,JPN"])
    assert res.exit_code == 0, res.output
    assert "Sources" in res.stdout and "Burden sharing" in res.stdout and "JPN" in res.stdout


def test_impossible_target_exits_cleanly_with_an_explanation() -> None:
    res = runner.invoke(app, ["plan", "--material", "lithium", "--stage", "refine", "--target", "0.6"])
    assert res.exit_code == 0, res.output
    assert "infeasible:" in res.stdout and "short by" in res.stdout
    assert "Traceback" not in res.output


def test_bad_inputs_are_clear_errors(tmp_path: Path) -> None:
    res = runner.invoke(app, ["plan", "--target", "0.5"])
    assert res.exit_code == 2 and "--material is required" in res.output
    res = runner.invoke(app, ["plan", *REE, "--target", "1.5"])
    assert res.exit_code == 2 and "--target" in res.output
    bad = tmp_path / "projects.csv"
    bad.write_text("project_id,name\nx,y\n", encoding="utf-8")
    res = runner.invoke(app, ["plan", *REE, "--projects", str(bad)])
    assert res.exit_code == 2 and "projects.csv: missing columns" in res.output
    res = runner.invoke(app, ["plan", "timeline", *REE, "--budgets", "1e9,lots"])
    assert res.exit_code == 2 and "--budgets" in res.output
    res = runner.invoke(app, ["plan", "--material", "unobtainium"])
    assert res.exit_code == 2 and "no production for material 'unobtainium'" in res.output


def test_timeline_json_curve() -> None:
    args = ["plan", "timeline", *REE, "--target", "0.12", "--budgets", "5e7,2e8", "--no-third-country-cap"]
    res = runner.invoke(app, [*args, "--format", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    curve = out["curve"]
    assert [c["budget_per_year_usd"] for c in curve] == [5e7, 2e8]
    assert curve[0]["first_year"] is None and curve[1]["first_year"] == 2030
    assert curve[1]["projects"].startswith("arafura-nolans@")
    assert out["projects"]["arafura-nolans"]["source_url"].startswith("https://")
    assert (
        "capex_usd_per_tpa_refine[magnet-rare-earths]" in out["projects"]["arafura-nolans"]["defaults_used"]
    )
    assert out["expert_range_years"] == [10, 20]
    assert out["metadata"]["parameters"]["plan_discount_rate[default]"] == 0.02


def test_set_overrides_a_class_default_and_bad_set_is_an_error() -> None:
    # no gallium project states capex, so none can be planned until a capex class default is supplied
    base = ["plan", "projects", "--material", "gallium", "--format", "json"]
    assert json.loads(runner.invoke(app, base).stdout) == []
    res = runner.invoke(app, [*base, "--set", "capex_usd_per_tpa_refine[gallium]=2e6"])
    rows = {r["project_id"]: r for r in json.loads(res.stdout)}
    assert rows["alcoa-wagerup-gallium"]["capex_usd"] == 100 * 2e6
    assert "capex_usd_per_tpa_refine[gallium]" in rows["alcoa-wagerup-gallium"]["defaults_used"]
    res = runner.invoke(app, ["plan", *REE, "--set", "discount rate=2"])
    assert res.exit_code == 2 and "--param 'discount rate=2'" in res.output  # --set: alias of --param
