"""Each job kind returns what the library returns for the same inputs (the API adds no modelling)."""

from __future__ import annotations

import csv
import time
from collections.abc import Iterator
from datetime import date
from importlib import resources
from typing import Any

import pytest
import yaml

from critmin.api.job_kinds import library_job_kinds
from critmin.atlas import load_atlas
from critmin.store import Store
from service.support import Service, start_service

API = "/api/v1"


@pytest.fixture
def jobs(db_url: str) -> Iterator[Service]:
    kinds_store = Store(db_url)
    yield from start_service(db_url, library_job_kinds(kinds_store))
    kinds_store.dispose()


def _run(
    service: Service, kind: str, params: dict[str, Any], timeout: float = 120, who: str = "member_a"
) -> dict[str, Any]:
    h = service.auth(who)
    r = service.client.post(f"{API}/jobs", json={"kind": kind, "params": params}, headers=h)
    assert r.status_code == 202, r.text
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = service.client.get(f"{API}/jobs/{r.json()['id']}", headers=h).json()
        if job["status"] in ("succeeded", "failed", "cancelled"):
            assert job["status"] == "succeeded", job["error"]
            return dict(job["result"])
        time.sleep(0.05)
    raise AssertionError(f"{kind} job did not finish in {timeout} s")


def _records_close(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert x.keys() == y.keys()
        for k in x:
            if isinstance(x[k], float) and isinstance(y[k], float):
                assert x[k] == pytest.approx(y[k], rel=1e-9, nan_ok=True)
            else:
                assert x[k] == y[k] or (x[k] is None and y[k] != y[k])


def test_kinds_are_listed(jobs: Service) -> None:
    kinds = jobs.client.get(f"{API}/jobs/kinds").json()
    assert set(kinds) == {
        "exposure",
        "simulate",
        "montecarlo",
        "stockpile",
        "reserve_finance",
        "floor",
        "price",
        "plan",
        "price_submitted",
        "stake",
    }


def test_montecarlo_job_equals_library(jobs: Service) -> None:
    from critmin.disruption.montecarlo import run_monte_carlo

    got = _run(jobs, "montecarlo", {"n_scenarios": 200, "seed": 7, "horizon_months": 12, "chunk_size": 50})
    want = run_monte_carlo(load_atlas(), 200, 7, 12, chunk_size=50)
    assert got["backend"] == "local"
    _records_close(got["summary"], want.summary.to_dict(orient="records"))


def test_simulate_job_equals_library(jobs: Service) -> None:
    from critmin.disruption import parse_scenario, simulate

    text = resources.files("critmin.scenarios").joinpath("gallium-2023.yaml").read_text(encoding="utf-8")
    scenario = yaml.safe_load(text)
    got = _run(jobs, "simulate", {"scenario": scenario})
    want = simulate(load_atlas(), parse_scenario(scenario)).to_dict()
    assert got["total_loss_usd"] == pytest.approx(want["total_loss_usd"], rel=1e-12)
    assert got["materials"]["gallium"]["shortfall_t"] == pytest.approx(
        want["materials"]["gallium"]["shortfall_t"]
    )
    bad = jobs.client.post(
        f"{API}/jobs",
        json={"kind": "simulate", "params": {"scenario": {"name": "x", "horizon_months": -1, "events": []}}},
        headers=jobs.auth("member_a"),
    )
    assert bad.status_code == 422 and "horizon_months" in bad.text


def test_price_job_equals_library(jobs: Service) -> None:
    from critmin.pricing.reference_price import assess
    from critmin.pricing.transactions import Transaction

    text = resources.files("critmin.pricing").joinpath("examples/transactions_illustrative.csv").read_text()
    rows = list(csv.DictReader(text.splitlines()))
    as_of = max(date.fromisoformat(r["date"]) for r in rows)
    got = _run(jobs, "price", {"transactions": rows, "as_of": as_of.isoformat(), "window_days": 30})
    want = assess([Transaction.model_validate(r) for r in rows], as_of=as_of, window_days=30)
    _records_close(got["prices"], want.prices.to_dict(orient="records"))


def test_reference_prices_from_submitted_deals_equal_library(jobs: Service) -> None:
    """Members submit the pricing example's gallium deals (one member per reporter); the secretariat's
    job gives the library's assessment of the same deals with the members' countries as reporters."""
    from critmin.pricing.reference_price import assess
    from critmin.pricing.transactions import Transaction

    text = resources.files("critmin.pricing").joinpath("examples/transactions_illustrative.csv").read_text()
    deals = [r for r in csv.DictReader(text.splitlines()) if r["material"] == "gallium"]
    sec = jobs.auth("secretariat")
    kor = jobs.client.post(
        f"{API}/members", json={"name": "Korea", "role": "member", "iso3": "KOR"}, headers=sec
    )
    kor_token = jobs.client.post(f"{API}/members/{kor.json()['id']}/tokens", json={}, headers=sec).json()[
        "token"
    ]
    accounts = {"Member A": "member_a", "Member B": "member_b", "Member C": "member_c"}
    iso3 = {"Member A": "AUS", "Member B": "JPN", "Member C": "CAN", "Member D": "KOR"}
    for reporter in iso3:
        rows = [
            {
                "date": r["date"],
                "material": r["material"],
                "stage": r["stage"],
                "specification": r["specification"],
                "tonnes": float(r["volume_t"]),
                "price": float(r["price"]) * (1000.0 if r["price_unit"] == "kg" else 1.0),
                "currency": r["currency"],
                "incoterm": r["incoterm"],
                "buyer": r["buyer"],
                "counterparty": r["seller"],
            }
            for r in deals
            if r["reporter"] == reporter
        ]
        headers = (
            {"Authorization": f"Bearer {kor_token}"}
            if reporter == "Member D"
            else jobs.auth(accounts[reporter])
        )
        r = jobs.client.post(
            f"{API}/submissions", json={"kind": "transactions", "rows": rows}, headers=headers
        )
        assert r.status_code == 201, r.text
    as_of = max(date.fromisoformat(r["date"]) for r in deals)
    params = {"as_of": as_of.isoformat(), "window_days": 30}
    denied = jobs.client.post(
        f"{API}/jobs", json={"kind": "price_submitted", "params": params}, headers=jobs.auth("member_a")
    )
    assert denied.status_code == 403
    got = _run(jobs, "price_submitted", params, who="secretariat")
    same = [Transaction.model_validate({**r, "reporter": iso3[r["reporter"]]}) for r in deals]
    want = assess(same, as_of=as_of, window_days=30)
    _records_close(got["prices"], want.prices.to_dict(orient="records"))
    assert got["prices"][0]["status"] == want.prices["status"].iloc[0]


def test_plan_and_stockpile_jobs_equal_library(jobs: Service) -> None:
    from critmin.planning.plan import PlanRequest, run_plan
    from critmin.runs.reserve import ReserveSizingRequest
    from critmin.runs.reserve import run as size

    req = {"material": "lithium", "stage": "refine", "target": 0.6, "by": 2030}
    got = _run(jobs, "plan", req)
    want = run_plan(PlanRequest(**req)).to_dict()
    assert got.keys() == want.keys()
    assert (
        jobs.client.post(
            f"{API}/jobs",
            json={"kind": "plan", "params": {**req, "scenario": "XYZ"}},
            headers=jobs.auth("member_a"),
        ).status_code
        == 422
    )
    sp = _run(jobs, "stockpile", {"n_scenarios": 20, "seed": 3, "horizon_months": 6})
    direct = size(ReserveSizingRequest(n_scenarios=20, seed=3, horizon_months=6), atlas=load_atlas())
    assert sp["budget_usd"] == pytest.approx(direct.budget_usd)
    got_t = {r["material"]: r["tonnes"] for r in sp["materials"]}
    want_t = dict(zip(direct.materials["material"], direct.materials["tonnes"], strict=True))
    assert got_t.keys() == want_t.keys() and sum(want_t.values()) > 0
    assert all(got_t[m] == pytest.approx(want_t[m], rel=1e-6, abs=1e-6) for m in want_t)
    assert sp["solve"]["status"] == direct.status == "Optimal"


def test_montecarlo_goes_to_the_configured_dask_scheduler(
    jobs: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, scheduler_port=0, dashboard_address=":0"
    ) as cluster:
        monkeypatch.setenv("CRITMIN_DASK_SCHEDULER", cluster.scheduler_address)
        got = _run(jobs, "montecarlo", {"n_scenarios": 100, "seed": 5, "horizon_months": 6, "chunk_size": 50})
    local = _run_local(100, 5, 6, 50)
    assert got["backend"] == "dask"
    _records_close(got["summary"], local)


def _run_local(n: int, seed: int, horizon: int, chunk: int) -> list[dict[str, Any]]:
    from critmin.disruption.montecarlo import run_monte_carlo

    return list(
        run_monte_carlo(load_atlas(), n, seed, horizon, chunk_size=chunk).summary.to_dict(orient="records")
    )
