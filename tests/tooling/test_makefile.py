"""The README's two commands on a fresh machine: `make run` installs runtime dependencies only; `make test`
adds the dev extra, and without Chromium (and no way to install it) stops at once naming the command."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
MAKE = shutil.which("make") or "make"
DEV_ONLY = {"pytest", "hypothesis", "ruff", "mypy", "playwright", "pyomo", "schemathesis", "httpx"}


def _fresh_clone(tmp: Path) -> Path:
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp / name)
    return tmp


def _make(cwd: Path, *args: str, path: str | None = None) -> subprocess.CompletedProcess[str]:
    """``make`` in ``cwd`` as a user's shell would run it: without the variables of an enclosing make
    (``make test`` runs this suite: MAKELEVEL would make the inner make print its directory)."""
    inherited = {k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")}
    env = {"PATH": path} if path is not None else inherited
    return subprocess.run(
        [MAKE, "--no-print-directory", *args], cwd=cwd, env=env, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip


def test_make_test_without_chromium_stops_at_once_with_the_command(tmp_path: Path) -> None:
    clone = _fresh_clone(tmp_path)
    empty = tmp_path / "no-tools"  # no apt-get, no sudo, no id: a machine where critmin cannot install
    empty.mkdir()
    start = time.monotonic()
    out = _make(clone, "-s", "test", "CHROMIUM=/nonexistent/chromium", path=str(empty))
    assert time.monotonic() - start < 60
    assert out.returncode != 0
    lines = (out.stdout + out.stderr).strip().splitlines()
    assert len(lines) == 1, lines
    assert "needs Chromium at /nonexistent/chromium" in lines[0]
    assert "run: sudo apt-get install -y chromium" in lines[0]
    assert not (clone / ".venv").exists()  # stopped before creating anything


def test_make_test_installs_the_dev_extra_then_lints_and_tests(tmp_path: Path) -> None:
    out = _make(_fresh_clone(tmp_path), "-n", "test", "CHROMIUM=/bin/sh")
    assert out.returncode == 0, out.stderr
    cmds = out.stdout.splitlines()
    install = next(i for i, c in enumerate(cmds) if "pip install --quiet -e '.[dev]'" in c)
    pytest_at = next(i for i, c in enumerate(cmds) if c.endswith("bin/pytest"))
    assert install < next(i for i, c in enumerate(cmds) if "mypy" in c) < pytest_at


def test_make_run_installs_runtime_dependencies_only(tmp_path: Path) -> None:
    out = _make(_fresh_clone(tmp_path), "-n", "run")
    assert out.returncode == 0, out.stderr
    assert "pip install --quiet -e .\n" in out.stdout
    assert "[dev]" not in out.stdout
    assert out.stdout.splitlines()[-1].endswith("bin/critmin serve")


def _declared() -> tuple[set[str], set[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = {Requirement(r).name.lower() for r in project["dependencies"]}
    dev = {Requirement(r).name.lower() for r in project["optional-dependencies"]["dev"]}
    return runtime, dev


def test_runtime_and_dev_dependencies_apart() -> None:
    runtime, dev = _declared()
    assert runtime & DEV_ONLY == set()
    assert dev >= DEV_ONLY
    assert {"xarray", "httpx2", "swagger-ui-bundle-v2"} <= runtime


def test_every_library_import_is_a_declared_runtime_dependency() -> None:
    runtime, _ = _declared()
    dists = packages_distributions()
    stdlib = sys.stdlib_module_names
    missing: dict[str, str] = {}
    for path in (ROOT / "src" / "critmin").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for top in {n.split(".")[0] for n in names} - stdlib - {"critmin", "__future__"}:
                owners = {re.sub(r"[-_.]+", "-", d).lower() for d in dists.get(top, [top])}
                if not owners & runtime:
                    missing[top] = str(path.relative_to(ROOT))
    assert missing == {}
