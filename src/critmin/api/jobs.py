"""Job workers: threads that claim jobs from the store's durable queue, run them and store the outcome.

A job kind is a function ``run(params, progress) -> JSON-able result``; ``progress(fraction, message)``
records progress and raises :class:`JobCancelled` once a cancellation was requested, so long work stops at
its next step. A heartbeat thread renews the job's lease while it runs; a worker that dies stops renewing,
and another worker requeues the job when the lease expires (:func:`critmin.store.jobs.reap`).
``critmin worker`` runs them apart from the API (``critmin serve`` starts one as a child process,
:mod:`critmin.api.worker_process`); :func:`critmin.api.app.create_app` embeds a :class:`Worker` in the API
process by default (tests, a single process).
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from critmin.store import Store
from critmin.store.jobs import Claim, claim, finish, has_queued, heartbeat, reap, release

ProgressFn = Callable[[float, str], None]
LEASE_SECONDS = 30.0


class JobCancelled(Exception):
    """Raised inside a job when its cancellation was requested."""


class JobInterrupted(Exception):
    """Raised inside a job when its worker lost the lease or is shutting down (nothing is stored)."""


SIGNED_IN_ROLES = ("secretariat", "member", "reserve_operator", "participant")


@dataclass(frozen=True)
class JobKind:
    """A job kind: its parameter model (validated on submission), the function that runs it, and the roles
    allowed to submit it. A ``once`` kind runs once per owner and parameters: submitting it again while
    its job is queued, running or succeeded returns that job (:func:`critmin.store.jobs.create_job_once`)."""

    name: str
    params: type[BaseModel]
    run: Callable[[BaseModel, ProgressFn], Any]
    description: str = ""
    roles: tuple[str, ...] = SIGNED_IN_ROLES
    once: bool = False


@dataclass
class _Running:
    claim: Claim
    cancel: threading.Event = field(default_factory=threading.Event)
    lost: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    progress: tuple[float, str] = (0.0, "started")


class Worker:
    """``threads`` workers on ``store``'s queue running the jobs of ``kinds`` (others are left queued)."""

    def __init__(
        self,
        store: Store,
        kinds: Mapping[str, JobKind],
        threads: int = 2,
        *,
        lease_seconds: float = LEASE_SECONDS,
        poll_seconds: float = 0.5,
        name: str | None = None,
    ) -> None:
        self.store = store
        self.kinds = dict(kinds)
        self.threads = threads
        self.lease_seconds = lease_seconds
        self.heartbeat_seconds = min(1.0, lease_seconds / 3)
        self.poll_seconds = poll_seconds
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []
        self.reap_seconds = min(5.0, lease_seconds / 4)

    def start(self) -> None:
        """Start the worker threads (no-op when there is no job kind to run)."""
        if not self.kinds or self._threads:
            return
        for i in range(self.threads):
            t = threading.Thread(target=self._loop, args=(f"{self.name}/{i}",), daemon=True, name=f"job-{i}")
            t.start()
            self._threads.append(t)
        reaper = threading.Thread(target=self._reap_loop, daemon=True, name="job-reaper")
        reaper.start()
        self._threads.append(reaper)

    def notify(self) -> None:
        """Wake idle threads (a job was just queued)."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop claiming; running jobs stop at their next step and go back to the queue."""
        self._stop.set()
        self._wake.set()
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        self._threads = [t for t in self._threads if t.is_alive()]  # a later stop() joins them

    def run_forever(self) -> None:
        """Start and block until :meth:`stop` (``critmin worker``)."""
        self.start()
        while not self._stop.is_set():
            self._stop.wait(1.0)

    def _reap_loop(self) -> None:
        """Requeue the jobs of dead workers, even while every job thread is busy."""
        while not self._stop.wait(self.reap_seconds):
            try:
                with self.store.write() as s:
                    requeued = reap(s)
            except Exception:  # the database is unreachable for a moment: try again next round
                continue
            if requeued:
                self._wake.set()

    def _next(self, worker_id: str) -> Claim | None:
        with self.store.read() as s:  # idle polls and wake-ups of other kinds take no write lock
            if not has_queued(s, self.kinds):
                return None
        with self.store.write() as s:
            return claim(s, worker_id, self.kinds, self.lease_seconds)

    def _loop(self, worker_id: str) -> None:
        while not self._stop.is_set():
            try:
                job = self._next(worker_id)
            except Exception:  # the database is unreachable for a moment: retry after the poll interval
                job = None
            if job is None:
                self._wake.wait(self.poll_seconds)
                self._wake.clear()
                continue
            self._execute(_Running(job))

    def _beat(self, run: _Running) -> None:
        while not run.done.wait(self.heartbeat_seconds):
            fraction, message = run.progress
            try:
                with self.store.write() as s:
                    status = heartbeat(s, run.claim, self.lease_seconds, fraction, message)
            except Exception:  # a missed beat; the lease has margin for the next one
                continue
            if status is None:
                run.lost.set()
            elif status == "cancelling":
                run.cancel.set()

    def _progress(self, run: _Running) -> ProgressFn:
        def progress(fraction: float, message: str) -> None:
            run.progress = (max(0.0, min(1.0, fraction)), message)
            if run.lost.is_set() or self._stop.is_set():
                raise JobInterrupted
            if run.cancel.is_set():
                raise JobCancelled

        return progress

    def _execute(self, run: _Running) -> None:
        beat = threading.Thread(target=self._beat, args=(run,), daemon=True)
        beat.start()
        c = run.claim
        outcome: dict[str, Any] = {}
        try:
            kind = self.kinds[c.kind]
            outcome["result"] = kind.run(kind.params.model_validate(c.params), self._progress(run))
        except JobCancelled:
            outcome = {"cancelled": True}
        except JobInterrupted:
            outcome = {"interrupted": True}
        except Exception as exc:  # a job's failure is stored on the job, never raised into the worker
            outcome = {"error": f"{type(exc).__name__}: {exc}"}
        finally:
            run.done.set()
            beat.join()
        self._store_outcome(run, outcome)

    def _store_outcome(self, run: _Running, outcome: dict[str, Any]) -> None:
        c = run.claim
        try:
            with self.store.write() as s:
                if outcome.get("interrupted"):
                    if not run.lost.is_set():
                        release(s, c)
                    return
                finish(s, c, **outcome)
        except Exception as exc:  # e.g. a result that cannot be stored: the job fails, visibly
            with self.store.write() as s:
                finish(s, c, error=f"result not stored: {type(exc).__name__}: {exc}")


class JobRunner:
    """The API's view of the queue: the job kinds it accepts, an optional embedded worker, and ``wake``:
    how a worker in another process learns that a job was queued (:mod:`critmin.api.wake`)."""

    def __init__(
        self,
        store: Store,
        kinds: Mapping[str, JobKind],
        worker: Worker | None = None,
        wake: Callable[[], None] | None = None,
    ) -> None:
        self.store = store
        self.kinds = dict(kinds)
        self.worker = worker
        self.wake = wake

    def start(self) -> None:
        """Start the embedded worker, if any."""
        if self.worker is not None:
            self.worker.start()

    def notify(self) -> None:
        """A job was queued: wake the embedded worker, or the worker process."""
        if self.worker is not None:
            self.worker.notify()
        elif self.wake is not None:
            self.wake()

    def shutdown(self) -> None:
        """Stop the embedded worker (its running jobs return to the queue)."""
        if self.worker is not None:
            self.worker.stop()
