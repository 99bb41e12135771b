"""``critmin --help`` starts without importing pandas or numpy (a cold start costs only Typer)."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
from critmin.cli import app
try:
    app(["--help"])
except SystemExit as exc:
    code = exc.code
heavy = sorted(m for m in ("pandas", "numpy", "scipy", "pyarrow") if m in sys.modules)
print("HEAVY=" + ",".join(heavy) + f" CODE={code}")
"""


def test_help_imports_no_pandas() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=120
    )
    last = out.stdout.strip().splitlines()[-1]
    assert last == "HEAVY= CODE=0", last
    assert "exposure" in out.stdout  # the help lists the commands
