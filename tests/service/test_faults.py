"""Fault test: `critmin serve` itself, its worker process (which serve restarts) and a separate `critmin
worker` are SIGKILLed at random moments while Monte Carlo jobs run; serve's worker process ends when serve
is killed. Every job a dead process held is requeued within lease + margin, every job ends succeeded, failed
(attempts used up, reason stored) or cancelled, and none is completed twice (one final transition in the
audit log, a result only on succeeded jobs)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections.abc import Callable

from service.procs import (
    FINAL,
    alive,
    final_entries,
    free_port,
    jobs,
    member_token,
    post,
    start_api,
    start_worker,
    stop,
    worker_child,
)

LEASE = 2.0
MARGIN = 5.0  # reap interval (lease / 4) + the write lock + a loaded 2-core machine
WORK = {"n_scenarios": 30_000, "horizon_months": 12, "chunk_size": 1000}
N_JOBS = 6
KILLS = 4
VICTIMS = ("serve", "serve-worker", "worker")
# an orphaned worker stops within its pools' stop timeouts (10 s each; a job stops at its next step, and a
# fresh checkout's first job may be inside numba's first compilation) and Python's exit
ORPHAN_SECONDS = 30.0


def _held_by(db_url: str, pid: int) -> dict[str, int]:
    """Running jobs held by the process ``pid`` and their attempt numbers."""
    return {
        j.id: j.attempts
        for j in jobs(db_url).values()
        if j.status in ("running", "cancelling") and j.worker_id and f":{pid}:" in j.worker_id
    }


def _queued(db_url: str) -> bool:
    return any(j.status == "queued" for j in jobs(db_url).values())


def _await_requeue(db_url: str, held: dict[str, int], killed_at: float) -> float:
    """Seconds until every job the dead process held was released (requeued, re-claimed or final)."""
    while True:
        rows = jobs(db_url)
        if all(
            rows[i].status in FINAL or rows[i].attempts != a or rows[i].status == "queued"
            for i, a in held.items()
        ):
            return time.monotonic() - killed_at
        assert time.monotonic() - killed_at < LEASE + MARGIN, f"jobs {held} not released in time"
        time.sleep(0.1)


def _chaos(
    db_url: str,
    port: int,
    procs: dict[str, subprocess.Popen[bytes]],
    rng: random.Random,
    submit: Callable[[], None],
) -> list[float]:
    """SIGKILL, in a random order, serve itself (its worker process ends on its own; serve is started
    again), serve's worker process (serve starts another) and the separate worker, each at least once.
    Before each kill, ``submit`` queues jobs until two are unfinished (a fast machine finishes the first
    ones while serve restarts)."""
    delays: list[float] = []
    worker_args = ("--lease", str(LEASE), "--threads", "1")
    runners = {"serve": worker_child(procs["serve"].pid), "worker": procs["worker"].pid}  # who runs jobs
    victims = [*VICTIMS, *rng.choices(VICTIMS, k=KILLS - len(VICTIMS))]
    rng.shuffle(victims)
    for victim in victims:
        while sum(j.status not in FINAL for j in jobs(db_url).values()) < 2:
            submit()
        runner = "worker" if victim == "worker" else "serve"
        other = "serve" if runner == "worker" else "worker"
        deadline = time.monotonic() + 30
        # kill while the victim runs a job and the other is up (it holds a job too, or none is queued)
        while time.monotonic() < deadline and not (
            _held_by(db_url, runners[runner]) and (_held_by(db_url, runners[other]) or not _queued(db_url))
        ):
            time.sleep(0.05)
        time.sleep(rng.uniform(0.0, 1.0))
        held = _held_by(db_url, runners[runner])
        os.kill(procs["serve"].pid if victim == "serve" else runners[runner], signal.SIGKILL)
        killed_at = time.monotonic()
        if victim != "serve-worker":
            procs[victim].wait(timeout=10)
        if held:
            delays.append(_await_requeue(db_url, held, killed_at))
        if victim == "serve":
            assert _ends(runners["serve"]), "serve's worker process outlived a SIGKILLed serve"
            procs["serve"] = start_api(db_url, port, "--lease", str(LEASE), "--job-threads", "1")
            runners["serve"] = worker_child(procs["serve"].pid)
        elif victim == "serve-worker":  # serve starts another worker process by itself
            runners["serve"] = worker_child(procs["serve"].pid, other_than=runners["serve"])
        else:
            procs["worker"] = start_worker(db_url, *worker_args)
            runners["worker"] = procs["worker"].pid
    return delays


def _ends(pid: int) -> bool:
    """Whether process ``pid`` ends within :data:`ORPHAN_SECONDS`."""
    deadline = time.monotonic() + ORPHAN_SECONDS
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_sigkill_serve_and_workers_while_jobs_run(db_url: str) -> None:
    rng = random.Random(14)
    token = member_token(db_url)
    port = free_port()
    procs = {
        "serve": start_api(db_url, port, "--lease", str(LEASE), "--job-threads", "1"),
        "worker": start_worker(db_url, "--lease", str(LEASE), "--threads", "1"),
    }
    ids: list[str] = []

    def submit() -> None:
        r = post(port, "/jobs", token, {"kind": "montecarlo", "params": {**WORK, "seed": len(ids)}})
        assert r.status_code == 202, r.text
        ids.append(r.json()["id"])

    try:
        for _ in range(N_JOBS):
            submit()
        cancelled = ids[-1]
        assert post(port, f"/jobs/{cancelled}/cancel", token).status_code == 200  # queued: cancelled at once
        delays = _chaos(db_url, port, procs, rng, submit)
        assert post(port, f"/jobs/{ids[-2]}/cancel", token).status_code == 200
        assert delays, "no kill landed while a job ran"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and any(j.status not in FINAL for j in jobs(db_url).values()):
            time.sleep(0.2)
    finally:
        for p in procs.values():
            stop(p)
    rows = jobs(db_url)
    finals = final_entries(db_url)
    assert set(rows) == set(ids)
    assert max(delays) <= LEASE + MARGIN
    assert any(j.attempts > 1 for j in rows.values()), "no job was requeued after a kill"
    for job_id, job in rows.items():
        assert job.status in FINAL, (job_id, job.status, job.message)
        assert finals[job_id] == [f"job.{job.status}"]  # exactly one final transition: none completed twice
        assert (job.result is not None) == (job.status == "succeeded")
        if job.status == "failed":
            assert "no attempts left" in (job.error or ""), job.error
    assert rows[cancelled].status == "cancelled" and rows[cancelled].attempts == 0
    assert sum(j.status == "succeeded" for j in rows.values()) >= len(ids) - 3
