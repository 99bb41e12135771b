"""The dashboard's calls to the service API, made in process (ASGI) with the caller's own token.

The dashboard holds no privileges of its own: every read or write goes through the API's endpoints with
the signed-in account's token, so the API's role and isolation rules apply unchanged. The token comes from
the dashboard's HttpOnly cookie (set at sign-in) or from an ``Authorization: Bearer`` header.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx2
from fastapi import Request

API = "/api/v1"
COOKIE = "critmin_token"


@dataclass(frozen=True)
class Me:
    """The signed-in account as the API reports it (``/api/v1/me``)."""

    member_id: int | None
    name: str
    role: str
    iso3: str | None


def token_of(request: Request) -> str | None:
    """The caller's token: the dashboard cookie, else a Bearer header."""
    cookie = request.cookies.get(COOKIE)
    if cookie:
        return cookie
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer ") and auth[7:].strip():
        return auth[7:].strip()
    return None


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
