"""Load benchmark of the service's exposure endpoints on loopback: p50/p95 at 1, 10 and 50 clients, cached
and uncached side by side, against ``critmin serve --workers N`` (N API processes, default 2).

Starts ``critmin serve`` (SQLite in a temporary directory, no demo seed) on a free 127.0.0.1 port. At
start-up the server queues the exposure table and the detail of every material and stage of the default
year and group as ``exposure`` jobs (computed once per data edition by serve's worker process, a child
at nice +10 that runs every job, so the API processes never compute; results stored in the jobs table);
the benchmark waits until every one answers 200. Rows (bounded loads: at most
``--requests`` requests and ``--seconds`` seconds each):

* ``cached``: the document is held in the answering process's memory (after a warm-up): ``table`` =
  ``GET /api/v1/exposure?year=2024``, ``detail`` = ``GET /api/v1/exposure/{material}/{stage}`` cycling
  over every pair;
* ``uncached``: the server is restarted before each row with ``CRITMIN_EXPOSURE_PRECOMPUTE=0`` (a restart
  with it on puts every stored document of the default key in memory at once), so no process holds
  anything; each detail is requested once, so every request is the first for its key in its process: it
  is answered from the exposure job's stored result (a database read), not computed;
* ``miss 202``: a year nobody computed (2019, 2018, 2017 for 1, 10, 50 clients): the GET queues a job and
  answers 202 (p50/p95 of that answer; the jobs an earlier row queued compute meanwhile); ``computed``
  then times, at one client, the wait until a document is available (the job's computation).

Each row starts once the server's processes are idle (every API process has started: ``/healthz`` answers
as soon as the first does) and prints the server's CPU time per request (user + sys of every server
process, the worker process included, from ``/proc``: a figure the machine's other load does not inflate
much, unlike wall times).
It also prints the direct library call as a reference, checks that the JSON has no indentation, and prints
the load average. Exits 1 when a p95 of a cached or uncached row is >= 100 ms (issue 19's target; the
40 ms the rows were tuned for is printed as the margin), a miss's 202 p95 at 50 clients is >= 100 ms,
or any request fails. Timings are pessimistic on a shared machine (the load generator and the server
share the CPU).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

TARGET_P95_S = 0.100  # cached and uncached (issue 19)
MARGIN_P95_S = 0.040  # what the rows were tuned for: printed, not a pass condition
MISS_TARGET_P95_S = 0.100  # a miss's 202 at 50 clients
TABLE_PATH = "/api/v1/exposure?year=2024"
CLIENTS = (1, 10, 50)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (the API processes of ``critmin serve --workers N``), from ``/proc``."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = entry.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(entry.parent.name))
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(parents.get(p, []))
    return found


def _cpu(pid: int) -> float:
    """CPU seconds (user + sys) the server's processes have used so far (0 where ``/proc`` is absent)."""
    total = 0
    for p in _tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK") if Path("/proc").is_dir() else 0.0


def _settle(pid: int, timeout: float = 60.0) -> None:
    """Wait until the server's processes use under 10% of a CPU over half a second."""
    deadline = time.monotonic() + timeout
    used = _cpu(pid)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = _cpu(pid)
        if now - used < 0.05:
            return
        used = now


def _start_server(port: int, workdir: Path, workers: int, precompute: bool = True) -> subprocess.Popen[bytes]:
    critmin = str(Path(sys.executable).parent / "critmin")
    url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    args = ["serve", "--no-seed", "--port", str(port), "--database-url", url, "--workers", str(workers)]
    env = {**os.environ, "CRITMIN_EXPOSURE_PRECOMPUTE": "1" if precompute else "0"}
    proc = subprocess.Popen(
        [critmin, *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("critmin serve did not start within 90 s")


async def _client(
    port: int,
    paths: list[str],
    deadline: float,
    budget: list[int],
    latencies: list[float],
    failures: list[int],
    expect: int = 200,
) -> None:
    """One keep-alive HTTP/1.1 connection issuing GETs back to back over ``paths`` (a minimal client: the
    load generator shares the CPU with the server, so it must cost little)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    requests = [
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n\r\n".encode()
        for path in paths
    ]
    i = 0
    try:
        while budget[0] > 0 and time.monotonic() < deadline:
            budget[0] -= 1
            t0 = time.perf_counter()
            writer.write(requests[i % len(requests)])
            i += 1
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            body = await reader.readexactly(length)
            latencies.append(time.perf_counter() - t0)
            if status != expect or not body.startswith(b"{"):
                failures.append(status)
    finally:
        writer.close()


async def _load(
    port: int, paths: list[str], clients: int, max_requests: int, max_seconds: float, expect: int = 200
) -> tuple[list[float], int, float]:
    """``clients`` connections; client ``k`` starts at ``paths[k * len(paths) // clients]`` (with as many
    requests as paths, each path is asked once)."""
    latencies: list[float] = []
    failures: list[int] = []
    budget = [max_requests]
    deadline = time.monotonic() + max_seconds
    t0 = time.perf_counter()
    await asyncio.gather(
        *(
            _client(port, paths[o:] + paths[:o], deadline, budget, latencies, failures, expect)
            for o in (k * len(paths) // clients for k in range(clients))
        )
    )
    return latencies, len(failures), time.perf_counter() - t0


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _wait_stored(base: str, paths: list[str], timeout: float = 1200.0) -> float:
    """Seconds until every path answers 200 (the start-up exposure jobs are done)."""
    t0 = time.monotonic()
    pending = list(paths)
    with httpx.Client(base_url=base, timeout=120) as client:
        while pending:
            if time.monotonic() - t0 > timeout:
                raise SystemExit(f"exposure jobs not done within {timeout:.0f} s ({len(pending)} left)")
            pending = [p for p in pending if client.get(p).status_code != 200]
            if pending:
                time.sleep(2.0)
    return time.monotonic() - t0


def _compact(base: str, paths: list[str]) -> bool:
    """No indentation: each body is one line (``critmin.serialize.dumps`` keeps ', ' and ': ' between
    items, about 5% of a detail's bytes)."""
    bodies = [httpx.get(base + p, timeout=60).text for p in paths]
    return all("\n" not in b and b.startswith("{") for b in bodies)


def _computed(base: str, paths: list[str]) -> list[float]:
    """Seconds from a miss's 202 to its document (one client, one path after the other)."""
    waits = []
    with httpx.Client(base_url=base, timeout=120) as client:
        for path in paths:
            t0 = time.perf_counter()
            r = client.get(path)
            while r.status_code == 202:
                time.sleep(0.05)
                r = client.get(path)
            r.raise_for_status()
            waits.append(time.perf_counter() - t0)
    return waits


def _row(
    name: str, clients: int, lat: list[float], failures: int, wall: float, cpu: float
) -> tuple[str, float]:
    p50, p95 = _percentile(lat, 0.50), _percentile(lat, 0.95)
    line = (
        f"{name:<14} {clients:>7} {len(lat):>8} {len(lat) / wall:>7.0f} {p50 * 1e3:>8.1f} {p95 * 1e3:>8.1f} "
        f"{max(lat) * 1e3:>8.1f} {failures:>6} {cpu / len(lat) * 1e3:>8.2f}"
    )
    return line, p95


def _timed(
    proc: subprocess.Popen[bytes],
    port: int,
    paths: list[str],
    clients: int,
    n: int,
    seconds: float,
    **kw: int,
) -> tuple[list[float], int, float, float]:
    """One row's load, and the server's CPU seconds during it."""
    before = _cpu(proc.pid)
    lat, fails, wall = asyncio.run(_load(port, paths, clients, n, seconds, **kw))
    return lat, fails, wall, _cpu(proc.pid) - before


def _emit(lines: list[str], line: str) -> None:
    """Keep the line for the summary and print it now (a long run shows its progress)."""
    lines.append(line)
    print(line, flush=True)


def _server(port: int, tmp: Path, workers: int, precompute: bool = True) -> subprocess.Popen[bytes]:
    return _start_server(port, tmp, workers, precompute)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    proc.wait(timeout=60)


def _measure(
    port: int, tmp: Path, args: argparse.Namespace, detail: list[str]
) -> tuple[list[str], float, float, int]:
    """Every row of the module docstring; returns the lines, the worst cached/uncached p95, the miss's
    202 p95 at 50 clients, failures."""
    lines: list[str] = []
    worst, miss50, failed = 0.0, 0.0, 0
    base = f"http://127.0.0.1:{port}"
    proc = _server(port, tmp, args.workers)
    try:
        waited = _wait_stored(base, [TABLE_PATH, *detail])
        _emit(lines, f"start-up exposure jobs done {waited:.1f} s after /healthz")
        _emit(
            lines, f"JSON without indentation: {'yes' if _compact(base, [TABLE_PATH, *detail[:5]]) else 'NO'}"
        )
        for paths in ([TABLE_PATH], detail):  # warm-up: every process holds every document
            asyncio.run(_load(port, paths, 10, 20 * len(paths), args.seconds))
        _settle(proc.pid)
        for name, paths in (("cached table", [TABLE_PATH]), ("cached detail", detail)):
            for clients in CLIENTS:
                lat, fails, wall, cpu = _timed(proc, port, paths, clients, args.requests, args.seconds)
                line, p95 = _row(name, clients, lat, fails, wall, cpu)
                _emit(lines, line)
                worst, failed = max(worst, p95), failed + fails
        waits = _computed(base, [f"{path}?year=2016" for path in detail[:10]])  # the queue is empty
        _emit(
            lines,
            f"computed: 1 client, 10 misses (year 2016): 202 to document median "
            f"{statistics.median(waits):.2f} s, max {max(waits):.2f} s (the job computes it)",
        )
    finally:
        _stop(proc)
    for clients in CLIENTS:  # restart: no process holds anything; each detail asked once
        proc = _server(port, tmp, args.workers, precompute=False)
        try:
            _settle(proc.pid)
            lat, fails, wall, cpu = _timed(proc, port, detail, clients, len(detail), args.seconds)
            line, p95 = _row("uncached", clients, lat, fails, wall, cpu)
            _emit(lines, line + "  (after a restart: stored job result)")
            worst, failed = max(worst, p95), failed + fails
        finally:
            _stop(proc)
    proc = _server(port, tmp, args.workers)  # last: the jobs these rows queue load the machine afterwards
    try:
        _settle(proc.pid)
        for clients, year in zip(CLIENTS, (2019, 2018, 2017), strict=True):
            miss = [f"{path}?year={year}" for path in detail]
            lat, fails, wall, cpu = _timed(proc, port, miss, clients, len(miss), args.seconds, expect=202)
            line, p95 = _row("miss 202", clients, lat, fails, wall, cpu)
            _emit(lines, line + f"  (year {year}: a job is queued)")
            miss50, failed = p95, failed + fails
    finally:
        _stop(proc)
    return lines, worst, miss50, failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="most requests per row")
    parser.add_argument("--seconds", type=float, default=10.0, help="most seconds per row")
    parser.add_argument("--workers", type=int, default=2, help="API processes (critmin serve --workers)")
    args = parser.parse_args()

    from critmin.analytics.exposure import exposure_detail
    from critmin.api.routers.analytics import exposure_pairs
    from critmin.atlas import load_atlas
    from critmin.parameters import ParameterSet

    print(f"load average at start: {' '.join(f'{v:.2f}' for v in os.getloadavg())}", flush=True)
    atlas, params = load_atlas(), ParameterSet()
    pairs = exposure_pairs()
    lib_times = []
    for material, stage in pairs[:10]:
        t0 = time.perf_counter()
        exposure_detail(atlas, material, stage, year=2024, params=params)
        lib_times.append(time.perf_counter() - t0)
    lib = statistics.median(lib_times)
    detail = [f"/api/v1/exposure/{m}/{s}" for m, s in pairs]
    print(f"{len(pairs)} material-stage pairs; critmin serve --workers {args.workers}")
    print(
        f"{'row':<14} {'clients':>7} {'requests':>8} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'max ms':>8} {'failed':>6} {'cpu ms/req':>8}",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as tmp:
        _, worst, miss50, failed = _measure(_free_port(), Path(tmp), args, detail)
    print(f"reference: exposure_detail() called directly in process: median {lib * 1e3:.1f} ms per call")
    print(f"load average at end: {' '.join(f'{v:.2f}' for v in os.getloadavg())} on {os.cpu_count()} CPUs")
    ok = worst < TARGET_P95_S and failed == 0
    print(
        f"worst p95 (cached, uncached) {worst * 1e3:.1f} ms, target < {TARGET_P95_S * 1e3:.0f} ms: "
        + ("PASS" if ok else "FAIL")
        + f" (margin aim < {MARGIN_P95_S * 1e3:.0f} ms: {'met' if worst < MARGIN_P95_S else 'not met'})"
    )
    miss_ok = miss50 < MISS_TARGET_P95_S and failed == 0
    print(
        f"miss 202 p95 at {CLIENTS[-1]} clients {miss50 * 1e3:.1f} ms, target < "
        f"{MISS_TARGET_P95_S * 1e3:.0f} ms: " + ("PASS" if miss_ok else "FAIL")
    )
    return 0 if ok and miss_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
