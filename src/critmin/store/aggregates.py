"""Published aggregates of member submissions with primary and dominance suppression.

A cell (kind, material, stage, year) is published only when at least ``MIN_CONTRIBUTORS`` members
contribute to it and no single contributor holds more than ``MAX_SHARE`` of its total; otherwise the
total is withheld and the reason given. A member's current data for a kind is its latest submission.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from critmin.store.models import Submission, SubmissionRow

MIN_CONTRIBUTORS = 3
MAX_SHARE = 0.5


@dataclass(frozen=True)
class Cell:
    """A published (or suppressed) aggregate cell."""

    kind: str
    material: str
    stage: str | None
    year: int
    contributors: int
    tonnes: float | None
    suppressed: bool
    reason: str


def publish(kind: str, material: str, stage: str | None, year: int, by_contributor: dict[str, float]) -> Cell:
    """Pure rule: the cell's total, or a suppressed cell when too few or one dominant contributor."""
    n = len(by_contributor)
    total = sum(by_contributor.values())
    if n < MIN_CONTRIBUTORS:
        return Cell(kind, material, stage, year, n, None, True, f"fewer than {MIN_CONTRIBUTORS} contributors")
    if total > 0 and max(by_contributor.values()) > MAX_SHARE * total:
        return Cell(
            kind, material, stage, year, n, None, True, f"one contributor above {MAX_SHARE:.0%} of the cell"
        )
    return Cell(kind, material, stage, year, n, total, False, "")


def current_submission_ids(session: Session) -> list[int]:
    """The latest submission of every (member, kind)."""
    latest = select(func.max(Submission.id)).group_by(Submission.member_id, Submission.kind)
    return [int(i) for i in session.execute(latest).scalars()]


def aggregate(session: Session, kind: str | None = None, material: str | None = None) -> list[Cell]:
    """Every cell of the members' current submissions, suppressed where the rules require."""
    ids = current_submission_ids(session)
    if not ids:
        return []
    stmt = (
        select(
            Submission.kind,
            SubmissionRow.material,
            SubmissionRow.stage,
            SubmissionRow.year,
            Submission.iso3,
            func.sum(SubmissionRow.tonnes),
        )
        .join(Submission, Submission.id == SubmissionRow.submission_id)
        .where(Submission.id.in_(ids))
        .group_by(
            Submission.kind, SubmissionRow.material, SubmissionRow.stage, SubmissionRow.year, Submission.iso3
        )
    )
    if kind is not None:
        stmt = stmt.where(Submission.kind == kind)
    if material is not None:
        stmt = stmt.where(SubmissionRow.material == material)
    cells: dict[tuple[str, str, str | None, int], dict[str, float]] = defaultdict(dict)
    for k, mat, stage, year, iso3, tonnes in session.execute(stmt):
        cells[(k, mat, stage, int(year))][iso3] = float(tonnes)
    return [
        publish(k, m, s, y, contrib)
        for (k, m, s, y), contrib in sorted(
            cells.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or "", kv[0][3])
        )
    ]
