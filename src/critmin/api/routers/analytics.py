"""Public reads over the bundled atlas: materials, groups, the exposure table and one exposure detail.

The endpoints call the library (``critmin.analytics.exposure``) and add no modelling; the exposure table of a
(year, group) is a pure function of the bundled atlas and parameters, so its JSON is cached in memory.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from critmin.options import options
from critmin.serialize import dumps

router = APIRouter(tags=["analytics"])

Year = Annotated[int, Query(ge=1900, le=2100, description="year of data (latest on or before it is used)")]
Group = Annotated[
    str, Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.+-]+$", description="country group")
]
Slug = Annotated[str, PathParam(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9-]*$")]
Stage = Annotated[str, PathParam(min_length=1, max_length=16, pattern=r"^[a-z]+$")]
_JSON: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/json": {}}, "description": "JSON document"}
}


def _text(obj: Any) -> str:
    return dumps(obj, indent=2)


def _json(obj: Any) -> Response:
    return Response(content=_text(obj), media_type="application/json")


def _atlas() -> Any:
    from critmin.atlas import load_atlas

    return load_atlas()


_O = options()
_EXPOSURE_CACHE: dict[tuple[int, str], str] = {}
_CACHE_SIZE = 64


def _exposure_json(year: int, group: str) -> str:
    """The exposure table of (year, group) as JSON text (computed once, then served from memory)."""
    from critmin.runs.exposure import ExposureRequest, run

    cached = _EXPOSURE_CACHE.get((year, group))
    if cached is not None:
        return cached

    result = run(ExposureRequest(year=year, group=group), atlas=_atlas())
    text = _text(
        {
            "year": year,
            "group": group,
            "rows": result.rows().to_dict(orient="records"),
            "metadata": result.metadata.model_dump(),
        }
    )
    if len(_EXPOSURE_CACHE) >= _CACHE_SIZE:
        _EXPOSURE_CACHE.clear()
    _EXPOSURE_CACHE[(year, group)] = text
    return text


def _unknown(exc: ValueError) -> HTTPException:
    return HTTPException(status_code=404, detail=str(exc))


@router.get("/materials", responses=_JSON, response_class=Response)
def materials() -> Response:
    """The atlas's materials (slug, name, content basis, stages with data)."""
    return _json(_atlas().materials.to_dict(orient="records"))


@router.get("/groups", responses=_JSON, response_class=Response)
def groups() -> Response:
    """The country groups (name -> ISO3 members)."""
    return _json({name: sorted(members) for name, members in sorted(_atlas().groups.items())})


@router.get("/exposure", responses=_JSON, response_class=Response)
async def exposure(year: Year = _O.default_year, group: Group = _O.alliance_group) -> Response:
    """Exposure table: one row per material and stage (HHI, China and group shares, supply risk, source)."""
    from critmin.analytics.exposure import ExposureError

    cached = _EXPOSURE_CACHE.get((year, group))
    if cached is not None:  # served on the event loop, no thread hop
        return Response(content=cached, media_type="application/json")
    try:
        text = await run_in_threadpool(_exposure_json, year, group)
        return Response(content=text, media_type="application/json")
    except (ExposureError, KeyError) as exc:
        raise _unknown(ValueError(str(exc))) from exc


@router.get("/exposure/{material}/{stage}", responses=_JSON, response_class=Response)
def exposure_one(
    material: Slug, stage: Stage, year: Year = _O.default_year, group: Group = _O.alliance_group
) -> Response:
    """Exposure of one material and stage: shares by country and group, HHI, risk scores, provenance."""
    from critmin.analytics.exposure import ExposureError
    from critmin.runs.exposure import ExposureRequest, run

    try:
        req = ExposureRequest(material=material, stage=stage, year=year, group=group)
        return _json(run(req, atlas=_atlas()).detail)
    except (ExposureError, KeyError) as exc:
        raise _unknown(ValueError(str(exc))) from exc
