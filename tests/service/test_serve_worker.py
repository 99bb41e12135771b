"""`critmin serve` runs the jobs in a worker process of its own, never in its API processes: the exposure
job a miss queues is run by a child process whose pid is none of the API processes' and whose CPU priority
is lower (nice +10); the child is restarted when it dies, and gone once serve stops (SIGTERM) or dies
(SIGKILL)."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import httpx

from service.procs import alive, children, free_port, jobs, start_api, stop, worker_child

MISS = "/api/v1/exposure/cobalt/refine?year=2019"


def _gone(pid: int, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.1)
    return False


def test_jobs_run_in_a_niced_child_not_in_the_api_processes(db_url: str) -> None:
    port = free_port()
    serve = start_api(db_url, port, "--workers", "2")
    try:
        child = worker_child(serve.pid)
        apis = {p for p, cmd in children(serve.pid).items() if "spawn_main" in cmd}
        assert len(apis) == 2, children(serve.pid)
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(base + MISS, timeout=30).status_code == 202
        deadline = time.monotonic() + 60
        while (status := httpx.get(base + MISS, timeout=30).status_code) == 202:
            assert time.monotonic() < deadline, "the exposure job did not finish within 60 s"
            time.sleep(0.1)
        assert status == 200
        runners = {str(j.worker_id).split(":")[1] for j in jobs(db_url).values() if j.kind == "exposure"}
        assert runners == {str(child)}, (runners, child, apis)  # not serve's, not an API process's
        assert os.getpriority(os.PRIO_PROCESS, child) == os.getpriority(os.PRIO_PROCESS, serve.pid) + 10
        assert all(os.getpriority(os.PRIO_PROCESS, p) == os.getpriority(os.PRIO_PROCESS, 0) for p in apis)
    finally:
        stop(serve)
    assert serve.returncode is not None and _gone(child), "the worker process outlived serve (SIGTERM)"


def test_worker_restarted_when_it_dies_and_gone_when_serve_is_killed(db_url: str) -> None:
    serve = start_api(db_url, free_port())
    try:
        first = worker_child(serve.pid)
        os.kill(first, signal.SIGKILL)
        second = worker_child(serve.pid, other_than=first, timeout=30)
        assert _gone(first) and alive(second)
        cmd = children(serve.pid)[second].split()
        wake_dir = Path(cmd[cmd.index("--wake-socket") + 1]).parent
        assert wake_dir.is_dir()
        serve.send_signal(signal.SIGKILL)  # no clean-up in serve: the child notices its parent's death
        serve.wait(timeout=10)
        assert _gone(second), "the worker process outlived a SIGKILLed serve"
        assert not wake_dir.exists(), "the wake socket's directory outlived serve and its worker"
    finally:
        stop(serve)


def test_the_api_wakes_the_worker_process_over_its_socket(tmp_path: Path) -> None:
    """One datagram calls every callback of the listener; waking a worker that is not listening (it is
    restarting) raises nothing; the listener removes its socket file when closed."""
    from critmin.api.wake import WakeListener, waker

    path = str(tmp_path / "wake.sock")
    woken = threading.Event()
    also = threading.Event()
    listener = WakeListener(path, [woken.set, also.set])
    wake = waker(path)
    assert wake is not None and waker(None) is None
    wake()
    assert woken.wait(5.0) and also.wait(5.0)
    listener.close()
    assert not Path(path).exists()
    wake()  # nobody listens: no error
