"""Jobs of a ``once`` kind are queued once per owner and parameters, even when several processes ask at the
same moment (the jobs table's unique live key): the public exposure jobs, and a plan's ``reserve_finance``
job that two browser tabs request together (each backend)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select, text

from critmin.api.exposure_jobs import EXPOSURE_KIND, ExposureJobParams, find_or_queue
from critmin.api.job_kinds import library_job_kinds
from critmin.store import Store
from critmin.store.jobs import create_job_once, finish, live_jobs, once_key
from critmin.store.members import principal_of
from critmin.store.models import Job, Member
from service.support import Service

API = "/api/v1"
N = 12  # concurrent callers, split over two stores (two API processes' connection pools)


def _count(store: Store, kind: str) -> int:
    with store.read() as s:
        return s.execute(select(func.count()).select_from(Job).where(Job.kind == kind)).scalar_one()


def test_two_processes_queueing_one_exposure_key_make_one_job(service: Service) -> None:
    """Two stores on one database (two API processes starting together), six callers each, released at
    once: every caller gets the same job and the table holds one."""
    other = Store(service.store.url)
    params = ExposureJobParams(year=2011, group="g7", material="cobalt", stage="refine", edition="e")
    barrier = threading.Barrier(N)

    def queue(i: int) -> tuple[str, bool]:
        barrier.wait()
        job, created = find_or_queue(service.store if i % 2 else other, params)
        return job["id"], created

    with ThreadPoolExecutor(max_workers=N) as pool:
        got = list(pool.map(queue, range(N)))
    other.dispose()
    assert len({job_id for job_id, _ in got}) == 1
    assert [created for _, created in got].count(True) == 1
    assert _count(service.store, EXPOSURE_KIND) == 1


def test_a_job_is_queued_again_only_once_the_last_one_failed(service: Service) -> None:
    with service.store.write() as s:
        member = s.get(Member, service.ids["member_a"])
        assert member is not None
        who = principal_of(member)
        first, created = create_job_once(s, who, "reserve_finance", {"plan": 1})
        assert created and first.once_key == once_key("reserve_finance", who.member_id or 0, {"plan": 1})
        again, created = create_job_once(s, who, "reserve_finance", {"plan": 1})
        assert again.id == first.id and not created
        s.execute(text("UPDATE jobs SET status = 'failed' WHERE id = :i"), {"i": first.id})
    with service.store.write() as s:
        retry, created = create_job_once(s, who, "reserve_finance", {"plan": 1})
        assert created and retry.id != first.id
        assert set(live_jobs(s, [str(retry.once_key)])) == {retry.once_key}
        assert live_jobs(s, [str(retry.once_key)])[str(retry.once_key)].id == retry.id


def test_the_key_is_unique_among_live_jobs_at_the_database(service: Service) -> None:
    """A second live job of one key is refused by the database itself (not only by the lookup)."""
    import pytest
    from sqlalchemy.exc import IntegrityError

    with service.store.write() as s:
        member = s.get(Member, service.ids["member_a"])
        assert member is not None
        job, _ = create_job_once(s, principal_of(member), "reserve_finance", {"plan": 2})
        key, owner = job.once_key, job.owner_id
    with pytest.raises(IntegrityError), service.store.write() as s:
        s.add(
            Job(
                id="f" * 16,
                kind="reserve_finance",
                owner_id=owner,
                status="queued",
                params="{}",
                once_key=key,
            )
        )


def test_two_tabs_queue_one_finance_job_per_plan(db_url: str) -> None:
    """Two tabs of one account POST the plan's ``reserve_finance`` job at the same moment (what the reserve
    page does once the sizing has finished): one job, both tabs follow it; another account gets its own;
    asked again once it succeeded, the finished job is returned (no worker runs here: the jobs stay put)."""
    from fastapi.testclient import TestClient

    from critmin.api.app import create_app
    from critmin.runs.reserve_finance import ReserveFinanceRequest
    from critmin.store.jobs import Claim
    from service.support import seed_accounts

    store = Store(db_url)
    store.upgrade()
    tokens, _ = seed_accounts(store)
    plan = ReserveFinanceRequest(holdings_usd={"gallium": 1.2e8, "germanium": 3.0e7})
    body = {"kind": "reserve_finance", "params": plan.model_dump(mode="json")}
    app = create_app(store, job_kinds=library_job_kinds(), embedded_worker=False)
    with TestClient(app) as client:

        def post(who: str) -> dict[str, object]:
            r = client.post(f"{API}/jobs", json=body, headers={"Authorization": f"Bearer {tokens[who]}"})
            assert r.status_code == 202, r.text
            return dict(r.json())

        barrier = threading.Barrier(2)

        def tab(_: int) -> str:
            barrier.wait()
            return str(post("member_a")["id"])

        with ThreadPoolExecutor(max_workers=2) as pool:
            ids = set(pool.map(tab, range(2)))
        assert len(ids) == 1 and _count(store, "reserve_finance") == 1
        other = post("member_b")
        assert other["id"] not in ids and _count(store, "reserve_finance") == 2
        with store.write() as s:
            job = s.get(Job, other["id"])
            assert job is not None
            job.status, job.worker_id, job.attempts = "running", "w", 1
        with store.write() as s:
            assert finish(s, Claim(str(other["id"]), "reserve_finance", {}, 1, "w"), result={"ok": 1})
        again = post("member_b")
        assert (again["id"], again["status"]) == (other["id"], "succeeded")
        assert _count(store, "reserve_finance") == 2
    store.dispose()


def test_migration_0007_keys_the_live_jobs_and_keeps_one_per_key(db_url: str) -> None:
    """Duplicates queued before the key existed: the succeeded job keeps the key (else the newest), the
    others keep none; the key is the one :func:`once_key` gives (the migration's copy has not drifted)."""
    from critmin.store.jobs import params_text

    store = Store(db_url)
    store.upgrade("0006")
    params = {"year": 2019, "group": "g7", "material": None, "stage": None, "edition": "e"}
    rows = [  # id, status, created_at
        ("a" * 16, "queued", "2026-01-01T00:00:01"),
        ("b" * 16, "succeeded", "2026-01-01T00:00:02"),
        ("c" * 16, "queued", "2026-01-01T00:00:03"),
        ("d" * 16, "failed", "2026-01-01T00:00:04"),
    ]
    with store.write() as s:
        s.execute(
            text("INSERT INTO members (id, name, role, created_at) VALUES (7, 'svc', 'participant', 't')")
        )
        for job_id, status, created in rows:
            s.execute(
                text(
                    "INSERT INTO jobs (id, kind, owner_id, status, progress, message, params, "
                    "created_at, updated_at, attempts, max_attempts) "
                    "VALUES (:i, 'exposure', 7, :s, 0, '', :p, :c, :c, 0, 3)"
                ),
                {"i": job_id, "s": status, "p": params_text(params), "c": created},
            )
    store.upgrade()
    with store.read() as s:
        keys = {job_id: key for job_id, key in s.execute(select(Job.id, Job.once_key))}
    assert keys == {"a" * 16: None, "b" * 16: once_key("exposure", 7, params), "c" * 16: None, "d" * 16: None}
    with store.write() as s:
        member = s.get(Member, 7)
        assert member is not None
        job, created = create_job_once(s, principal_of(member), "exposure", params)
    assert (job.id, created) == ("b" * 16, False)
    store.dispose()
