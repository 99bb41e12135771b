"""Public reads over the bundled atlas: materials, groups, the exposure table and one exposure detail.

The endpoints call the library (``critmin.analytics.exposure``) and add no modelling. Exposure is a pure
function of the bundled data edition, the year and the group, so its JSON (compact, no indentation) is
computed once per (edition, year, group[, material, stage]) and served from memory afterwards;
:func:`precompute_exposure` fills the details of every material and stage of a (year, group) at once
(``critmin serve`` runs it for the default year and group at start-up, in a background thread).
A key that is not held (a cache miss, 0.1-3 s of CPU) is not computed inside the request: the GET answers
``202`` with an ``exposure`` job to poll (:mod:`critmin.api.exposure_jobs`), and ``200`` from the job's
stored result once it is done; the misses of a process are looked up and queued in batches, off the
request path (:mod:`critmin.api.exposure_queue`).
"""

from __future__ import annotations

import asyncio
import functools
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse, Response

from critmin.api.deps import JobId
from critmin.api.exposure_cache import (  # noqa: F401  (CACHE, exposure_pairs and the precompute: re-exported)
    CACHE,
    _atlas,
    _edition,
    exposure_pairs,
    precompute_exposure,
    start_precompute,
)
from critmin.api.exposure_jobs import ExposureJobIn
from critmin.api.exposure_queue import ExposureQueue
from critmin.options import options
from critmin.serialize import dumps

router = APIRouter(tags=["analytics"])

DEFAULT_YEAR = options().default_year
DEFAULT_GROUP = options().alliance_group
Year = Annotated[int, Query(ge=1900, le=2100, description="year of data (latest on or before it is used)")]
Group = Annotated[
    str, Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.+-]+$", description="country group")
]
Slug = Annotated[str, PathParam(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9-]*$")]
Stage = Annotated[str, PathParam(min_length=1, max_length=16, pattern=r"^[a-z]+$")]
_JSON: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/json": {}}, "description": "JSON document"}
}
_QUEUED: dict[int | str, dict[str, Any]] = {
    **_JSON,
    202: {
        "content": {"application/json": {}},
        "description": "not held in memory: an exposure job was queued (or found); poll its `poll` URL",
    },
}


def _json(obj: Any) -> Response:
    return Response(content=dumps(obj), media_type="application/json")


def _text(text: str) -> Response:
    return Response(content=text, media_type="application/json")


@router.get("/materials", responses=_JSON, response_class=Response)
def materials() -> Response:
    """The atlas's materials (slug, name, content basis, stages with data)."""
    return _json(_atlas().materials.to_dict(orient="records"))


@router.get("/groups", responses=_JSON, response_class=Response)
def groups() -> Response:
    """The country groups (name -> ISO3 members)."""
    return _json({name: sorted(members) for name, members in sorted(_atlas().groups.items())})


def _check(group: str, material: str | None = None, stage: str | None = None) -> None:
    """404 before any job for a group, material or stage the atlas does not have."""
    atlas = _atlas()
    if group not in atlas.groups:
        raise HTTPException(404, f"group {group!r} is not defined; expected one of {sorted(atlas.groups)}")
    if material is None or stage is None:
        return
    pairs = _pairs(_edition(atlas))
    if not any(m == material for m, _ in pairs):
        raise HTTPException(404, f"material {material!r} has no production data in the atlas")
    if (material, stage) not in pairs:
        have = sorted(s for m, s in pairs if m == material)
        raise HTTPException(
            404, f"stage {stage!r} of {material!r} has no production data (missing); stages with data: {have}"
        )


def warm(queue: ExposureQueue | None = None) -> None:
    """Load the atlas and its material-stage pairs, and look the default exposure table up in ``queue``
    (``critmin serve`` does it before serving: the first requests do not pay for it)."""
    from critmin.api.exposure_jobs import ExposureJobParams, edition_digest

    _pairs(_edition(_atlas()))
    if queue is not None:
        queue.warm(ExposureJobParams(edition=edition_digest(_edition(_atlas()))))


@functools.lru_cache(maxsize=4)
def _pairs(edition: tuple[tuple[str, str], ...]) -> frozenset[tuple[str, str]]:
    return frozenset(exposure_pairs())


async def _queued(request: Request, year: int, group: str, pair: tuple[str, str] | None) -> Response:
    """A cache miss: the stored result of this key's job when it is done, else 202 with the job to poll
    (awaited from this process's :class:`~critmin.api.exposure_queue.ExposureQueue`, which answers the
    misses in batches)."""
    from critmin.api.exposure_jobs import ExposureJobParams, edition_digest, poll_path

    material, stage = pair if pair is not None else (None, None)
    params = ExposureJobParams(
        year=year, group=group, material=material, stage=stage, edition=edition_digest(_edition(_atlas()))
    )
    found = await asyncio.wrap_future(request.app.state.exposure_queue.submit(params))
    if found.stored is not None:
        CACHE.put(year, group, found.stored, pair)
        return _text(found.stored)
    poll = poll_path(found.job)
    body = {"status": found.status, "job": found.job, "poll": poll}
    return JSONResponse(body, status_code=202, headers={"Location": poll, "Retry-After": "1"})


@router.get("/exposure", responses=_QUEUED, response_class=Response)
async def exposure(request: Request, year: Year = DEFAULT_YEAR, group: Group = DEFAULT_GROUP) -> Response:
    """Exposure table: one row per material and stage (HHI, China and group shares, supply risk, source);
    202 with a job to poll when it is not held in memory."""
    cached = CACHE.table(year, group)
    if cached is not None:  # served on the event loop, no thread hop
        return _text(cached)
    _check(group)
    return await _queued(request, year, group, None)


@router.post("/exposure/jobs", status_code=202, response_model=dict[str, Any])
def queue_exposure(body: ExposureJobIn, request: Request) -> dict[str, Any]:
    """Queue the exposure table (no material and stage) or one detail as a job (public); poll the job's
    ``poll`` URL. A job already queued, running or done for the same key is returned instead."""
    from critmin.api.exposure_jobs import ExposureJobParams, edition_digest, find_or_queue

    _check(body.group, body.material, body.stage)
    params = ExposureJobParams(**body.model_dump(), edition=edition_digest(_edition(_atlas())))
    job, created = find_or_queue(request.app.state.store, params)
    if created:
        request.app.state.notify_exposure()
    return job


@router.get("/exposure/jobs/{job_id}", response_model=dict[str, Any])
def poll_exposure(job_id: JobId, request: Request) -> dict[str, Any]:
    """An exposure job's status, progress and (once it succeeded) the document (public)."""
    from critmin.api.exposure_jobs import exposure_job

    job = exposure_job(request.app.state.store, job_id)
    if job is None:
        raise HTTPException(404, f"exposure job {job_id} not found")
    return job


@router.get("/exposure/{material}/{stage}", responses=_QUEUED, response_class=Response)
async def exposure_one(
    request: Request, material: Slug, stage: Stage, year: Year = DEFAULT_YEAR, group: Group = DEFAULT_GROUP
) -> Response:
    """Exposure of one material and stage: shares by country and group, HHI, risk scores, provenance;
    202 with a job to poll when it is not held in memory."""
    cached = CACHE.detail(year, group, material, stage)
    if cached is not None:
        return _text(cached)
    _check(group, material, stage)
    return await _queued(request, year, group, (material, stage))
