"""Service commands: ``critmin serve``, ``critmin worker``, ``critmin db upgrade``, ``critmin audit verify``,
``critmin token create``. SQLAlchemy, FastAPI and uvicorn are imported inside the commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from critmin.cli.app import app
from critmin.cli.output import Format, emit_object

db_app = typer.Typer(
    help="The service database (SQLite default or CRITMIN_DATABASE_URL).", no_args_is_help=True
)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens (stored hashed; shown once).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(audit_app, name="audit")
app.add_typer(token_app, name="token")

DatabaseOpt = Annotated[
    str | None,
    typer.Option("--database-url", help="SQLAlchemy URL (default: CRITMIN_DATABASE_URL or the SQLite file)."),
]


def _url(explicit: str | None) -> str:
    from critmin.store.config import database_url

    return explicit or database_url()


SchedulerOpt = Annotated[
    str | None,
    typer.Option("--scheduler", help="Dask scheduler address for the Monte Carlo of heavy job kinds."),
]
LeaseOpt = Annotated[
    float, typer.Option("--lease", min=1.0, max=3600.0, help="Seconds a job lease lasts between heartbeats.")
]


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    database_url: DatabaseOpt = None,
    seed: Annotated[bool, typer.Option(help="Create the demo alliance on an empty database.")] = True,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64, help="API processes (uvicorn).")] = 1,
    run_worker: Annotated[
        bool,
        typer.Option(
            "--worker/--no-worker",
            help="Run the jobs in a child process (`critmin worker` at lower CPU priority, restarted if it "
            "dies, stopped with serve); --no-worker: none (start `critmin worker` apart).",
        ),
    ] = True,
    job_threads: Annotated[
        int, typer.Option(min=1, max=64, help="Threads of that worker for the users' jobs.")
    ] = 2,
    scheduler: SchedulerOpt = None,
    lease: LeaseOpt = 30.0,
) -> None:
    """Start the API and the dashboard (migrations run first; demo tokens are printed once). The API
    processes run no job: a worker process started here does, unless ``--no-worker`` (then start
    ``critmin worker``)."""
    import os

    from critmin.api.job_kinds import DASK_ENV
    from critmin.api.worker_process import WORKER_NICE, WorkerProcess, worker_command
    from critmin.store import Store

    url = _url(database_url)
    store = Store(url)
    store.upgrade()
    if seed:
        _print_demo_tokens(store)
    store.dispose()
    if scheduler:
        os.environ[DASK_ENV] = scheduler
    typer.echo(
        f"critmin service on http://{host}:{port}  (database: {store.dialect}, API: /api/v1, docs: /docs)"
    )
    wake_dir, wake_path = _wake_path() if run_worker else (None, None)
    child = None
    if run_worker:
        command = worker_command(job_threads, lease, WORKER_NICE, wake_path)
        child = WorkerProcess(command, env={**os.environ, "CRITMIN_DATABASE_URL": url})
    where = (
        f"a child process (critmin worker, nice +{WORKER_NICE}): {job_threads} thread(s), 1 for exposure"
        if child
        else "none (start critmin worker)"
    )
    typer.echo(f"API processes: {workers}; job workers: {where}")
    _exit_on_sigterm()
    try:
        if child is not None:
            child.start()
        _run_api(host, port, workers, url, lease, wake_path)
    finally:
        if child is not None:
            child.stop()
        if wake_dir is not None:
            import shutil

            shutil.rmtree(wake_dir, ignore_errors=True)


def _wake_path() -> tuple[str | None, str | None]:
    """A private directory and the path of the worker's wake socket in it (none where Unix sockets are
    missing: the worker then polls)."""
    import os
    import tempfile

    if os.name != "posix":
        return None, None
    wake_dir = tempfile.mkdtemp(prefix="critmin-serve-")
    return wake_dir, os.path.join(wake_dir, "wake.sock")


def _exit_on_sigterm() -> None:
    """SIGTERM ends serve through its ``finally`` (uvicorn re-raises the signal once it has stopped; by
    default that would end the process before the worker process is stopped)."""
    import signal

    def _exit(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _exit)


def _run_api(host: str, port: int, workers: int, url: str, lease: float, wake_path: str | None) -> None:
    """uvicorn with ``workers`` API processes running no job worker (they wake the worker process)."""
    import os

    import uvicorn

    from critmin.api.app import EMBEDDED_WORKER_ENV, JOB_LEASE_ENV, create_app
    from critmin.api.wake import WAKE_ENV, waker
    from critmin.store import Store

    if workers == 1:
        store = Store(url)
        api = create_app(
            store,
            embedded_worker=False,
            lease_seconds=lease,
            precompute_exposure=True,
            wake=waker(wake_path),
            freeze_gc=True,
        )
        try:
            uvicorn.run(api, host=host, port=port, log_level="info")
        finally:
            store.dispose()  # the app's lifespan disposes it too, but not when uvicorn never started the app
        return
    os.environ["CRITMIN_DATABASE_URL"] = url
    os.environ[EMBEDDED_WORKER_ENV] = "0"
    os.environ[JOB_LEASE_ENV] = str(lease)
    if wake_path:
        os.environ[WAKE_ENV] = wake_path
    uvicorn.run(
        "critmin.api.app:app_from_env", factory=True, host=host, port=port, workers=workers, log_level="info"
    )


def _print_demo_tokens(store: object) -> None:
    from critmin.api.seed import DEMO_ACCOUNTS, seed_demo
    from critmin.store import Store

    assert isinstance(store, Store)
    tokens = seed_demo(store)
    if tokens:
        # plain lines, never a table that a narrow terminal would cut: the tokens must be copyable
        roles = {name: (role, iso3 or "") for name, role, iso3 in DEMO_ACCOUNTS}
        typer.echo("Demo alliance tokens (shown once; stored only as SHA-256):")
        width = max(len(name) for name in tokens)
        for name, token in tokens.items():
            role, iso3 = roles[name]
            typer.echo(f"  {name:<{width}}  {role:<17} {iso3:<4} {token}")


@app.command()
def worker(
    database_url: DatabaseOpt = None,
    threads: Annotated[int, typer.Option(min=1, max=64, help="Jobs run at once by this worker.")] = 2,
    scheduler: SchedulerOpt = None,
    lease: LeaseOpt = 30.0,
    exposure_threads: Annotated[
        int, typer.Option(min=0, max=8, help="Threads for the public exposure jobs, apart (0: none).")
    ] = 1,
    nice: Annotated[
        int, typer.Option(min=0, max=19, help="Lower this process's CPU priority by N (os.nice).")
    ] = 0,
    parent_pid: Annotated[
        int | None, typer.Option(hidden=True, help="Stop when this process ends (critmin serve).")
    ] = None,
    wake_socket: Annotated[
        str | None, typer.Option(hidden=True, help="Unix datagram socket the API wakes this worker on.")
    ] = None,
) -> None:
    """Run job workers apart from the API: claim queued jobs (the users' jobs on ``--threads`` threads,
    the public exposure jobs on threads of their own) from the database, run them, store the outcome;
    stops on SIGINT / SIGTERM (running jobs go back to the queue). ``critmin serve`` starts one itself,
    at ``--nice 10``, unless ``--no-worker``."""
    import contextlib
    import os
    import signal
    import threading

    if nice:
        os.nice(nice)  # before the imports: the whole start-up already yields the CPU
    from critmin.api.app import default_job_kinds
    from critmin.api.exposure_jobs import EXPOSURE_KIND, exposure_job_kind
    from critmin.api.job_kinds import DASK_ENV
    from critmin.api.jobs import Worker
    from critmin.api.wake import WakeListener
    from critmin.api.worker_process import watch_parent
    from critmin.cli.atlas_cmds import checked_atlas
    from critmin.store import Store

    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    if parent_pid is not None:
        watch_parent(parent_pid, stopping.set)
    checked_atlas()  # strict: refuse to run jobs on an inconsistent atlas (names the problem)
    if scheduler:
        os.environ[DASK_ENV] = scheduler
    store = Store(_url(database_url))
    store.upgrade()
    pool = [Worker(store, default_job_kinds(store), threads, lease_seconds=lease)]
    if exposure_threads:
        exposure = {EXPOSURE_KIND: exposure_job_kind()}
        pool.append(Worker(store, exposure, exposure_threads, lease_seconds=lease))
    listener = WakeListener(wake_socket, [w.notify for w in pool]) if wake_socket else None
    kinds = sorted(k for w in pool for k in w.kinds)
    typer.echo(
        f"critmin worker {pool[0].name}: {threads} thread(s) + {exposure_threads} for exposure, "
        f"kinds {kinds} ({store.dialect}{f', nice +{nice}' if nice else ''})"
    )
    try:
        for w in pool:
            w.start()
        while not stopping.wait(1.0):
            pass
    finally:
        if listener is not None:
            listener.close()
            if parent_pid is not None and os.getppid() != parent_pid:  # serve died: nobody else cleans up
                with contextlib.suppress(OSError):
                    os.rmdir(os.path.dirname(listener.path))  # serve's private directory, now empty
        for w in pool:
            w.stop(timeout=0.0)  # every worker stops claiming at once
        for w in pool:
            w.stop()
        store.dispose()


@db_app.command("upgrade")
def db_upgrade(database_url: DatabaseOpt = None) -> None:
    """Apply the migrations up to head."""
    from sqlalchemy import text

    from critmin.store import Store

    store = Store(_url(database_url))
    store.upgrade()
    with store.read() as s:
        revision = s.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    store.dispose()
    typer.echo(f"database at revision {revision} ({store.dialect})")


KeyEnvOpt = Annotated[
    str | None,
    typer.Option("--key-env", help="Name of the environment variable holding the checkpoint HMAC key."),
]


def _hmac_key(key_env: str | None) -> bytes | None:
    import os

    if key_env is None:
        return None
    value = os.environ.get(key_env)
    if not value:
        typer.echo(f"error: environment variable {key_env} is not set (the checkpoint HMAC key)", err=True)
        raise typer.Exit(2)
    return value.encode("utf-8")


def _audited_store(url: str) -> object:
    from sqlalchemy import inspect

    from critmin.store import Store

    store = Store(url)
    if not inspect(store.read_engine).has_table("audit_log"):
        store.dispose()
        typer.echo(f"error: {url} has no audit log (not a critmin database, or never migrated)", err=True)
        raise typer.Exit(2)
    return store


@audit_app.command("verify")
def audit_verify(
    database_url: DatabaseOpt = None,
    checkpoint: Annotated[
        Path | None, typer.Option(help="A head checkpoint exported by `critmin audit checkpoint`.")
    ] = None,
    key_env: KeyEnvOpt = None,
    fmt: Annotated[Format, typer.Option("--format", help="table, csv or json")] = Format.table,
) -> None:
    """Check the audit chain, every data row against the digest the chain recorded for it, and (with
    --checkpoint) that the chain still holds the exported head; exit 1 naming the first problem."""
    from critmin.store import Store
    from critmin.store.audit import Checkpoint, verify

    key = _hmac_key(key_env)
    try:
        head = Checkpoint.from_json(checkpoint.read_text(encoding="utf-8")) if checkpoint else None
    except (OSError, ValueError) as exc:
        typer.echo(f"error: checkpoint {checkpoint}: {exc}", err=True)
        raise typer.Exit(2) from exc
    store = _audited_store(_url(database_url))
    assert isinstance(store, Store)
    try:
        with store.snapshot() as s:
            report = verify(s, head, key)
    finally:
        store.dispose()
    emit_object(
        {
            "ok": report.ok,
            "checked": report.checked,
            "rows_checked": report.rows_checked,
            "first_broken": report.first_broken,
            "reason": report.reason,
            "checkpoint": None if head is None else head.seq,
        },
        fmt,
    )
    if not report.ok:
        typer.echo(f"audit chain broken at entry {report.first_broken}: {report.reason}", err=True)
        raise typer.Exit(1)


@audit_app.command("checkpoint")
def audit_checkpoint(
    out: Annotated[Path, typer.Option("--out", help="File to write the head checkpoint (JSON) to.")],
    database_url: DatabaseOpt = None,
    key_env: KeyEnvOpt = None,
) -> None:
    """Export the head of the audit chain (HMAC-signed with --key-env); keep it outside the database."""
    from critmin.store import Store
    from critmin.store.audit import head

    key = _hmac_key(key_env)
    store = _audited_store(_url(database_url))
    assert isinstance(store, Store)
    try:
        with store.read() as s:
            point = head(s)
    finally:
        store.dispose()
    if key is not None:
        point = point.signed(key)
    out.write_text(point.to_json() + "\n", encoding="utf-8")
    signed = "signed" if key is not None else "unsigned"
    typer.echo(f"checkpoint at entry {point.seq} ({signed}) written to {out}")


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Argument(help="Account name (created when it does not exist).")],
    role: Annotated[
        str, typer.Option(help="secretariat, member, reserve_operator or participant")
    ] = "secretariat",
    iso3: Annotated[str | None, typer.Option(help="ISO3 country of a member account.")] = None,
    label: Annotated[str, typer.Option(help="Note stored with the token.")] = "",
    database_url: DatabaseOpt = None,
) -> None:
    """Issue an API token for an account (the plain token is printed once)."""
    from critmin.store import Store
    from critmin.store.members import Principal, create_member, find_member, issue_token

    cli = Principal(None, "cli", "system", None)
    store = Store(_url(database_url))
    store.upgrade()
    try:
        with store.write() as s:
            member = find_member(s, name)
            if member is None:
                member = create_member(s, cli, name, role, iso3.upper() if iso3 else None)
            elif member.role != role or (iso3 and member.iso3 != iso3.upper()):
                raise ValueError(
                    f"account {name!r} exists with role {member.role!r} and iso3 {member.iso3!r}"
                )
            token = issue_token(s, cli, member, label)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    finally:
        store.dispose()
    typer.echo(token)


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[
        str, typer.Argument(help="Public id of the token (the part between cm_ and the secret).")
    ],
    database_url: DatabaseOpt = None,
) -> None:
    """Revoke a token; exit 1 when there is no such active token."""
    from critmin.store import Store
    from critmin.store.members import Principal, revoke_token

    store = Store(_url(database_url))
    store.upgrade()
    try:
        with store.write() as s:
            done = revoke_token(s, Principal(None, "cli", "system", None), token_id)
    finally:
        store.dispose()
    if not done:
        typer.echo(f"error: no active token {token_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked {token_id}")
