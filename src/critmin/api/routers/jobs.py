"""Background jobs: submit, follow progress, cancel, read the stored result (owner and secretariat)."""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import ValidationError
from sqlalchemy.orm import Session

from critmin.api.deps import SIGNED_IN, JobId, get_store, require
from critmin.api.jobs import JobRunner
from critmin.api.schemas import JobIn, JobOut
from critmin.store import Store
from critmin.store.jobs import create_job, create_job_once, request_cancel, visible_jobs
from critmin.store.members import Principal
from critmin.store.models import Job

router = APIRouter(tags=["jobs"])


def _runner(request: Request) -> JobRunner:
    runner: JobRunner = request.app.state.jobs
    return runner


def _out(j: Job) -> JobOut:
    return JobOut(
        id=j.id,
        kind=j.kind,
        owner_id=j.owner_id,
        status=j.status,
        progress=j.progress,
        message=j.message,
        params=json.loads(j.params),
        result=json.loads(j.result) if j.result is not None else None,
        error=j.error,
        created_at=j.created_at,
        updated_at=j.updated_at,
    )


def _visible(s: Session, who: Principal, job_id: str) -> Job:
    job = s.get(Job, job_id)
    if job is None or (who.role != "secretariat" and job.owner_id != who.member_id):
        raise HTTPException(status_code=404, detail=f"job {job_id} not found")
    return job


@router.get("/jobs/kinds", response_model=dict[str, str])
def job_kinds(request: Request) -> dict[str, str]:
    """The job kinds this server runs, with their descriptions."""
    return {name: kind.description for name, kind in sorted(_runner(request).kinds.items())}


@router.post("/jobs", response_model=JobOut, status_code=202)
def submit_job(
    body: JobIn,
    request: Request,
    who: Principal = Depends(require(*SIGNED_IN)),
    store: Store = Depends(get_store),
) -> JobOut:
    """Queue a job; poll ``GET /jobs/{id}`` for progress and result. A kind that runs once per request
    (``reserve_finance``, ``exposure``) returns the caller's live job of the same parameters instead."""
    runner = _runner(request)
    kind = runner.kinds.get(body.kind)
    if kind is None:
        raise HTTPException(
            status_code=422, detail=f"job kind {body.kind!r}: expected one of {sorted(runner.kinds)}"
        )
    if who.role not in kind.roles:
        raise HTTPException(
            status_code=403, detail=f"job kind {body.kind!r} needs one of the roles {list(kind.roles)}"
        )
    try:
        params = kind.params.model_validate(body.params)
    except ValidationError as exc:
        raise HTTPException(status_code=422, detail=json.loads(exc.json(include_url=False))) from exc
    plain = params.model_dump(mode="json")
    with store.write() as s:
        job, created = (
            create_job_once(s, who, body.kind, plain)
            if kind.once
            else (create_job(s, who, body.kind, plain), True)
        )
        out = _out(job)
    if created:
        runner.notify()
    return out


@router.get("/jobs", response_model=list[JobOut])
def list_jobs(
    who: Principal = Depends(require(*SIGNED_IN)), store: Store = Depends(get_store)
) -> list[JobOut]:
    """The caller's jobs (all jobs for the secretariat)."""
    with store.read() as s:
        return [_out(j) for j in visible_jobs(s, who)]


@router.get("/jobs/{job_id}", response_model=JobOut)
def get_job(
    job_id: JobId,
    who: Principal = Depends(require(*SIGNED_IN)),
    store: Store = Depends(get_store),
) -> JobOut:
    """A job's status, progress and result."""
    with store.read() as s:
        return _out(_visible(s, who, job_id))


@router.post("/jobs/{job_id}/cancel", response_model=JobOut)
def cancel_job(
    job_id: JobId,
    who: Principal = Depends(require(*SIGNED_IN)),
    store: Store = Depends(get_store),
) -> JobOut:
    """Request cancellation (a running job stops at its next progress step)."""
    with store.write() as s:
        _visible(s, who, job_id)
        job = request_cancel(s, who, job_id)
        assert job is not None
        return _out(job)
