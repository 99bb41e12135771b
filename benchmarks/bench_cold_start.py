"""Cold start of the command line: ``critmin --help`` (target < 0.3 s, without importing pandas) and
``critmin exposure`` (target < 1 s), each a fresh process, median of ``--repeats`` runs.

The exposure runs read the parsed atlas from its binary copy (``options().cache_dir``, written by the
first run after the data change: one warm-up run precedes the timed ones). The warm-up also
byte-compiles critmin's modules, as installing the package does (with ``PYTHONDONTWRITEBYTECODE`` set,
an editable checkout is otherwise compiled from source by every run: about 0.05 s of ``--help`` on a
2-core machine). The first run after a data change, which parses the CSVs and writes the copy, is timed
apart (a fresh empty cache directory per run) and printed for information; ``CRITMIN_ATLAS_CACHE=false``
runs parse every time.

Run: ``PYTHONPATH=src python benchmarks/bench_cold_start.py``. Prints the machine's load (shared cores:
timings are pessimistic) and CPU time (user+sys of the process) next to the wall time. Exits 1 when a
target is missed.
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGETS_S = {"--help": 0.3, "exposure": 1.0}
PROBE = "import sys, critmin; from critmin.cli import app; print('pandas' in sys.modules, critmin.__file__)"


def _run(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU (user+sys) seconds of one fresh ``critmin`` process."""
    critmin = str(Path(sys.executable).parent / "critmin")
    t0 = time.perf_counter()
    proc = subprocess.Popen([critmin, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if status != 0:
        raise SystemExit(f"critmin {' '.join(args)} failed (status {status})")
    return wall, usage.ru_utime + usage.ru_stime


def _time(args: list[str], repeats: int, fresh_cache: bool = False) -> tuple[str, float]:
    """A line of medians and bests, and the median wall time."""
    walls, cpus = [], []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as empty:
            run_env = dict(os.environ)
            if fresh_cache:
                run_env["CRITMIN_CACHE_DIR"] = empty
            wall, cpu = _run(args, run_env)
        walls.append(wall)
        cpus.append(cpu)
    text = (
        f"median {statistics.median(walls):.2f} s (best {min(walls):.2f}) of {repeats} cold runs; "
        f"CPU median {statistics.median(cpus):.2f} s (best {min(cpus):.2f})"
    )
    return text, statistics.median(walls)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    pandas_at_start, package = subprocess.run(
        [sys.executable, "-c", PROBE], check=True, capture_output=True, text=True
    ).stdout.split()
    ok = pandas_at_start == "False"
    print(f"pandas imported by the CLI at start-up: {pandas_at_start}")
    compileall.compile_dir(Path(package).parent, quiet=1)  # the .pyc files an install writes
    _run(["exposure"], dict(os.environ))  # warm-up: writes the atlas copy if the data changed
    for command, target in TARGETS_S.items():
        text, median = _time([command], args.repeats)
        ok = ok and median < target
        print(f"critmin {command}: {text} (target < {target} s)")
    text, _ = _time(["exposure"], args.repeats, fresh_cache=True)
    print(f"critmin exposure, first run after a data change (parse + write the copy): {text} (no target)")
    print(f"load average (1 min): {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs (shared machine)")
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
