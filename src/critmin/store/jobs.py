"""The durable job queue: the ``jobs`` table. queued -> running (leased by a worker, renewed by heartbeats)
-> succeeded | failed | cancelled; ``cancelling`` while a running job's cancellation is pending.

Every transition holds the job's row lock, so a cancel and a completion never interleave. A worker that
dies leaves its lease to expire: :func:`reap` requeues the job (bounded attempts) or fails it with the
reason. A worker's writes are fenced by its attempt number, so a requeued job's old worker writes nothing.
"""

from __future__ import annotations

import hashlib
import json
import math
import secrets
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from critmin.store import audit
from critmin.store.members import Principal
from critmin.store.models import LIVE_JOB_SQL, Job, utc_now

FINAL = ("succeeded", "failed", "cancelled")


def _plain(obj: Any) -> Any:
    """numpy / pandas scalars to Python, NaN and infinities to None, dates to ISO text."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if hasattr(obj, "item") and not isinstance(obj, str | bytes):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    return obj


def result_json(result: Any) -> str:
    """Strict JSON text of a job result."""
    return json.dumps(_plain(result), allow_nan=False, default=str)


def params_text(params: dict[str, Any]) -> str:
    """The stored text of a job's parameters (sorted keys: equal parameters, equal text)."""
    return json.dumps(params, sort_keys=True)


def once_key(kind: str, owner_id: int, params: dict[str, Any]) -> str:
    """The key of a job that runs once per owner, kind and parameters (``jobs.once_key``)."""
    digest = hashlib.sha256(params_text(params).encode("utf-8")).hexdigest()[:40]
    return f"{kind}:{owner_id}:{digest}"


def _queued(kind: str, owner_id: int, params: dict[str, Any]) -> dict[str, Any]:
    """The column values of a new queued job (one place for create_job and create_jobs_once)."""
    now = utc_now()
    return {
        "id": secrets.token_hex(8),
        "kind": kind,
        "owner_id": owner_id,
        "status": "queued",
        "progress": 0.0,
        "message": "",
        "params": params_text(params),
        "created_at": now,
        "updated_at": now,
        "attempts": 0,
        "max_attempts": 3,
    }


def _created(who: Principal, job_id: str, kind: str, params: dict[str, Any]) -> audit.Pending:
    """The audit entry of a job's creation."""
    return audit.Pending(
        who.label, "job.create", f"job:{job_id}", {"kind": kind, "params": params}, (f"job:{job_id}",)
    )


def create_job(session: Session, who: Principal, kind: str, params: dict[str, Any]) -> Job:
    """A queued job owned by ``who``."""
    if who.member_id is None:
        raise PermissionError("jobs need an authenticated account")
    job = Job(**_queued(kind, who.member_id, params))
    session.add(job)
    session.flush()
    audit.append_many(session, [_created(who, job.id, kind, params)])
    return job


@dataclass(frozen=True)
class LiveJob:
    """What a lookup by key reads of a live job: its id, status and stored result (the text as stored)."""

    id: str
    status: str
    result: str | None


def live_jobs(session: Session, keys: Collection[str]) -> dict[str, LiveJob]:
    """The live (queued, running or succeeded) job of each of ``keys`` that has one: one index entry each
    (the query repeats the partial index's predicate word for word, so SQLite uses the index too), and
    only the columns a lookup needs."""
    if not keys:
        return {}
    stmt = select(Job.once_key, Job.id, Job.status, Job.result).where(
        Job.once_key.in_(list(keys)), text(LIVE_JOB_SQL)
    )
    return {str(r.once_key): LiveJob(r.id, r.status, r.result) for r in session.execute(stmt)}


def _insert_once(session: Session) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` on the live-key index, in the session's dialect."""
    where = text(LIVE_JOB_SQL)
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(Job).on_conflict_do_nothing(index_elements=[Job.once_key], index_where=where)
    return sqlite.insert(Job).on_conflict_do_nothing(index_elements=[Job.once_key], index_where=where)


def create_job_once(session: Session, who: Principal, kind: str, params: dict[str, Any]) -> tuple[Job, bool]:
    """The live job of ``who``'s ``kind`` and ``params``, or a new queued one; and whether it is new
    (:func:`create_jobs_once` of one)."""
    ((found, created),) = create_jobs_once(session, who, kind, [params])
    job = session.get(Job, found.id)
    assert job is not None
    return job, created


def create_jobs_once(
    session: Session, who: Principal, kind: str, params: Sequence[dict[str, Any]]
) -> list[tuple[LiveJob, bool]]:
    """For each of ``params`` (in order): the live job of ``who``'s ``kind`` and those parameters, or a new
    queued one; and whether it is new. One read of the keys, one insert of the missing ones and one audit
    append for them all (an entry per job).

    One job per key even when two processes ask at the same moment: the insert does nothing for a key
    whose live job exists or is being inserted by another transaction (PostgreSQL waits for that one to
    commit, then the key's job is read; SQLite's write transactions are serialized anyway)."""
    if who.member_id is None:
        raise PermissionError("jobs need an authenticated account")
    owner = who.member_id
    by_key = {once_key(kind, owner, p): p for p in params}
    made: dict[str, LiveJob] = {}
    for _ in range(3):  # a found job can end (failed, cancelled) between the insert and the read
        found = live_jobs(session, [k for k in by_key if k not in made])
        missing = [k for k in by_key if k not in made and k not in found]
        if not missing:
            break
        rows = [{**_queued(kind, owner, by_key[k]), "once_key": k} for k in missing]
        inserted = list(session.scalars(_insert_once(session).returning(Job), rows))  # kept: the audit
        new = {str(j.once_key): LiveJob(j.id, j.status, None) for j in inserted}  # reads them from memory
        audit.append_many(session, [_created(who, j.id, kind, by_key[k]) for k, j in new.items()])
        made.update(new)
    else:
        found = live_jobs(session, [k for k in by_key if k not in made])
    if any(k not in made and k not in found for k in by_key):
        raise RuntimeError(f"{kind} jobs neither found nor inserted")
    done = {k: (made[k], True) if k in made else (found[k], False) for k in by_key}
    return [done[once_key(kind, owner, p)] for p in params]


def _storable(text: str) -> str:
    """Text a job produced (exception messages) in a form every text column stores."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


def _locked(session: Session, job_id: str) -> Job | None:
    """The job row, locked to the end of the transaction (``FOR UPDATE`` on PostgreSQL; SQLite write
    transactions are ``BEGIN IMMEDIATE`` and therefore already exclusive)."""
    stmt = select(Job).where(Job.id == job_id)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return session.execute(stmt).scalar_one_or_none()


def _final(
    session: Session, job: Job, status: str, message: str, result: str | None, error: str | None
) -> None:
    job.status = status
    job.message = _storable(message)
    job.result = result
    job.error = None if error is None else _storable(error)
    job.lease_expires = None  # worker_id stays: the worker that ended the job
    job.updated_at = utc_now()
    if status == "succeeded":
        job.progress = 1.0
    audit.append(
        session,
        "system:jobs",
        f"job.{status}",
        f"job:{job.id}",
        {"error": error, "worker": job.worker_id, "attempt": job.attempts},
        rows=[f"job:{job.id}"],
    )


@dataclass(frozen=True)
class Claim:
    """A job a worker holds: ``attempt`` fences its writes (a requeued job's old worker is ignored)."""

    job_id: str
    kind: str
    params: dict[str, Any]
    attempt: int
    worker_id: str


def has_queued(session: Session, kinds: Collection[str]) -> bool:
    """Whether a job of one of ``kinds`` is queued (a read: a worker takes the write lock to claim only
    when there is something to claim)."""
    if not kinds:
        return False
    stmt = select(Job.id).where(Job.status == "queued", Job.kind.in_(list(kinds))).limit(1)
    return session.execute(stmt).first() is not None


def claim(session: Session, worker_id: str, kinds: Collection[str], lease_seconds: float) -> Claim | None:
    """Take the oldest queued job of one of ``kinds``: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (workers
    never wait for one another), a conditional update on SQLite; the lease runs ``lease_seconds``."""
    if not kinds:
        return None
    stmt = select(Job.id).where(Job.status == "queued", Job.kind.in_(list(kinds))).order_by(Job.created_at)
    postgres = session.get_bind().dialect.name == "postgresql"
    stmt = stmt.limit(1).with_for_update(skip_locked=True) if postgres else stmt.limit(1)
    job_id = session.execute(stmt).scalar_one_or_none()
    if job_id is None:
        return None
    done = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == "queued")
        .values(
            status="running",
            worker_id=worker_id,
            attempts=Job.attempts + 1,
            lease_expires=time.time() + lease_seconds,
            message="started",
            updated_at=utc_now(),
        )
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        return None
    job = session.get(Job, job_id, populate_existing=True)
    assert job is not None
    return Claim(job.id, job.kind, json.loads(job.params), job.attempts, worker_id)


def _held(session: Session, c: Claim) -> Job | None:
    job = _locked(session, c.job_id)
    if job is None or job.worker_id != c.worker_id or job.attempts != c.attempt:
        return None
    return job if job.status in ("running", "cancelling") else None


def heartbeat(
    session: Session,
    c: Claim,
    lease_seconds: float,
    progress: float | None = None,
    message: str | None = None,
) -> str | None:
    """Extend the lease (and record progress); the job's status, or ``None`` when the lease was lost."""
    job = _held(session, c)
    if job is None:
        return None
    job.lease_expires = time.time() + lease_seconds
    if progress is not None:
        job.progress = max(0.0, min(1.0, progress))
    if message is not None:
        job.message = message
    job.updated_at = utc_now()
    return job.status


def finish(
    session: Session, c: Claim, *, result: Any = None, error: str | None = None, cancelled: bool = False
) -> str | None:
    """The one final transition of a held job: ``succeeded`` with its result, ``failed`` with its error, or
    ``cancelled`` (always when cancellation was requested: a cancelled job never stores a result). Returns
    the final status, or ``None`` when the lease had been lost (nothing written)."""
    job = _held(session, c)
    if job is None:
        return None
    if cancelled or job.status == "cancelling":
        _final(session, job, "cancelled", "cancelled on request", None, None)
    elif error is not None:
        _final(session, job, "failed", "failed", None, error)
    else:
        _final(session, job, "succeeded", "done", result_json(result), None)
    return job.status


def release(session: Session, c: Claim) -> None:
    """A worker shutting down hands a held job back to the queue (the attempt is not counted)."""
    job = _held(session, c)
    if job is None:
        return
    if job.status == "cancelling":
        _final(session, job, "cancelled", "cancelled on request", None, None)
        return
    job.status = "queued"
    job.attempts = max(0, job.attempts - 1)
    job.worker_id = None
    job.lease_expires = None
    job.message = "requeued: its worker shut down"
    job.updated_at = utc_now()


def reap(session: Session, now: float | None = None) -> list[tuple[str, str]]:
    """Jobs whose lease expired (their worker died): requeued while attempts remain, else failed with the
    reason; a job whose cancellation was requested is cancelled. Returns ``(job id, new status)``."""
    now = time.time() if now is None else now
    stmt = select(Job).where(Job.status.in_(("running", "cancelling")), Job.lease_expires < now)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    changed: list[tuple[str, str]] = []
    for job in session.execute(stmt).scalars():
        lost = f"lease of worker {job.worker_id} expired (attempt {job.attempts} of {job.max_attempts})"
        if job.status == "cancelling":
            _final(session, job, "cancelled", f"cancelled; {lost}", None, None)
        elif job.attempts >= job.max_attempts:
            _final(session, job, "failed", "failed", None, f"{lost}: no attempts left")
        else:
            job.status = "queued"
            job.worker_id = None
            job.lease_expires = None
            job.message = f"requeued: {lost}"
            job.updated_at = utc_now()
        changed.append((job.id, job.status))
    return changed


def request_cancel(session: Session, who: Principal, job_id: str) -> Job | None:
    """Cancel under the job's row lock: a queued job is cancelled at once (one transition), a running one
    is marked ``cancelling`` and its worker stops at its next step; a final job is left as it is."""
    job = _locked(session, job_id)
    if job is None or job.status in FINAL or job.status == "cancelling":
        return job
    if job.status == "queued":
        _final(session, job, "cancelled", "cancelled before it started", None, None)
    else:
        job.status = "cancelling"
        job.updated_at = utc_now()
    audit.append(
        session, who.label, "job.cancel", f"job:{job.id}", {"status": job.status}, rows=[f"job:{job.id}"]
    )
    return job


def visible_jobs(session: Session, who: Principal) -> list[Job]:
    """The caller's jobs (every job for the secretariat)."""
    stmt = select(Job).order_by(Job.created_at.desc())
    if who.role != "secretariat":
        stmt = stmt.where(Job.owner_id == who.member_id)
    return list(session.execute(stmt).scalars())
