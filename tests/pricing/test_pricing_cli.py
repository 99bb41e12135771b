"""CLI: critmin price assess / model / stake and critmin floor (USD/kg at the command line)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest
from typer.testing import CliRunner

from critmin.cli import app
from critmin.cli.pricing_cmds import parse_window

runner = CliRunner()
EXAMPLE = str(resources.files("critmin.pricing").joinpath("examples/transactions_illustrative.csv"))


def test_assess_example_file_json() -> None:
    res = runner.invoke(app, ["price", "assess", EXAMPLE, "--as-of", "2026-06-30", "--format", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    prices = {p["material"]: p for p in out["prices"]}
    ga = prices["gallium"]
    # 9 gallium deals: one older than 30 days, one duplicate report, one outlier at 1,450 USD/kg;
    # the six left: (590*2 + 570*1.5 + 585 + 580*2.5 + 595 + 575) / 9 t = 582.2 USD/kg
    assert ga["status"] == "published" and ga["count"] == 6 and ga["excluded_outliers"] == 1
    assert ga["price_usd_per_t"] == pytest.approx(
        (590 * 2 + 570 * 1.5 + 585 + 580 * 2.5 + 595 + 575) / 9 * 1000
    )
    assert prices["ndpr-oxide"]["status"] == "insufficient data"
    assert out["metadata"]["parameters"]["window_days"] == 30


def test_assess_bad_file_prints_nothing_but_the_error(tmp_path: Path) -> None:
    text = Path(EXAMPLE).read_text(encoding="utf-8")
    bad = tmp_path / "deals.csv"
    bad.write_text(text + "2026-06-27,gallium,refine,4N,-1,580,USD,CIF Rotterdam,B,S,Member A,kg\n")
    res = runner.invoke(app, ["price", "assess", str(bad), "--as-of", "2026-06-30", "--format", "csv"])
    assert res.exit_code == 2
    assert "row 13, column volume_t: value '-1'" in res.stderr
    assert res.stdout == ""  # nothing assessed from the partly valid file
    res = runner.invoke(app, ["price", "assess", EXAMPLE, "--as-of", "2026-06-10"])
    assert res.exit_code == 2 and "column date" in res.stderr  # deals dated after the assessment date
    res = runner.invoke(app, ["price", "assess", EXAMPLE, "--window", "soon"])
    assert res.exit_code == 2 and "--window" in res.stderr


def test_parse_window() -> None:
    assert (parse_window("30d"), parse_window("4w"), parse_window("7")) == (30, 28, 7)
    with pytest.raises(ValueError, match="positive number of days"):
        parse_window("0d")


def test_floor_dod_mp_constant_prices(tmp_path: Path) -> None:
    # a flat user series at 63 USD/kg fits a model with no volatility: every path stays at 63 USD/kg
    series = tmp_path / "flat.csv"
    series.write_text("month,usd_per_t\n" + "".join(f"2025-{m:02d},63000\n" for m in range(1, 13)))
    args = [
        "floor",
        "--material",
        "ndpr-oxide",
        "--mechanism",
        "floor",
        "--strike",
        "110",
        "--volume-t",
        "1000",
    ]
    args += [
        "--years",
        "10",
        "--paths",
        "50",
        "--series",
        str(series),
        "--format",
        "json",
    ]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    # 47 USD/kg gap x 1,000 t = 47 M USD a year, on every path
    assert out["fiscal_cost_per_year_usd"]["p5"] == pytest.approx(47e6, rel=1e-6)
    assert out["fiscal_cost_per_year_usd"]["p95"] == pytest.approx(47e6, rel=1e-6)
    assert out["strike_usd_per_t"] == 110_000 and out["paths"] == 50 and out["years"] == 10


def test_floor_share_on_fitted_ndpr_paths() -> None:
    args = [
        "floor",
        "-m",
        "ndpr-oxide",
        "--mechanism",
        "floor-share",
        "--strike",
        "110",
        "--volume-t",
        "1000",
    ]
    res = runner.invoke(app, [*args, "--years", "10", "--paths", "2000", "--format", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    cost = out["fiscal_cost_pv_usd"]
    assert cost["p5"] < cost["mean"] < cost["p95"]  # a distribution
    assert out["upside_share"] == 0.3 and out["price_model"]["series"] == "0.75 Nd oxide + 0.25 Pr oxide"
    assert out["metadata"]["parameters"]["mech_discount_rate[default]"] == 0.02
    assert out["metadata"]["parameters"]["ndpr_nd_share[ndpr-oxide]"] == 0.75
    table = runner.invoke(app, [*args, "--years", "2", "--paths", "200"])
    assert table.exit_code == 0 and "fiscal_cost_pv_usd" in table.stdout
    bad = runner.invoke(
        app, ["floor", "-m", "ndpr-oxide", "--mechanism", "swap", "--strike", "1", "--volume-t", "1"]
    )
    assert bad.exit_code == 2 and "expected one of floor" in bad.stderr


def test_model_and_stake_commands() -> None:
    res = runner.invoke(app, ["price", "model", "-m", "copper", "--format", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["fit_frequency"] == "monthly" and out["fit_n"] == 240 and out["half_life_years"] > 0
    res = runner.invoke(app, ["price", "stake", "--levy-rate", "0.2", "--format", "json"])
    assert res.exit_code == 0, res.output
    rows = {r["iso3"]: r for r in json.loads(res.stdout)["members"]}
    assert rows["ARG"]["exports_to_china_usd"] == pytest.approx(408_986_232)
    assert runner.invoke(app, ["price", "stake", "--group", "nope"]).exit_code == 2


def test_floor_on_disruption_paths() -> None:
    args = [
        "floor",
        "-m",
        "ndpr-oxide",
        "--strike",
        "60",
        "--volume-t",
        "100",
        "--years",
        "1",
        "--paths",
        "100",
    ]
    res = runner.invoke(app, [*args, "--paths-from", "disruption", "--no-projects", "--format", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    base = json.loads(runner.invoke(app, [*args, "--no-projects", "--format", "json"]).stdout)
    # the Monte Carlo's outside-zone index (>= 1) moves the same baseline paths up: the floor costs no more
    assert out["paths_from"] == "disruption" and base["paths_from"] == "model"
    assert out["fiscal_cost_pv_usd"]["mean"] <= base["fiscal_cost_pv_usd"]["mean"]
    assert out["metadata"]["data_editions"]["price_paths"].endswith("x disruption Monte Carlo")
    assert base["metadata"]["data_editions"]["price_paths"].endswith("(no event)")
    bad = runner.invoke(app, [*args, "--paths-from", "crystal-ball"])
    assert bad.exit_code == 2 and "--paths-from" in bad.stderr


def test_floor_bad_share_is_a_clear_error() -> None:
    args = ["floor", "-m", "ndpr-oxide", "--mechanism", "floor-share", "--share", "2", "--strike", "110"]
    res = runner.invoke(app, [*args, "--volume-t", "10", "--paths", "10"])
    assert res.exit_code == 2 and "--share: Input should be less than or equal to 1" in res.stderr


def test_assess_with_fx_and_differentials(tmp_path: Path) -> None:
    deals = tmp_path / "deals.csv"
    deals.write_text(
        "date,material,stage,specification,volume_t,price,currency,incoterm,buyer,seller,reporter\n"
        "2026-06-02,gallium,refine,4N,1,500000,USD,CIF Rotterdam,b1,s1,A\n"
        "2026-06-03,gallium,refine,5N,1,520000,USD,CIF Rotterdam,b2,s1,B\n"
        "2026-06-04,gallium,refine,4N,1,400000,EUR,FOB Antwerp,b3,s2,C\n"
    )
    fx = tmp_path / "fx.csv"
    fx.write_text("currency,usd_per_unit\nEUR,1.25\n")
    diff = tmp_path / "diff.csv"
    diff.write_text(
        "material,stage,kind,name,usd_per_t\n"
        "gallium,refine,base,4N|CIF Rotterdam,\n"
        "gallium,refine,specification,5N,-20000\n"
        "gallium,refine,incoterm,FOB Antwerp,0\n"
    )
    args = ["price", "assess", str(deals), "--as-of", "2026-06-30", "--format", "json"]
    res = runner.invoke(app, [*args, "--fx", str(fx), "--differentials", str(diff)])
    assert res.exit_code == 0, res.output
    (row,) = json.loads(res.stdout)["prices"]
    # 500,000; 520,000 - 20,000; 400,000 EUR x 1.25 = 500,000 USD/t: all at the base, one price
    assert row["specification"] == "4N" and row["incoterm"] == "CIF Rotterdam"
    assert row["price_usd_per_t"] == pytest.approx(500_000.0) and row["reporters"] == 3
    no_fx = runner.invoke(app, args)
    assert no_fx.exit_code == 2 and "row 4, column currency: value 'EUR'" in no_fx.stderr
