"""Parameter overrides: one syntax (``--param NAME[MATERIAL]=VALUE``), validated against the table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from critmin.cli import app
from critmin.disruption import ScenarioError, load_scenario, parse_scenario
from critmin.parameters import (
    OverrideError,
    ParameterSet,
    load_parameter_table,
    parse_keyed,
    parse_overrides,
)

runner = CliRunner()


def test_valid_overrides_parse_to_name_material_value() -> None:
    got = parse_overrides(["price_cap_index[gallium]=3", " plan_discount_rate = 0.02 ", "ref_mad_k=2.5e0"])
    assert got == {
        ("price_cap_index", "gallium"): 3.0,
        ("plan_discount_rate", "default"): 0.02,
        ("ref_mad_k", "default"): 2.5,
    }
    # the scenario-file form reads to the same keys
    assert parse_keyed({"price_cap_index[gallium]": 3, "plan_discount_rate": 0.02}) == {
        ("price_cap_index", "gallium"): 3.0,
        ("plan_discount_rate", "default"): 0.02,
    }


def test_every_table_row_is_a_valid_override() -> None:
    table = load_parameter_table()
    rows = zip(table["name"], table["material"], table["value"], strict=True)
    items = [f"{n}[{m}]={v}" for n, m, v in rows]
    got = parse_overrides(items, table)
    assert len(got) == len(table)
    assert ParameterSet().with_overrides(got).digest() == ParameterSet().digest()  # same values, same digest


def test_unknown_name_names_the_close_match() -> None:
    with pytest.raises(OverrideError, match=r"unknown parameter 'pric_cap_index'; did you mean price_cap_"):
        parse_overrides(["pric_cap_index[gallium]=3"])
    with pytest.raises(OverrideError, match=r"unknown parameter 'pric_cap_index'.*price_cap_index"):
        ParameterSet().with_overrides({("pric_cap_index", "gallium"): 3.0})


def test_unknown_material_names_the_close_match() -> None:
    with pytest.raises(OverrideError, match=r"unknown material 'galium'; did you mean gallium"):
        parse_overrides(["price_cap_index[galium]=3"])


@pytest.mark.parametrize("item", ["oops", "price_cap_index[gallium]=", "price_cap_index=abc", "a b=1"])
def test_malformed_items_say_the_syntax(item: str) -> None:
    with pytest.raises(OverrideError, match=r"expected NAME\[MATERIAL\]=NUMBER"):
        parse_overrides([item])


def test_non_finite_value_is_an_error() -> None:
    with pytest.raises(OverrideError, match="expected a finite number"):
        parse_overrides(["price_cap_index[gallium]=nan"])


def test_class_capex_is_overridable_per_material_only() -> None:
    assert parse_overrides(["capex_usd_per_tpa_refine[gallium]=2e6"]) == {
        ("capex_usd_per_tpa_refine", "gallium"): 2e6
    }
    with pytest.raises(OverrideError, match="is per material"):
        parse_overrides(["capex_usd_per_tpa_refine=2e6"])


def test_generic_class_capex_is_overridable_per_material_or_for_all() -> None:
    got = parse_overrides(
        ["class_mine_capex_usd_per_tpa[tungsten]=1e5", "class_recycle_capex_usd_per_tpa=3e4"]
    )
    assert got == {
        ("class_mine_capex_usd_per_tpa", "tungsten"): 1e5,
        ("class_recycle_capex_usd_per_tpa", "default"): 3e4,
    }
    ps = ParameterSet().with_overrides(got)
    assert ps.get("class_mine_capex_usd_per_tpa", "tungsten") == 1e5
    assert ps.get("class_recycle_capex_usd_per_tpa", "lithium") == 3e4  # the default override applies


def test_scenario_file_parameters_are_validated(tmp_path: Path) -> None:
    f = tmp_path / "typo.yaml"
    f.write_text(
        "name: typo\nhorizon_months: 6\nparameters: {'pric_cap_index[gallium]': 3}\n"
        "events:\n  - {type: export_restriction, exporter: CHN, material: gallium, stage: refine,"
        " share: 1.0}\n"
    )
    with pytest.raises(ScenarioError, match=r"field parameters.*did you mean price_cap_index"):
        load_scenario(f)
    with pytest.raises(ScenarioError, match="unknown material 'galium'"):
        parse_scenario({"name": "x", "parameters": {"price_cap_index[galium]": 3}})
    ok = parse_scenario({"name": "x", "parameters": {"price_cap_index[gallium]": 3}})
    assert ok.overrides() == {("price_cap_index", "gallium"): 3.0}


def test_cli_rejects_a_typo_on_every_command_with_overrides() -> None:
    for args in (
        ["shock", "gallium-2023"],
        ["risk", "--scenarios", "10"],
        ["plan", "projects", "--material", "gallium"],
        ["exposure"],
    ):
        res = runner.invoke(app, [*args, "--param", "pric_cap_index[gallium]=3"])
        assert res.exit_code == 2, (args, res.output)
        assert "did you mean price_cap_index" in res.output


def test_set_is_an_alias_of_param() -> None:
    base = ["plan", "projects", "--material", "gallium", "--format", "json"]
    via_param = runner.invoke(app, [*base, "--param", "capex_usd_per_tpa_refine[gallium]=2e6"])
    via_set = runner.invoke(app, [*base, "--set", "capex_usd_per_tpa_refine[gallium]=2e6"])
    assert via_param.exit_code == 0 and via_set.exit_code == 0
    rows = {r["project_id"]: r for r in json.loads(via_param.stdout)}
    assert rows["alcoa-wagerup-gallium"]["capex_usd"] == 100 * 2e6
    assert json.loads(via_param.stdout) == json.loads(via_set.stdout)


def test_exposure_takes_the_same_overrides() -> None:
    base = ["exposure", "--format", "csv", "-m", "gallium"]
    plain = runner.invoke(app, base)
    credited = runner.invoke(app, [*base, "-p", "eol_rir[gallium]=0.5"])
    assert plain.exit_code == 0 and credited.exit_code == 0, credited.output
    risk = [
        float(line.split(",")[12]) for line in (plain.stdout.splitlines()[1], credited.stdout.splitlines()[1])
    ]
    assert risk[1] == risk[0] * 0.5  # SR scales with (1 - EOL_RIR): a recycling credit halves it
    quiet = runner.invoke(app, ["exposure", "-p", "edition_revision_note_share=0.9"])
    assert quiet.exit_code == 0 and "note: " not in quiet.stdout and "more than 90%" in quiet.stdout
