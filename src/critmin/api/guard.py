"""Edge guards of every request, as one ASGI middleware: a body size cap (413, counted while streaming),
text that PostgreSQL or UTF-8 cannot store (NUL characters, lone surrogates) refused with 422 wherever it
appears (path, query, JSON body), and the security headers of every response (CSP with
``frame-ancestors 'none'``, ``X-Frame-Options``, ``nosniff``, referrers only to this host)."""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import unquote_to_bytes

from fastapi import HTTPException

from critmin.store.bounds import bad_text

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_BODY_ENV = "CRITMIN_MAX_BODY_BYTES"
MAX_BODY_BYTES = 32 * 1024 * 1024  # a 200,000-row JSON submission is about 17 MB

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
# Swagger UI at /docs (assets served from this host) starts with an inline script
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src blob:; frame-ancestors 'none'"
)
DOCS_PATHS = ("/docs", "/redoc")


class BodyTooLarge(HTTPException):
    """The request body exceeds the cap (FastAPI re-raises HTTPExceptions met while reading a body)."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=f"request body larger than {limit:,} bytes")


def find_bad_text(obj: Any, loc: tuple[str | int, ...] = ()) -> tuple[tuple[str | int, ...], str] | None:
    """The location and reason of the first unstorable string (keys included) in parsed JSON."""
    if isinstance(obj, str):
        reason = bad_text(obj)
        return (loc, reason) if reason else None
    if isinstance(obj, dict):
        for k, v in obj.items():
            found = find_bad_text(k, (*loc, "(key)")) or find_bad_text(v, (*loc, str(k)))
            if found:
                return found
    if isinstance(obj, list):
        for i, v in enumerate(obj):
            found = find_bad_text(v, (*loc, i))
            if found:
                return found
    return None


def clean(obj: Any) -> Any:
    """``obj`` with every string made encodable (lone surrogates as backslash escapes): safe to echo."""
    if isinstance(obj, str):
        return obj.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(obj, dict):
        return {clean(k): clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [clean(v) for v in obj]
    return obj


def _sanitize(loc: tuple[str | int, ...]) -> list[str | int]:
    return [x.encode("utf-8", "backslashreplace").decode("utf-8") if isinstance(x, str) else x for x in loc]


def validation_body(loc: tuple[str | int, ...], msg: str, kind: str = "string_type") -> dict[str, Any]:
    """A 422 body in FastAPI's validation-error shape."""
    return {"detail": [{"loc": _sanitize(loc), "msg": msg, "type": kind}]}


async def _respond(send: Send, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body, ensure_ascii=True).encode("ascii")
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


def _header(scope: Scope, name: bytes) -> bytes | None:
    for k, v in scope.get("headers", []):
        if k.lower() == name:
            return bytes(v)
    return None


def _url_problem(scope: Scope) -> dict[str, Any] | None:
    raw_path = scope.get("raw_path") or str(scope.get("path", "")).encode("utf-8", "surrogateescape")
    for where, raw in (("path", raw_path), ("query", scope.get("query_string", b""))):
        text = unquote_to_bytes(raw)
        if b"\x00" in text:
            return validation_body((where,), "contains a NUL character (U+0000)")
        try:
            text.decode("utf-8")
        except UnicodeDecodeError:
            return validation_body((where,), "is not valid UTF-8 (percent-encoded bytes)")
    return None


class Guard:
    """The middleware: see the module docstring."""

    def __init__(self, app: ASGIApp, max_body: int | None = None) -> None:
        self.app = app
        self.max_body = (
            max_body if max_body is not None else int(os.environ.get(MAX_BODY_ENV, MAX_BODY_BYTES))
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = self._with_headers(scope, send)
        problem = _url_problem(scope)
        if problem is not None:
            await _respond(send, 422, problem)
            return
        length = _header(scope, b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body:
            await _respond(send, 413, {"detail": f"request body larger than {self.max_body:,} bytes"})
            return
        ctype = (_header(scope, b"content-type") or b"").split(b";")[0].strip().lower()
        if ctype == b"application/json" or ctype.endswith(b"+json"):
            await self._json(scope, receive, send)
            return
        await self.app(scope, self._counting(receive), send)

    async def _json(self, scope: Scope, receive: Receive, send: Send) -> None:
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                await _respond(send, 413, {"detail": f"request body larger than {self.max_body:,} bytes"})
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        try:
            found = find_bad_text(json.loads(body)) if body else None
        except (ValueError, RecursionError):
            found = None  # not JSON (or too deep): FastAPI's own parser answers with its 422
        if found is not None:
            await _respond(send, 422, validation_body(("body", *found[0]), found[1]))
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    def _counting(self, receive: Receive) -> Receive:
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_body:
                raise BodyTooLarge(self.max_body)
            return message

        return counted

    @staticmethod
    def _with_headers(scope: Scope, send: Send) -> Send:
        docs = str(scope.get("path", "")).startswith(DOCS_PATHS)
        extra = [
            (b"content-security-policy", (DOCS_CSP if docs else CSP).encode()),
            (b"x-frame-options", b"DENY"),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
        ]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []), *(h for h in extra if h[0] not in names)]
            await send(message)

        return sending
