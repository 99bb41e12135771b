"""The dashboard: server-rendered pages over the library and the service's endpoints.

The dashboard adds no modelling of its own: every page calls library functions (atlas, analytics,
disruption, ...) and every chart or table on a page is also served as CSV by ``/csv/<page>/<table>.csv``
from the same builder. Static files (styles, scripts, the world topojson) and Plotly's bundled JavaScript
are served from this package: a page makes no request outside the server it came from.

Use :func:`mount` to add the dashboard to a FastAPI app.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from critmin.web.page import STATIC_PATH

if TYPE_CHECKING:
    from fastapi import FastAPI


def mount(app: FastAPI) -> None:
    """Add the dashboard's pages, CSV downloads and static files to ``app``."""
    from fastapi import Request
    from fastapi.responses import HTMLResponse
    from fastapi.staticfiles import StaticFiles

    from critmin.web.render import render_error
    from critmin.web.routes import build_router
    from critmin.web.security import CsrfCookie, CsrfRefused

    async def refused(request: Request, exc: Exception) -> HTMLResponse:
        return HTMLResponse(render_error(f"Refused: {exc}.", 403, []), status_code=403)

    from starlette.middleware.gzip import GZipMiddleware

    app.add_middleware(CsrfCookie)
    app.add_middleware(GZipMiddleware, minimum_size=1000)  # pages, CSV and topojson; Plotly is pre-compressed
    app.add_exception_handler(CsrfRefused, refused)
    app.include_router(build_router())
    app.mount(STATIC_PATH, StaticFiles(packages=[("critmin.web", "static")]), name="dashboard-static")


__all__ = ["STATIC_PATH", "mount"]
