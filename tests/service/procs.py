"""Helpers of the multi-process tests: start `critmin serve` and `critmin worker`, wait, read job rows."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from critmin.store import Store
from critmin.store.members import create_member, issue_token
from critmin.store.models import AuditEntry, Job
from service.support import ADMIN

CRITMIN = str(Path(sys.executable).parent / "critmin")
FINAL = ("succeeded", "failed", "cancelled")


def free_port() -> int:
    """A TCP port free on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def member_token(db_url: str, name: str = "Australia", iso3: str = "AUS") -> str:
    """Migrate the database and return a fresh member token."""
    store = Store(db_url)
    store.upgrade()
    with store.write() as s:
        token = issue_token(s, ADMIN, create_member(s, ADMIN, name, "member", iso3))
    store.dispose()
    return token


def _spawn(args: list[str], **env: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [CRITMIN, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **env}
    )


def start_api(db_url: str, port: int, *extra: str) -> subprocess.Popen[bytes]:
    """`critmin serve` on ``port``, returned once /healthz answers."""
    # no start-up exposure jobs: these tests follow the users' jobs to their end (the start-up jobs are
    # tested in test_exposure_jobs.py)
    args = ["serve", "--no-seed", "--port", str(port), "--database-url", db_url, *extra]
    proc = _spawn(args, CRITMIN_EXPOSURE_PRECOMPUTE="0")
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("critmin serve did not become healthy within 90 s")


def start_worker(db_url: str, *extra: str) -> subprocess.Popen[bytes]:
    """`critmin worker` on the database (it claims jobs as soon as it has started)."""
    return _spawn(["worker", "--database-url", db_url, *extra])


def children(pid: int) -> dict[int, str]:
    """The child processes of ``pid`` and their command lines (from ``/proc``)."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError, ValueError):
            continue  # the process ended meanwhile
        if ppid == pid:
            found[int(stat.parent.name)] = cmdline
    return found


def worker_child(serve_pid: int, other_than: int | None = None, timeout: float = 60.0) -> int:
    """The pid of `critmin serve`'s worker process (``python -m critmin worker``), once it runs (one
    other than ``other_than``: the one that replaced it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [p for p, cmd in children(serve_pid).items() if " critmin worker " in cmd and p != other_than]
        if found:
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"critmin serve {serve_pid} has no worker process after {timeout:.0f} s")


def alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def jobs(db_url: str) -> dict[str, Job]:
    """Every job row by id."""
    store = Store(db_url)
    try:
        with store.read() as s:
            return {j.id: j for j in s.execute(select(Job)).scalars()}
    finally:
        store.dispose()


def final_entries(db_url: str) -> dict[str, list[str]]:
    """The final audit entries (job.succeeded / failed / cancelled) of each job."""
    store = Store(db_url)
    try:
        with store.read() as s:
            rows = s.execute(select(AuditEntry.target, AuditEntry.action)).all()
    finally:
        store.dispose()
    out: dict[str, list[str]] = {}
    for target, action in rows:
        if action in {f"job.{f}" for f in FINAL}:
            out.setdefault(target.removeprefix("job:"), []).append(action)
    return out


def post(port: int, path: str, token: str, body: Any = None, tries: int = 100) -> httpx.Response:
    """POST with retries while the API process is being restarted."""
    for _ in range(tries):
        try:
            return httpx.post(
                f"http://127.0.0.1:{port}/api/v1{path}",
                json=body,
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            )
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError(f"POST {path} found no API for {tries} tries")


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after 15 s."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
