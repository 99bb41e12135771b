"""The CLI, the API job and the dashboard give the same numbers for the same request (issue 11).

One small request per run kind. The CLI's ``--format json`` output, the result the service stores for the
job (run by its worker, read back over HTTP) and the dashboard's page model (or, where the dashboard reads
the job, the page built from it) are compared number by number.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from critmin.api.job_kinds import library_job_kinds
from critmin.cli import app
from critmin.store import Store
from service.exposure_follow import follow
from service.support import Service, start_service
from vault.test_finance_cli import OPS

API = "/api/v1"
runner = CliRunner()


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'critmin.sqlite3'}"
    kinds_store = Store(url)
    yield from start_service(url, library_job_kinds(kinds_store))
    kinds_store.dispose()


def job(service: Service, kind: str, params: dict[str, Any], timeout: float = 300) -> dict[str, Any]:
    """Submit a job and return its stored result."""
    h = service.auth("secretariat")
    r = service.client.post(f"{API}/jobs", json={"kind": kind, "params": params}, headers=h)
    assert r.status_code == 202, r.text
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        j = service.client.get(f"{API}/jobs/{r.json()['id']}", headers=h).json()
        if j["status"] in ("succeeded", "failed", "cancelled"):
            assert j["status"] == "succeeded", j["error"]
            return dict(j["result"])
        time.sleep(0.05)
    raise AssertionError(f"{kind} job did not finish in {timeout} s")


def cli(*args: str) -> Any:
    res = runner.invoke(app, [*args, "--format", "json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def close(a: float, b: float) -> bool:
    return a == pytest.approx(b, rel=1e-9, abs=1e-9)


def test_exposure(api: Service) -> None:
    from critmin.atlas import load_atlas
    from critmin.web.material import key_facts

    got_cli = cli("exposure", "-m", "gallium", "-s", "refine")
    got_api = follow(api.client, f"{API}/exposure/gallium/refine").json()
    facts = key_facts(load_atlas(), "gallium", {"refine": 2024}).iloc[0]
    for k in ("china_share", "alliance_share", "hhi", "supply_risk", "total_t"):
        assert close(got_cli[k], got_api[k]), k
    assert got_cli["shares"] == got_api["shares"] and got_cli["china_share"] > 0.9
    assert facts["China (% of world)"] == round(100 * got_cli["china_share"], 1)
    assert int(facts["Year"]) == got_cli["year"] == got_api["year"]


def test_shock(api: Service) -> None:
    from critmin.web.scenarios import job_page

    text = resources.files("critmin.scenarios").joinpath("gallium-2023.yaml").read_text(encoding="utf-8")
    scenario = yaml.safe_load(text)
    got_cli = cli("shock", "gallium-2023")
    got_api = job(api, "simulate", {"scenario": scenario})
    assert close(got_cli["total_loss_usd"], got_api["total_loss_usd"]) and got_cli["total_loss_usd"] > 0
    for m, d in got_cli["materials"].items():
        assert close(d["loss_usd"], got_api["materials"][m]["loss_usd"]), m
        assert d["price_index"] == got_api["materials"][m]["price_index"]
    page = job_page({"id": 1, "kind": "simulate", "status": "succeeded", "result": got_api,
                     "params": {"scenario": scenario}})  # fmt: skip
    assert f"{got_cli['total_loss_usd']:,.0f} USD" in page.intro


def test_risk(api: Service) -> None:
    from critmin.web.scenario_results import ranking_blocks

    got_cli = cli("risk", "-n", "40", "--seed", "5", "--horizon", "6", "--chunk-size", "20")
    got_api = job(api, "montecarlo", {"n_scenarios": 40, "seed": 5, "horizon_months": 6, "chunk_size": 20})
    rows_api = {r["material"]: r for r in got_api["summary"]}
    assert [r["material"] for r in got_cli["rows"]] == list(rows_api)
    for r in got_cli["rows"]:
        for k in ("expected_loss_usd", "cvar_usd", "p_disrupted"):
            assert close(r[k], rows_api[r["material"]][k]), (r["material"], k)
    assert got_api["metadata"]["parameter_digest"] == got_cli["parameter_digest"]
    # the scenario lab shows the stored job result: its ranking table carries the same numbers
    ranking = next(b for b in ranking_blocks(got_api) if b.key == "ranking").frame.set_index("material")
    for r in got_cli["rows"]:
        assert close(float(ranking.loc[r["material"], "expected_loss_usd"]), r["expected_loss_usd"])


def test_reserve(api: Service) -> None:
    from critmin.web.reserve import _request, sizing_page

    # the reserve page builds its request from the form and queues it as the same `stockpile` job
    page_req = _request({"scenarios": "50", "seed": "3", "horizon": "6"})
    got_cli = cli("vault", "size", "-n", "50", "--seed", "3", "--horizon", "6")
    got_api = job(api, "stockpile", {"n_scenarios": 50, "seed": 3, "horizon_months": 6})
    got_web = job(api, "stockpile", page_req.model_dump(mode="json"))
    page = sizing_page(got_web, None)
    assert close(got_cli["budget_usd"], got_api["budget_usd"])
    t_cli = {r["material"]: r["tonnes"] for r in got_cli["materials"]}
    t_api = {r["material"]: r["tonnes"] for r in got_api["materials"]}
    held = next(b for b in page.blocks if b.key == "optimised").frame
    t_web = dict(zip(held["material"], held["tonnes"], strict=True))
    assert t_cli.keys() == t_api.keys() and sum(t_cli.values()) > 0
    assert all(close(t_cli[m], t_api[m]) for m in t_cli)
    assert {m: t for m, t in t_cli.items() if t > 0}.keys() == t_web.keys()
    assert all(close(t_cli[m], t_web[m]) for m in t_web)
    assert got_cli["headline"] == got_api["headline"] == page.context["lead"][0]


def test_reserve_finance(api: Service, tmp_path: Path) -> None:
    ops = tmp_path / "ops.jsonl"
    ops.write_text("".join(json.dumps(o) + "\n" for o in OPS), encoding="utf-8")
    got_cli = cli("vault", "finance", "--ops", str(ops), "-n", "100", "--seed", "1")
    got_api = job(api, "reserve_finance", {"operations": OPS, "n_scenarios": 100, "seed": 1})
    for k in ("p_debt_service_missed", "expected_final_equity_usd", "carry_fee_rate"):
        assert close(got_cli[k], got_api[k]), k
    assert got_cli["headline"] == got_api["headline"]


def test_floor(api: Service) -> None:
    req = {"material": "ndpr-oxide", "strike_usd_per_kg": 60.0, "volume_t": 100.0, "years": 2, "paths": 200}
    got_cli = cli("floor", "-m", "ndpr-oxide", "--strike", "60", "--volume-t", "100", "--years", "2",
                  "--paths", "200")  # fmt: skip
    got_api = job(api, "floor", req)
    assert got_cli.keys() == got_api.keys()
    for k, v in got_cli.items():
        if isinstance(v, float):
            assert close(v, got_api[k]), k
    assert got_cli["start_price_usd_per_kg"] > 0
    # the prices page: the same form builds the same request, and its blocks carry the CLI's numbers
    from critmin.runs.floor import FloorRequest
    from critmin.web.prices import prices_page

    page = prices_page({"material": "ndpr-oxide", "strike": "60", "volume_t": "100", "years": "2",
                        "paths": "200"})  # fmt: skip
    assert page.context["request"] == FloorRequest(**req)
    dist = page.block("distribution").frame.set_index("quantity")
    shown = {k for k, v in got_cli.items() if isinstance(v, dict) and "p50" in v}
    assert set(dist.index) == shown and "projects_added_t_per_year" in shown
    for q in shown:
        for stat in ("mean", "p5", "p50", "p95"):
            assert close(dist.loc[q, stat], got_cli[q][stat]), (q, stat)
            assert close(dist.loc[q, stat], got_api[q][stat]), (q, stat)
    fiscal = page.block("fiscal-cost").frame["fiscal_cost_pv_usd"]
    assert len(fiscal) == 200 and close(float(fiscal.mean()), got_cli["fiscal_cost_pv_usd"]["mean"])
    assert got_cli["metadata"]["parameter_digest"] in page.intro
    model = dict(zip(page.block("model").frame["quantity"], page.block("model").frame["value"], strict=True))
    assert close(float(model["start price (USD/kg)"]), got_cli["start_price_usd_per_kg"])


def test_reference_price(api: Service) -> None:
    from critmin.pricing.history import known_materials
    from critmin.pricing.transactions import parse_transactions
    from critmin.web.prices import assess_upload

    src = resources.files("critmin.pricing").joinpath("examples/transactions_illustrative.csv")
    text = src.read_text(encoding="utf-8")
    as_of = max(line.split(",")[0] for line in text.splitlines()[1:])
    got_cli = cli("price", "assess", str(src), "--as-of", as_of, "--window", "30d")
    day = date.fromisoformat(as_of)
    txs = parse_transactions(text, "deals.csv", materials=known_materials(), as_of=day)
    got_api = job(api, "price", {"transactions": [t.model_dump(mode="json") for t in txs], "as_of": as_of})
    web = assess_upload(text, "deals.csv", as_of, "30")
    assert web["ok"], web
    web_prices = web["frame"].to_dict(orient="records")
    assert len(got_cli["prices"]) == len(got_api["prices"]) == len(web_prices) > 0
    for a, b, c in zip(got_cli["prices"], got_api["prices"], web_prices, strict=True):
        assert a["status"] == b["status"] == c["status"]
        if a["status"] == "published":
            assert close(a["price_usd_per_t"], b["price_usd_per_t"])
            assert close(a["price_usd_per_t"], c["price_usd_per_t"])


def test_plan(api: Service) -> None:
    from critmin.atlas import load_atlas
    from critmin.planning.plan import atlas_baseline
    from critmin.runs.plan import run
    from critmin.web.plan import DEFAULTS, _pipeline, _request

    m = "magnet-rare-earths"
    args = ["-m", m, "--stage", "refine", "--target", "0.12", "--by", "2030", "--no-third-country-cap"]
    got_cli = cli("plan", *args)
    req = {"material": m, "stage": "refine", "target": 0.12, "by": 2030, "third_country_cap": False,
           "timeline_samples": 0}  # fmt: skip
    got_api = job(api, "plan", req)
    # the plan page builds its request from the form and calls runs.plan.run on the atlas baseline
    form = {**DEFAULTS, "material": m, "stage": "refine", "target": "0.12", "by": "2030", "cap": "off"}
    web_req = _request(form, [m], sorted(load_atlas().groups))
    web = run(web_req, pipeline=_pipeline(), baseline=atlas_baseline(m, "refine")).to_dict()
    assert got_cli["feasible"] is got_api["feasible"] is web["feasible"] is True
    cost = got_cli["discounted_cost_usd"]
    assert cost > 0 and close(cost, got_api["discounted_cost_usd"])
    assert close(cost, web["discounted_cost_usd"])
    ids = [p["project_id"] for p in got_cli["projects"]]
    assert ids == [p["project_id"] for p in got_api["projects"]]
    assert ids == [p["project_id"] for p in web["projects"]]


def test_stake(api: Service) -> None:
    from critmin.web.stake import stake_page

    got_cli = cli("price", "stake", "--member", "ARG")
    got_api = job(api, "stake", {"member": "ARG"})
    assert close(got_cli["member"]["net_usd"], got_api["member"]["net_usd"])
    page = stake_page({"member": "ARG"})
    detail = page.block("member").frame.set_index("quantity")["usd"]
    assert close(float(detail["net_usd"]), got_cli["member"]["net_usd"])
    assert f"{abs(got_cli['member']['net_usd']):,.0f} USD" in page.intro
