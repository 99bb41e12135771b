"""The dashboard's FastAPI router: one GET route per page, CSV downloads of every block, Plotly's JS."""

from __future__ import annotations

import gzip
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from critmin.web.page import Builder, PageError
from critmin.web.render import NAV, csv_response, render_error, render_page
from critmin.web.security import checked_form

logger = logging.getLogger(__name__)

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
    from critmin.web.risk import build_risk
    from critmin.web.stake import build_stake

    return [
        PageRoute("overview", "/", build_overview),
        PageRoute("material", "/materials", build_material),
        PageRoute("prices", "/prices", build_prices),
        PageRoute("plan", "/plan", build_plan),
        PageRoute("risk", "/risk", build_risk),
        PageRoute("stake", "/stake", build_stake),
    ]


def _nav(routes: list[PageRoute]) -> list[tuple[str, str, str]]:
    have = {r.name for r in routes}
    return [item for item in NAV if item[0] in have]


def _nav_with_members(nav: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """The page routes' navigation plus the routed areas (scenario lab, reserve, members), in NAV order."""
    have = {n[0] for n in nav} | {"scenarios", "reserve", "members"}
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


Nav = list[tuple[str, str, str]]


def _html_handler(route: PageRoute, nav: Nav) -> Callable[[Request], HTMLResponse]:
    """The GET handler of a page route: the page, or an error page naming what failed."""

    def handler(request: Request) -> HTMLResponse:
        try:
            page = route.builder(_params(request))
        except PageError as err:
            return HTMLResponse(render_error(str(err), err.status, nav), status_code=err.status)
        except Exception as err:  # a library failure still answers with a page that says what failed
            logger.exception("page %s failed", route.name)
            message = f"The {route.name} page could not be built: {type(err).__name__}: {err}"
            return HTMLResponse(render_error(message, 500, nav), status_code=500)
        return HTMLResponse(render_page(page, nav))

    handler.__name__ = f"page_{route.name}"
    return handler


def _csv_handler(by_name: dict[str, PageRoute]) -> Callable[..., Response]:
    """``/download.csv``: the data of one block of a page (named after its content)."""

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
        # named after its content: page, the page's parameters (material, year, ...) and the block
        name = "-".join([page, *(str(v) for _, v in sorted(params.items())), block])
        return csv_response(frame, name)

    return csv_download


def _assess_handler(by_name: dict[str, PageRoute], nav: Nav) -> Callable[..., Any]:
    """``POST /prices/assess``: reference prices of an uploaded deals file (not stored)."""

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

    return prices_assess


def _pdf_handler(by_name: dict[str, PageRoute]) -> Callable[..., Response]:
    """``/materials/brief.pdf``: the PDF brief of a material page."""

    def material_pdf(request: Request) -> Response:
        """The PDF brief of a material page (``?material=``): its message, key facts, largest producers,
        sources and editions (:mod:`critmin.web.brief`)."""
        from critmin.web.brief import material_brief

        try:
            page = by_name["material"].builder(_params(request))
        except PageError as err:
            return Response(f"{err}\n", err.status, media_type="text/plain")
        name = page.params.get("material", "material")
        headers = {"Content-Disposition": f'attachment; filename="critmin-brief-{name}.pdf"'}
        return Response(material_brief(page), media_type="application/pdf", headers=headers)

    return material_pdf


def build_router() -> APIRouter:
    """The dashboard router: pages, ``/download.csv?page=..&block=..``, ``/vendor/plotly.min.js``.

    Path parameters are avoided (pages take query parameters) so that the service's route-table tests
    need no mapping for them; member pages use ``{member_id}`` and are refused to other accounts.
    """
    from critmin.web.compare import build_compare_router
    from critmin.web.members import build_members_router
    from critmin.web.positions import build_positions_router
    from critmin.web.published import build_published_router
    from critmin.web.reserve import build_operations_router
    from critmin.web.reserve_jobs import build_reserve_router
    from critmin.web.scenarios import build_scenarios_router

    routes = page_routes()
    nav = _nav_with_members(_nav(routes))
    by_name = {r.name: r for r in routes}
    router = APIRouter(include_in_schema=False)
    for route in routes:
        handler = _html_handler(route, nav)
        router.add_api_route(route.path, handler, methods=["GET"], response_class=HTMLResponse)
    router.add_api_route("/prices/assess", _assess_handler(by_name, nav), methods=["POST"])

    router.add_api_route("/materials/brief.pdf", _pdf_handler(by_name), methods=["GET"])
    router.add_api_route("/download.csv", _csv_handler(by_name), methods=["GET"])
    router.include_router(build_members_router(nav))
    router.include_router(build_published_router(nav))
    router.include_router(build_compare_router(nav))
    router.include_router(build_operations_router(nav))
    router.include_router(build_reserve_router(nav))
    router.include_router(build_positions_router(nav))
    router.include_router(build_scenarios_router(nav))
    router.add_api_route("/vendor/plotly.min.js", plotly_js, methods=["GET"])
    router.add_api_route("/vendor/plotly-full.min.js", plotly_full_js, methods=["GET"])
    return router
