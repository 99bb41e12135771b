"""A member's stake in joining: levy incidence oracle, real BACI facts, and ARG / KOR end to end through the
library, the CLI, the API job kind and the dashboard page (the same numbers everywhere)."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from critmin.api.job_kinds import library_job_kinds
from critmin.cli import app
from critmin.pricing.stake_report import levy_incidence
from critmin.runs.stake import StakeRequest, run

runner = CliRunner()


def test_levy_incidence_hand_worked() -> None:
    imports = pd.Series({"ARG": 0.25, "KOR": 0.75})
    output = pd.Series({"ARG": 1.0})
    inc = levy_incidence(100.0, 40.0, imports, output, imports)
    assert inc.loc["KOR", "importers_pay_usd"] == 75.0 and inc.loc["KOR", "treasury_receives_usd"] == 75.0
    assert inc.loc["ARG", "producers_receive_usd"] == 40.0 and inc.loc["KOR", "producers_receive_usd"] == 0.0
    assert inc.loc["KOR", "consumers_pay_uplift_usd"] == 30.0
    # every column sums to the alliance total: the levy collected (100) and the price uplift (40)
    assert inc["importers_pay_usd"].sum() == inc["treasury_receives_usd"].sum() == 100.0
    assert inc["producers_receive_usd"].sum() == inc["consumers_pay_uplift_usd"].sum() == 40.0
    assert inc["net_usd"].sum() == pytest.approx(0.0)  # a transfer among members
    with pytest.raises(ValueError, match=r"import shares: sum 0\.5"):
        levy_incidence(1.0, 0.0, pd.Series({"ARG": 0.5}), output, output)


@pytest.fixture(scope="module")
def stake_20() -> object:
    return run(StakeRequest(member="ARG", levy_rate=0.2))


def test_stake_report_facts(stake_20) -> None:  # type: ignore[no-untyped-def]
    rep = stake_20.report
    arg = stake_20.member
    # BACI V202601, 2024: ARG -> CHN lithium carbonate (283691) 408,984,208 USD + magnets (850511) 2,024 USD
    assert arg["exports_to_china_usd"] == pytest.approx(408_986_232)
    codes = {r["hs6"]: r["value_usd"] for r in arg["exports_at_risk"]}
    assert codes == {"283691": 408_984_208, "850511": 2_024}
    # members' levy incidence sums to the levy collected, which is what the members' importers pay
    inc = rep.levy_incidence
    from critmin.atlas import load_atlas
    from critmin.pricing.stake import members_stake

    atlas = load_atlas()
    collected = members_stake(atlas.trade, atlas.groups["ministerial-2026"], levy_rate=0.2).members
    assert inc["importers_pay_usd"].sum() == pytest.approx(collected["levy_paid_usd"].sum(), rel=1e-12)
    assert inc["treasury_receives_usd"].sum() == pytest.approx(collected["levy_paid_usd"].sum(), rel=1e-12)
    assert inc["producers_receive_usd"].sum() == pytest.approx(inc["consumers_pay_uplift_usd"].sum())
    m = rep.members.set_index("iso3")
    assert m["levy_paid_usd"].sum() == pytest.approx(m["levy_received_usd"].sum())
    # the Vault's capital (10 bn EXIM + 1.67 bn private, vault.csv) is allocated across the members
    assert m["vault_allocation_usd"].sum() == pytest.approx(11.67e9)
    # net is the documented sum of its parts
    parts = m["levy_received_usd"] - m["levy_paid_usd"] + m["vault_allocation_usd"]
    parts = parts - m["export_loss_usd"] - m["retaliation_loss_usd"]
    pd.testing.assert_series_equal(m["net_usd"], parts, check_names=False)
    assert (
        rep.scenario.startswith("china-retaliation")
        and stake_20.metadata.parameters["retaliation_share[default]"]
    )


def test_a_zero_levy_changes_only_the_levy_lines(stake_20) -> None:  # type: ignore[no-untyped-def]
    zero = run(StakeRequest(member="ARG", levy_rate=0.0)).report.members.set_index("iso3")
    m = stake_20.report.members.set_index("iso3")
    assert (zero["levy_paid_usd"] == 0).all() and (zero["levy_received_usd"] == 0).all()
    for col in ("exports_to_china_usd", "export_loss_usd", "retaliation_loss_usd", "vault_allocation_usd"):
        pd.testing.assert_series_equal(zero[col], m[col])


@pytest.mark.parametrize("iso3", ["ARG", "KOR"])
def test_stake_end_to_end_cli_api_dashboard(iso3: str) -> None:
    want = run(StakeRequest(member=iso3)).to_dict()
    cli = runner.invoke(app, ["price", "stake", "--member", iso3, "--format", "json"])
    assert cli.exit_code == 0, cli.output
    got = json.loads(cli.stdout)
    assert got["member"]["iso3"] == iso3 and got["scenario"] == want["scenario"]
    for k in (
        "exports_to_china_usd",
        "retaliation_loss_usd",
        "levy_paid_usd",
        "vault_allocation_usd",
        "net_usd",
    ):
        assert got["member"][k] == pytest.approx(want["member"][k], rel=1e-12)
    table = runner.invoke(app, ["price", "stake", "--member", iso3])
    assert table.exit_code == 0 and f"{iso3}'s stake in joining" in table.stdout
    kind = library_job_kinds()["stake"]
    job = kind.run(kind.params.model_validate({"member": iso3}), lambda f, msg: None)
    assert job["member"]["net_usd"] == pytest.approx(want["member"]["net_usd"], rel=1e-12)
    from critmin.web import mount

    web = FastAPI()
    mount(web)
    client = TestClient(web)
    page = client.get("/stake", params={"member": iso3})
    assert page.status_code == 200 and f"Stake in joining: {iso3}" in page.text
    csv = client.get("/download.csv", params={"page": "stake", "block": "members", "member": iso3})
    frame = pd.read_csv(io.StringIO(csv.text)).set_index("iso3")
    assert frame.loc[iso3, "net_usd"] == pytest.approx(want["member"]["net_usd"], rel=1e-9)
    assert len(frame) == len(want["members"])  # the secretariat sees every member side by side


def test_stake_bad_inputs() -> None:
    bad = runner.invoke(app, ["price", "stake", "--member", "XX1"])
    assert bad.exit_code == 2 and "--member" in bad.stderr and "ISO3" in bad.stderr
    assert runner.invoke(app, ["price", "stake", "--group", "nope"]).exit_code == 2
    with pytest.raises(ValueError, match="China is the country"):
        run(StakeRequest(member="CHN"))
    from critmin.web import mount

    web = FastAPI()
    mount(web)
    client = TestClient(web)
    for params, text in (
        ({"levy_rate": "abc"}, "abc"),
        ({"member": "XX1"}, "ISO3"),
        ({"group": "nope"}, "nope"),
    ):
        page = client.get("/stake", params=params)
        assert page.status_code == 422 and text in page.text
