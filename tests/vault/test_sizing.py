"""Sizing on the real data: alignment with the Monte Carlo, caps, exclusions, rules, and the CLI."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from critmin.atlas import load_atlas
from critmin.cli import app
from critmin.disruption.montecarlo import run_monte_carlo
from critmin.optimize.stockpile import StockpileConfig
from critmin.parameters import ParameterSet
from critmin.vault.sizing import (
    SizingData,
    carry_rate,
    comparison,
    default_budget,
    rule_plans,
    size_reserve,
    sizing_inputs,
)

N, SEED = 300, 11


@pytest.fixture(scope="module")
def data() -> SizingData:
    return sizing_inputs(load_atlas(), N, SEED, horizon_months=12)


def test_shortfalls_are_the_monte_carlo_ones_aligned_by_material(data: SizingData) -> None:
    mc = run_monte_carlo(load_atlas(), N, SEED, horizon_months=12, keep_paths=True)
    assert mc.shortfall_t is not None
    short = data.inputs.shortfall_t
    assert short.sizes == {"scenario": N, "material": len(data.inputs.materials), "month": 12}
    for m in ("gallium", "cobalt", "magnet-rare-earths"):
        i = mc.materials.index(m)
        np.testing.assert_array_equal(short.sel(material=m).values, mc.shortfall_t[:, i, :])
        assert data.inputs.loss_per_tonne_usd[m] == mc.loss_per_tonne_usd[i]
    assert set(data.inputs.materials) | set(data.excluded) == set(mc.materials)


def test_excluded_materials_really_have_no_atlas_price(data: SizingData) -> None:
    prices = load_atlas().prices
    priced = set(prices.loc[prices["usd_per_t"].notna() & (prices["usd_per_t"] > 0), "material"])
    for m, why in data.excluded.items():
        assert why in {"no atlas price (USD/t)", "no loss per tonne", "no world output at the market stage"}
        if why == "no atlas price (USD/t)":
            assert m not in priced
    assert set(data.inputs.materials) <= priced
    assert "gallium" not in data.excluded


def test_caps_and_carry_rates_come_from_vault_parameters(data: SizingData) -> None:
    ps = ParameterSet()
    share = ps.get("vault_cap_share_world_supply")
    # gallium is modelled on its refine stage: cap = 10 % of the latest world refinery output
    atlas = load_atlas()
    wt = atlas.world_totals
    ga = wt[(wt["material"] == "gallium") & (wt["stage"] == "refine")].dropna(subset=["tonnes"])
    world = float(ga.sort_values("year")["tonnes"].iloc[-1])
    assert data.inputs.max_holding_t["gallium"] == pytest.approx(share * world)
    blended = (10e9 * 0.05 + 1.67e9 * 0.08) / 11.67e9
    assert carry_rate(ps, "gallium") == pytest.approx(blended + 0.01 + 0.02)
    assert default_budget(ps) == pytest.approx(11.67e9)


def test_china_is_the_reference_restrictor_for_gallium_and_magnet_rare_earths(data: SizingData) -> None:
    assert data.reference_restrictor["gallium"] == "CHN"
    assert data.reference_restrictor["magnet-rare-earths"] == "CHN"
    # net imports of the outside zone are at most its consumption
    assert (data.net_imports_t_per_year <= data.consumption_t_per_year + 1e-9).all()


def test_optimised_plan_on_real_data_beats_every_rule_it_could_have_chosen(data: SizingData) -> None:
    config = StockpileConfig(budget_usd=default_budget())
    plan = size_reserve(data, config)
    assert plan.solve.ok
    assert plan.totals["cost_usd"] <= config.budget_usd * (1 + 1e-9)
    t = plan.totals
    assert t["lp_expected_loss_avoided_usd"] == pytest.approx(t["expected_loss_avoided_usd"])
    held = plan.table.set_index("material")["tonnes"]
    assert (held <= data.inputs.max_holding_t.reindex(held.index) * (1 + 1e-9)).all()
    # no stock where no scenario is short; and the first-tonne test: where the chance of a shortfall times
    # the loss per tonne beats the carrying cost of a tonne and the budget does not bind, the LP must hold
    # some stock (caps are positive)
    inputs = data.inputs
    p_short = (inputs.shortfall_t.sum("month") > 0).mean("scenario").to_series()
    assert (held[p_short[p_short == 0].index] <= 1e-9).all()
    carry_t = inputs.price_usd_per_t * inputs.carry_rate_per_year * inputs.horizon_years
    worth = p_short * inputs.loss_per_tonne_usd > 1.01 * carry_t
    if plan.totals["cost_usd"] < config.budget_usd * (1 - 1e-6):
        assert (held[worth[worth].index] > 0).all()
    else:  # the budget binds: it is spent in full
        assert plan.totals["cost_usd"] == pytest.approx(config.budget_usd, rel=1e-6)
    rules = rule_plans(data, config)
    assert [r.name for r in rules] == ["iea-net-imports", "japan-consumption"]
    for rule in rules:
        assert rule.totals["cost_usd"] <= config.budget_usd * (1 + 1e-9)
        rule_held = rule.table.set_index("material")["tonnes"]
        if (rule_held <= data.inputs.max_holding_t.reindex(rule_held.index)).all():
            assert plan.totals["net_benefit_usd"] >= rule.totals["net_benefit_usd"] - 1e-3
    table = comparison([plan, *rules])
    assert list(table["plan"]) == ["optimised", "iea-net-imports", "japan-consumption"]
    assert table.loc[0, "loss_avoided_per_dollar"] == pytest.approx(
        plan.totals["expected_loss_avoided_usd"] / plan.totals["cost_usd"]
    )
    assert plan.metadata.parameters["vault_exim_loan_usd[default]"] == 10e9
    assert plan.metadata.parameters["n_scenarios"] == N
    assert plan.metadata.data_editions


def test_one_rule_of_given_days(data: SizingData) -> None:
    config = StockpileConfig(budget_usd=1e15)  # no scaling
    (plan,) = rule_plans(data, config, days=30, basis="consumption")
    held = plan.table.set_index("material")["tonnes"]
    expected = data.consumption_t_per_year * 30 / 365
    pd.testing.assert_series_equal(held, expected.reindex(held.index), check_names=False)
    assert plan.table["days_of_cover"].dropna().to_numpy() == pytest.approx(30.0)
    with pytest.raises(ValueError, match="basis 'stocks'"):
        rule_plans(data, config, days=30, basis="stocks")


runner = CliRunner()


def test_cli_vault_size_json() -> None:
    res = runner.invoke(app, ["vault", "size", "--scenarios", "200", "--seed", "5", "--format", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["budget_usd"] == pytest.approx(11.67e9)
    names = [p["plan"] for p in out["comparison"]]
    assert names == [
        "optimised",
        "iea-90-days-net-imports",
        "japan-60-days-consumption",
        "nds-style-p95-episode-gap",
    ]
    assert out["solve"]["status"] == "Optimal"
    opt = out["comparison"][0]
    assert opt["cost_usd"] <= 11.67e9 * (1 + 1e-9)
    assert sum(r["cost_usd"] for r in out["materials"]) == pytest.approx(opt["cost_usd"])
    assert {"tonnes", "marginal_loss_avoided_per_usd", "carry_per_usd", "binding"} <= set(out["materials"][0])
    assert "spent" in out["headline"] and "net benefit" in out["headline"]
    assert out["parameters"]["vault_private_capital_usd[default]"] == 1.67e9
    assert "usgs-mcs2026" in out["data_editions"]


def test_cli_vault_size_zero_budget_and_cvar() -> None:
    res = runner.invoke(
        app, ["vault", "size", "--budget", "0", "--scenarios", "100", "--cvar", "0.9:0.5", "--format", "json"]
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert all(r["tonnes"] == pytest.approx(0.0, abs=1e-9) for r in out["materials"])
    assert out["comparison"][0]["cost_usd"] == pytest.approx(0.0, abs=1e-6)
    assert "left unspent" in out["headline"] or "0.00 bn USD" in out["headline"]


def test_cli_vault_size_over_the_loan_explains_unspent_budget() -> None:
    res = runner.invoke(app, ["vault", "size", "--scenarios", "100", "--seed", "2", "--horizon", "180"])
    assert res.exit_code == 0, res.output
    assert "Over 180 months" in res.stdout and "Plans compared" in res.stdout
    assert "left unspent because" in res.stdout or "whole budget is spent" in res.stdout


def test_cli_vault_size_bad_options() -> None:
    bad = runner.invoke(app, ["vault", "size", "--scenarios", "10", "--cvar", "0.95"])
    assert bad.exit_code == 2
    assert "expected ALPHA:WEIGHT" in bad.stderr
    bad = runner.invoke(app, ["vault", "size", "--scenarios", "10", "--cvar", "1.5:0.2"])
    assert bad.exit_code == 2
    assert "--cvar '1.5:0.2': alpha Input should be less than 1 (got 1.5)" in bad.stderr
    bad = runner.invoke(app, ["vault", "size", "--scenarios", "10", "--budget", "-1"])
    assert bad.exit_code == 2
    assert "--budget -1.0: Input should be greater than or equal to 0" in bad.stderr


def test_cli_vault_rules_days() -> None:
    res = runner.invoke(app, ["vault", "rules", "--days", "90", "--scenarios", "100", "--format", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert [p["plan"] for p in out["plans"]] == ["90-days-net-imports"]
    assert out["plans"][0]["totals"]["days"] == 90.0
    assert out["plans"][0]["totals"]["cost_usd"] <= 11.67e9 * (1 + 1e-9)
    bad = runner.invoke(app, ["vault", "rules", "--days", "90", "--basis", "stocks"])
    assert bad.exit_code == 2 and "expected net-imports or consumption" in bad.stderr


def test_cli_vault_rules_csv_has_one_row_per_material_and_plan() -> None:
    res = runner.invoke(app, ["vault", "rules", "--scenarios", "20", "--seed", "3", "--format", "csv"])
    assert res.exit_code == 0, res.output
    table = pd.read_csv(io.StringIO(res.stdout))
    assert set(table["plan"]) == {"iea-net-imports", "japan-consumption"}
    assert not table.duplicated(["plan", "material"]).any()
    assert (table["tonnes"] > 0).all()
    japan = table[table["plan"] == "japan-consumption"]
    # one common scale factor fits the plan into the budget: days of cover are equal across materials
    assert japan["days_of_cover"].to_numpy() == pytest.approx(japan["days_of_cover"].iloc[0])


def test_price_risk_is_the_mean_annual_price_fall_of_the_purchase_series(data: SizingData) -> None:
    from critmin.vault.sizing import price_downside, price_risk_rate

    downside = price_downside(load_atlas().prices)
    # USGS battery-grade lithium, 2021-2025: 11,700 -> 63,700 -> 39,000 -> 11,800 -> 9,000 USD/t
    falls = [0.0, 1 - 39_000 / 63_700, 1 - 11_800 / 39_000, 1 - 9_000 / 11_800]
    assert downside["lithium"] == pytest.approx(sum(falls) / 4)
    assert (downside >= 0).all() and (downside < 1).all()
    ps = ParameterSet()
    blended = (10e9 * 0.05 + 1.67e9 * 0.08) / 11.67e9
    assert data.inputs.carry_rate_per_year["lithium"] == pytest.approx(blended + 0.01 + downside["lithium"])
    flat = ps.with_overrides({("vault_price_risk_from_history", "default"): 0.0})
    assert price_risk_rate(flat, "lithium", downside) == 0.02
    assert price_risk_rate(ps, "no-such-material", downside) == 0.02  # no history: the flat rate
