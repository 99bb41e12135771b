"""The FastAPI application: ``/healthz``, the versioned API under ``/api/v1`` and a ``/`` mount point
for the dashboard. Migrations run on start-up."""

from __future__ import annotations

import gc
import os
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

import critmin
from critmin.api.errors import ALL_ERRORS, ERRORS, install_error_handlers
from critmin.api.exposure_jobs import EXPOSURE_KIND, exposure_job_kind, start_queue_precompute
from critmin.api.exposure_queue import ExposureQueue
from critmin.api.guard import Guard
from critmin.api.jobs import LEASE_SECONDS, JobKind, JobRunner, Worker
from critmin.api.routers import analytics, audit, jobs, members, price_releases, reserves, submissions
from critmin.store import Store, database_url
from critmin.web import mount as mount_dashboard

API_PREFIX = "/api/v1"
PRECOMPUTE_ENV = "CRITMIN_EXPOSURE_PRECOMPUTE"
DOCS_ASSETS = "/docs-assets"  # Swagger UI's files, served from the swagger-ui-bundle-v2 package (no CDN)


def default_job_kinds(store: Store) -> dict[str, JobKind]:
    """The job kinds wired to the library (see :mod:`critmin.api.job_kinds`)."""
    from critmin.api.job_kinds import library_job_kinds

    return library_job_kinds(store)


def create_app(
    store: Store | None = None,
    *,
    job_kinds: Mapping[str, JobKind] | None = None,
    job_workers: int = 2,
    embedded_worker: bool = True,
    lease_seconds: float = LEASE_SECONDS,
    precompute_exposure: bool = False,
    wake: Callable[[], None] | None = None,
    freeze_gc: bool = False,
) -> FastAPI:
    """The service app on ``store`` (default: :func:`critmin.store.database_url`). With ``embedded_worker``
    this process also runs ``job_workers`` threads on the job queue and one of its own for the exposure
    jobs (:mod:`critmin.api.exposure_jobs`); without, the jobs run elsewhere (``critmin serve``'s worker
    process, ``critmin worker``) and ``wake`` (if any) is called when this process queued a job
    (:mod:`critmin.api.wake`). ``precompute_exposure`` (unless ``CRITMIN_EXPOSURE_PRECOMPUTE=0``) queues
    the exposure jobs of the default year and group at start-up (once per data edition for every API
    process). ``freeze_gc``: :func:`_freeze_gc` (process-wide: the service's processes, not tests)."""
    store = store if store is not None else Store(database_url())
    kinds = dict(job_kinds) if job_kinds is not None else default_job_kinds(store)
    kinds.setdefault(EXPOSURE_KIND, exposure_job_kind())  # submitted like any kind; run by exposure threads
    precompute = precompute_exposure and os.environ.get(PRECOMPUTE_ENV, "1") != "0"

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from critmin.atlas import load_atlas
        from critmin.options import options

        load_atlas(strict=options().strict_atlas)  # refuse to serve an inconsistent atlas (names the problem)
        store.upgrade()
        # stops what it started, even if another lifespan of this app (a test client's) replaced app.state's
        jobs_runner, exposure_worker, notify = _start_workers(
            app, store, kinds, job_workers if embedded_worker else 0, lease_seconds, wake
        )
        app.state.exposure_queue = exposure_queue = ExposureQueue(store, notify)
        analytics.warm(exposure_queue)  # the atlas, its pairs and the miss path before serving
        queuing = start_queue_precompute(store, notify) if precompute else None
        if freeze_gc:
            _freeze_gc()
        try:
            yield
        finally:
            if queuing is not None:
                queuing.join()
            exposure_queue.close()
            if exposure_worker is not None:
                exposure_worker.stop()
            jobs_runner.shutdown()
            store.dispose()

    app = FastAPI(
        title="critmin alliance service",
        version=critmin.__version__,
        description="Exposure and analytics reads, background jobs, confidential member submissions, "
        "reserve operations with their ledger, and a hash-chained audit log.",
        lifespan=lifespan,
        docs_url=None,  # served by _mount_docs with local assets
        redoc_url=None,  # ReDoc loads from a CDN; Swagger UI at /docs is the one API browser
    )
    app.state.store = store
    _mount_docs(app)
    app.add_middleware(Guard)
    install_error_handlers(app)

    @app.get("/healthz", tags=["health"], responses=ERRORS)
    def healthz() -> dict[str, str]:
        """Liveness: the process answers and the database is reachable."""
        from sqlalchemy import text

        with store.read() as s:
            s.execute(text("SELECT 1"))
        return {"status": "ok", "version": critmin.__version__, "database": store.dialect}

    v1 = APIRouter(prefix=API_PREFIX, responses=ALL_ERRORS)
    for module in (analytics, members, submissions, reserves, jobs, audit, price_releases):
        v1.include_router(module.router)
    app.include_router(v1)
    mount_dashboard(app)
    _mount_dashboard(app)
    return app


def _start_workers(
    app: FastAPI,
    store: Store,
    kinds: Mapping[str, JobKind],
    threads: int,
    lease_seconds: float,
    wake: Callable[[], None] | None,
) -> tuple[JobRunner, Worker | None, Callable[[], None]]:
    """The app's job runner and, with ``threads`` (0: none, the jobs run in another process), its embedded
    workers: ``threads`` for the users' jobs and one for the exposure jobs. Returns the runner, the
    exposure worker and what wakes whoever runs the exposure jobs."""
    general = {name: kind for name, kind in kinds.items() if name != EXPOSURE_KIND}
    worker = Worker(store, general, threads, lease_seconds=lease_seconds) if threads else None
    app.state.jobs = runner = JobRunner(store, kinds, worker, wake)
    runner.start()
    exposure = None
    if threads:
        exposure = Worker(store, {EXPOSURE_KIND: kinds[EXPOSURE_KIND]}, 1, lease_seconds=lease_seconds)
        exposure.start()
    app.state.exposure_worker = exposure
    app.state.notify_exposure = notify = exposure.notify if exposure is not None else (wake or _nobody)
    return runner, exposure, notify


def _freeze_gc() -> None:
    """Move every object alive after start-up out of the garbage collector's sight (:func:`gc.freeze`): a
    full collection of the ~240,000 objects of the atlas, the app and the libraries took ~200 ms, during
    which the process answered nothing. The start-up's garbage is collected first (what is frozen is
    never collected)."""
    gc.collect()
    gc.freeze()


def _nobody() -> None:
    """No worker to wake in this process (another process polls the queue)."""


def _mount_docs(app: FastAPI) -> None:
    """Swagger UI at ``/docs`` with its JavaScript, CSS and icon served from this host (works offline)."""
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.responses import HTMLResponse
    from fastapi.staticfiles import StaticFiles
    from swagger_ui_bundle import swagger_ui_path

    app.mount(DOCS_ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="swagger-ui-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} - API",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon-32x32.png",
            swagger_ui_parameters={"validatorUrl": None},  # no badge fetched from validator.swagger.io
        )


EMBEDDED_WORKER_ENV = "CRITMIN_EMBEDDED_WORKER"
JOB_THREADS_ENV = "CRITMIN_JOB_THREADS"
JOB_LEASE_ENV = "CRITMIN_JOB_LEASE"


def app_from_env() -> FastAPI:
    """The app of one of several API processes (``critmin serve --workers N``, which sets
    ``CRITMIN_EMBEDDED_WORKER=0``: its worker process runs the jobs and listens at ``CRITMIN_JOB_WAKE``):
    the database of ``CRITMIN_DATABASE_URL``; an embedded worker (``CRITMIN_JOB_THREADS`` threads, leases
    of ``CRITMIN_JOB_LEASE`` seconds) unless ``CRITMIN_EMBEDDED_WORKER=0``."""
    from critmin.api.wake import WAKE_ENV, waker

    return create_app(
        embedded_worker=os.environ.get(EMBEDDED_WORKER_ENV, "1") != "0",
        job_workers=int(os.environ.get(JOB_THREADS_ENV, "2")),
        lease_seconds=float(os.environ.get(JOB_LEASE_ENV, str(LEASE_SECONDS))),
        precompute_exposure=True,
        wake=waker(os.environ.get(WAKE_ENV)),
        freeze_gc=True,
    )


def _mount_dashboard(app: FastAPI) -> None:
    """Mount the dashboard at ``/`` (mount point kept for ``critmin.web``)."""
    from fastapi.responses import HTMLResponse

    @app.get("/", include_in_schema=False, response_class=HTMLResponse)
    def index() -> str:
        return (
            "<!doctype html><title>critmin</title><h1>critmin alliance service</h1>"
            f'<p>API: <a href="/docs">/docs</a> · <a href="/openapi.json">/openapi.json</a> · '
            f'<a href="{API_PREFIX}/aggregates">{API_PREFIX}/aggregates</a></p>'
        )
