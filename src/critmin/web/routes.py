"""The dashboard's FastAPI router: one GET route per page, CSV downloads of every block, Plotly's JS."""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from critmin.web.page import Builder, PageError
from critmin.web.render import NAV, render_error, render_page
from critmin.web.security import checked_form

_SLUG_SAFE = re.compile(r"[^a-z0-9-]")
MAX_UPLOAD_BYTES = 10_000_000


@dataclass(frozen=True)
class PageRoute:
    """A page: its name (used in CSV links), URL path (may hold ``{params}``) and builder."""

    name: str
    path: str
    builder: Builder


def page_routes() -> list[PageRoute]:
    """Every page the dashboard serves."""
    from critmin.web.material import build_material
    from critmin.web.overview import build_overview
    from critmin.web.plan import build_plan
    from critmin.web.prices import build_prices
    from critmin.web.reserve import build_reserve
    from critmin.web.stake import build_stake

    return [
        PageRoute("overview", "/", build_overview),
        PageRoute("material", "/materials", build_material),
        PageRoute("reserve", "/reserve", build_reserve),
        PageRoute("prices", "/prices", build_prices),
        PageRoute("plan", "/plan", build_plan),
        PageRoute("stake", "/stake", build_stake),
    ]


def _nav(routes: list[PageRoute]) -> list[tuple[str, str, str]]:
    have = {r.name for r in routes}
    return [item for item in NAV if item[0] in have]


def _nav_with_members(nav: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """The navigation of the page routes plus the routed areas (scenario lab, members), in NAV order."""
    have = {n[0] for n in nav} | {"scenarios", "members"}
    return [item for item in NAV if item[0] in have]


def _params(request: Request) -> dict[str, str]:
    params = dict(request.query_params)
    params.update({k: str(v) for k, v in request.path_params.items()})
    return params


# trace types of the partial bundle (static/vendor/plotly-critmin.min.js; keep equal to its entry file)
BUNDLED_TRACES = ("bar", "scatter", "histogram", "choropleth", "sankey")
JS_HEADERS = {"Cache-Control": "public, max-age=86400", "Vary": "Accept-Encoding"}


@cache
def _asset(name: str) -> tuple[bytes, bytes]:
    """A vendored script and its gzip encoding (compressed once per process)."""
    if name == "plotly-full":
        data = resources.files("plotly").joinpath("package_data", "plotly.min.js").read_bytes()
    else:
        data = resources.files("critmin.web").joinpath("static", "vendor", f"{name}.min.js").read_bytes()
    return data, gzip.compress(data, compresslevel=9, mtime=0)


def _script(request: Request, name: str) -> Response:
    data, packed = _asset(name)
    if "gzip" in request.headers.get("accept-encoding", "").lower():
        headers = {**JS_HEADERS, "Content-Encoding": "gzip"}
        return Response(packed, media_type="text/javascript", headers=headers)
    return Response(data, media_type="text/javascript", headers=JS_HEADERS)


def plotly_js(request: Request) -> Response:
    """The dashboard's partial Plotly bundle (:data:`BUNDLED_TRACES`), gzip-encoded when accepted."""
    return _script(request, "plotly-critmin")


def plotly_full_js(request: Request) -> Response:
    """Plotly's full bundle from the installed plotly package, for a figure with another trace type."""
    return _script(request, "plotly-full")


def build_router() -> APIRouter:
    """The dashboard router: pages, ``/download.csv?page=..&block=..``, ``/vendor/plotly.min.js``.

    Path parameters are avoided (pages take query parameters) so that the service's route-table tests
    need no mapping for them; member pages use ``{member_id}`` and are refused to other accounts.
    """
    from critmin.web.members import build_members_router
    from critmin.web.published import build_published_router
    from critmin.web.reserve import build_operations_router
    from critmin.web.scenarios import build_scenarios_router

    routes = page_routes()
    nav = _nav_with_members(_nav(routes))
    by_name = {r.name: r for r in routes}
    router = APIRouter(include_in_schema=False)

    def html_handler(route: PageRoute) -> Callable[[Request], HTMLResponse]:
        def handler(request: Request) -> HTMLResponse:
            try:
                page = route.builder(_params(request))
            except PageError as err:
                return HTMLResponse(render_error(str(err), err.status, nav), status_code=err.status)
            return HTMLResponse(render_page(page, nav))

        handler.__name__ = f"page_{route.name}"
        return handler

    for route in routes:
        router.add_api_route(route.path, html_handler(route), methods=["GET"], response_class=HTMLResponse)

    def csv_download(request: Request, page: str = "", block: str = "") -> Response:
        """The data of one block of a page as CSV (the page's own parameters in the query)."""
        route = by_name.get(page)
        if route is None:
            return Response(
                f"no page {page!r}; expected one of {sorted(by_name)}\n", 404, media_type="text/plain"
            )
        params = {k: v for k, v in _params(request).items() if k not in ("page", "block")}
        try:
            frame = route.builder(params).block(block).frame
        except PageError as err:
            return Response(f"{err}\n", err.status, media_type="text/plain")
        text = frame.to_csv(index=False, lineterminator="\n")
        headers = {"Content-Disposition": f'attachment; filename="{page}-{_SLUG_SAFE.sub("", block)}.csv"'}
        return Response(text, media_type="text/csv; charset=utf-8", headers=headers)

    async def prices_assess(request: Request) -> Response:
        """Reference prices assessed from an uploaded deals file, shown on the prices page (not stored)."""
        from critmin.web.prices import assess_upload

        form = await checked_form(request)
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            assessment = {"ok": False, "error": "choose a deals CSV file"}
        else:
            raw = await upload.read(MAX_UPLOAD_BYTES + 1)
            if len(raw) > MAX_UPLOAD_BYTES:
                assessment = {"ok": False, "error": f"file larger than {MAX_UPLOAD_BYTES:,} bytes"}
            else:
                try:
                    text = raw.decode("utf-8-sig")
                except UnicodeDecodeError as err:
                    assessment = {"ok": False, "error": f"file {upload.filename!r} is not UTF-8: {err}"}
                else:
                    assessment = assess_upload(
                        text,
                        upload.filename or "upload.csv",
                        str(form.get("as_of") or ""),
                        str(form.get("window_days") or "30"),
                    )
        page = by_name["prices"].builder({})
        page = replace(page, context={**page.context, "assessment": assessment})
        return HTMLResponse(render_page(page, nav))

    router.add_api_route("/prices/assess", prices_assess, methods=["POST"])
    router.add_api_route("/download.csv", csv_download, methods=["GET"])
    router.include_router(build_members_router(nav))
    router.include_router(build_published_router(nav))
    router.include_router(build_operations_router(nav))
    router.include_router(build_scenarios_router(nav))
    router.add_api_route("/vendor/plotly.min.js", plotly_js, methods=["GET"])
    router.add_api_route("/vendor/plotly-full.min.js", plotly_full_js, methods=["GET"])
    return router
