"""Exposure not held in memory becomes a job (issue 19: heavy public GETs become jobs): the GET answers 202
with the job to poll, one job per key, owned by the service account; once done the GET answers 200 with the
library's document, also from a process that did not compute it (the stored result); errors stay 404s and
queue nothing (each backend)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select, text

from critmin.api.exposure_jobs import EXPOSURE_KIND, SERVICE_ACCOUNT, edition_digest
from critmin.api.routers import analytics
from critmin.runs.exposure import ExposureRequest, run
from critmin.serialize import dumps
from critmin.store import audit
from critmin.store.jobs import create_job
from critmin.store.members import principal_of
from critmin.store.models import AuditEntry, Job, Member
from service.exposure_follow import follow
from service.support import Service

API = "/api/v1"


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    analytics.CACHE.clear()
    yield
    analytics.CACHE.clear()


def _settled(service: Service, timeout: float = 30.0) -> list[Job]:
    """The exposure jobs once none is queued or running: a document is served as soon as its job has
    stored it, and the job's row is marked succeeded just after."""
    deadline = time.monotonic() + timeout
    jobs = _jobs(service)
    while any(j.status in ("queued", "running") for j in jobs) and time.monotonic() < deadline:
        time.sleep(0.05)
        jobs = _jobs(service)
    return jobs


def _jobs(service: Service) -> list[Job]:
    with service.store.read() as s:
        rows = s.execute(select(Job).where(Job.kind == EXPOSURE_KIND)).scalars().all()
        s.expunge_all()
        return list(rows)


def _library(material: str, stage: str, year: int, group: str) -> dict[str, object]:
    req = ExposureRequest(material=material, stage=stage, year=year, group=group)
    doc = json.loads(dumps(run(req).detail))
    doc.pop("created_at")
    return doc


def test_a_miss_queues_one_job_and_then_serves_its_result(service: Service) -> None:
    path, params = f"{API}/exposure/cobalt/refine", {"year": 2021, "group": "g7"}
    first = service.client.get(path, params=params)
    assert first.status_code == 202, first.text
    body = first.json()
    assert first.headers["location"] == body["poll"] == f"{API}/exposure/jobs/{body['job']}"
    assert first.headers["retry-after"] == "1"
    again = service.client.get(path, params=params)  # before or after it is done: never a second job
    assert again.status_code == 200 or again.json()["job"] == body["job"]
    done = follow(service.client, path, params)
    assert done.status_code == 200 and "\n" not in done.text
    got = done.json()
    got.pop("created_at")
    assert got == _library("cobalt", "refine", 2021, "g7")
    (job,) = _settled(service)
    assert job.id == body["job"] and job.status == "succeeded"
    stored = json.loads(job.params)
    assert stored == {
        "year": 2021,
        "group": "g7",
        "material": "cobalt",
        "stage": "refine",
        "edition": edition_digest(analytics._edition(analytics._atlas())),
    }
    with service.store.read() as s:
        owner = s.get(Member, job.owner_id)
        assert owner is not None and (owner.name, owner.role) == (SERVICE_ACCOUNT, "participant")
    poll = service.client.get(body["poll"]).json()
    assert poll["status"] == "succeeded" and poll["result"]["shares"] == got["shares"]


def test_another_process_serves_the_stored_result(service: Service) -> None:
    """The memory of this process is emptied (a restart, or the API process that did not run the job):
    the GET answers 200 from the job's stored result, without a new job."""
    path, params = f"{API}/exposure", {"year": 2020, "group": "g7"}
    want = follow(service.client, path, params).json()
    assert [j.status for j in _settled(service)] == ["succeeded"]
    analytics.CACHE.clear()
    r = service.client.get(path, params=params)
    assert r.status_code == 200 and r.json() == want and len(want["rows"]) > 40
    (job,) = _jobs(service)
    assert r.text == job.result  # the stored text, served as it is (not parsed and dumped again)
    assert analytics.CACHE.table(2020, "g7") == r.text  # and it is held again


def test_post_queues_the_job_explicitly(service: Service) -> None:
    r = service.client.post(
        f"{API}/exposure/jobs", json={"year": 2022, "material": "gallium", "stage": "refine"}
    )
    assert r.status_code == 202, r.text
    job = r.json()
    assert (
        job["status"] in ("queued", "running", "succeeded") and job["params"]["group"] == "ministerial-2026"
    )
    same = service.client.post(
        f"{API}/exposure/jobs", json={"year": 2022, "material": "gallium", "stage": "refine"}
    )
    assert same.json()["id"] == job["id"]
    got = follow(service.client, f"{API}/exposure/gallium/refine", {"year": 2022}).json()
    # the document is served as soon as the job has stored it; its row is marked succeeded just after
    deadline = time.monotonic() + 30
    polled = service.client.get(job["poll"]).json()
    while polled["status"] != "succeeded" and time.monotonic() < deadline:
        time.sleep(0.05)
        polled = service.client.get(job["poll"]).json()
    assert polled["status"] == "succeeded", polled
    assert polled["result"]["shares"] == got["shares"]
    bad = service.client.post(f"{API}/exposure/jobs", json={"material": "gallium"})
    assert bad.status_code == 422


def test_errors_stay_404_and_queue_nothing(service: Service) -> None:
    for path, params in (
        (f"{API}/exposure/unobtainium/mine", {"year": 2021}),
        (f"{API}/exposure/gallium/magnet", {"year": 2021}),
        (f"{API}/exposure/gallium/refine", {"year": 2021, "group": "no-such-group"}),
        (f"{API}/exposure", {"year": 2021, "group": "no-such-group"}),
    ):
        assert service.client.get(path, params=params).status_code == 404, path
    assert service.client.post(f"{API}/exposure/jobs", json={"group": "nope"}).status_code == 404
    assert _jobs(service) == []
    assert service.client.get(f"{API}/exposure/jobs/0123456789abcdef").status_code == 404


def test_only_exposure_jobs_are_public(service: Service) -> None:
    with service.store.write() as s:
        member = s.get(Member, service.ids["member_a"])
        assert member is not None
        other = create_job(s, principal_of(member), "simulate", {"scenario": {}}).id
    assert service.client.get(f"{API}/exposure/jobs/{other}").status_code == 404
    with service.store.read() as s:
        assert s.execute(select(func.count()).select_from(Job)).scalar_one() == 1


def test_start_up_queues_each_key_once_per_edition(service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    """``queue_precompute`` (what ``critmin serve`` runs at start-up, here on two pairs): one job per key,
    none more on a second start (a restart, another API process); the GETs then serve the results."""
    from critmin.api import exposure_jobs

    pairs = [("gallium", "refine"), ("cobalt", "refine")]
    monkeypatch.setattr(exposure_jobs, "exposure_pairs", lambda: pairs)
    woken: list[int] = []
    assert exposure_jobs.queue_precompute(service.store, lambda: woken.append(1), 2018, "g7") == 3
    assert len(_jobs(service)) == 3 and woken
    assert exposure_jobs.queue_precompute(service.store, lambda: woken.append(2), 2018, "g7") == 3
    assert len(_jobs(service)) == 3 and 2 not in woken
    for material, stage in pairs:
        r = follow(service.client, f"{API}/exposure/{material}/{stage}", {"year": 2018, "group": "g7"})
        assert r.status_code == 200 and r.json()["material"] == material
    assert follow(service.client, f"{API}/exposure", {"year": 2018, "group": "g7"}).status_code == 200
    # a document is served as soon as its job has stored it; the job's row is marked succeeded just after
    jobs = _settled(service)
    assert {j.status for j in jobs} == {"succeeded"} and len(jobs) == 3


def test_exposure_jobs_have_their_own_thread(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The users' job threads never claim exposure jobs (public reads do not delay them, nor wait behind
    them); ``CRITMIN_EXPOSURE_PRECOMPUTE=0`` queues nothing at start-up."""
    from fastapi.testclient import TestClient

    from critmin.api.app import PRECOMPUTE_ENV, create_app
    from critmin.api.job_kinds import library_job_kinds
    from critmin.store import Store

    monkeypatch.setenv(PRECOMPUTE_ENV, "0")
    store = Store(db_url)
    app = create_app(store, job_kinds=library_job_kinds(), precompute_exposure=True)
    with TestClient(app) as client:
        assert EXPOSURE_KIND in client.get(f"{API}/jobs/kinds").json()
        assert EXPOSURE_KIND not in app.state.jobs.worker.kinds and "stockpile" in app.state.jobs.worker.kinds
        assert set(app.state.exposure_worker.kinds) == {EXPOSURE_KIND}
        with store.read() as s:
            assert s.execute(select(func.count()).select_from(Job)).scalar_one() == 0
    store.dispose()


def test_misses_at_once_are_answered_in_batches(service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keys missed while the queue answers a batch go in the next one: 20 keys (each asked twice) handed
    over while the first is being looked up take one more read, and the 21 misses at most two write
    transactions (the first key's alone, or with the 20), one job per key; a stored result is served as
    stored."""
    from concurrent.futures import Future

    from critmin.api import exposure_queue
    from critmin.api.exposure_jobs import ExposureJobParams, Found

    held = threading.Event()
    reads: list[int] = []
    writes: list[int] = []
    lookup, queue_many = exposure_queue.lookup, exposure_queue.queue_many

    def slow_lookup(store: Any, params: list[ExposureJobParams]) -> dict[str, Found]:
        reads.append(len(params))
        held.wait(10)  # the first batch is answered once every other key has been handed over
        return lookup(store, params)

    def counted(store: Any, params: list[ExposureJobParams]) -> dict[str, Found]:
        writes.append(len(params))
        return queue_many(store, params)

    monkeypatch.setattr(exposure_queue, "lookup", slow_lookup)
    monkeypatch.setattr(exposure_queue, "queue_many", counted)
    monkeypatch.setattr(exposure_queue.ExposureQueue, "_siblings", lambda self, batch: [])  # next test
    woken: list[int] = []
    queue = exposure_queue.ExposureQueue(service.store, lambda: woken.append(1))
    keys = [ExposureJobParams(year=2000 + i, group="g7", edition="e") for i in range(21)]
    futures: list[Future[Found]] = [queue.submit(keys[0])]
    while not reads:
        time.sleep(0.01)
    futures += [queue.submit(p) for p in keys[1:] + keys[1:]]
    held.set()
    found = [f.result(30) for f in futures]
    assert reads == [1, 20] and sum(writes) == 21 and len(writes) <= 2 and woken
    assert [f.job for f in found[1:21]] == [f.job for f in found[21:]]
    assert len({f.job for f in found}) == 21 == len(_jobs(service))
    assert all(f.status == "queued" and f.stored is None for f in found)
    with service.store.read() as s:  # an audit entry per job, chained one after the other
        assert audit.verify(s).ok
        created = s.execute(select(AuditEntry.target).where(AuditEntry.action == "job.create")).scalars()
        assert sorted(created) == sorted(f"job:{f.job}" for f in found[:21])
    with service.store.write() as s:
        s.execute(
            text("UPDATE jobs SET status = 'succeeded', result = '{\"a\": 1}' WHERE id = :i"),
            {"i": found[0].job},
        )
    again = queue.submit(keys[0]).result(30)
    assert (again.job, again.stored, again.created) == (found[0].job, '{"a": 1}', False)


def test_a_members_own_exposure_job_is_not_served_to_the_public(service: Service) -> None:
    """``POST /jobs`` of an exposure job by a member makes that member's job; the public's miss of the same
    key queues the service account's own (a job is only ever read back by its owner's key)."""
    edition = edition_digest(analytics._edition(analytics._atlas()))
    body = {"kind": EXPOSURE_KIND, "params": {"year": 2012, "group": "g7", "edition": edition}}
    mine = service.client.post(f"{API}/jobs", json=body, headers=service.auth("member_a"))
    assert mine.status_code == 202, mine.text
    public = service.client.get(f"{API}/exposure", params={"year": 2012, "group": "g7"})
    assert public.status_code == 202 and public.json()["job"] != mine.json()["id"]


def test_the_first_lookup_of_a_year_and_group_holds_their_stored_documents(service: Service) -> None:
    """A miss of one key reads the stored documents of its year and group with it (one read): the
    sibling that was computed before is then served from memory; a sibling never computed is not held."""
    from critmin.api.exposure_jobs import ExposureJobParams, queue_many
    from critmin.api.exposure_queue import ExposureQueue

    edition = edition_digest(analytics._edition(analytics._atlas()))
    sibling = ExposureJobParams(year=2013, group="g7", material="cobalt", stage="refine", edition=edition)
    (job,) = queue_many(service.store, [sibling]).values()
    with service.store.write() as s:
        s.execute(
            text("UPDATE jobs SET status = 'succeeded', result = '{\"b\": 2}' WHERE id = :i"), {"i": job.job}
        )
    analytics.CACHE.clear()
    queue = ExposureQueue(service.store, lambda: None)
    table = queue.submit(ExposureJobParams(year=2013, group="g7", edition=edition)).result(30)
    assert table.status == "queued" and table.stored is None
    assert analytics.CACHE.detail(2013, "g7", "cobalt", "refine") == '{"b": 2}'
    assert analytics.CACHE.detail(2013, "g7", "gallium", "refine") is None
    r = service.client.get(f"{API}/exposure/cobalt/refine", params={"year": 2013, "group": "g7"})
    assert r.status_code == 200 and r.json() == {"b": 2}
