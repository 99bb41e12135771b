"""Scenario comparison: two or more finished ``simulate`` runs of the signed-in account side by side, on one
price chart (the price index outside the restricting zone, one line per run and material) and one table
(ban window, peak price, shortfall and loss per run), built from each job's stored result and inputs."""

from __future__ import annotations

from typing import Any

import pandas as pd
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from critmin.provenance import DATA_EDITIONS
from critmin.web import figures
from critmin.web.apiclient import call, token_of, whoami
from critmin.web.page import Block, Page
from critmin.web.render import block_csv, environment, render_page
from critmin.web.scenario_results import shock_summary

MAX_RUNS = 6


def compare_page(jobs: list[dict[str, Any]]) -> Page:
    """The comparison page of finished ``simulate`` jobs (in the order given)."""
    rows: list[dict[str, Any]] = []
    paths: list[dict[str, Any]] = []
    for job in jobs:
        result = job.get("result") or {}
        scenario = (job.get("params") or {}).get("scenario") or {}
        run = f"{result.get('scenario') or scenario.get('name', '')} ({job['id'][:6]})"
        _, summary = shock_summary(result, scenario)
        rows.extend(
            {"run": run, **{str(k): v for k, v in r.items()}} for r in summary.frame.to_dict("records")
        )
        for material, m in result.get("materials", {}).items():
            paths.extend(
                {"run": run, "series": f"{run}: {material}", "month": i, "price_index": v}
                for i, v in enumerate(m["price_index"]["outside"])
            )
    table = pd.DataFrame(rows)
    frame = pd.DataFrame(paths, columns=["run", "series", "month", "price_index"])
    fig = figures.lines(frame, "month", "price_index", "series", "Price outside the restricting zone",
                        "price index (1 = before the shock)")  # fmt: skip
    fig["layout"]["xaxis"] = {"title": {"text": "month"}}
    peaks = table.sort_values("peak price (x pre-shock)", ascending=False) if len(table) else table
    lead = "The runs have no material results."
    if len(peaks):
        top = peaks.iloc[0]
        lead = (f"{len(jobs)} runs compared; the highest peak is {top['peak price (x pre-shock)']:.2f} x the "
                f"pre-shock price ({top['run']}, {top['material']}).")  # fmt: skip
    return Page(
        name="compare",
        title="Scenario comparison",
        blocks=[
            Block("prices", "Price paths of every run", frame, fig, wide=True),
            Block("summary", "Peak price, ban window, shortfall and loss per run", table, wide=True),
        ],
        editions=dict(jobs[0].get("result", {}).get("data_editions") or DATA_EDITIONS),
        intro=lead,
        params={"job": ",".join(j["id"] for j in jobs)},
        csv_base="/scenarios/compare/download.csv",
    )


def build_compare_router(nav: list[tuple[str, str, str]]) -> APIRouter:
    """``/scenarios/compare?job=<id>,<id>...`` and its CSVs (the signed-in account's own runs)."""
    router = APIRouter(include_in_schema=False)

    async def _page(request: Request) -> Page | tuple[int, str]:
        token = token_of(request)
        if await whoami(request, token) is None:
            return 401, "Sign in (Members) to compare your scenario runs."
        ids = [i for i in request.query_params.get("job", "").split(",") if i][:MAX_RUNS]
        if len(ids) < 2:
            return 422, "Choose at least two finished scenario runs to compare (tick them in the lab)."
        jobs = []
        for job_id in ids:
            r = await call(request, "GET", f"/jobs/{job_id}", token)
            job = r.json() if r.status_code == 200 else None
            if job is None or job.get("kind") != "simulate" or job.get("status") != "succeeded":
                return 404, "A chosen run does not exist, belongs to another account or has not finished."
            jobs.append(job)
        return compare_page(jobs)

    def error(status: int, message: str) -> HTMLResponse:
        html = environment().get_template("error.html").render(message=message, status=status, nav=nav)
        return HTMLResponse(html, status_code=status)

    async def show(request: Request) -> Response:
        page = await _page(request)
        return error(*page) if isinstance(page, tuple) else HTMLResponse(render_page(page, nav))

    async def download(request: Request, block: str = "") -> Response:
        page = await _page(request)
        if isinstance(page, tuple):
            return Response(page[1] + "\n", page[0], media_type="text/plain")
        return block_csv(page, block, f"scenario-comparison-{block}")

    router.add_api_route("/scenarios/compare", show, methods=["GET"])
    router.add_api_route("/scenarios/compare/download.csv", download, methods=["GET"])
    return router
