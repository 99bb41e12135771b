"""Web-layer protection of the dashboard's forms: CSRF token, Origin check, Secure cookies.

- Every HTML response carries a random CSRF token in an HttpOnly, SameSite=Strict cookie; every form holds
  the same token in a hidden field (``{{ csrf_field() }}`` in the templates). :func:`checked_form` reads a
  posted form only when the field equals the cookie (double submit) and the request's ``Origin`` (or, when
  a browser sends none, its ``Referer``) is this server; otherwise :class:`CsrfRefused` answers 403.
  Sign-in is a form like any other, so a login CSRF is refused too. The service sends
  ``Referrer-Policy: no-referrer``, under which a browser posts ``Origin: null``; the dashboard's pages
  therefore declare ``<meta name="referrer" content="same-origin">`` (nothing leaves for other sites, and
  the browser names this server as the form's origin).
- Cookies are ``Secure`` when the request came over HTTPS, directly or through a proxy that says so in
  ``X-Forwarded-Proto`` and whose address is in ``CRITMIN_TRUSTED_PROXIES`` (comma-separated; default
  the loopback addresses, where a local reverse proxy runs).
"""

from __future__ import annotations

import hmac
import os
import secrets
from contextvars import ContextVar
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from markupsafe import Markup, escape
from starlette.datastructures import FormData, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSRF_COOKIE = "critmin_csrf"
CSRF_FIELD = "csrf"
_token: ContextVar[str] = ContextVar("critmin_csrf", default="")
_viewer: ContextVar[dict[str, Any] | None] = ContextVar("critmin_viewer", default=None)
_path: ContextVar[str] = ContextVar("critmin_path", default="/")
SESSION_COOKIE = "critmin_session"


class CsrfRefused(Exception):
    """A state-changing form without a valid CSRF token or from another origin (HTTP 403)."""


def trusted_proxies() -> set[str]:
    """Addresses whose ``X-Forwarded-Proto`` is believed."""
    raw = os.environ.get("CRITMIN_TRUSTED_PROXIES", "127.0.0.1,::1")
    return {p.strip() for p in raw.split(",") if p.strip()}


def _scheme(scope: Scope, headers: dict[str, str]) -> str:
    client = (scope.get("client") or ("", 0))[0]
    forwarded = headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    if forwarded in ("http", "https") and client in trusted_proxies():
        return forwarded
    return str(scope.get("scheme", "http"))


def is_https(request: Request) -> bool:
    """Whether the browser reached this server over HTTPS (directly or via a trusted proxy)."""
    return _scheme(request.scope, {k.lower(): v for k, v in request.headers.items()}) == "https"


def cookie_options(request: Request) -> dict[str, Any]:
    """Options of every dashboard cookie: HttpOnly, SameSite=Strict, path /, Secure over HTTPS."""
    return {"httponly": True, "samesite": "strict", "path": "/", "secure": is_https(request)}


def csrf_field() -> Markup:
    """The hidden CSRF input of a form (for the templates)."""
    return Markup(f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(_token.get())}">')


def viewer() -> dict[str, Any] | None:
    """The signed-in account of the request being rendered (name, role, member_id), or None."""
    return _viewer.get()


def current_path() -> str:
    """Path and query of the request being rendered (the sign-in link returns there)."""
    return _path.get()


def _lookup_viewer(scope: Scope, cookie: str) -> dict[str, Any] | None:
    from critmin.store.members import sha256_hex
    from critmin.store.models import Member, WebSession, utc_now

    store = getattr(scope["app"].state, "store", None)
    if store is None or not cookie or len(cookie) > 100:
        return None
    with store.read() as s:
        row = s.get(WebSession, sha256_hex(cookie))
        if row is None or row.revoked_at is not None or row.expires_at <= utc_now():
            return None
        member = s.get(Member, row.member_id)
        return None if member is None else {"name": member.name, "role": member.role, "member_id": member.id}


def _same_origin(request: Request) -> bool:
    host = request.headers.get("host", "")
    expected = f"{'https' if is_https(request) else 'http'}://{host}".lower()
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        referer = request.headers.get("referer")
        if not referer:
            return False
        parts = urlsplit(referer)
        origin = f"{parts.scheme}://{parts.netloc}"
    return origin.lower() == expected


async def checked_form(request: Request) -> FormData:
    """The posted form, after the Origin and CSRF checks (:class:`CsrfRefused` otherwise)."""
    if not _same_origin(request):
        raise CsrfRefused("this form was not sent from a page of this server (Origin check)")
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not isinstance(sent, str) or not cookie or not hmac.compare_digest(sent, cookie):
        raise CsrfRefused("the form's security token is missing or stale: reload the page and send it again")
    return form


class CsrfCookie:
    """ASGI middleware: the request's CSRF token (from its cookie, or a new one set on the response)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope.get("path", "")).startswith("/api/"):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        current = request.cookies.get(CSRF_COOKIE, "")
        token = current if 20 <= len(current) <= 100 else secrets.token_urlsafe(32)
        reset = _token.set(token)
        query = scope.get("query_string", b"").decode("latin-1")
        reset_path = _path.set(str(scope.get("path", "/")) + (f"?{query}" if query else ""))
        reset_viewer = _viewer.set(_lookup_viewer(scope, request.cookies.get(SESSION_COOKIE, "")))

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and token != current:
                headers = MutableHeaders(scope=message)
                secure = "; Secure" if is_https(request) else ""
                headers.append(
                    "set-cookie", f"{CSRF_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/{secure}"
                )
            await send(message)

        try:
            await self.app(scope, receive, send_with_cookie)
        finally:
            _token.reset(reset)
            _path.reset(reset_path)
            _viewer.reset(reset_viewer)
