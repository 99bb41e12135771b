"""API: health, OpenAPI, roles, submissions round trip, suppressed aggregates, reserves, jobs."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from pydantic import BaseModel

from critmin.api.jobs import JobKind, ProgressFn
from service.support import Service, draw_op, start_service, vault_ops

API = "/api/v1"


def test_health_and_openapi(service: Service) -> None:
    r = service.client.get("/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok"
    schema = service.client.get("/openapi.json").json()
    paths = set(schema["paths"])
    assert "/healthz" in paths
    assert all(p == "/healthz" or p.startswith(API) for p in paths)
    assert {f"{API}/submissions", f"{API}/reserves/{{reserve_id}}/operations", f"{API}/jobs"} <= paths
    assert service.client.get("/").status_code == 200


def test_me_reports_role_and_country(service: Service) -> None:
    assert service.client.get(f"{API}/me").json()["role"] == "public"
    me = service.client.get(f"{API}/me", headers=service.auth("member_a")).json()
    assert (me["role"], me["iso3"]) == ("member", "AUS")
    bad = service.client.get(f"{API}/me", headers={"Authorization": "Bearer cm_xx_yy"})
    assert bad.status_code == 401


def test_only_secretariat_manages_accounts(service: Service) -> None:
    body = {"name": "Chile", "role": "member", "iso3": "CHL"}
    for who in ("member_a", "operator", "participant"):
        assert service.client.post(f"{API}/members", json=body, headers=service.auth(who)).status_code == 403
    assert service.client.post(f"{API}/members", json=body).status_code == 401
    r = service.client.post(f"{API}/members", json=body, headers=service.auth("secretariat"))
    assert r.status_code == 201
    new_id = r.json()["id"]
    token = service.client.post(
        f"{API}/members/{new_id}/tokens", json={"label": "x"}, headers=service.auth("secretariat")
    ).json()["token"]
    me = service.client.get(f"{API}/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["iso3"] == "CHL"
    dup = service.client.post(f"{API}/members", json=body, headers=service.auth("secretariat"))
    assert dup.status_code == 409
    token_id = token.split("_")[1]
    assert (
        service.client.delete(f"{API}/tokens/{token_id}", headers=service.auth("member_a")).status_code == 403
    )
    assert (
        service.client.delete(f"{API}/tokens/{token_id}", headers=service.auth("secretariat")).status_code
        == 204
    )
    assert service.client.get(f"{API}/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert (
        service.client.delete(f"{API}/tokens/{token_id}", headers=service.auth("secretariat")).status_code
        == 404
    )


def _production(material: str, tonnes: float, year: int = 2024) -> dict[str, object]:
    return {"material": material, "stage": "refine", "year": year, "tonnes": tonnes}


def _submit(service: Service, who: str, rows: list[dict[str, object]], kind: str = "production") -> int:
    r = service.client.post(
        f"{API}/submissions", json={"kind": kind, "rows": rows}, headers=service.auth(who)
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def test_submission_round_trip_json_and_csv(service: Service) -> None:
    sid = _submit(service, "member_a", [_production("gallium", 12.5), _production("germanium", 3.0)])
    rows = service.client.get(f"{API}/submissions/{sid}/rows", headers=service.auth("member_a")).json()
    assert [(r["row_number"], r["material"], r["tonnes"]) for r in rows] == [
        (1, "gallium", 12.5),
        (2, "germanium", 3.0),
    ]
    csv_text = (
        "date,material,stage,tonnes,price,currency,counterparty\n"
        "2025-03-01,gallium,refine,2,450000,USD,Trader X\n"
    )
    r = service.client.post(
        f"{API}/submissions/csv?kind=transactions",
        files={"file": ("deals.csv", csv_text, "text/csv")},
        headers=service.auth("member_a"),
    )
    assert r.status_code == 201, r.text
    rows = service.client.get(
        f"{API}/submissions/{r.json()['id']}/rows", headers=service.auth("member_a")
    ).json()
    assert rows[0]["year"] == 2025 and rows[0]["price"] == 450000 and rows[0]["counterparty"] == "Trader X"
    listed = service.client.get(f"{API}/submissions", headers=service.auth("secretariat")).json()
    assert {x["iso3"] for x in listed} == {"AUS"} and len(listed) == 2
    assert (
        service.client.post(
            f"{API}/submissions",
            json={"kind": "production", "rows": [_production("gallium", 1)]},
            headers=service.auth("secretariat"),
        ).status_code
        == 403
    )


def _release(service: Service) -> dict[str, dict[str, object]]:
    r = service.client.post(f"{API}/releases", json={"note": "test"}, headers=service.auth("secretariat"))
    assert r.status_code == 201, r.text
    cells = service.client.get(f"{API}/aggregates?kind=production").json()
    assert {c["release_id"] for c in cells} <= {r.json()["id"]}
    return {str(c["material"]): c for c in cells}


def test_aggregates_suppress_small_and_dominated_cells(service: Service) -> None:
    # gallium: AUS 10, JPN 10, CAN 10 -> published 30; germanium: AUS 95, JPN 3, CAN 2 -> the rest (2) is
    # below 10 % of the largest (p% rule); cobalt: two contributors -> too few
    _submit(
        service,
        "member_a",
        [_production("gallium", 10), _production("germanium", 95), _production("cobalt", 5)],
    )
    _submit(
        service,
        "member_b",
        [_production("gallium", 10), _production("germanium", 3), _production("cobalt", 5)],
    )
    _submit(service, "member_c", [_production("gallium", 10), _production("germanium", 2)])
    assert service.client.get(f"{API}/aggregates").json() == []  # nothing is published before a release
    cells = _release(service)
    assert cells["gallium"]["tonnes"] == 30 and not cells["gallium"]["suppressed"]
    assert cells["germanium"]["tonnes"] is None and "p% rule" in str(cells["germanium"]["reason"])
    assert cells["cobalt"]["tonnes"] is None and "fewer than 3" in str(cells["cobalt"]["reason"])
    # a revision replaces the member's earlier figures at the next release; germanium (10, 3, 2) would pass
    # the p% rule now but stays suppressed: no new member joined it
    _submit(service, "member_a", [_production("gallium", 40), _production("germanium", 10)])
    assert _release(service)["gallium"]["tonnes"] == 60
    cells = {str(c["material"]): c for c in service.client.get(f"{API}/aggregates").json()}
    assert cells["germanium"]["suppressed"] and "earlier release" in str(cells["germanium"]["reason"])
    again = service.client.post(
        f"{API}/submissions",
        json={"kind": "production", "rows": [_production("gallium", 41)]},
        headers=service.auth("member_a"),
    )
    assert again.status_code == 201  # the first revision after the second release
    third = service.client.post(
        f"{API}/submissions",
        json={"kind": "production", "rows": [_production("gallium", 42)]},
        headers=service.auth("member_a"),
    )
    assert third.status_code == 429 and "at most 1" in third.json()["detail"]


def test_withdrawn_submission_leaves_the_aggregate_at_the_next_release(service: Service) -> None:
    ids = [_submit(service, w, [_production("gallium", 10)]) for w in ("member_a", "member_b", "member_c")]
    assert _release(service)["gallium"]["tonnes"] == 30
    r = service.client.delete(f"{API}/submissions/{ids[0]}", headers=service.auth("member_a"))
    assert r.status_code == 204
    assert service.client.get(f"{API}/aggregates").json()[0]["tonnes"] == 30  # the release stands
    assert _release(service)["gallium"]["suppressed"]
    releases = service.client.get(f"{API}/releases").json()
    assert [(x["id"], x["cells"], x["published"]) for x in releases] == [(1, 1, 1), (2, 1, 0)]


def test_reserve_operations_ledger_and_idempotency(service: Service) -> None:
    op = service.auth("operator")
    rid = service.client.post(f"{API}/reserves", json={"name": "Ga"}, headers=op).json()["id"]
    url = f"{API}/reserves/{rid}/operations"
    for body in vault_ops(10.0):
        assert service.client.post(url, json=body, headers=op).status_code == 200
    first = service.client.post(url, json=draw_op(1, 4.0), headers=op).json()
    again = service.client.post(url, json=draw_op(1, 4.0), headers=op).json()
    assert first["reserve"]["state"]["inventory_t"] == {"gallium": 6.0} and not first["replayed"]
    assert again["replayed"] and again["reserve"]["state"]["inventory_t"] == {"gallium": 6.0}
    assert again["entry"] == first["entry"]
    misuse = service.client.post(url, json=draw_op(1, 5.0), headers=op)
    assert misuse.status_code == 409 and "already used" in misuse.json()["detail"]
    over = service.client.post(url, json=draw_op(2, 6.5), headers=op)
    assert over.status_code == 409 and "in inventory" in over.json()["detail"]
    ledger = service.client.get(f"{API}/reserves/{rid}/ledger", headers=op).json()
    assert [(e["sequence"], e["operation"]["op"]) for e in ledger] == [
        (1, "open"),
        (2, "register"),
        (3, "subscribe"),
        (4, "acquire"),
        (5, "draw"),
    ]
    replay = service.client.get(f"{API}/reserves/{rid}/replay", headers=op).json()
    assert replay["ok"] and replay["entries"] == 5
    member_try = service.client.post(url, json=draw_op(3), headers=service.auth("member_a"))
    assert member_try.status_code == 403
    assert service.client.get(f"{API}/audit/verify", headers=service.auth("secretariat")).json()["ok"]


class _Count(BaseModel):
    steps: int = 5
    pause: float = 0.0


def _counting_job(params: BaseModel, progress: ProgressFn) -> dict[str, int]:
    assert isinstance(params, _Count)
    total = 0
    for i in range(params.steps):
        progress(i / params.steps, f"step {i}")
        time.sleep(params.pause)
        total += i
    return {"sum": total}


def _failing_job(params: BaseModel, progress: ProgressFn) -> None:
    raise RuntimeError("no data for this material")


@pytest.fixture
def job_service(db_url: str) -> Iterator[Service]:
    kinds = {
        "count": JobKind("count", _Count, _counting_job, "sum of 0..steps-1"),
        "fail": JobKind("fail", _Count, _failing_job, "always fails"),
    }
    yield from start_service(db_url, kinds)


def _wait(service: Service, job_id: str, who: str = "member_a", timeout: float = 20) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = service.client.get(f"{API}/jobs/{job_id}", headers=service.auth(who)).json()
        if job["status"] in ("succeeded", "failed", "cancelled"):
            return dict(job)
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s")


def test_job_result_failure_and_cancel(job_service: Service) -> None:
    s = job_service
    h = s.auth("member_a")
    ok = s.client.post(f"{API}/jobs", json={"kind": "count", "params": {"steps": 6}}, headers=h)
    assert ok.status_code == 202
    done = _wait(s, ok.json()["id"])
    assert done["status"] == "succeeded" and done["result"] == {"sum": 15} and done["progress"] == 1.0
    failed = _wait(s, s.client.post(f"{API}/jobs", json={"kind": "fail"}, headers=h).json()["id"])
    assert failed["status"] == "failed" and "no data for this material" in str(failed["error"])
    slow = s.client.post(
        f"{API}/jobs", json={"kind": "count", "params": {"steps": 400, "pause": 0.05}}, headers=h
    ).json()
    deadline = time.monotonic() + 15
    running = s.client.get(f"{API}/jobs/{slow['id']}", headers=h).json()
    while running["progress"] == 0 and time.monotonic() < deadline:  # wait for the first progress write
        time.sleep(0.05)
        running = s.client.get(f"{API}/jobs/{slow['id']}", headers=h).json()
    assert running["status"] == "running" and 0 < running["progress"] < 1
    assert s.client.post(f"{API}/jobs/{slow['id']}/cancel", headers=h).status_code == 200
    cancelled = _wait(s, slow["id"])
    assert cancelled["status"] == "cancelled" and cancelled["result"] is None
    assert s.client.post(f"{API}/jobs", json={"kind": "nope"}, headers=h).status_code == 422
    assert (
        s.client.post(f"{API}/jobs", json={"kind": "count", "params": {"steps": "x"}}, headers=h).status_code
        == 422
    )
    assert s.client.post(f"{API}/jobs", json={"kind": "count"}).status_code == 401
    assert threading.active_count() < 50
