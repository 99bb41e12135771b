"""Scale-out: two API processes (one of them `serve --workers 2`, so three uvicorn processes migrating at
start-up under the lock) and two `critmin worker` processes on one database. Jobs posted to either API
are run once by some worker and read back identically through the other API."""

from __future__ import annotations

import time

import httpx

from service.procs import (
    FINAL,
    final_entries,
    free_port,
    jobs,
    member_token,
    post,
    start_api,
    start_worker,
    stop,
)

N_JOBS = 8


def test_two_apis_and_two_workers_serve_and_run_jobs(db_url: str) -> None:
    token = member_token(db_url)
    ports = [free_port(), free_port()]
    procs = [
        start_api(db_url, ports[0], "--workers", "2", "--no-worker"),
        start_api(db_url, ports[1], "--no-worker"),
        start_worker(db_url, "--threads", "1"),
        start_worker(db_url, "--threads", "1"),
    ]
    try:
        ids = []
        for i in range(N_JOBS):
            params = {"n_scenarios": 2000, "seed": i, "horizon_months": 12, "chunk_size": 500}
            r = post(ports[i % 2], "/jobs", token, {"kind": "montecarlo", "params": params})
            assert r.status_code == 202, r.text
            ids.append(r.json()["id"])
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and any(j.status not in FINAL for j in jobs(db_url).values()):
            time.sleep(0.2)
        headers = {"Authorization": f"Bearer {token}"}
        seen = [
            [httpx.get(f"http://127.0.0.1:{p}/api/v1/jobs/{i}", headers=headers).json() for i in ids]
            for p in ports
        ]
    finally:
        for p in procs:
            stop(p)
    rows = jobs(db_url)
    assert all(rows[i].status == "succeeded" for i in ids), {i: rows[i].error for i in ids}
    assert final_entries(db_url) == {i: ["job.succeeded"] for i in ids}
    assert seen[0] == seen[1]  # both APIs read the same stored results
    assert [job["params"]["seed"] for job in seen[0]] == list(range(N_JOBS))
    assert all(job["result"]["summary"] and job["progress"] == 1.0 for job in seen[0])
    worker_pids = {str(rows[i].worker_id).split(":")[1] for i in ids}
    assert worker_pids <= {str(procs[2].pid), str(procs[3].pid)} and len(worker_pids) == 2
