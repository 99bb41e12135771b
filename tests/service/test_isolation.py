"""Isolation generated from the route table: for EVERY route and method (the API and the dashboard pages
mounted on the same app), other accounts cannot read or change a member's data. A new endpoint is covered
automatically; a new path parameter fails the test until it is mapped to a victim-owned resource below."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy import select

from critmin.api.jobs import JobKind, ProgressFn
from critmin.store.models import ApiToken, Job, Member, Submission, SubmissionRow
from service.support import Service, draw_op, start_service, vault_ops
from service.test_api import _Count, _counting_job

API = "/api/v1"
MARKER = "AUS-CONFIDENTIAL-COUNTERPARTY-7731"
MARKER_TONNES = 987654.321
ATTACKERS = ("member_b", "participant", "operator", "public")
# path parameters that name a victim-owned resource: every route using them must refuse other accounts
VICTIM_OWNED = ("submission_id", "job_id", "member_id", "token_id")
EXAMPLE_BODIES: dict[str, Any] = {
    f"{API}/members": {"name": "Intruder", "role": "member", "iso3": "AUS"},
    f"{API}/members/{{member_id}}/tokens": {"label": "stolen"},
    f"{API}/submissions": {
        "kind": "production",
        "rows": [{"material": "gallium", "stage": "refine", "year": 2024, "tonnes": 1}],
    },
    f"{API}/reserves": {"name": "Intruder reserve"},
    f"{API}/reserves/{{reserve_id}}/operations": draw_op(77, 1.0),
    f"{API}/jobs": {"kind": "count", "params": {"steps": 1}},
}


def _noop(params: Any, progress: ProgressFn) -> dict[str, int]:
    return {"ok": 1}


@pytest.fixture
def world(db_url: str) -> Iterator[tuple[Service, dict[str, Any]]]:
    kinds = {"count": JobKind("count", _Count, _counting_job, "")}
    for service in start_service(db_url, kinds):
        a = service.auth("member_a")
        deal = {
            "date": "2025-01-15",
            "material": "gallium",
            "stage": "refine",
            "tonnes": MARKER_TONNES,
            "price": 512345.0,
            "currency": "USD",
            "counterparty": MARKER,
        }
        sub = service.client.post(
            f"{API}/submissions", json={"kind": "transactions", "rows": [deal]}, headers=a
        )
        job = service.client.post(f"{API}/jobs", json={"kind": "count", "params": {"steps": 3}}, headers=a)
        op = service.auth("operator")
        reserve = service.client.post(f"{API}/reserves", json={"name": "Ga"}, headers=op)
        for body in vault_ops(5.0):
            r = service.client.post(
                f"{API}/reserves/{reserve.json()['id']}/operations", json=body, headers=op
            )
            assert r.status_code == 200, r.text
        job_id = job.json()["id"]
        deadline = time.monotonic() + 60  # the victim's job must be finished before snapshots are compared
        while service.client.get(f"{API}/jobs/{job_id}", headers=a).json()["status"] != "succeeded":
            assert time.monotonic() < deadline, "the victim's job did not finish"
            time.sleep(0.02)
        ids = {
            "submission_id": sub.json()["id"],
            "job_id": job_id,
            "member_id": service.ids["member_a"],
            "reserve_id": reserve.json()["id"],
            "token_id": service.tokens["member_a"].split("_")[1],
            "material": "gallium",  # public atlas data
            "stage": "refine",
        }
        yield service, ids


def _victim_snapshot(service: Service) -> str:
    """Everything member A owns, serialised."""
    a = service.ids["member_a"]
    with service.store.read() as s:
        subs = s.execute(
            select(Submission).where(Submission.member_id == a).order_by(Submission.id)
        ).scalars()
        sub_list = [(x.id, x.kind, x.row_count, x.iso3) for x in subs]
        rows = s.execute(
            select(SubmissionRow)
            .join(Submission, Submission.id == SubmissionRow.submission_id)
            .where(Submission.member_id == a)
            .order_by(SubmissionRow.id)
        ).scalars()
        row_list = [(r.submission_id, r.material, r.tonnes, r.counterparty, r.price) for r in rows]
        jobs = [(j.id, j.status, j.result) for j in s.execute(select(Job).where(Job.owner_id == a)).scalars()]
        tokens = [
            (t.id, t.revoked_at) for t in s.execute(select(ApiToken).where(ApiToken.member_id == a)).scalars()
        ]
        member = s.get(Member, a)
        assert member is not None
        return json.dumps([sub_list, row_list, jobs, tokens, member.name, member.role, member.iso3])


def _routes(service: Service) -> list[tuple[str, str, APIRoute]]:
    """(method, full path, route) of every API route, through included routers."""
    out = []
    for ctx in iter_route_contexts(service.client.app.routes):  # type: ignore[attr-defined]
        route = ctx.original_route
        if isinstance(route, APIRoute) and ctx.path is not None:
            out.extend((method, ctx.path, route) for method in sorted(ctx.methods or ()))
    return out


def _call(service: Service, who: str, method: str, path: str, route: APIRoute, ids: dict[str, Any]) -> Any:
    params = [p.name for p in route.dependant.path_params]
    unknown = [p for p in params if p not in ids]
    assert not unknown, f"{method} {path}: map path parameter(s) {unknown} to a victim-owned resource"
    url = path.format(**{p: ids[p] for p in params})
    query = {}
    for q in route.dependant.query_params:
        if q.name == "iso3":
            query["iso3"] = "AUS"
        elif q.name == "kind":
            query["kind"] = "transactions"
    kwargs: dict[str, Any] = {"headers": service.auth(who), "params": query}
    if any(p.name == "file" for p in route.dependant.body_params):
        kwargs["files"] = {
            "file": ("x.csv", "material,stage,year,tonnes\ngallium,refine,2024,1\n", "text/csv")
        }
    elif method in ("POST", "PUT", "PATCH"):
        kwargs["json"] = EXAMPLE_BODIES.get(path, {})
    return service.client.request(method, url, **kwargs)


def test_route_table_is_covered(world: tuple[Service, dict[str, Any]]) -> None:
    service, _ = world
    paths = {path for _, path, _ in _routes(service)}
    assert len(paths) >= 12 and f"{API}/submissions/{{submission_id}}/rows" in paths


@pytest.mark.parametrize("attacker", ATTACKERS)
def test_no_route_reads_or_changes_another_members_data(
    world: tuple[Service, dict[str, Any]], attacker: str
) -> None:
    service, ids = world
    before = _victim_snapshot(service)
    checked = 0
    for method, path, route in _routes(service):
        r = _call(service, attacker, method, path, route, ids)
        label = f"{attacker} {method} {path} -> {r.status_code}"
        api = path.startswith(API) or path == "/healthz"
        assert r.status_code < 500 or not api, label  # dashboard pages: leaks and changes are checked below
        assert MARKER not in r.text and str(MARKER_TONNES) not in r.text, f"{label} leaked member data"
        if "{job_id}" not in path:  # (a 404 may echo the id the caller sent)
            assert ids["job_id"] not in r.text, f"{label} leaked the member's job"
        if api and any(p in VICTIM_OWNED for p in (x.name for x in route.dependant.path_params)):
            assert r.status_code in (401, 403, 404), f"{label}: a victim-owned resource was served"
        assert _victim_snapshot(service) == before, f"{label} changed the member's data"
        checked += 1
    assert checked >= 15


@pytest.mark.parametrize("who", ["member_a", "secretariat"])
def test_owner_and_secretariat_do_see_the_data(world: tuple[Service, dict[str, Any]], who: str) -> None:
    service, ids = world
    rows = service.client.get(f"{API}/submissions/{ids['submission_id']}/rows", headers=service.auth(who))
    assert rows.status_code == 200 and MARKER in rows.text and str(MARKER_TONNES) in rows.text
    job = service.client.get(f"{API}/jobs/{ids['job_id']}", headers=service.auth(who))
    assert job.status_code == 200 and job.json()["result"] == {"sum": 3}
