"""Waking a job worker that runs in another process of the same machine.

``critmin serve`` runs its job workers in a child process (:mod:`critmin.api.worker_process`). That child
listens on a Unix datagram socket (:class:`WakeListener`); the API processes find its path in
:data:`WAKE_ENV` and send it one byte whenever they queue a job (:func:`waker`), so the job is claimed at
once rather than at the worker's next poll of the queue (every 0.5 s). Best effort: a datagram lost (the
worker restarting, its buffer full) costs at most one poll interval; the queue in the database stays the
only source of truth.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Callable, Iterable

WAKE_ENV = "CRITMIN_JOB_WAKE"


def waker(path: str | None) -> Callable[[], None] | None:
    """A function that wakes the worker listening at ``path`` (``None`` without a path)."""
    if not path or not hasattr(socket, "AF_UNIX"):
        return None

    def wake() -> None:
        # a socket per wake (one per queued batch, a few microseconds): none is left open
        # no listener (restarting) or its buffer is full: the worker polls anyway
        with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.setblocking(False)
            sock.sendto(b"!", path)

    return wake


class WakeListener:
    """Bind ``path`` and call every callback of ``wakes`` on each datagram, in a daemon thread."""

    def __init__(self, path: str, wakes: Iterable[Callable[[], None]]) -> None:
        self.path = path
        self._wakes = list(wakes)
        if os.path.exists(path):  # left by a worker that died: this one replaces it
            os.unlink(path)
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(path)
        self._sock.settimeout(0.5)  # how soon close() is noticed
        self._closed = False
        self._thread = threading.Thread(target=self._run, daemon=True, name="job-wake")
        self._thread.start()

    def _run(self) -> None:
        while not self._closed:
            try:
                self._sock.recv(64)
            except TimeoutError:
                continue
            except OSError:  # closed
                return
            for wake in self._wakes:
                wake()

    def close(self) -> None:
        """Stop listening and remove the socket file."""
        self._closed = True
        self._thread.join(2.0)
        self._sock.close()
        with contextlib.suppress(OSError):
            os.unlink(self.path)
