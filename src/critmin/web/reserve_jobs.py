"""The reserve page as jobs of the service: the sizing form queues a ``stockpile`` job (critmin.runs.reserve)
with the signed-in account's token; its page follows the job's progress, then shows the plan and queues the
``reserve_finance`` job of the plan's holdings (critmin.runs.reserve_finance), whose progress it follows in
turn before showing the finances. Downloads (CSV of every block, the PDF brief) read the stored results.

Jobs belong to their account: the API shows a job only to its owner and the secretariat, and a job of
someone else is "not found" here too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from critmin.web.apiclient import Me, call, token_of, whoami
from critmin.web.page import Page, PageError
from critmin.web.render import block_csv, render_page
from critmin.web.reserve import PARAM_KEYS, _error_page, _request, finance_request, form_values, sizing_page
from critmin.web.security import checked_form

JOB_NOT_FOUND = "This reserve sizing job does not exist or belongs to another account."
RUNNING = ("queued", "running")
Nav = list[tuple[str, str, str]]


def form_page(params: Mapping[str, str], me: Me | None, jobs: list[dict[str, Any]], error: str = "") -> Page:
    """The sizing form (values from ``params``, checked by the same request model as the job), the
    account's recent sizing runs, and an error naming what was wrong."""
    from critmin.provenance import DATA_EDITIONS

    try:
        form = form_values(_request(params).model_dump())
    except PageError as err:
        error = error or str(err)
        form = {k: params.get(k, "") for k in ("budget", "scenarios", "seed", "horizon", "cvar")}
    sign_in = "Sizing the reserve is a job of the service: sign in (Members) with your API token."
    lead = [] if me else [sign_in]
    return Page(
        name="reserve",
        title="Reserve (Vault): sizing and finances",
        blocks=[],
        editions=dict(DATA_EDITIONS),
        intro="Size the reserve on the disruption engine's loss over the horizon, compare it with the IEA, "
        "Japan and NDS-style day rules, and see whether the fees carry the loan. The sizing runs as a job; "
        "this page follows its progress.",
        template="reserve.html",
        context={
            "lead": lead,
            "form": form,
            "error": error,
            "me": me,
            "jobs": jobs,
            "job": None,
            "follow": None,
            "pdf_url": "",
        },
    )


def finance_job_of(jobs: list[dict[str, Any]], sizing_job: Mapping[str, Any]) -> dict[str, Any] | None:
    """The newest ``reserve_finance`` job of the sizing job's owner whose request is the one of its plan."""
    want = finance_request(sizing_job["result"])
    if want is None:
        return None
    params = want.model_dump(mode="json")
    for job in jobs:  # newest first
        if (job["kind"], job["owner_id"], job["params"]) == (
            "reserve_finance",
            sizing_job["owner_id"],
            params,
        ):
            return job
    return None


def job_page(job: dict[str, Any], finance: dict[str, Any] | None) -> Page:
    """The page of a ``stockpile`` job: progress while it runs, then the plan; the finances once the
    ``reserve_finance`` job has finished (its progress until then)."""
    base = f"/reserve/jobs/{job['id']}"
    if job["status"] != "succeeded":
        page = form_page({}, None, [])
        page = replace(page, intro="")
        page.context.update(form=form_values(job["params"]), lead=[])
    else:
        done = finance["result"] if finance is not None and finance["status"] == "succeeded" else None
        page = replace(sizing_page(job["result"], done), csv_base=f"{base}/download.csv")
        page.context.update(error="", me=None, jobs=[], pdf_url=f"{base}/brief.pdf")
    follow = job if job["status"] in RUNNING else None
    if job["status"] == "succeeded" and finance is not None:
        if finance["status"] in RUNNING:
            follow = finance
        elif finance["status"] != "succeeded":
            page.context["lead"].append(f"The finance model did not run: {finance.get('error')}")
    if job["status"] == "failed":
        page.context["error"] = f"The sizing job failed: {job.get('error')}"
    page.context.update(job=job, follow=follow)
    return page


class _ReserveRoutes:
    def __init__(self, nav: Nav) -> None:
        self.nav = nav

    async def _auth(self, request: Request) -> tuple[str, Me] | None:
        token = token_of(request)
        me = await whoami(request, token)
        return (token, me) if token is not None and me is not None else None

    async def _jobs(self, request: Request, auth: tuple[str, Me] | None) -> list[dict[str, Any]]:
        if auth is None:
            return []
        r = await call(request, "GET", "/jobs", auth[0])
        return [j for j in r.json() if j.get("owner_id") == auth[1].member_id] if r.status_code == 200 else []

    async def form(self, request: Request) -> Response:
        auth = await self._auth(request)
        jobs = [j for j in await self._jobs(request, auth) if j["kind"] == "stockpile"][:10]
        params = {k: v for k, v in request.query_params.items() if k in PARAM_KEYS}
        page = form_page(params, auth[1] if auth else None, jobs)
        return HTMLResponse(render_page(page, self.nav), status_code=422 if page.context["error"] else 200)

    async def run(self, request: Request) -> Response:
        """Check the form with the sizing request model, then queue the ``stockpile`` job."""
        fields = {k: v for k, v in (await checked_form(request)).items() if isinstance(v, str)}
        params = {k: v for k, v in fields.items() if k in PARAM_KEYS}
        auth = await self._auth(request)
        if auth is None:
            return _error_page(self.nav, 401, "Sign in (Members) with your API token to size the reserve.")
        try:
            body = {"kind": "stockpile", "params": _request(params).model_dump(mode="json")}
        except PageError as err:
            page = form_page(params, auth[1], [], str(err))
            return HTMLResponse(render_page(page, self.nav), status_code=422)
        r = await call(request, "POST", "/jobs", auth[0], json=body)
        if r.status_code != 202:
            page = form_page(params, auth[1], [], f"The service refused the job ({r.status_code}): {r.text}")
            return HTMLResponse(render_page(page, self.nav), status_code=r.status_code)
        return RedirectResponse(f"/reserve/jobs/{r.json()['id']}", status_code=303)

    async def _load(
        self, request: Request, job_id: str, queue: bool
    ) -> tuple[dict[str, Any], dict[str, Any] | None] | Response:
        """The sizing job and its finance job (queued first, under the owner's account, when ``queue``, the
        caller owns the sizing job and the plan holds stock)."""
        auth = await self._auth(request)
        if auth is None:
            return _error_page(self.nav, 401, "Sign in (Members) with your API token to see your jobs.")
        r = await call(request, "GET", f"/jobs/{job_id}", auth[0])
        job = r.json() if r.status_code == 200 else {}
        if job.get("kind") != "stockpile":  # the API shows a job to its owner and the secretariat only
            return _error_page(self.nav, 404, JOB_NOT_FOUND)
        if job["status"] != "succeeded":
            return job, None
        listed = await call(request, "GET", "/jobs", auth[0])
        finance = finance_job_of(listed.json() if listed.status_code == 200 else [], job)
        want = finance_request(job["result"])
        if finance is None and want is not None and queue and job["owner_id"] == auth[1].member_id:
            body = {"kind": "reserve_finance", "params": want.model_dump(mode="json")}
            queued = await call(request, "POST", "/jobs", auth[0], json=body)
            refused = {"status": "failed", "error": queued.text}
            finance = queued.json() if queued.status_code == 202 else refused
        return job, finance

    async def show(self, job_id: str, request: Request) -> Response:
        got = await self._load(request, job_id, queue=True)
        if isinstance(got, Response):
            return got
        try:
            page = job_page(*got)
        except PageError as err:
            return _error_page(self.nav, err.status, str(err))
        return HTMLResponse(render_page(page, self.nav))

    async def status(self, job_id: str, request: Request) -> Response:
        """Status, progress and message of one of the account's jobs (polled by the progress bar)."""
        auth = await self._auth(request)
        r = await call(request, "GET", f"/jobs/{job_id}", auth[0]) if auth else None
        if r is None or r.status_code != 200:
            return JSONResponse({"detail": JOB_NOT_FOUND}, status_code=404 if auth else 401)
        job = r.json()
        return JSONResponse({k: job.get(k) for k in ("status", "progress", "message", "error")})

    async def _finished_page(self, request: Request, job_id: str) -> Page | Response:
        got = await self._load(request, job_id, queue=False)
        if isinstance(got, Response):
            return got
        if got[0]["status"] != "succeeded":
            return Response("The sizing job has not finished.\n", 409, media_type="text/plain")
        try:
            return job_page(*got)
        except PageError as err:
            return Response(f"{err}\n", err.status, media_type="text/plain")

    async def download(self, job_id: str, request: Request, block: str = "") -> Response:
        page = await self._finished_page(request, job_id)
        if isinstance(page, Response):
            return page
        return block_csv(page, block, f"reserve-{_label(page)}-{block}")

    async def brief(self, job_id: str, request: Request) -> Response:
        """The PDF brief of the finished plan (:func:`critmin.web.brief.reserve_brief`)."""
        from critmin.web.brief import reserve_brief

        page = await self._finished_page(request, job_id)
        if isinstance(page, Response):
            return page
        headers = {"Content-Disposition": f'attachment; filename="critmin-brief-reserve-{_label(page)}.pdf"'}
        return Response(reserve_brief(page), media_type="application/pdf", headers=headers)


def _label(page: Page) -> str:
    """A file name part naming the run: budget, scenarios, seed and horizon."""
    f = page.context["form"]
    return f"{float(f['budget']) / 1e9:.2f}bn-{f['scenarios']}sc-seed{f['seed']}-{f['horizon']}m"


def build_reserve_router(nav: Nav) -> APIRouter:
    """``/reserve`` (form), ``/reserve/run`` (queue), ``/reserve/jobs/{id}`` (progress, then the result),
    its status, CSV downloads and PDF brief."""
    router = APIRouter(include_in_schema=False)
    h = _ReserveRoutes(nav)
    router.add_api_route("/reserve", h.form, methods=["GET"])
    router.add_api_route("/reserve/run", h.run, methods=["POST"])
    router.add_api_route("/reserve/jobs/{job_id}", h.show, methods=["GET"])
    router.add_api_route("/reserve/jobs/{job_id}/status", h.status, methods=["GET"])
    router.add_api_route("/reserve/jobs/{job_id}/download.csv", h.download, methods=["GET"])
    router.add_api_route("/reserve/jobs/{job_id}/brief.pdf", h.brief, methods=["GET"])
    return router
