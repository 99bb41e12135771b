"""Member submissions (visible to their member and the secretariat) and the published aggregates."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Header, HTTPException, Query, UploadFile
from fastapi.responses import JSONResponse
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from critmin.api.deps import DB_ID_MAX, DbId, get_store, require
from critmin.api.errors import ERRORS, NOT_FOUND, ErrorOut
from critmin.api.schemas import (
    AggregateReleaseIn,
    AggregateReleaseOut,
    CellOut,
    InvalidSubmission,
    Kind,
    SubmissionIn,
    SubmissionOut,
    SubmissionRowOut,
)
from critmin.store import Store, audit
from critmin.store.aggregates import (
    RevisionLimit,
    check_revision,
    latest_release,
    make_release,
    released_cells,
)
from critmin.store.members import Principal
from critmin.store.models import Release, Submission, SubmissionRow
from critmin.store.submissions import SubmissionInvalid, find_by_key, parse_csv, save_submission

router = APIRouter(tags=["submissions"])

_INVALID: dict[int | str, dict[str, Any]] = {
    422: {"model": ErrorOut, "description": "rejected as a whole; every bad value listed in `errors`"}
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


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9._:-]+$",
        description="a repeat with the same key returns the stored submission and stores nothing again",
    ),
]


def _save(
    store: Store, who: Principal, kind: str, rows: list[dict[str, Any]], fmt: str, key: str | None
) -> Any:
    if key is not None:
        with store.read() as s:
            earlier = find_by_key(s, who, key)
            if earlier is not None:
                return _out(earlier)
    try:
        materials = known_materials()
        with store.write() as s:
            return _out(save_submission(s, who, kind, rows, fmt, materials, key))
    except IntegrityError:
        with store.read() as s:
            earlier = find_by_key(s, who, key) if key is not None else None
        if earlier is None:
            raise
        return _out(earlier)  # a concurrent request with the same key stored it first
    except RevisionLimit as exc:
        raise HTTPException(status_code=429, detail=str(exc)) from exc
    except SubmissionInvalid as exc:
        body = InvalidSubmission(
            detail=f"submission rejected: {len(exc.errors)} invalid value(s); nothing was stored",
            errors=exc.errors,
        )
        return JSONResponse(status_code=422, content=body.model_dump(mode="json"))


@router.post("/submissions", response_model=SubmissionOut, status_code=201, responses=_INVALID)
def submit_json(
    body: SubmissionIn,
    idempotency_key: IdempotencyKey = None,
    who: Principal = Depends(require("member")),
    store: Store = Depends(get_store),
) -> Any:
    """Submit rows as JSON (member accounts); all rows are stored or none. Into periods already
    released, at most ``disclosure_revisions_per_release`` submissions per kind between releases (429)."""
    return _save(store, who, body.kind, body.rows, "json", idempotency_key)


@router.post("/submissions/csv", response_model=SubmissionOut, status_code=201, responses=_INVALID)
def submit_csv(
    kind: Kind = Query(...),
    file: UploadFile = File(..., description="CSV with a header row"),
    idempotency_key: IdempotencyKey = None,
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
    return _save(store, who, kind, rows, "csv", idempotency_key)


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
    try:
        with store.write() as s:
            sub = _visible(s, who, submission_id, lock=True)
            years = s.execute(
                select(SubmissionRow.year).where(SubmissionRow.submission_id == sub.id).distinct()
            )
            owner = Principal(sub.member_id, who.name, "member", sub.iso3)
            revises = check_revision(s, owner, sub.kind, list(years.scalars()), sub.id, "withdraw")
            s.execute(delete(SubmissionRow).where(SubmissionRow.submission_id == sub.id))
            s.delete(sub)
            payload = {"kind": sub.kind, "revises_release": revises}
            audit.append(
                s,
                who.label,
                "submission.withdraw",
                f"submission:{submission_id}",
                payload,
                rows=[f"submission:{submission_id}"],
            )
    except RevisionLimit as exc:
        raise HTTPException(status_code=429, detail=str(exc)) from exc


@router.get("/aggregates", response_model=list[CellOut], responses={**ERRORS, **NOT_FOUND})
def published_aggregates(
    kind: Kind | None = None,
    material: str | None = Query(default=None, pattern=r"^[a-z][a-z0-9-]{0,63}$"),
    release: int | None = Query(
        default=None, ge=1, le=DB_ID_MAX, description="a release id (default: latest)"
    ),
    store: Store = Depends(get_store),
) -> list[CellOut]:
    """The cells of the latest release of the aggregates (or of ``release``), made by the secretariat;
    suppressed cells (threshold, p% rule, sticky suppression) have ``tonnes`` null and a reason (public).
    Empty before the first release."""
    with store.read() as s:
        chosen = s.get(Release, release) if release is not None else latest_release(s)
        if chosen is None:
            if release is not None:
                raise HTTPException(status_code=404, detail=f"release {release} not found")
            return []
        return [
            CellOut(**c.__dict__, release_id=chosen.id, released_at=chosen.created_at)
            for c in released_cells(s, chosen.id, kind, material)
        ]


@router.post("/releases", response_model=AggregateReleaseOut, status_code=201, responses=ERRORS)
def create_release(
    body: AggregateReleaseIn,
    who: Principal = Depends(require("secretariat")),
    store: Store = Depends(get_store),
) -> AggregateReleaseOut:
    """Publish a dated release of the aggregates from the members' current submissions (secretariat)."""
    with store.write() as s:
        r = make_release(s, who, body.note)
        return _release_out(s, r)


@router.get("/releases", response_model=list[AggregateReleaseOut], responses=ERRORS)
def list_releases(store: Store = Depends(get_store)) -> list[AggregateReleaseOut]:
    """Every release, oldest first (public)."""
    with store.read() as s:
        return [_release_out(s, r) for r in s.execute(select(Release).order_by(Release.id)).scalars()]


def _release_out(s: Session, r: Release) -> AggregateReleaseOut:
    cells = released_cells(s, r.id)
    return AggregateReleaseOut(
        id=r.id,
        created_at=r.created_at,
        note=r.note,
        cells=len(cells),
        published=sum(not c.suppressed for c in cells),
    )
