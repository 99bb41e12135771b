"""Published reference prices: the secretariat publishes an assessment job; signed-in accounts read."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field

from critmin.api.deps import SIGNED_IN, get_store, require
from critmin.store import Store
from critmin.store.members import Principal
from critmin.store.models import PriceRelease
from critmin.store.price_releases import ReleaseError, publish, releases

router = APIRouter(tags=["prices"])


class ReleaseIn(BaseModel):
    """The assessment job to publish."""

    job_id: str = Field(min_length=1, max_length=32)


class ReleaseOut(BaseModel):
    """One release: when, by whom, the assessment date and window, the prices a member may see."""

    id: int
    created_at: str
    published_by: str
    job_id: str
    as_of: str
    window_days: int
    prices: list[dict[str, Any]]


def _out(r: PriceRelease) -> ReleaseOut:
    return ReleaseOut(id=r.id, created_at=r.created_at, published_by=r.published_by, job_id=r.job_id,
                      as_of=r.as_of, window_days=r.window_days, prices=json.loads(r.prices))  # fmt: skip


@router.post("/price-releases", response_model=ReleaseOut, status_code=201)
def publish_release(
    body: ReleaseIn, who: Principal = Depends(require("secretariat")), store: Store = Depends(get_store)
) -> ReleaseOut:
    """Publish the reference prices of a finished assessment job (409 if it is not one)."""
    try:
        with store.write() as s:
            return _out(publish(s, who, body.job_id))
    except ReleaseError as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from exc


@router.get("/price-releases", response_model=list[ReleaseOut])
def list_releases(
    who: Principal = Depends(require(*SIGNED_IN)), store: Store = Depends(get_store)
) -> list[ReleaseOut]:
    """Every release, newest first."""
    with store.read() as s:
        return [_out(r) for r in releases(s)]
