"""Web-layer hardening (issue 14 item 6): CSRF token and Origin check on every state-changing form of the
dashboard (sign-in included), a session apart from the API token that expires and is revoked at sign-out,
Secure cookies over HTTPS or a trusted proxy, and 429 after repeated failed sign-ins."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from critmin.api.app import create_app
from critmin.store import Store
from critmin.store.members import Principal, create_member, issue_token
from critmin.store.models import ApiToken, WebSession
from critmin.web.security import CSRF_COOKIE

ORIGIN = "http://testserver"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, Any]]]:
    store = Store(f"sqlite:///{tmp_path / 'web.db'}")
    store.upgrade()
    admin = Principal(None, "test", "system", None)
    with store.write() as s:
        member = create_member(s, admin, "Australia", "member", "AUS")
        token = issue_token(s, admin, member, "t")
        member_id = member.id
    with TestClient(create_app(store, job_kinds={})) as c:
        yield c, {"token": token, "member_id": member_id, "store": store}


def _csrf(c: TestClient) -> str:
    page = c.get("/members")
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert match is not None and c.cookies.get(CSRF_COOKIE) == match.group(1)
    return match.group(1)


def _sign_in(c: TestClient, token: str, **extra: str) -> Any:
    data = {"token": token, "csrf": _csrf(c), **extra}
    return c.post("/members/signin", data=data, headers={"Origin": ORIGIN}, follow_redirects=False)


def test_every_dashboard_form_refuses_a_missing_token_or_a_foreign_origin(
    client: tuple[TestClient, dict[str, Any]],
) -> None:
    c, _ = client
    posts = [
        ctx.path
        for ctx in iter_route_contexts(c.app.routes)  # type: ignore[attr-defined]
        if isinstance(ctx.original_route, APIRoute)
        and ctx.path is not None
        and "POST" in (ctx.methods or ())
        and not ctx.path.startswith("/api/")
    ]
    expected = {"/members/signin", "/members/signout", "/reserve/operations/apply", "/prices/publish"}
    assert expected <= set(posts) and len(posts) >= 9, posts
    token = _csrf(c)
    for path in posts:
        url = path.replace("{member_id}", "1")
        no_token = c.post(url, data={"x": "1"}, headers={"Origin": ORIGIN})
        assert no_token.status_code == 403, (path, no_token.status_code)
        assert "security token" in no_token.text
        foreign = c.post(url, data={"csrf": token}, headers={"Origin": "https://evil.example"})
        assert foreign.status_code == 403 and "Origin" in foreign.text, path
        no_origin = c.post(url, data={"csrf": token})
        assert no_origin.status_code == 403, path
    # the same token from a page of this server passes (sign-in with a bad API token: 401, not 403)
    r = c.post(
        "/members/signin", data={"csrf": token, "token": "x"}, headers={"Referer": ORIGIN + "/members"}
    )
    assert r.status_code == 401


def test_session_is_not_the_api_token_expires_and_is_revoked_at_sign_out(
    client: tuple[TestClient, dict[str, Any]],
) -> None:
    c, ctx = client
    r = _sign_in(c, ctx["token"])
    assert r.status_code == 303
    cookie = c.cookies.get("critmin_session") or ""
    secret = ctx["token"].split("_", 2)[2]  # cm_<id>_<secret>; the url-safe secret may hold "_" itself
    assert cookie and ctx["token"] not in cookie and secret not in cookie
    assert "Max-Age=28800" in r.headers["set-cookie"] and "HttpOnly" in r.headers["set-cookie"]
    page = f"/members/{ctx['member_id']}"
    assert c.get(page).status_code == 200
    assert "Signed in as Australia (member)" in c.get(page).text
    store: Store = ctx["store"]
    with store.read() as s:
        (row,) = s.query(WebSession).all()
        session_token = s.get(ApiToken, row.api_token_id)
        assert session_token is not None and session_token.label == "dashboard session"
    # sign-out revokes the session on the server: the old cookie no longer works
    out = c.post("/members/signout", data={"csrf": _csrf(c)}, headers={"Origin": ORIGIN},
                 follow_redirects=False)  # fmt: skip
    assert out.status_code == 303
    with store.read() as s:
        row = s.query(WebSession).one()
        assert row.revoked_at is not None
        revoked = s.get(ApiToken, row.api_token_id)
        assert revoked is not None and revoked.revoked_at is not None
    c.cookies.set("critmin_session", cookie)
    assert c.get(page).status_code == 401
    # the API token itself is still valid (the session was distinct from it)
    me = c.get("/api/v1/me", headers={"Authorization": f"Bearer {ctx['token']}"})
    assert me.status_code == 200 and me.json()["name"] == "Australia"

    # an expired session is refused
    _sign_in(c, ctx["token"])
    assert c.get(page).status_code == 200
    with store.write() as s:
        live = s.query(WebSession).filter(WebSession.revoked_at.is_(None)).one()
        live.expires_at = "2000-01-01T00:00:00+00:00"
    assert c.get(page).status_code == 401


def test_sign_in_returns_to_the_page_it_came_from_and_refuses_other_hosts(
    client: tuple[TestClient, dict[str, Any]],
) -> None:
    c, ctx = client
    assert 'href="/members?next=%2Fprices%2Fmethodology%3Fx%3D1"' in c.get("/prices/methodology?x=1").text
    r = _sign_in(c, ctx["token"], next="/prices/published")
    assert r.headers["location"] == "/prices/published"
    c.cookies.clear()
    r = _sign_in(c, ctx["token"], next="//evil.example/x")
    assert r.headers["location"] == f"/members/{ctx['member_id']}"


def test_secure_cookies_over_https_or_a_trusted_proxy(
    client: tuple[TestClient, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    c, ctx = client
    plain = c.get("/members")
    assert "Secure" not in plain.headers["set-cookie"]
    c.cookies.clear()
    untrusted = c.get("/members", headers={"X-Forwarded-Proto": "https"})  # the test client is not trusted
    assert untrusted.status_code == 200 and "Secure" not in untrusted.headers["set-cookie"]
    monkeypatch.setenv("CRITMIN_TRUSTED_PROXIES", "testclient")
    c.cookies.clear()
    proxied = c.get("/members", headers={"X-Forwarded-Proto": "https"})
    assert "Secure" in proxied.headers["set-cookie"]
    match = re.search(r'name="csrf" value="([^"]+)"', proxied.text)
    assert match is not None
    r = c.post("/members/signin", data={"token": ctx["token"], "csrf": match.group(1)},
               headers={"Origin": "https://testserver", "X-Forwarded-Proto": "https",
                        "Cookie": f"{CSRF_COOKIE}={match.group(1)}"},  # a Secure cookie: sent over HTTPS
               follow_redirects=False)  # fmt: skip
    assert r.status_code == 303 and "Secure" in r.headers["set-cookie"]


def test_429_after_repeated_failed_sign_ins(client: tuple[TestClient, dict[str, Any]]) -> None:
    c, ctx = client
    codes = [_sign_in(c, "cm_0_wrong").status_code for _ in range(5)]
    assert codes == [401] * 5
    refused = _sign_in(c, ctx["token"])  # even the right token waits for the window to pass
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert "Too many failed sign-ins" in refused.text
