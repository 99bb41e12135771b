"""Exposure on a cache miss as a job: a public GET that would compute for seconds queues a job instead.

Issue 19 item 4: every public GET route was timed on the bundled data (``benchmarks/bench_api_routes.py``);
the only ones over 0.5 s are the exposure table and detail when their (edition, year, group) is not held
in memory (a key other than the one precomputed at start-up, or any key right after a restart): 2-3 s of
CPU each. On such a miss the GET answers ``202`` with the job to poll (``Location`` and ``Retry-After``);
``POST /exposure/jobs`` queues the same job explicitly and ``GET /exposure/jobs/{id}`` polls it (public,
exposure jobs only). The job lives in the service's durable queue (the ``jobs`` table, run by the embedded
worker or ``critmin worker``); once it succeeded the GET answers ``200`` from its stored result. One job per
key: a miss finds the queued, running or succeeded job of the same parameters before queueing a new one.
``critmin serve`` queues the default year and group's keys at start-up (:func:`queue_precompute`), so they
are computed once per data edition for every API process, and survive restarts in the jobs table.
Jobs need an owner account: the public's are owned by a service account without any token
(:data:`SERVICE_ACCOUNT`, role ``participant``, created on first use, audited like any account).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from critmin.api.exposure_cache import CACHE, _atlas, _edition, exposure_pairs
from critmin.api.jobs import JobKind, ProgressFn
from critmin.options import options
from critmin.store import Store
from critmin.store.jobs import create_job
from critmin.store.members import Principal, create_member, principal_of
from critmin.store.models import Job, Member

EXPOSURE_KIND = "exposure"
SERVICE_ACCOUNT = "critmin service (public exposure jobs)"
SYSTEM = Principal(None, "api", "system", None)
LIVE = ("queued", "running", "succeeded")
SLUG = r"^[a-z][a-z0-9-]*$"
GROUP = r"^[A-Za-z0-9_.+-]+$"
API_PREFIX = "/api/v1"


class ExposureJobIn(BaseModel):
    """The exposure table (no material and stage) or one detail, for a year and group."""

    model_config = ConfigDict(extra="forbid")
    year: int = Field(options().default_year, ge=1900, le=2100)
    group: str = Field(options().alliance_group, min_length=1, max_length=64, pattern=GROUP)
    material: str | None = Field(None, min_length=1, max_length=64, pattern=SLUG)
    stage: str | None = Field(None, min_length=1, max_length=16, pattern=r"^[a-z]+$")

    @model_validator(mode="after")
    def _pair(self) -> ExposureJobIn:
        if (self.material is None) != (self.stage is None):
            raise ValueError("material and stage go together (neither: the exposure table)")
        return self


class ExposureJobParams(ExposureJobIn):
    """The job's parameters: the request and its data edition (``edition``: the digest of the atlas's
    editions, set by the server, so a new edition never reads an old edition's result)."""

    edition: str = Field("", max_length=64)


def edition_digest(edition: tuple[tuple[str, str], ...]) -> str:
    """A short digest of the data edition (part of every exposure job's parameters)."""
    return hashlib.sha256(json.dumps(edition).encode("utf-8")).hexdigest()[:16]


def run_exposure(params: BaseModel, progress: ProgressFn) -> Any:
    """The job: compute the document into this process's cache and return it (stored on the job)."""
    assert isinstance(params, ExposureJobParams)
    progress(0.05, "computing exposure")
    if params.material is None or params.stage is None:
        text = CACHE.compute_table(params.year, params.group)
    else:
        text = CACHE.compute_detail(params.year, params.group, params.material, params.stage)
    return json.loads(text)


def exposure_job_kind() -> JobKind:
    """The ``exposure`` job kind (any signed-in role may also submit it through ``POST /jobs``)."""
    return JobKind(EXPOSURE_KIND, ExposureJobParams, run_exposure, "exposure table or detail (cache miss)")


def _service_principal(store: Store) -> Principal:
    """The account owning the public's exposure jobs, created on first use (two processes racing to
    create it: the loser reads the winner's)."""
    for _ in range(2):
        with store.read() as s:
            found = s.execute(select(Member).where(Member.name == SERVICE_ACCOUNT)).scalar_one_or_none()
            if found is not None:
                return principal_of(found)
        try:
            with store.write() as s:
                return principal_of(create_member(s, SYSTEM, SERVICE_ACCOUNT, "participant", None))
        except IntegrityError:
            continue
    raise RuntimeError(f"account {SERVICE_ACCOUNT!r} could not be created or read")


def job_state(job: Job) -> dict[str, Any]:
    """What a poll shows of an exposure job (the result once it succeeded)."""
    return {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "progress": job.progress,
        "message": job.message,
        "params": json.loads(job.params),
        "result": json.loads(job.result) if job.result is not None else None,
        "error": job.error,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        "poll": poll_path(job.id),
    }


def poll_path(job_id: str) -> str:
    """Where the public polls an exposure job (under the API prefix of :mod:`critmin.api.app`)."""
    return f"{API_PREFIX}/exposure/jobs/{job_id}"


def find_or_queue(store: Store, params: ExposureJobParams) -> tuple[dict[str, Any], bool]:
    """The live job of these parameters (queued, running or succeeded), or a new queued one; and whether
    it was created here (the caller wakes the embedded worker)."""
    text = json.dumps(params.model_dump(mode="json"), sort_keys=True)  # as create_job stores params
    stmt = (
        select(Job)
        .where(Job.kind == EXPOSURE_KIND, Job.params == text, Job.status.in_(LIVE))
        .order_by(Job.created_at.desc())
        .limit(1)
    )
    with store.read() as s:
        job = s.execute(stmt).scalar_one_or_none()
        if job is not None:
            return job_state(job), False
    owner = _service_principal(store)
    with store.write() as s:
        job = s.execute(stmt).scalar_one_or_none()
        if job is not None:
            return job_state(job), False
        return job_state(create_job(s, owner, EXPOSURE_KIND, params.model_dump(mode="json"))), True


def on_miss(store: Store, params: ExposureJobParams) -> tuple[str, str, str | None, bool]:
    """A cache miss: ``(job id, status, stored result text or None, created here)`` of the key's live job
    (one light read when it exists; the stored text is served as it is, no re-serialisation)."""
    text = json.dumps(params.model_dump(mode="json"), sort_keys=True)
    stmt = (
        select(Job.id, Job.status, Job.result)
        .where(Job.kind == EXPOSURE_KIND, Job.params == text, Job.status.in_(LIVE))
        .order_by(Job.created_at.desc())
        .limit(1)
    )
    with store.read() as s:
        row = s.execute(stmt).first()
    if row is not None:
        return str(row.id), str(row.status), row.result if row.status == "succeeded" else None, False
    job, created = find_or_queue(store, params)
    done = job["status"] == "succeeded"
    return job["id"], job["status"], json.dumps(job["result"]) if done else None, created


def exposure_job(store: Store, job_id: str) -> dict[str, Any] | None:
    """An exposure job's state (``None`` for an unknown id or a job of another kind)."""
    with store.read() as s:
        job = s.get(Job, job_id)
        return job_state(job) if job is not None and job.kind == EXPOSURE_KIND else None


def queue_precompute(
    store: Store, notify: Callable[[], None], year: int | None = None, group: str | None = None
) -> int:
    """Queue (or find) the exposure jobs of the table and of every material and stage of (year, group)
    (default: the default year and group): computed once per data edition, for every API process and
    across restarts; a result already stored is put in this process's memory at once. Returns the number
    of keys."""
    ed = edition_digest(_edition(_atlas()))
    y = options().default_year if year is None else year
    g = options().alliance_group if group is None else group
    keys: list[tuple[str | None, str | None]] = [(None, None), *exposure_pairs()]
    for material, stage in keys:
        params = ExposureJobParams(year=y, group=g, material=material, stage=stage, edition=ed)
        _, _, stored, created = on_miss(store, params)
        if created:
            notify()  # the exposure thread starts while the rest is queued
        elif stored is not None:  # computed before (a restart, another process): held in memory now
            CACHE.put(y, g, stored, None if material is None or stage is None else (material, stage))
    return len(keys)


def start_queue_precompute(store: Store, notify: Callable[[], None]) -> threading.Thread:
    """:func:`queue_precompute` in a daemon thread (the service answers meanwhile)."""
    thread = threading.Thread(target=queue_precompute, args=(store, notify), daemon=True, name="exposure")
    thread.start()
    return thread
