"""The dashboard's calls to the service API, made in process (ASGI) with the caller's own token.

The dashboard holds no privileges of its own: every read or write goes through the API's endpoints with
the signed-in account's token, so the API's role and isolation rules apply unchanged. The token is the
one of the caller's dashboard session (``critmin.store.web_sessions``: the HttpOnly cookie holds only the
session's random id) or an ``Authorization: Bearer`` header.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx2
from fastapi import Request

from critmin.web.security import SESSION_COOKIE

API = "/api/v1"
COOKIE = SESSION_COOKIE


@dataclass(frozen=True)
class Me:
    """The signed-in account as the API reports it (``/api/v1/me``)."""

    member_id: int | None
    name: str
    role: str
    iso3: str | None


def token_of(request: Request) -> str | None:
    """The caller's token: the one of a live dashboard session (cookie), else a Bearer header."""
    from critmin.store.web_sessions import session_token

    if hasattr(request.state, "critmin_token"):
        cached: str | None = request.state.critmin_token
        return cached
    token: str | None = None
    cookie = request.cookies.get(COOKIE)
    if cookie and len(cookie) <= 100:
        with request.app.state.store.write() as s:
            token = session_token(s, cookie)
    auth = request.headers.get("authorization", "")
    if token is None and auth.lower().startswith("bearer ") and auth[7:].strip():
        token = auth[7:].strip()
    request.state.critmin_token = token
    return token


async def call(
    request: Request, method: str, path: str, token: str | None = None, **kwargs: Any
) -> httpx2.Response:
    """``method`` on the API path (under ``/api/v1``) of the app serving ``request``, as ``token``."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    transport = httpx2.ASGITransport(app=request.app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        return await client.request(method, API + path, headers=headers, **kwargs)


async def whoami(request: Request, token: str | None) -> Me | None:
    """The account of ``token`` (None when there is no token or the API refuses it)."""
    if not token:
        return None
    r = await call(request, "GET", "/me", token)
    if r.status_code != 200:
        return None
    body = r.json()
    if body.get("role") == "public":
        return None
    return Me(body.get("member_id"), str(body.get("name", "")), str(body["role"]), body.get("iso3"))
