"""Exposure on a cache miss as a job: a public GET that would compute for seconds queues a job instead.

Issue 19 item 4: every public GET route was timed on the bundled data (``benchmarks/bench_api_routes.py``);
the only ones over 0.5 s are the exposure table and detail when their (edition, year, group) is not held
in memory (a key other than the one precomputed at start-up, or any key right after a restart): 2-3 s of
CPU each. On such a miss the GET answers ``202`` with the job to poll (``Location`` and ``Retry-After``);
``POST /exposure/jobs`` queues the same job explicitly and ``GET /exposure/jobs/{id}`` polls it (public,
exposure jobs only). The job lives in the service's durable queue (the ``jobs`` table, run by the embedded
worker or ``critmin worker``); once it succeeded the GET answers ``200`` from its stored result, served as
stored. One job per key, even across processes: the ``exposure`` kind runs ``once`` (the jobs table's unique
live key, :func:`critmin.store.jobs.create_job_once`); a miss reads the key's job through that index.
``critmin serve`` queues the default year and group's keys at start-up (:func:`queue_precompute`), so they
are computed once per data edition for every API process, and survive restarts in the jobs table.
Jobs need an owner account: the public's are owned by a service account without any token
(:data:`SERVICE_ACCOUNT`, role ``participant``, created on first use, audited like any account).
"""

from __future__ import annotations

import hashlib
import json
import threading
import weakref
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from critmin.api.exposure_cache import CACHE, _atlas, _edition, exposure_pairs
from critmin.api.jobs import JobKind, ProgressFn
from critmin.options import options
from critmin.store import Store
from critmin.store.jobs import create_job_once, create_jobs_once, live_jobs, once_key, params_text
from critmin.store.members import Principal, create_member, principal_of
from critmin.store.models import Job, Member

EXPOSURE_KIND = "exposure"
SERVICE_ACCOUNT = "critmin service (public exposure jobs)"
SYSTEM = Principal(None, "api", "system", None)
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
    """The ``exposure`` job kind (any signed-in role may also submit it through ``POST /jobs``; one job
    per owner and parameters)."""
    return JobKind(
        EXPOSURE_KIND, ExposureJobParams, run_exposure, "exposure table or detail (cache miss)", once=True
    )


_OWNERS: weakref.WeakKeyDictionary[Store, Principal] = weakref.WeakKeyDictionary()


def _service_principal(store: Store, create: bool = True) -> Principal | None:
    """The account owning the public's exposure jobs, created on first use unless ``create`` is false
    (two processes racing to create it: the loser reads the winner's); read once per store and process.
    ``None`` when it does not exist and ``create`` is false (no exposure job exists either)."""
    if store in _OWNERS:
        return _OWNERS[store]
    for _ in range(2):
        with store.read() as s:
            found = s.execute(select(Member).where(Member.name == SERVICE_ACCOUNT)).scalar_one_or_none()
            if found is not None:
                return _OWNERS.setdefault(store, principal_of(found))
        if not create:
            return None
        try:
            with store.write() as s:
                made = principal_of(create_member(s, SYSTEM, SERVICE_ACCOUNT, "participant", None))
            return _OWNERS.setdefault(store, made)
        except IntegrityError:
            continue
    raise RuntimeError(f"account {SERVICE_ACCOUNT!r} could not be created or read")


def _owner(store: Store) -> Principal:
    owner = _service_principal(store)
    assert owner is not None
    return owner


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


class Found(NamedTuple):
    """A key's job as a miss sees it: its id, status, stored document (the text as stored, once it
    succeeded) and whether this call queued it."""

    job: str
    status: str
    stored: str | None
    created: bool


def params_key(params: ExposureJobParams) -> str:
    """The stored parameter text of an exposure job (a miss's key within one process)."""
    return params_text(params.model_dump(mode="json"))


def lookup(store: Store, params: Iterable[ExposureJobParams]) -> dict[str, Found]:
    """The live jobs of these keys that exist (by :func:`params_key`): one read for all of them (none
    before the service account exists: a lookup writes nothing)."""
    owner = _service_principal(store, create=False)
    if owner is None or owner.member_id is None:
        return {}
    by_key = {once_key(EXPOSURE_KIND, owner.member_id, p.model_dump(mode="json")): p for p in params}
    with store.read() as s:
        rows = live_jobs(s, by_key)
    found = {}
    for key, row in rows.items():
        stored = row.result if row.status == "succeeded" else None
        found[params_key(by_key[key])] = Found(row.id, row.status, stored, False)
    return found


def queue_many(store: Store, params: Iterable[ExposureJobParams]) -> dict[str, Found]:
    """The live job of each key, queued when there is none: one write transaction for all, whose commit
    does not wait for the disk (``Store.write(durable=False)``)."""
    owner = _owner(store)
    wanted = list(params)
    with store.write(durable=False) as s:  # a job lost to a power cut is queued again on the next miss
        jobs = create_jobs_once(s, owner, EXPOSURE_KIND, [p.model_dump(mode="json") for p in wanted])
    done = {}
    for p, (job, created) in zip(wanted, jobs, strict=True):
        done[params_key(p)] = Found(
            job.id, job.status, job.result if job.status == "succeeded" else None, created
        )
    return done


def find_or_queue(store: Store, params: ExposureJobParams) -> tuple[dict[str, Any], bool]:
    """The live job of these parameters (queued, running or succeeded), or a new queued one; and whether
    it was created here (the caller wakes the embedded worker)."""
    owner = _owner(store)
    with store.write() as s:
        job, created = create_job_once(s, owner, EXPOSURE_KIND, params.model_dump(mode="json"))
        return job_state(job), created


def lookup_or_queue(store: Store, params: Iterable[ExposureJobParams]) -> dict[str, Found]:
    """The live job of each key: one read for those that exist, one write queueing the rest."""
    wanted = list(params)
    found = lookup(store, wanted)
    missing = [p for p in wanted if params_key(p) not in found]
    if missing:
        found.update(queue_many(store, missing))
    return found


def on_miss(store: Store, params: ExposureJobParams) -> Found:
    """A cache miss of one key, answered at once (:class:`critmin.api.exposure_queue.ExposureQueue`
    answers many together)."""
    return lookup_or_queue(store, [params])[params_key(params)]


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
    wanted = scope_params(ed, y, g)
    found = lookup_or_queue(store, wanted)
    if any(f.created for f in found.values()):
        notify()
    for p in wanted:
        stored = found[params_key(p)].stored
        if stored is not None:  # computed before (a restart, another process): held in memory now
            hold(p, stored)
    return len(wanted)


def scope_params(edition: str, year: int, group: str) -> list[ExposureJobParams]:
    """The keys of one (edition, year, group): its table and the detail of every material and stage."""
    keys: list[tuple[str | None, str | None]] = [(None, None), *exposure_pairs()]
    at = {"edition": edition, "year": year, "group": group}
    return [ExposureJobParams(**at, material=m, stage=st) for m, st in keys]


def hold(params: ExposureJobParams, stored: str) -> None:
    """Keep a key's stored document in this process's memory (the table, or one material and stage)."""
    pair = None if params.material is None or params.stage is None else (params.material, params.stage)
    CACHE.put(params.year, params.group, stored, pair)


def start_queue_precompute(store: Store, notify: Callable[[], None]) -> threading.Thread:
    """:func:`queue_precompute` in a daemon thread (the service answers meanwhile)."""
    thread = threading.Thread(target=queue_precompute, args=(store, notify), daemon=True, name="exposure")
    thread.start()
    return thread
