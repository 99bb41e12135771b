"""Runs jobs in the background: a thread pool on the embedded default, with progress and cancellation.

A job kind is a function ``run(params, progress) -> JSON-able result``; ``progress(fraction, message)``
records progress and raises :class:`JobCancelled` once a cancellation was requested, so long work stops at
its next step. Results and errors are stored on the job row.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from critmin.store import Store
from critmin.store.jobs import set_progress, set_status

ProgressFn = Callable[[float, str], None]


class JobCancelled(Exception):
    """Raised inside a job when its cancellation was requested."""


SIGNED_IN_ROLES = ("secretariat", "member", "reserve_operator", "participant")


@dataclass(frozen=True)
class JobKind:
    """A job kind: its parameter model (validated on submission), the function that runs it, and the roles
    allowed to submit it."""

    name: str
    params: type[BaseModel]
    run: Callable[[BaseModel, ProgressFn], Any]
    description: str = ""
    roles: tuple[str, ...] = SIGNED_IN_ROLES


class JobRunner:
    """Executes queued jobs on a thread pool and writes their progress, result or error to the store."""

    def __init__(self, store: Store, kinds: Mapping[str, JobKind], workers: int = 2) -> None:
        self.store = store
        self.kinds = dict(kinds)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="critmin-job")
        self._cancel: dict[str, threading.Event] = {}
        self._futures: dict[str, Future[None]] = {}

    def submit(self, job_id: str, kind: str, params: BaseModel) -> None:
        """Queue a stored job for execution."""
        self._cancel[job_id] = threading.Event()
        self._futures[job_id] = self._pool.submit(self._run, job_id, kind, params)

    def cancel(self, job_id: str) -> None:
        """Signal a running job to stop at its next progress call."""
        event = self._cancel.get(job_id)
        if event is not None:
            event.set()

    def wait(self, job_id: str, timeout: float | None = None) -> None:
        """Block until the job's worker returns (used by tests and the CLI)."""
        future = self._futures.get(job_id)
        if future is not None:
            future.result(timeout=timeout)

    def shutdown(self) -> None:
        """Cancel every job and stop the pool."""
        for event in self._cancel.values():
            event.set()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _run(self, job_id: str, kind: str, params: BaseModel) -> None:
        event = self._cancel[job_id]
        last_write = [0.0]

        def progress(fraction: float, message: str) -> None:
            now = time.monotonic()
            if event.is_set():
                raise JobCancelled
            if now - last_write[0] < 0.2 and fraction < 1.0:
                return
            last_write[0] = now
            with self.store.write() as s:
                status = set_progress(s, job_id, max(0.0, min(1.0, fraction)), message)
            if status in ("cancelling", "cancelled"):
                raise JobCancelled

        with self.store.write() as s:
            set_status(s, job_id, "running", message="started")
        try:
            progress(0.0, "started")
            result = self.kinds[kind].run(params, progress)
        except JobCancelled:
            with self.store.write() as s:
                set_status(s, job_id, "cancelled", message="cancelled on request")
        except Exception as exc:  # a job's failure is stored on the job, never raised into the server
            with self.store.write() as s:
                set_status(s, job_id, "failed", message="failed", error=f"{type(exc).__name__}: {exc}")
        else:
            try:
                with self.store.write() as s:
                    set_status(s, job_id, "succeeded", progress=1.0, message="done", result=result)
            except Exception as exc:  # e.g. a result that cannot be stored: the job fails, visibly
                with self.store.write() as s:
                    set_status(
                        s, job_id, "failed", message="result not stored", error=f"{type(exc).__name__}: {exc}"
                    )
        finally:
            self._cancel.pop(job_id, None)
