"""Cold start of the command line: ``critmin --help`` (target < 0.3 s, without importing pandas) and
``critmin exposure`` (target < 1 s), each a fresh process, median of ``--repeats`` runs.

Run: ``PYTHONPATH=src python benchmarks/bench_cold_start.py``. Prints the machine's load (shared cores:
timings are pessimistic). Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGETS_S = {"--help": 0.3, "exposure": 1.0}
PROBE = "import sys; from critmin.cli import app; print('pandas' in sys.modules)"


def _time(args: list[str], repeats: int) -> float:
    critmin = str(Path(sys.executable).parent / "critmin")
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run([critmin, *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    pandas_at_start = subprocess.run(
        [sys.executable, "-c", PROBE], check=True, capture_output=True, text=True
    ).stdout.strip()
    ok = pandas_at_start == "False"
    print(f"pandas imported by the CLI at start-up: {pandas_at_start}")
    for command, target in TARGETS_S.items():
        median = _time([command], args.repeats)
        ok = ok and median < target
        print(f"critmin {command}: median {median:.2f} s of {args.repeats} cold runs (target < {target} s)")
    print(f"load average (1 min): {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs (shared machine)")
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
