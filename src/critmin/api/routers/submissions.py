"""Member submissions (visible to their member and the secretariat) and the published aggregates."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, File, HTTPException, Query, UploadFile
from fastapi.responses import JSONResponse
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from critmin.api.deps import DbId, get_store, require
from critmin.api.schemas import (
    CellOut,
    InvalidSubmission,
    Kind,
    SubmissionIn,
    SubmissionOut,
    SubmissionRowOut,
)
from critmin.store import Store, audit
from critmin.store.aggregates import aggregate
from critmin.store.members import Principal
from critmin.store.models import Submission, SubmissionRow
from critmin.store.submissions import SubmissionInvalid, parse_csv, save_submission

router = APIRouter(tags=["submissions"])

_INVALID: dict[int | str, dict[str, Any]] = {
    422: {"model": InvalidSubmission, "description": "rejected as a whole; every bad value listed"}
}


def _out(sub: Submission) -> SubmissionOut:
    return SubmissionOut(
        id=sub.id,
        member_id=sub.member_id,
        iso3=sub.iso3,
        kind=sub.kind,
        source_format=sub.source_format,
        row_count=sub.row_count,
        created_at=sub.created_at,
    )


def known_materials() -> frozenset[str]:
    """Material slugs of the bundled atlas (submissions must use one)."""
    from critmin.atlas import load_atlas

    return frozenset(str(m) for m in load_atlas().materials["slug"])


def _save(store: Store, who: Principal, kind: str, rows: list[dict[str, Any]], fmt: str) -> Any:
    try:
        materials = known_materials()
        with store.write() as s:
            return _out(save_submission(s, who, kind, rows, fmt, materials))
    except SubmissionInvalid as exc:
        body = InvalidSubmission(
            detail=f"submission rejected: {len(exc.errors)} invalid value(s); nothing was stored",
            errors=exc.errors,
        )
        return JSONResponse(status_code=422, content=body.model_dump(mode="json"))


@router.post("/submissions", response_model=SubmissionOut, status_code=201, responses=_INVALID)
def submit_json(
    body: SubmissionIn, who: Principal = Depends(require("member")), store: Store = Depends(get_store)
) -> Any:
    """Submit rows as JSON (member accounts); all rows are stored or none."""
    return _save(store, who, body.kind, body.rows, "json")


@router.post("/submissions/csv", response_model=SubmissionOut, status_code=201, responses=_INVALID)
def submit_csv(
    kind: Kind = Query(...),
    file: UploadFile = File(..., description="CSV with a header row"),
    who: Principal = Depends(require("member")),
    store: Store = Depends(get_store),
) -> Any:
    """Submit a CSV file (member accounts); all rows are stored or none."""
    raw = file.file.read()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise HTTPException(status_code=422, detail=f"file {file.filename!r} is not UTF-8: {exc}") from exc
    try:
        rows = parse_csv(text)
    except SubmissionInvalid as exc:
        body = InvalidSubmission(detail="submission rejected", errors=exc.errors)
        return JSONResponse(status_code=422, content=body.model_dump(mode="json"))
    return _save(store, who, kind, rows, "csv")


def _visible(s: Session, who: Principal, submission_id: int, lock: bool = False) -> Submission:
    stmt = select(Submission).where(Submission.id == submission_id)
    if lock and s.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()  # concurrent withdrawals wait here, then find the row gone
    sub = s.execute(stmt).scalar_one_or_none()
    if sub is None or (who.role != "secretariat" and sub.member_id != who.member_id):
        raise HTTPException(status_code=404, detail=f"submission {submission_id} not found")
    return sub


@router.get("/submissions", response_model=list[SubmissionOut])
def list_submissions(
    iso3: str | None = Query(default=None, pattern=r"^[A-Z]{3}$"),
    who: Principal = Depends(require("member", "secretariat")),
    store: Store = Depends(get_store),
) -> list[SubmissionOut]:
    """The caller's submissions (the secretariat sees all, optionally of one country)."""
    if iso3 is not None and who.role != "secretariat" and iso3 != who.iso3:
        raise HTTPException(status_code=403, detail=f"a member sees only its own submissions, not {iso3}'s")
    stmt = select(Submission).order_by(Submission.id)
    if who.role != "secretariat":
        stmt = stmt.where(Submission.member_id == who.member_id)
    if iso3 is not None:
        stmt = stmt.where(Submission.iso3 == iso3)
    with store.read() as s:
        return [_out(x) for x in s.execute(stmt).scalars()]


@router.get("/submissions/{submission_id}", response_model=SubmissionOut)
def get_submission(
    submission_id: DbId,
    who: Principal = Depends(require("member", "secretariat")),
    store: Store = Depends(get_store),
) -> SubmissionOut:
    """One submission (its member and the secretariat only)."""
    with store.read() as s:
        return _out(_visible(s, who, submission_id))


@router.get("/submissions/{submission_id}/rows", response_model=list[SubmissionRowOut])
def get_submission_rows(
    submission_id: DbId,
    who: Principal = Depends(require("member", "secretariat")),
    store: Store = Depends(get_store),
) -> list[SubmissionRowOut]:
    """The rows of a submission (its member and the secretariat only)."""
    with store.read() as s:
        _visible(s, who, submission_id)
        rows = s.execute(
            select(SubmissionRow)
            .where(SubmissionRow.submission_id == submission_id)
            .order_by(SubmissionRow.row_number)
        ).scalars()
        return [
            SubmissionRowOut(
                row_number=r.row_number,
                material=r.material,
                stage=r.stage,
                year=r.year,
                date=r.date,
                tonnes=r.tonnes,
                price=r.price,
                currency=r.currency,
                counterparty=r.counterparty,
                specification=r.specification,
                incoterm=r.incoterm,
                buyer=r.buyer,
            )
            for r in rows
        ]


@router.delete("/submissions/{submission_id}", status_code=204)
def withdraw_submission(
    submission_id: DbId,
    who: Principal = Depends(require("member", "secretariat")),
    store: Store = Depends(get_store),
) -> None:
    """Withdraw a submission (its member or the secretariat)."""
    with store.write() as s:
        sub = _visible(s, who, submission_id, lock=True)
        s.execute(delete(SubmissionRow).where(SubmissionRow.submission_id == sub.id))
        s.delete(sub)
        audit.append(s, who.label, "submission.withdraw", f"submission:{submission_id}", {"kind": sub.kind})


@router.get("/aggregates", response_model=list[CellOut])
def published_aggregates(
    kind: Kind | None = None,
    material: str | None = Query(default=None, pattern=r"^[a-z][a-z0-9-]{0,63}$"),
    store: Store = Depends(get_store),
) -> list[CellOut]:
    """Alliance totals of the members' current submissions; cells with fewer than 3 contributors or one
    contributor above 50 % are suppressed (public)."""
    with store.read() as s:
        return [CellOut(**c.__dict__) for c in aggregate(s, kind, material)]
