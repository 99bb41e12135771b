"""Reference-price releases: the secretariat publishes an assessment job's result; members read releases.

A release keeps, per assessed key, what a member may see: the published price with its band, volume,
deal and reporter counts and liquidity flag. A key the methodology withheld keeps only its key and the
words "withheld" (its reason can name a dominant reporter, so it is not copied).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from critmin.store import audit
from critmin.store.members import Principal
from critmin.store.models import Job, PriceRelease

PUBLIC_COLUMNS = ("material", "stage", "specification", "incoterm", "status", "price_usd_per_t",
                  "price_usd_per_kg", "band_low_usd_per_t", "band_high_usd_per_t", "volume_t", "count",
                  "reporters", "liquidity", "window_start", "window_end")  # fmt: skip
KEY_COLUMNS = ("material", "stage", "specification", "incoterm")
RELEASABLE_KINDS = ("price_submitted", "price")


class ReleaseError(ValueError):
    """A job that cannot be published (unknown, not an assessment, not finished)."""


def public_rows(prices: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of an assessment a member may see (see the module docstring)."""
    out = []
    for row in prices:
        if row.get("status") == "published":
            out.append({k: row.get(k) for k in PUBLIC_COLUMNS})
        else:
            out.append({**{k: row.get(k) for k in KEY_COLUMNS}, "status": "withheld"})
    return out


def publish(session: Session, who: Principal, job_id: str) -> PriceRelease:
    """A new release from the finished assessment job ``job_id``."""
    job = session.get(Job, job_id)
    if job is None or job.kind not in RELEASABLE_KINDS:
        raise ReleaseError(f"job {job_id!r} is not a reference-price assessment")
    if job.status != "succeeded" or job.result is None:
        raise ReleaseError(f"job {job_id!r} is {job.status}; only a finished assessment is published")
    result = json.loads(job.result)
    params = json.loads(job.params)
    rows = public_rows(list(result.get("prices") or []))
    release = PriceRelease(
        published_by=who.label,
        job_id=job_id,
        as_of=str(params.get("as_of", ""))[:10],
        window_days=int(params.get("window_days", 0)),
        prices=json.dumps(rows, sort_keys=True),
    )
    session.add(release)
    session.flush()
    audit.append(session, who.label, "prices.publish", f"price_release:{release.id}", {"job_id": job_id})
    return release


def releases(session: Session) -> list[PriceRelease]:
    """Every release, newest first."""
    return list(session.execute(select(PriceRelease).order_by(PriceRelease.id.desc())).scalars())
