"""The floor question gives the same result from the library, the CLI, the API job kind and the dashboard."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from critmin.api.job_kinds import library_job_kinds
from critmin.cli import app
from critmin.runs.floor import FloorRequest, run
from critmin.web.prices import prices_page


def test_floor_same_result_on_every_surface() -> None:
    req = FloorRequest(
        material="copper",
        mechanism="floor",
        strike_usd_per_kg=9.0,
        volume_t=3.0,
        member_output_t=3.0,
        years=2,
        paths=300,
        seed=11,
        projects=False,
    )
    want = run(req).summary["fiscal_cost_pv_usd"]
    args = ["floor", "-m", "copper", "--strike", "9", "--volume-t", "3", "--member-output-t", "3"]
    args += ["--years", "2", "--paths", "300", "--seed", "11", "--no-projects", "--format", "json"]
    cli = CliRunner().invoke(app, args)
    assert cli.exit_code == 0, cli.output
    assert json.loads(cli.stdout)["fiscal_cost_pv_usd"] == pytest.approx(want, rel=1e-12)
    kind = library_job_kinds()["floor"]
    job = kind.run(kind.params.model_validate(req.model_dump()), lambda f, msg: None)
    assert job["fiscal_cost_pv_usd"] == pytest.approx(want, rel=1e-12)
    page = prices_page(
        {"material": "copper", "strike": "9", "volume_t": "3", "years": "2", "paths": "300", "seed": "11"}
    )
    fiscal = page.block("fiscal-cost").frame["fiscal_cost_pv_usd"]
    assert fiscal.mean() == pytest.approx(want["mean"], rel=1e-12)
    assert fiscal.quantile(0.95) == pytest.approx(want["p95"], rel=1e-9)
