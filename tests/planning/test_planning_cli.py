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
    assert "sampled timeline (1000 samples, named projects and generic capacity classes)" in res.stdout


def test_impossible_target_exits_non_zero_with_the_reason() -> None:
    res = runner.invoke(app, ["plan", "--material", "lithium", "--stage", "refine", "--target", "0.6"])
    assert res.exit_code == 1, res.output
    assert "infeasible:" in res.stdout and "short by" in res.stdout
    assert "error: no plan meets the request: infeasible:" in res.stderr
    assert "Traceback" not in res.output
    res = runner.invoke(app, ["plan", "--material", "antimony", "--stage", "mine", "--target", "0.9"])
    assert res.exit_code == 1 and "no project in the pipeline" in res.stdout + res.stderr, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)


def test_bad_inputs_are_clear_errors(tmp_path: Path) -> None:
    res = runner.invoke(app, ["plan", "--target", "0.5"])
    assert res.exit_code == 2 and "--material is required" in res.output
    res = runner.invoke(app, ["plan", *REE, "--target", "1.5"])
    assert res.exit_code == 2 and "--target" in res.output
    bad = tmp_path / "projects.csv"
    bad.write_text("project_id,name\nx,y\n", encoding="utf-8")
    res = runner.invoke(app, ["plan", *REE, "--projects", str(bad)])
    assert res.exit_code == 2 and "projects.csv: missing columns" in res.output
    res = runner.invoke(app, ["plan", "curve", *REE, "--budgets", "1e9,lots"])
    assert res.exit_code == 2 and "--budgets" in res.output
    res = runner.invoke(app, ["plan", "--material", "unobtainium"])
    assert res.exit_code == 2
    assert "unknown material 'unobtainium'; known materials: alumina, aluminum" in res.output


def test_first_hour_errors_name_what_was_expected() -> None:
    # issue 13: a misspelt material suggests close names
    res = runner.invoke(app, ["plan", "--material", "lithum"])
    assert res.exit_code == 2 and "unknown material 'lithum'; did you mean lithium?" in res.output
    # a negative budget is reported under its option name
    res = runner.invoke(app, ["plan", *REE, "--budget-per-year", "-5"])
    assert res.exit_code == 2 and "--budget-per-year: Input should be greater than 0" in res.output
    assert "budget_per_year" not in res.output
    # every member ISO3 is validated, before anything is solved
    args = ["plan", *REE, "--target", "0.12", "--by", "2030", "--no-third-country-cap", "--burden", "equal"]
    res = runner.invoke(app, [*args, "--members", "USA,XXX,JPN"])
    assert res.exit_code == 2 and "unknown ISO3 member code(s) XXX" in res.output
    res = runner.invoke(app, [*args, "--members", "USA,JPN", "--weights", "USA=1,XXX=2"])
    assert res.exit_code == 2
    # a stage the atlas lacks names the stages it has
    res = runner.invoke(app, ["plan", "--material", "tungsten", "--stage", "refine"])
    assert res.exit_code == 2 and "stages with data: mine" in res.output


def test_timeline_json_curve() -> None:
    args = ["plan", "curve", *REE, "--target", "0.12", "--budgets", "5e7,2e8", "--no-third-country-cap"]
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


def test_timeline_key_set_p10_p50_p90_with_reasons_and_bands(tmp_path: Path) -> None:
    bands = tmp_path / "bands.csv"
    res = runner.invoke(
        app, ["plan", "timeline", "--samples", "200", "--bands", str(bands), "--format", "json"]
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    rows = {(r["material"], r["stage"]): r for r in out["timeline"]}
    for key in ("magnet-rare-earths", "gallium", "graphite", "cobalt", "lithium", "nickel", "tungsten"):
        assert any(m == key for m, _ in rows), key
    for r in rows.values():
        assert r["p90"] is not None or r["reason"], r
    assert rows[("cobalt", "mine")]["status"] == "already met"
    assert out["metadata"]["parameters"]["class_refine_max_starts_per_year[magnet-rare-earths]"] == 2
    text = bands.read_text(encoding="utf-8").splitlines()
    assert text[0] == "year,p10,p50,p90,mean_new_t,material,stage,target" and len(text) > 25
    table = runner.invoke(app, ["plan", "timeline", "-m", "lithium,antimony", "--samples", "100"])
    assert table.exit_code == 0 and "P50" in table.stdout and "antimony" in table.stdout
    bad = runner.invoke(app, ["plan", "timeline", "-m", "galium"])
    assert bad.exit_code == 2 and "did you mean gallium" in bad.output
    bad = runner.invoke(app, ["plan", "timeline", "--samples", "0"])
    assert bad.exit_code == 2 and "--samples" in bad.output
    bad = runner.invoke(app, ["plan", "timeline", "--scenario", "XYZ"])
    assert bad.exit_code == 2 and "--scenario" in bad.output and "expected STEPS" in bad.output
    bad = runner.invoke(app, ["plan", "timeline", "-m", "lithium", "--group", "nato"])
    assert bad.exit_code == 2 and "unknown group 'nato'" in bad.output


def test_plan_classes_lists_sources() -> None:
    res = runner.invoke(app, ["plan", "classes", "-m", "magnet-rare-earths", "--format", "json"])
    assert res.exit_code == 0, res.output
    rows = {(r["class"], r["stage"]): r for r in json.loads(res.stdout)}
    refine = rows[("refine", "refine")]
    assert refine["max_starts_per_year"] == 2 and refine["foak_extra_years"] == 2
    assert refine["capex_basis"].startswith("derived: median over pipeline projects")


def test_gdp_burden_uses_world_bank_gdp_from_the_atlas() -> None:
    from critmin.atlas import load_atlas
    from critmin.planning.burden import gdp_weights

    args = ["plan", *REE, "--target", "0.12", "--by", "2030", "--no-third-country-cap", "--format", "json"]
    res = runner.invoke(app, [*args, "--burden", "gdp", "--members", "USA,JPN,AUS"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    weights, year = gdp_weights(load_atlas().gdp, ["USA", "JPN", "AUS"])  # type: ignore[attr-defined]
    shares = {r["member"]: r["share_of_capex"] for r in out["burden"]}
    total = sum(weights.values())
    assert all(abs(shares[m] - w / total) < 1e-12 for m, w in weights.items())
    assert f"World Bank WDI GDP (current USD), {year}" in res.stderr
