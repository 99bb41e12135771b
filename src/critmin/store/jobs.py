"""Background jobs as rows: queued -> running -> succeeded | failed | cancelled, with progress."""

from __future__ import annotations

import json
import math
import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from critmin.store import audit
from critmin.store.members import Principal
from critmin.store.models import Job, utc_now

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


def create_job(session: Session, who: Principal, kind: str, params: dict[str, Any]) -> Job:
    """A queued job owned by ``who``."""
    if who.member_id is None:
        raise PermissionError("jobs need an authenticated account")
    job = Job(
        id=secrets.token_hex(8),
        kind=kind,
        owner_id=who.member_id,
        status="queued",
        progress=0.0,
        message="",
        params=json.dumps(params, sort_keys=True),
    )
    session.add(job)
    session.flush()
    audit.append(session, who.label, "job.create", f"job:{job.id}", {"kind": kind, "params": params})
    return job


def set_status(
    session: Session,
    job_id: str,
    status: str,
    *,
    progress: float | None = None,
    message: str | None = None,
    result: Any = None,
    error: str | None = None,
) -> None:
    """Update a job row (never leaves a final state)."""
    job = session.get(Job, job_id)
    if job is None or job.status in FINAL:
        return
    job.status = status
    if progress is not None:
        job.progress = progress
    if message is not None:
        job.message = message
    if result is not None:
        job.result = result_json(result)
    if error is not None:
        job.error = error
    job.updated_at = utc_now()
    if status in FINAL:
        audit.append(session, "system:jobs", f"job.{status}", f"job:{job_id}", {"error": error})


def set_progress(session: Session, job_id: str, progress: float, message: str) -> str:
    """Record progress (0..1) and return the job's status, so a runner sees a cancellation request."""
    job = session.get(Job, job_id)
    if job is None:
        return "cancelled"
    if job.status not in FINAL:
        job.progress = progress
        job.message = message
        job.updated_at = utc_now()
    return job.status


def request_cancel(session: Session, who: Principal, job: Job) -> None:
    """Mark a job for cancellation (a queued job is cancelled at once, a running one at its next step)."""
    if job.status in FINAL:
        return
    if job.status == "queued":
        job.status = "cancelled"
    else:
        job.status = "cancelling"
    job.updated_at = utc_now()
    audit.append(session, who.label, "job.cancel", f"job:{job.id}", {"status": job.status})


def visible_jobs(session: Session, who: Principal) -> list[Job]:
    """The caller's jobs (every job for the secretariat)."""
    stmt = select(Job).order_by(Job.created_at.desc())
    if who.role != "secretariat":
        stmt = stmt.where(Job.owner_id == who.member_id)
    return list(session.execute(stmt).scalars())
