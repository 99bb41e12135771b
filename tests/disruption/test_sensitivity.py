"""``critmin sensitivity``: Morris screening then Sobol indices (tiny chain; CLI on the bundled data)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from critmin.atlas.chain import SupplyChain
from critmin.cli import app
from critmin.disruption.sensitivity import TOTAL, run_sensitivity
from critmin.parameters import ParameterSet

NO_SPARE = ParameterSet().with_overrides(
    {("spare_capacity_share", m): 0.0 for m in ("default", "gallium", "cobalt", "lithium")}
)


@pytest.fixture(scope="module")
def result(chain: SupplyChain):  # type: ignore[no-untyped-def]
    return run_sensitivity(
        chain, n_scenarios=200, seed=1, morris_trajectories=4, sobol_n=16, max_sobol=3, params=NO_SPARE
    )


def test_table_ranks_every_parameter_for_the_total_and_each_material(result) -> None:  # type: ignore[no-untyped-def]
    t = result.table
    assert result.outputs[0] == TOTAL and set(result.outputs[1:]) == {"cobalt", "gallium", "lithium"}
    for out, g in t.groupby("output"):
        assert sorted(g["rank"]) == list(range(1, len(result.parameters) + 1)), out
        assert set(g["parameter"]) == set(result.parameters)
    sob = t[t["sobol"]]
    assert set(sob["parameter"]) == set(result.screened_in) and len(result.screened_in) <= 3
    assert t.loc[~t["sobol"], "ST"].isna().all()  # screened out: no Sobol index, never a made-up one
    # total indices cover the first-order ones (up to the bootstrap error)
    assert (sob["ST"] + sob["ST_conf"] + sob["S1_conf"] >= sob["S1"]).all()
    assert result.evaluations == 4 * (len(result.parameters) + 1) + 16 * (len(result.screened_in) + 2)


def test_a_parameter_without_effect_is_screened_out(result) -> None:  # type: ignore[no-untyped-def]
    # no idle capacity anywhere: the spare capacity share's range collapses to 0 and moves nothing
    t = result.table[result.table["parameter"] == "spare_capacity_share"]
    assert np.allclose(t["morris_mu_star"], 0.0)
    assert "spare_capacity_share" not in result.screened_in


def test_bad_settings_are_rejected(chain: SupplyChain) -> None:
    with pytest.raises(ValueError, match="power of 2"):
        run_sensitivity(chain, sobol_n=12)


def test_cli_json_on_the_bundled_data() -> None:
    res = CliRunner().invoke(
        app,
        [
            "sensitivity",
            "-n",
            "20",
            "--trajectories",
            "2",
            "--sobol-n",
            "2",
            "--max-sobol",
            "2",
            "--format",
            "json",
        ],
    )
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)
    assert d["outputs"][0] == "total" and len(d["outputs"]) == 6
    assert len(d["screened_in"]) <= 2 and d["settings"]["n_scenarios"] == 20
    assert {r["output"] for r in d["rows"]} == set(d["outputs"])
