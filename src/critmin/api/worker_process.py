"""``critmin serve``'s job workers in a child process of their own.

An API process that also runs jobs shares its interpreter (its GIL) and its CPU time with them: a request
waits while a job's pandas/Python holds the GIL. So ``critmin serve`` runs no job thread in its API
processes; :class:`WorkerProcess` starts ``critmin worker`` as a child at a lower CPU priority
(:data:`WORKER_NICE`, ``os.nice``), so request handling wins the CPU, restarts it when it dies (saying so
on stderr, with its exit status; after 1, 2, 5, 10, then 30 s while it keeps dying within a minute of its
start) and stops it when serve stops (SIGTERM, SIGKILL after a grace period). The child is in a session of
its own (a Ctrl-C in the terminal reaches serve, which stops it) and watches its parent
(:func:`watch_parent`), so it ends even when serve is SIGKILLed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence

WORKER_NICE = 10  # CFS weight ~1/9 of a nice-0 API process when both want the CPU
RESTART_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0)
STABLE_SECONDS = 60.0  # a child that ran this long before dying restarts after the first delay again
PR_SET_PDEATHSIG = 1


def worker_command(threads: int, lease: float, nice: int, wake_path: str | None) -> list[str]:
    """The child's command line: ``critmin worker`` bound to this process (the database comes in
    ``CRITMIN_DATABASE_URL``, never on the command line where ``ps`` shows a password)."""
    args = [sys.executable, "-m", "critmin", "worker", "--threads", str(threads), "--lease", str(lease)]
    args += ["--nice", str(nice), "--parent-pid", str(os.getpid())]
    return args + (["--wake-socket", wake_path] if wake_path else [])


def _status(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class WorkerProcess:
    """One supervised child process running ``command`` (see the module docstring)."""

    def __init__(
        self,
        command: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        report: Callable[[str], None] = _stderr,
        delays: Sequence[float] = RESTART_DELAYS,
        stable_seconds: float = STABLE_SECONDS,
    ) -> None:
        self._command = list(command)
        self._env = dict(env) if env is not None else None
        self._report = report
        self._delays = tuple(delays)
        self._stable = stable_seconds
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._started = 0.0
        self._thread: threading.Thread | None = None
        self.restarts = 0

    @property
    def pid(self) -> int | None:
        """The running child's process id (``None`` before the start or while it is restarted)."""
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    def start(self) -> None:
        """Start the child and the thread that restarts it when it dies."""
        if self._spawn() is None:
            return
        self._thread = threading.Thread(target=self._supervise, daemon=True, name="worker-supervisor")
        self._thread.start()

    def _spawn(self) -> subprocess.Popen[bytes] | None:
        with self._lock:
            if self._stopping.is_set():
                return None
            self._proc = subprocess.Popen(self._command, env=self._env, start_new_session=True)
            self._started = time.monotonic()
            return self._proc

    def _supervise(self) -> None:
        failures = 0
        while (proc := self._proc) is not None:
            code = proc.wait()
            if self._stopping.is_set():
                return
            ran = time.monotonic() - self._started
            failures = 1 if ran >= self._stable else failures + 1
            delay = self._delays[min(failures, len(self._delays)) - 1]
            self._report(
                f"critmin serve: the job worker (pid {proc.pid}) {_status(code)} after {ran:.1f} s; "
                f"starting another in {delay:g} s"
            )
            if self._stopping.wait(delay) or (new := self._spawn()) is None:
                return
            self.restarts += 1
            self._report(f"critmin serve: job worker restarted (pid {new.pid})")

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the child (its running jobs go back to the queue) and its supervision; SIGKILL after
        ``timeout`` seconds."""
        self._stopping.set()
        with self._lock:
            proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._thread is not None:
            self._thread.join(timeout)


def watch_parent(parent_pid: int, on_gone: Callable[[], None], poll_seconds: float = 1.0) -> None:
    """In the child: call ``on_gone`` once process ``parent_pid`` is no longer this process's parent (it
    ended, even by SIGKILL). Linux also sends this process SIGTERM at once (``PR_SET_PDEATHSIG``)."""
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):  # no prctl: the poll below still notices
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)

    def poll() -> None:
        while os.getppid() == parent_pid:
            time.sleep(poll_seconds)
        on_gone()

    threading.Thread(target=poll, daemon=True, name="parent-watch").start()
