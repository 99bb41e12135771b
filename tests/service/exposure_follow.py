"""Follow an exposure GET through its job: a cache miss answers 202 with the job to poll."""

from __future__ import annotations

import time
from typing import Any

import httpx
from fastapi.testclient import TestClient


def follow(
    client: TestClient, path: str, params: dict[str, Any] | None = None, timeout: float = 120.0
) -> httpx.Response:
    """GET ``path`` until it answers something other than 202, polling the job meanwhile (a failed job
    fails the test with its error)."""
    deadline = time.monotonic() + timeout
    r = client.get(path, params=params)
    while r.status_code == 202:
        job = client.get(r.json()["poll"]).json()
        assert job["status"] in ("queued", "running", "succeeded"), job
        assert time.monotonic() < deadline, f"exposure job {job['id']} not done in {timeout:.0f} s"
        time.sleep(0.1)
        r = client.get(path, params=params)
    return r
