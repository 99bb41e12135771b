"""Members: sign in with an API token, see one's own submissions and rows, upload a CSV (row-level errors
shown), and the published aggregates. All data comes from the service API called with the member's token.

A member page ``/members/{member_id}`` is shown to that member and to the secretariat only: 401 without a
token, 403 for any other account.
"""

from __future__ import annotations

import csv
import io
from typing import Any
from urllib.parse import quote

import pandas as pd
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from critmin.provenance import DATA_EDITIONS
from critmin.web.apiclient import COOKIE, Me, call, token_of, whoami
from critmin.web.page import Block, Page
from critmin.web.render import block_csv, environment, render_page
from critmin.web.security import checked_form, cookie_options
from critmin.web.uploads import HeaderError, column_specs, normalise, template_csv

KINDS = ["production", "demand", "stocks", "transactions"]
SUBMISSION_COLUMNS = ["id", "kind", "iso3", "source_format", "row_count", "created_at"]
ROW_COLUMNS = ["submission_id", "kind", "row_number", "material", "stage", "year", "date", "tonnes", "price",
               "currency", "counterparty"]  # fmt: skip
AGGREGATE_COLUMNS = ["kind", "material", "stage", "year", "contributors", "tonnes", "suppressed", "reason"]
MAX_SUBMISSIONS = 20
SESSION_HOURS = 8.0  # a dashboard session's lifetime; CRITMIN_WEB_SESSION_HOURS overrides it
MAX_FAILURES = 5
FAILURE_WINDOW_S = 300.0
EDITIONS = {"member-submissions": "Member submissions to this service (confidential; own rows only)"}


def _frame(records: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame([{c: r.get(c) for c in columns} for r in records], columns=columns)


def errors_csv_href(errors: list[dict[str, Any]]) -> str:
    """A ``data:`` URL holding the rejected values as CSV (downloaded without a request to the server)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=["row", "field", "value", "reason"], lineterminator="\n")
    writer.writeheader()
    for e in errors:
        writer.writerow({k: e.get(k) for k in ("row", "field", "value", "reason")})
    return "data:text/csv;charset=utf-8," + quote(buf.getvalue())


def session_hours() -> float:
    """Lifetime of a dashboard session in hours (``CRITMIN_WEB_SESSION_HOURS``, default 8)."""
    import os

    return float(os.environ.get("CRITMIN_WEB_SESSION_HOURS", SESSION_HOURS))


def safe_return(path: str) -> str:
    """A page of this server to return to after sign-in (``""`` unless a plain local path)."""
    ok = path.startswith("/") and not path.startswith(("//", "/members/sign")) and "\\" not in path
    return path if ok and len(path) <= 500 else ""


class SignInLimiter:
    """Failed sign-ins per client address in a sliding window (per server process)."""

    def __init__(self, limit: int = MAX_FAILURES, window_s: float = FAILURE_WINDOW_S) -> None:
        self.limit, self.window_s = limit, window_s
        self._failures: dict[str, list[float]] = {}

    def _recent(self, client: str) -> list[float]:
        import time

        now = time.monotonic()
        kept = [t for t in self._failures.get(client, []) if now - t < self.window_s]
        self._failures[client] = kept
        return kept

    def failed(self, client: str) -> None:
        """Record one failed sign-in."""
        import time

        self._recent(client).append(time.monotonic())

    def retry_after(self, client: str) -> int:
        """Seconds until ``client`` may try again (0: now)."""
        import math
        import time

        recent = self._recent(client)
        if len(recent) < self.limit:
            return 0
        return max(1, math.ceil(self.window_s - (time.monotonic() - recent[-self.limit])))


class Refusal(Exception):
    """The caller may not see this member page (``status`` 401 or 403)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


async def _authorise(request: Request, member_id: int) -> tuple[str, Me]:
    token = token_of(request)
    me = await whoami(request, token)
    if token is None or me is None:
        raise Refusal(401, "Sign in with your API token to see a member page.")
    if me.role not in ("member", "secretariat"):
        raise Refusal(403, f"Signed in as {me.name} ({me.role}): member pages are for member accounts.")
    if me.role != "secretariat" and me.member_id != member_id:
        raise Refusal(
            403, f"Member page {member_id} belongs to another account; you are signed in as {me.name}."
        )
    return token, me


async def member_page(request: Request, member_id: int, token: str, me: Me) -> Page:
    """The page model of one member (own submissions and rows, published aggregates)."""
    subject = {"name": me.name, "iso3": me.iso3, "role": me.role}
    if me.member_id != member_id:  # the secretariat looking at a member
        accounts = (await call(request, "GET", "/members", token)).json()
        subject = next((a for a in accounts if a.get("id") == member_id), {"name": f"account {member_id}"})
    subs = [
        s for s in (await call(request, "GET", "/submissions", token)).json() if s["member_id"] == member_id
    ]
    subs = sorted(subs, key=lambda s: int(s["id"]), reverse=True)
    rows: list[dict[str, Any]] = []
    for s in subs[:MAX_SUBMISSIONS]:
        r = await call(request, "GET", f"/submissions/{s['id']}/rows", token)
        rows.extend({**x, "submission_id": s["id"], "kind": s["kind"]} for x in r.json())
    aggregates = (await call(request, "GET", "/aggregates")).json()
    blocks = [
        Block("submissions", "Your submissions", _frame(subs, SUBMISSION_COLUMNS)),
        Block(
            "rows",
            f"Your data (rows of the latest {MAX_SUBMISSIONS} submissions)",
            _frame(rows, ROW_COLUMNS),
            wide=True,
        ),
        Block(
            "aggregates",
            "Published alliance aggregates",
            _frame(aggregates, AGGREGATE_COLUMNS),
            caption="Cells with fewer than three contributors or one contributor above half are suppressed.",
            wide=True,
        ),
    ]
    return Page(
        name="members",
        title=f"Member: {subject.get('name')}" + (f" ({subject['iso3']})" if subject.get("iso3") else ""),
        blocks=blocks,
        editions=EDITIONS | {k: DATA_EDITIONS[k] for k in ("usgs-mcs2026",)},
        intro=f"Signed in as {me.name} ({me.role}). Only you and the secretariat see this page.",
        template="member.html",
        context={
            "member_id": member_id,
            "kinds": KINDS,
            "upload": None,
            "me": me,
            "kind": KINDS[0],
            "specs": {k: column_specs(k) for k in KINDS},
        },
        csv_base=f"/members/{member_id}/download.csv",
    )


class _MembersRoutes:
    """The handlers of :func:`build_members_router`, sharing its navigation and settings."""

    def __init__(self, nav: list[tuple[str, str, str]]) -> None:
        self.nav = nav
        self.env = environment()
        self.signin_limiter = SignInLimiter()

    def signin_html(
        self,
        message: str = "",
        status: int = 200,
        info: str = "",
        accounts: list[dict[str, Any]] | None = None,
        back: str = "",
        me: Me | None = None,
    ) -> HTMLResponse:
        html = self.env.get_template("signin.html").render(
            nav=self.nav, message=message, info=info, accounts=accounts or [], page=_NAV_PAGE,
            next=safe_return(back), me=me,
        )  # fmt: skip
        return HTMLResponse(html, status_code=status)

    def refusal_html(self, err: Refusal) -> HTMLResponse:
        if err.status == 401:
            return self.signin_html(str(err), 401)
        html = self.env.get_template("error.html").render(
            message=str(err), status=err.status, nav=self.nav, user=""
        )
        return HTMLResponse(html, status_code=err.status)

    async def members_home(self, request: Request) -> Response:
        """Sign-in form, or the signed-in account's own page."""
        me = await whoami(request, token_of(request))
        back = request.query_params.get("next", "")
        if me is None:
            return self.signin_html(back=back)
        if safe_return(back):
            return RedirectResponse(safe_return(back), status_code=303)
        if me.role == "member" and me.member_id is not None:
            return RedirectResponse(f"/members/{me.member_id}", status_code=303)
        accounts: list[dict[str, Any]] = []
        if me.role == "secretariat":
            listed = await call(request, "GET", "/members", token_of(request))
            if listed.status_code == 200:
                accounts = [a for a in listed.json() if a.get("role") == "member"]
        info = f"Signed in as {me.name} ({me.role}); this account has no member page of its own."
        return self.signin_html(info=info, accounts=accounts, me=me)

    async def sign_in(self, request: Request) -> Response:
        """Check the token with the API, then open a dashboard session (the cookie holds only its id).

        After :data:`MAX_FAILURES` failed sign-ins from one address within :data:`FAILURE_WINDOW_S`
        seconds, further attempts answer 429 until the window has passed."""
        from critmin.store.members import authenticate
        from critmin.store.models import Member
        from critmin.store.web_sessions import open_session

        client = request.client.host if request.client else ""
        wait = self.signin_limiter.retry_after(client)
        if wait > 0:
            refused = self.signin_html(f"Too many failed sign-ins: try again in {wait} s.", 429)
            refused.headers["Retry-After"] = str(wait)
            return refused
        form = await checked_form(request)
        token = str(form.get("token") or "").strip()
        back = safe_return(str(form.get("next") or ""))
        me = await whoami(request, token)
        store = request.app.state.store
        with store.write() as s:
            who = authenticate(s, token) if me is not None else None
            member = s.get(Member, who.member_id) if who is not None and who.member_id is not None else None
            session_id = open_session(s, member, token.split("_")[1], session_hours()) if member else None
        if session_id is None or me is None:
            self.signin_limiter.failed(client)
            return self.signin_html("That token was not accepted (unknown or revoked).", 401, back=back)
        target = back or (
            f"/members/{me.member_id}" if me.role == "member" and me.member_id is not None else "/members"
        )
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            COOKIE, session_id, max_age=int(session_hours() * 3600), **cookie_options(request)
        )
        return response

    async def sign_out(self, request: Request) -> Response:
        """Close the session (revoked in the store, not only forgotten by the browser)."""
        from critmin.store.web_sessions import close_session

        await checked_form(request)
        cookie = request.cookies.get(COOKIE)
        if cookie and len(cookie) <= 100:
            with request.app.state.store.write() as s:
                close_session(s, cookie)
        response = RedirectResponse("/members", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    async def show_member(self, member_id: int, request: Request) -> Response:
        try:
            token, me = await _authorise(request, member_id)
        except Refusal as err:
            return self.refusal_html(err)
        page = await member_page(request, member_id, token, me)
        uploaded = request.query_params.get("uploaded")
        if uploaded:
            page.context["upload"] = {
                "ok": True,
                "id": uploaded,
                "rows": request.query_params.get("rows", ""),
            }
        return HTMLResponse(render_page(page, self.nav))

    async def upload(self, member_id: int, request: Request) -> Response:
        """Send the CSV to the API; show every rejected value, or go back to the page on success.

        A rejected file re-renders the member page (HTTP 200: the form was answered) with the API's
        422 detail and every rejected value; nothing was stored.
        """
        form = await checked_form(request)
        try:
            token, me = await _authorise(request, member_id)
        except Refusal as err:
            return self.refusal_html(err)
        if me.member_id != member_id:
            return self.refusal_html(Refusal(403, "Only the member itself uploads its submissions."))
        kind = str(form.get("kind") or "")
        file = form.get("file")
        page = await member_page(request, member_id, token, me)
        if kind in KINDS:
            page.context["kind"] = kind  # the form keeps the kind chosen
        if kind not in KINDS or file is None or isinstance(file, str):
            message = f"Choose a kind (one of {KINDS}) and a CSV file."
            page.context["upload"] = {"ok": False, "detail": message, "errors": []}
            return HTMLResponse(render_page(page, self.nav))
        raw = await file.read()
        try:
            content = normalise(kind, raw.decode("utf-8-sig"))
        except (HeaderError, UnicodeDecodeError) as err:
            reason = (
                str(err) if isinstance(err, HeaderError) else f"the file is not UTF-8 text ({err.reason})"
            )
            page.context["upload"] = {"ok": False, "detail": f"Nothing was stored: {reason}", "errors": [],
                                      "filename": file.filename}  # fmt: skip
            return HTMLResponse(render_page(page, self.nav))
        files = {"file": (file.filename or "upload.csv", content.encode(), "text/csv")}
        r = await call(request, "POST", "/submissions/csv", token, params={"kind": kind}, files=files)
        if r.status_code == 201:
            body = r.json()
            return RedirectResponse(
                f"/members/{member_id}?uploaded={body['id']}&rows={body['row_count']}", 303
            )
        detail = (
            r.json().get("detail") if r.headers.get("content-type", "").startswith("application/json") else ""
        )
        errors = r.json().get("errors", []) if isinstance(detail, str) else []
        if not isinstance(detail, str):
            detail = str(detail)
        page.context["upload"] = {
            "ok": False,
            "detail": detail or f"upload refused ({r.status_code})",
            "errors": errors,
            "errors_href": errors_csv_href(errors),
            "filename": file.filename,
        }
        return HTMLResponse(render_page(page, self.nav))

    async def download(self, member_id: int, request: Request, block: str = "") -> Response:
        try:
            token, me = await _authorise(request, member_id)
        except Refusal as err:
            return Response(f"{err}\n", err.status, media_type="text/plain")
        page = await member_page(request, member_id, token, me)
        return block_csv(page, block, f"member-{member_id}-{block}")

    def template(self, kind: str) -> Response:
        """The header row of an upload kind, as a CSV file to fill in."""
        if kind not in KINDS:
            return Response(
                f"no upload kind {kind!r}; expected one of {KINDS}\n", 404, media_type="text/plain"
            )
        headers = {"Content-Disposition": f'attachment; filename="critmin-{kind}-template.csv"'}
        return Response(template_csv(kind), media_type="text/csv; charset=utf-8", headers=headers)


def build_members_router(nav: list[tuple[str, str, str]]) -> APIRouter:
    """Routes of the members area."""
    router = APIRouter(include_in_schema=False)
    h = _MembersRoutes(nav)
    router.add_api_route("/members/template.csv", h.template, methods=["GET"])
    router.add_api_route("/members", h.members_home, methods=["GET"])
    router.add_api_route("/members/signin", h.sign_in, methods=["POST"])
    router.add_api_route("/members/signout", h.sign_out, methods=["POST"])
    router.add_api_route("/members/{member_id}", h.show_member, methods=["GET"])
    router.add_api_route("/members/{member_id}/upload", h.upload, methods=["POST"])
    router.add_api_route("/members/{member_id}/download.csv", h.download, methods=["GET"])
    return router


class _NavPage:
    """Marks the members entry of the navigation as current on the sign-in page."""

    name = "members"


_NAV_PAGE = _NavPage()
