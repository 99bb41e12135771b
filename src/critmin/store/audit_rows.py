"""Digests of the data rows audit entries cover: each entry records, for every row its write touched, the
SHA-256 of the row's content after the write (``None`` once deleted). Folding the chain gives the digest
every covered row must have now; :func:`actual_digests` computes what the tables hold.

Keys: ``member:ID``, ``token:ID``, ``submission:ID`` (with all its rows), ``reserve:ID`` (name, state,
version), ``ledger:RESERVE:SEQUENCE``, ``job:ID`` (what was asked, and the outcome once final; progress and
leases change without audit), ``release:ID`` (with its cells)."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from critmin.store.models import (
    ApiToken,
    Job,
    Member,
    Release,
    ReleaseCell,
    Reserve,
    ReserveLedgerEntry,
    Submission,
    SubmissionRow,
)

FINAL = ("succeeded", "failed", "cancelled")
_ROW_FIELDS = (
    "row_number",
    "material",
    "stage",
    "year",
    "date",
    "tonnes",
    "price",
    "currency",
    "counterparty",
    "specification",
    "incoterm",
    "buyer",
)
_CELL_FIELDS = ("kind", "material", "stage", "year", "contributors", "tonnes", "suppressed", "reason")


def _digest(values: Any) -> str:
    text = json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=repr)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def _member(m: Member) -> str:
    return _digest([m.id, m.name, m.role, m.iso3, m.created_at])


def _token(t: ApiToken) -> str:
    return _digest([t.id, t.member_id, t.secret_sha256, t.label, t.created_at, t.revoked_at])


def _submission(s: Submission, rows: Iterable[SubmissionRow]) -> str:
    head = [s.id, s.member_id, s.iso3, s.kind, s.source_format, s.row_count, s.created_at, s.idempotency_key]
    return _digest([head, [[getattr(r, f) for f in _ROW_FIELDS] for r in rows]])


def _reserve(r: Reserve) -> str:
    return _digest([r.id, r.name, r.state, r.version, r.created_at])


def _ledger(e: ReserveLedgerEntry) -> str:
    return _digest([e.reserve_id, e.sequence, e.key, e.op, e.entry, e.actor_id, e.created_at])


def _job(j: Job) -> str:
    outcome = [j.status, j.result, j.error] if j.status in FINAL else ["open"]
    return _digest([j.id, j.kind, j.owner_id, j.params, j.created_at, *outcome])


def _release(r: Release, cells: Iterable[ReleaseCell]) -> str:
    head = [r.id, r.created_at, r.actor, r.note]
    return _digest([head, [[getattr(c, f) for f in _CELL_FIELDS] + [c.contributors_iso3] for c in cells]])


def row_digest(session: Session, key: str) -> str | None:
    """The digest of the row named ``key`` as the session sees it now (``None`` when it does not exist)."""
    table, _, ident = key.partition(":")
    if table == "ledger":
        rid, _, seq = ident.partition(":")
        e = session.execute(
            select(ReserveLedgerEntry).where(
                ReserveLedgerEntry.reserve_id == int(rid), ReserveLedgerEntry.sequence == int(seq)
            )
        ).scalar_one_or_none()
        return None if e is None else _ledger(e)
    if table == "submission":
        s = session.get(Submission, int(ident))
        if s is None:
            return None
        rows = session.execute(
            select(SubmissionRow)
            .where(SubmissionRow.submission_id == s.id)
            .order_by(SubmissionRow.row_number)
        ).scalars()
        return _submission(s, rows)
    if table == "release":
        r = session.get(Release, int(ident))
        if r is None:
            return None
        cells = session.execute(
            select(ReleaseCell).where(ReleaseCell.release_id == r.id).order_by(ReleaseCell.id)
        ).scalars()
        return _release(r, cells)
    simple: dict[str, tuple[Any, Any]] = {
        "member": (Member, _member),
        "token": (ApiToken, _token),
        "reserve": (Reserve, _reserve),
        "job": (Job, _job),
    }
    model, fn = simple[table]
    obj = session.get(model, int(ident) if table in ("member", "reserve") else ident)
    return None if obj is None else str(fn(obj))


def actual_digests(session: Session, since: str) -> dict[str, str]:
    """Digest of every covered row created at or after ``since`` (rows older than the first entry that
    carries digests predate the coverage and are left out)."""
    out: dict[str, str] = {}
    for m in session.execute(select(Member).where(Member.created_at >= since)).scalars():
        out[f"member:{m.id}"] = _member(m)
    for t in session.execute(select(ApiToken).where(ApiToken.created_at >= since)).scalars():
        out[f"token:{t.id}"] = _token(t)
    rows: dict[int, list[SubmissionRow]] = defaultdict(list)
    for r in session.execute(
        select(SubmissionRow).order_by(SubmissionRow.submission_id, SubmissionRow.row_number)
    ).scalars():
        rows[r.submission_id].append(r)
    for s in session.execute(select(Submission).where(Submission.created_at >= since)).scalars():
        out[f"submission:{s.id}"] = _submission(s, rows.get(s.id, []))
    for res in session.execute(select(Reserve).where(Reserve.created_at >= since)).scalars():
        out[f"reserve:{res.id}"] = _reserve(res)
    for e in session.execute(
        select(ReserveLedgerEntry).where(ReserveLedgerEntry.created_at >= since)
    ).scalars():
        out[f"ledger:{e.reserve_id}:{e.sequence}"] = _ledger(e)
    for j in session.execute(select(Job).where(Job.created_at >= since)).scalars():
        out[f"job:{j.id}"] = _job(j)
    cells: dict[int, list[ReleaseCell]] = defaultdict(list)
    for c in session.execute(select(ReleaseCell).order_by(ReleaseCell.id)).scalars():
        cells[c.release_id].append(c)
    for rel in session.execute(select(Release).where(Release.created_at >= since)).scalars():
        out[f"release:{rel.id}"] = _release(rel, cells.get(rel.id, []))
    return out
