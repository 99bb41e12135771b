"""Scenario lab: compose an export restriction in a form (or upload YAML, or pick a bundled example), run it
as a ``simulate`` job of the service, follow its progress bar, then see price paths per zone, shortfall by
member and sector and the releases; run the ``montecarlo`` job for the risk ranking.

Jobs belong to the signed-in account: the API shows a job only to its owner and the secretariat, and the
dashboard forwards the API's answer (a job of someone else is "not found").
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from critmin.provenance import DATA_EDITIONS
from critmin.web.apiclient import Me, call, token_of, whoami
from critmin.web.page import Page, PageError
from critmin.web.render import csv_response, environment, render_page
from critmin.web.scenario_results import (
    ScenarioInputError,
    check_choice,
    compose_scenario,
    inputs_block,
    price_blocks,
    ranking_blocks,
    scenario_choices,
    scenario_from_yaml,
    shock_blocks,
    shock_summary,
)
from critmin.web.security import checked_form

LAB_KINDS = ("simulate", "montecarlo", "price_submitted")
MAX_YAML_BYTES = 1_000_000
JOB_NOT_FOUND = "This job does not exist or belongs to another account."


def bundled_examples() -> list[str]:
    """Names of the example scenarios shipped in ``critmin/scenarios/``."""
    folder = resources.files("critmin.scenarios")
    return sorted(e.name.removesuffix(".yaml") for e in folder.iterdir() if e.name.endswith(".yaml"))


@cache
def _choices() -> dict[str, dict[str, list[str]]]:
    from critmin.atlas import load_atlas

    return scenario_choices(load_atlas())


def _materials() -> list[str]:
    return sorted(_choices())


def _lab_html(
    nav: list[tuple[str, str, str]], me: Me | None, jobs: list[dict[str, Any]], **extra: Any
) -> str:
    page = Page(
        name="scenarios",
        title="Scenario lab",
        blocks=[],
        editions=dict(DATA_EDITIONS),
        template="scenarios.html",
    )
    context = {"me": me, "jobs": jobs, "materials": _materials(), "examples": bundled_examples(),
               "form": {}, "error": "", "choices": _choices(),
               "choices_json": json.dumps(_choices())} | extra  # fmt: skip
    return environment().get_template("scenarios.html").render(page=page, nav=nav, user="", **context)


def job_page(job: dict[str, Any]) -> Page:
    """The page model of a job: progress while it runs, the result blocks once it succeeded."""
    kind, status = job["kind"], job["status"]
    blocks = []
    editions: dict[str, str] = {}
    result = job.get("result") or {}
    title = f"Scenario lab: {kind} job"
    lead: list[str] = []
    if status == "succeeded" and kind == "simulate":
        scenario = (job.get("params") or {}).get("scenario") or {}
        lead, summary = shock_summary(result, scenario)
        blocks = [summary, *shock_blocks(result), inputs_block(scenario)]
        editions = dict(result.get("data_editions") or {})
        title = f"Scenario {result.get('scenario', '')}: results"
    elif status == "succeeded" and kind in ("price", "price_submitted"):
        blocks = price_blocks(result)
        editions = dict((result.get("metadata") or {}).get("data_editions") or {})
        title = "Reference prices from the members' submitted deals"
    elif status == "succeeded" and kind == "montecarlo":
        blocks = ranking_blocks(result)
        meta = result.get("metadata") or {}
        editions = dict(meta.get("data_editions") or {})
        title = "Monte Carlo risk ranking"
        p = meta.get("parameters") or {}
        lead = [
            f"{int(p.get('n_scenarios', 0)):,} random restriction scenarios (seed {p.get('seed')}) over "
            f"{p.get('horizon_months')} months; VaR and CVaR at the "
            f"{100 * float(p.get('var_level', 0)):.0f}% level; backend {result.get('backend', 'local')}; "
            f"members' losses allocated by {p.get('member_allocation', 'import share')}."
        ]
    intro = ""
    if kind == "simulate" and status == "succeeded":
        intro = (f"Total loss {result.get('total_loss_usd', 0):,.0f} USD over {result.get('horizon_months')} "
                 f"months; parameter set {result.get('parameter_digest', '')}.")  # fmt: skip
    return Page(
        name="job",
        title=title,
        blocks=blocks,
        editions=editions or dict(DATA_EDITIONS),
        intro=intro,
        template="job.html",
        context={"job": job, "lead": lead},
        csv_base=f"/scenarios/jobs/{job['id']}/download.csv",
    )


class _ScenarioRoutes:
    """The handlers of :func:`build_scenarios_router`, sharing its navigation and settings."""

    def __init__(self, nav: list[tuple[str, str, str]]) -> None:
        self.nav = nav
        self.env = environment()

    def error_html(self, message: str, status: int) -> HTMLResponse:
        html = self.env.get_template("error.html").render(
            message=message, status=status, nav=self.nav, user=""
        )
        return HTMLResponse(html, status_code=status)

    async def _signed_in(self, request: Request) -> tuple[str, Me] | None:
        token = token_of(request)
        me = await whoami(request, token)
        return (token, me) if token is not None and me is not None else None

    async def _jobs(self, request: Request, token: str) -> list[dict[str, Any]]:
        r = await call(request, "GET", "/jobs", token)
        jobs = r.json() if r.status_code == 200 else []
        mine = [j for j in jobs if j.get("kind") in LAB_KINDS]
        return sorted(mine, key=lambda j: str(j.get("created_at", "")), reverse=True)[:10]

    async def lab(self, request: Request) -> Response:
        auth = await self._signed_in(request)
        jobs = await self._jobs(request, auth[0]) if auth else []
        return HTMLResponse(_lab_html(self.nav, auth[1] if auth else None, jobs))

    async def _submit(self, request: Request, token: str, kind: str, params: dict[str, Any]) -> Response:
        r = await call(request, "POST", "/jobs", token, json={"kind": kind, "params": params})
        if r.status_code != 202:
            return self.error_html(
                f"The service refused the {kind} job ({r.status_code}): {r.text[:500]}", r.status_code
            )
        return RedirectResponse(f"/scenarios/jobs/{r.json()['id']}", status_code=303)

    async def run(self, request: Request) -> Response:
        """Validate the scenario (form, YAML upload or bundled example), then submit a ``simulate`` job."""
        form = await checked_form(request)
        auth = await self._signed_in(request)
        if auth is None:
            return self.error_html("Sign in (Members) with your API token to run scenarios.", 401)
        token, me = auth
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        upload = form.get("yaml")
        try:
            if upload is not None and not isinstance(upload, str) and upload.filename:
                raw = await upload.read(MAX_YAML_BYTES + 1)
                if len(raw) > MAX_YAML_BYTES:
                    raise ScenarioInputError(f"{upload.filename}: larger than {MAX_YAML_BYTES:,} bytes")
                scenario = scenario_from_yaml(raw.decode("utf-8", errors="replace"), upload.filename)
            elif fields.get("example"):
                name = fields["example"]
                if name not in bundled_examples():
                    raise ScenarioInputError(f"example {name!r}: expected one of {bundled_examples()}")
                text = (
                    resources.files("critmin.scenarios").joinpath(f"{name}.yaml").read_text(encoding="utf-8")
                )
                scenario = scenario_from_yaml(text, f"critmin/scenarios/{name}.yaml")
            else:
                check_choice(_choices(), fields.get("material", ""), fields.get("stage", ""),
                             fields.get("exporter", "").strip())  # fmt: skip
                scenario = compose_scenario(fields)
        except ScenarioInputError as err:
            jobs = await self._jobs(request, token)
            return HTMLResponse(_lab_html(self.nav, me, jobs, form=fields, error=str(err)))
        return await self._submit(request, token, "simulate", {"scenario": scenario})

    async def montecarlo(self, request: Request) -> Response:
        """Submit a ``montecarlo`` job (scenarios, seed, horizon)."""
        form = await checked_form(request)
        auth = await self._signed_in(request)
        if auth is None:
            return self.error_html("Sign in (Members) with your API token to run the Monte Carlo.", 401)
        params: dict[str, Any] = {}
        for name in ("n_scenarios", "seed", "horizon_months"):
            raw = str(form.get(name) or "").strip()
            if raw:
                if not raw.isdigit():
                    jobs = await self._jobs(request, auth[0])
                    msg = f"form field {name}: value {raw!r}; expected a whole number"
                    return HTMLResponse(_lab_html(self.nav, auth[1], jobs, error=msg))
                params[name] = int(raw)
        return await self._submit(request, auth[0], "montecarlo", params)

    async def submitted_prices(self, request: Request) -> Response:
        """Secretariat: reference prices from the members' submitted deals (the ``price_submitted`` job)."""
        form = await checked_form(request)
        auth = await self._signed_in(request)
        if auth is None:
            return self.error_html("Sign in (Members) with the secretariat's token.", 401)
        if auth[1].role != "secretariat":
            return self.error_html(
                "Reference prices from the members' deals are assessed by the secretariat.", 403
            )
        params = {"as_of": str(form.get("as_of") or ""), "window_days": str(form.get("window_days") or "30")}
        return await self._submit(request, auth[0], "price_submitted", params)

    async def _job(self, request: Request, job_id: str) -> dict[str, Any] | Response:
        auth = await self._signed_in(request)
        if auth is None:
            return self.error_html("Sign in (Members) with your API token to see your jobs.", 401)
        r = await call(request, "GET", f"/jobs/{job_id}", auth[0])
        if r.status_code != 200:
            return self.error_html(JOB_NOT_FOUND, 404 if r.status_code in (403, 404, 422) else r.status_code)
        job: dict[str, Any] = r.json()
        return job

    async def show_job(self, job_id: str, request: Request) -> Response:
        job = await self._job(request, job_id)
        if isinstance(job, Response):
            return job
        return HTMLResponse(render_page(job_page(job), self.nav))

    async def job_status(self, job_id: str, request: Request) -> Response:
        """Status, progress and message of a job (polled by the progress bar)."""
        job = await self._job(request, job_id)
        if isinstance(job, Response):
            return JSONResponse({"detail": JOB_NOT_FOUND}, status_code=job.status_code)
        return JSONResponse({k: job.get(k) for k in ("status", "progress", "message", "error")})

    async def job_csv(self, job_id: str, request: Request, block: str = "") -> Response:
        job = await self._job(request, job_id)
        if isinstance(job, Response):
            return Response(JOB_NOT_FOUND + "\n", job.status_code, media_type="text/plain")
        try:
            frame = job_page(job).block(block).frame
        except PageError as err:
            return Response(f"{err}\n", err.status, media_type="text/plain")
        name = (job.get("result") or {}).get("scenario") or job["kind"]
        return csv_response(frame, f"{job['kind']}-{name}-{block}")

    async def job_pdf(self, job_id: str, request: Request) -> Response:
        """The PDF brief of a finished scenario (:func:`critmin.web.brief.scenario_brief`)."""
        import re

        from critmin.web.brief import scenario_brief

        job = await self._job(request, job_id)
        if isinstance(job, Response):
            return Response(JOB_NOT_FOUND + "\n", job.status_code, media_type="text/plain")
        if job["kind"] != "simulate" or job["status"] != "succeeded":
            return Response("A brief is made of a finished scenario run.\n", 409, media_type="text/plain")
        name = re.sub(r"[^A-Za-z0-9._-]+", "-", str(job["result"].get("scenario") or "scenario"))
        headers = {"Content-Disposition": f'attachment; filename="critmin-brief-scenario-{name}.pdf"'}
        return Response(scenario_brief(job_page(job)), media_type="application/pdf", headers=headers)


def build_scenarios_router(nav: list[tuple[str, str, str]]) -> APIRouter:
    """Routes of the scenario lab."""
    router = APIRouter(include_in_schema=False)
    h = _ScenarioRoutes(nav)
    router.add_api_route("/scenarios", h.lab, methods=["GET"])
    router.add_api_route("/scenarios/run", h.run, methods=["POST"])
    router.add_api_route("/scenarios/montecarlo", h.montecarlo, methods=["POST"])
    router.add_api_route("/prices/submitted", h.submitted_prices, methods=["POST"])
    router.add_api_route("/scenarios/jobs/{job_id}", h.show_job, methods=["GET"])
    router.add_api_route("/scenarios/jobs/{job_id}/status", h.job_status, methods=["GET"])
    router.add_api_route("/scenarios/jobs/{job_id}/download.csv", h.job_csv, methods=["GET"])
    router.add_api_route("/scenarios/jobs/{job_id}/brief.pdf", h.job_pdf, methods=["GET"])
    return router
