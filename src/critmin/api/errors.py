"""Error bodies: every 4xx the API returns is ``{"detail": ...}`` (a message, or FastAPI's list of
validation issues), declared in the OpenAPI schema of each route."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DataError

from critmin.api.guard import clean
from critmin.store.submissions import RowError


class ValidationIssue(BaseModel):
    """One rejected input (FastAPI's shape): where, why, and the error type."""

    loc: list[str | int]
    msg: str
    type: str
    input: Any = None
    ctx: dict[str, Any] | None = None


class ErrorOut(BaseModel):
    """An error: a message, or the list of rejected inputs; ``errors`` lists bad values of an upload."""

    detail: str | list[ValidationIssue]
    errors: list[RowError] | None = None


def _body(status: int, what: str) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": ErrorOut, "description": what}}


ERRORS: dict[int | str, dict[str, Any]] = {
    **_body(401, "no token, or an invalid or revoked one"),
    **_body(403, "the caller's role may not do this"),
    **_body(413, "request body over the size cap"),
    **_body(422, "invalid input: what was rejected and why"),
}
NOT_FOUND = _body(404, "no such resource (or not visible to the caller)")
CONFLICT = _body(409, "conflicts with the stored state")
TOO_MANY = _body(429, "rate limit reached; retry later")
ALL_ERRORS = {**ERRORS, **NOT_FOUND, **CONFLICT, **TOO_MANY}


def install_error_handlers(app: FastAPI) -> None:
    """422 bodies that never crash on echoed input; database-refused values as 422, not 500."""

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": clean(jsonable_encoder(exc.errors()))})

    @app.exception_handler(DataError)
    async def refused(request: Request, exc: DataError) -> JSONResponse:
        reason = str(exc.orig).splitlines()[0] if exc.orig is not None else "value refused"
        return JSONResponse(status_code=422, content={"detail": f"the database refused a value: {reason}"})
