"""Run every benchmark script in this folder, then the tests marked ``slow``; exit 1 if any misses its target.

Each ``bench_*.py`` prints its own figures and the ratio against its reference implementation. Timings
depend on the machine: run this on a quiet machine (the project targets 2 cores).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    failed: list[str] = []
    scripts = sorted(HERE.glob("bench_*.py"))
    for script in scripts:
        print(f"\n=== {script.name} ===", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.call([sys.executable, str(script)])
        print(f"--- {script.name}: exit {rc} in {time.perf_counter() - t0:.1f} s", flush=True)
        if rc != 0:
            failed.append(script.name)
    print("\n=== pytest -m slow ===", flush=True)
    if subprocess.call([sys.executable, "-m", "pytest", "-q", "-m", "slow", str(HERE.parent / "tests")]) != 0:
        failed.append("pytest -m slow")
    print("\nfailed: " + (", ".join(failed) if failed else "none"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
