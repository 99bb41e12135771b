"""Published aggregates as dated releases, with suppression that holds against differencing.

The secretariat makes a release (:func:`make_release`): every cell (kind, material, stage, year) of the
members' current submissions is computed once, stored, and served until the next release; submissions
never change what is published in between. A cell is published only if

1. it has at least ``disclosure_min_contributors`` contributors (threshold rule), and
2. the **p% rule** holds with any one contributor's own value removed: for every contributor *i* and
   every other contributor *j* (who knows its own value and the total), the rest of the cell,
   ``T - x_i - x_j``, is at least ``p * x_i``. The binding pair is the largest and second largest value.
3. it was not suppressed in an earlier release of the same period, unless a member who never contributed
   to it before has joined (suppression is sticky under revisions, so the published/suppressed edge cannot
   be searched by resubmitting).

Revisions into released periods are rate-limited (``disclosure_revisions_per_release`` per member and
kind between releases; :func:`check_revision`). See docs/methods/confidentiality.md.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from critmin.store import audit
from critmin.store.bounds import limit
from critmin.store.members import Principal
from critmin.store.models import Release, ReleaseCell, Submission, SubmissionRevision, SubmissionRow

CellKey = tuple[str, str, str | None, int]


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


class RevisionLimit(Exception):
    """A member reached the revision limit for released periods of one kind (HTTP 429)."""


def protect(by_contributor: dict[str, float], p: float, min_contributors: int) -> str:
    """Pure rule: why the cell must be suppressed (``""`` when it may be published)."""
    n = len(by_contributor)
    if n < min_contributors:
        return f"fewer than {min_contributors} contributors"
    x = sorted(by_contributor.values(), reverse=True)
    rest = sum(x[2:])  # T - x1 - x2, summed without the two largest so no cancellation error creeps in
    if rest < p * x[0]:
        return f"p% rule: another contributor could estimate the largest figure to within {p:.0%}"
    return ""


def current_submission_ids(session: Session) -> list[int]:
    """The latest submission of every (member, kind)."""
    latest = select(func.max(Submission.id)).group_by(Submission.member_id, Submission.kind)
    return [int(i) for i in session.execute(latest).scalars()]


def current_cells(session: Session) -> dict[CellKey, dict[str, float]]:
    """Every cell of the members' current submissions: contributor ISO3 -> tonnes."""
    ids = current_submission_ids(session)
    cells: dict[CellKey, dict[str, float]] = defaultdict(dict)
    if not ids:
        return cells
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
    for k, mat, stage, year, iso3, tonnes in session.execute(stmt):
        cells[(k, mat, stage, int(year))][iso3] = float(tonnes)
    return cells


def _history(session: Session) -> dict[CellKey, tuple[bool, set[str]]]:
    """Per cell: suppressed in any earlier release, and every member that contributed to it before."""
    out: dict[CellKey, tuple[bool, set[str]]] = {}
    for c in session.execute(select(ReleaseCell)).scalars():
        key = (c.kind, c.material, c.stage, c.year)
        was, who = out.get(key, (False, set()))
        out[key] = (was or c.suppressed, who | set(json.loads(c.contributors_iso3)))
    return out


def decide(
    cells: dict[CellKey, dict[str, float]], history: dict[CellKey, tuple[bool, set[str]]]
) -> list[tuple[Cell, list[str]]]:
    """Pure: the release's cells (with their contributors) from current figures and earlier releases."""
    p = limit("disclosure_p")
    n_min = int(limit("disclosure_min_contributors"))
    out: list[tuple[Cell, list[str]]] = []
    for key in sorted(cells, key=lambda k: (k[0], k[1], k[2] or "", k[3])):
        contrib = cells[key]
        reason = protect(contrib, p, n_min)
        was_suppressed, before = history.get(key, (False, set()))
        if not reason and was_suppressed and set(contrib) <= before:
            reason = (
                "suppressed in an earlier release of this period; opens only when a new member contributes"
            )
        total = None if reason else sum(contrib.values())
        out.append((Cell(*key, len(contrib), total, bool(reason), reason), sorted(contrib)))
    return out


def make_release(session: Session, who: Principal, note: str = "") -> Release:
    """A new dated release of every cell (secretariat), recorded in the audit log."""
    decided = decide(current_cells(session), _history(session))
    release = Release(actor=who.label, note=note)
    session.add(release)
    session.flush()
    for cell, contributors in decided:
        session.add(
            ReleaseCell(
                release_id=release.id,
                kind=cell.kind,
                material=cell.material,
                stage=cell.stage,
                year=cell.year,
                contributors=cell.contributors,
                tonnes=cell.tonnes,
                suppressed=cell.suppressed,
                reason=cell.reason,
                contributors_iso3=json.dumps(contributors),
            )
        )
    session.flush()
    published = sum(not c.suppressed for c, _ in decided)
    audit.append(
        session,
        who.label,
        "release.create",
        f"release:{release.id}",
        {"cells": len(decided), "published": published},
        rows=[f"release:{release.id}"],
    )
    return release


def latest_release(session: Session) -> Release | None:
    """The newest release."""
    return session.execute(select(Release).order_by(Release.id.desc()).limit(1)).scalar_one_or_none()


def released_cells(
    session: Session, release_id: int, kind: str | None = None, material: str | None = None
) -> list[Cell]:
    """The cells of one release (contributor lists are never returned)."""
    stmt = select(ReleaseCell).where(ReleaseCell.release_id == release_id).order_by(ReleaseCell.id)
    if kind is not None:
        stmt = stmt.where(ReleaseCell.kind == kind)
    if material is not None:
        stmt = stmt.where(ReleaseCell.material == material)
    return [
        Cell(c.kind, c.material, c.stage, c.year, c.contributors, c.tonnes, c.suppressed, c.reason)
        for c in session.execute(stmt).scalars()
    ]


def check_revision(
    session: Session, who: Principal, kind: str, years: Collection[int], submission_id: int, action: str
) -> int | None:
    """Record a submission or withdrawal into released periods of ``kind`` (rate-limited); the release it
    revises, or ``None`` when no period it touches has been released. Raises :class:`RevisionLimit`."""
    release = latest_release(session)
    if release is None or who.member_id is None:
        return None
    released = (
        select(ReleaseCell.id)
        .where(ReleaseCell.kind == kind, ReleaseCell.year.in_(sorted(set(years))))
        .limit(1)
    )
    if session.execute(released).first() is None:
        return None
    allowed = int(limit("disclosure_revisions_per_release"))
    made = session.execute(
        select(func.count())
        .select_from(SubmissionRevision)
        .where(
            SubmissionRevision.member_id == who.member_id,
            SubmissionRevision.kind == kind,
            SubmissionRevision.release_id == release.id,
        )
    ).scalar_one()
    if made >= allowed:
        raise RevisionLimit(
            f"{kind}: {made} revision(s) of released periods since release {release.id}; at most {allowed} "
            "per release (disclosure_revisions_per_release); retry after the next release"
        )
    session.add(
        SubmissionRevision(
            member_id=who.member_id,
            kind=kind,
            release_id=release.id,
            submission_id=submission_id,
            action=action,
        )
    )
    return release.id
