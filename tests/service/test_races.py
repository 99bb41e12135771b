"""Races: 20 concurrent withdrawals of one submission, revocations of one token and cancellations of one
job each give exactly one success and exactly one audit entry (each backend)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from pydantic import BaseModel, Field
from sqlalchemy import select

from critmin.api.jobs import JobKind, ProgressFn
from critmin.store.models import AuditEntry
from service.support import Service, start_service

API = "/api/v1"
N = 20


def _race(call: Callable[[], httpx.Response]) -> list[int]:
    barrier = threading.Barrier(N)

    def once(_: int) -> int:
        barrier.wait()
        return call().status_code

    with ThreadPoolExecutor(max_workers=N) as pool:
        return list(pool.map(once, range(N)))


def _entries(service: Service, action: str) -> int:
    with service.store.read() as s:
        return len(s.execute(select(AuditEntry).where(AuditEntry.action == action)).all())


def test_20_concurrent_withdrawals_give_one_204(service: Service) -> None:
    h = service.auth("member_a")
    rows = [{"material": "lithium", "stage": "mine", "year": 2024, "tonnes": 10.0}]
    sid = service.client.post(
        f"{API}/submissions", json={"kind": "production", "rows": rows}, headers=h
    ).json()
    codes = _race(lambda: service.client.delete(f"{API}/submissions/{sid['id']}", headers=h))
    assert sorted(codes) == [204] + [404] * (N - 1)
    assert _entries(service, "submission.withdraw") == 1


def test_20_concurrent_revocations_give_one_204(service: Service) -> None:
    token_id = service.tokens["participant"].split("_")[1]
    h = service.auth("secretariat")
    codes = _race(lambda: service.client.delete(f"{API}/tokens/{token_id}", headers=h))
    assert sorted(codes) == [204] + [404] * (N - 1)
    assert _entries(service, "token.revoke") == 1
    assert service.client.get(f"{API}/me", headers=service.auth("participant")).status_code == 401


class _Steps(BaseModel):
    steps: int = Field(3, ge=1, le=1000)
    pause: float = Field(0.01, ge=0, le=1)


def _stepping(params: BaseModel, progress: ProgressFn) -> dict[str, int]:
    assert isinstance(params, _Steps)
    for i in range(params.steps):
        time.sleep(params.pause)
        progress(i / params.steps, f"step {i}")
    return {"steps": params.steps}


@pytest.fixture
def stepping(db_url: str) -> Iterator[Service]:
    yield from start_service(db_url, {"steps": JobKind("steps", _Steps, _stepping, "sleeps in steps")})


def _wait_final(service: Service, ids: list[str], h: dict[str, str]) -> list[dict[str, object]]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        jobs = [service.client.get(f"{API}/jobs/{i}", headers=h).json() for i in ids]
        if all(j["status"] in ("succeeded", "failed", "cancelled") for j in jobs):
            return jobs
        time.sleep(0.05)
    raise AssertionError("jobs did not finish")


def test_20_concurrent_cancels_of_a_running_job_give_one_entry(stepping: Service) -> None:
    h = stepping.auth("member_a")
    job = stepping.client.post(
        f"{API}/jobs", json={"kind": "steps", "params": {"steps": 400, "pause": 0.05}}, headers=h
    ).json()
    while stepping.client.get(f"{API}/jobs/{job['id']}", headers=h).json()["status"] != "running":
        time.sleep(0.02)
    codes = _race(lambda: stepping.client.post(f"{API}/jobs/{job['id']}/cancel", headers=h))
    assert codes == [200] * N
    assert _entries(stepping, "job.cancel") == 1
    (done,) = _wait_final(stepping, [job["id"]], h)
    assert done["status"] == "cancelled" and done["result"] is None


def test_cancel_racing_completion_never_leaves_a_cancelled_job_with_a_result(stepping: Service) -> None:
    h = stepping.auth("member_a")
    ids = [
        stepping.client.post(f"{API}/jobs", json={"kind": "steps", "params": {"steps": 2}}, headers=h).json()[
            "id"
        ]
        for _ in range(30)
    ]
    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(lambda i: stepping.client.post(f"{API}/jobs/{i}/cancel", headers=h), ids))
    jobs = _wait_final(stepping, ids, h)
    for j in jobs:
        assert (j["result"] is not None) == (j["status"] == "succeeded"), j
    with stepping.store.read() as s:
        finals = s.execute(select(AuditEntry.target).where(AuditEntry.action.like("job.%ed"))).scalars().all()
    assert sorted(finals) == sorted(f"job:{i}" for i in ids)  # one final transition per job
