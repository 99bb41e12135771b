"""Cold start of the command line (issue 19): ``critmin --help`` imports no pandas or numpy, and
``critmin exposure`` imports only what the exposure answer needs (its own command module, the atlas and
the analytics; no other command, no optimiser, database, web or YAML/ISO library)."""

from __future__ import annotations

import json
import subprocess
import sys

from typer.testing import CliRunner

from critmin.cli import app
from critmin.cli.app import COMMANDS, command_modules

runner = CliRunner()

HELP_PROBE = """
import sys
from critmin.cli import app
try:
    app(["--help"])
except SystemExit as exc:
    code = exc.code
heavy = ("pandas", "numpy", "scipy", "pyarrow", "pydantic", "rich", "markdown_it")
heavy = sorted(m for m in heavy if m in sys.modules)
print("HEAVY=" + ",".join(heavy) + f" CODE={code}")
"""

#: what the console script does for ``critmin exposure --format json``, then the modules it imported
EXPOSURE_PROBE = """
import sys
from critmin.cli import app
try:
    app(["exposure", "--format", "json"])
except SystemExit as exc:
    code = exc.code
print(f"CODE={code}")
print("MODULES=" + ",".join(sorted(sys.modules)))
"""

#: top-level packages the exposure command must not import (each was or could be pulled in by an import
#: at the top of a module it reaches): other commands' libraries, the database, the web, YAML and ISO data
NOT_FOR_EXPOSURE = (
    "scipy",
    "numba",
    "sqlalchemy",
    "psycopg",
    "plotly",
    "fastapi",
    "starlette",
    "uvicorn",
    "linopy",
    "highspy",
    "xarray",
    "dask",
    "yaml",
    "pycountry",
)


def test_help_imports_no_pandas() -> None:
    """``--help`` is click's plain help: no pandas or numpy, and no pydantic, rich or markdown-it (typer's
    rich help imports its Markdown renderer)."""
    out = subprocess.run(
        [sys.executable, "-c", HELP_PROBE], capture_output=True, text=True, check=True, timeout=120
    )
    last = out.stdout.strip().splitlines()[-1]
    assert last == "HEAVY= CODE=0", last
    assert "exposure" in out.stdout and "vault" in out.stdout  # the help lists every command


def test_help_lists_each_command_with_its_whole_first_paragraph() -> None:
    """The command lists (top level and sub-apps) carry the whole first paragraph of each command's help,
    not click's first sentence; help texts are printed as written (no markup read in ``[...]``)."""
    top = " ".join(runner.invoke(app, ["--help"], terminal_width=100).stdout.split())
    assert "exposure Exposure report. With --material and --stage: one object" in top
    assert "top1_share, china_share, alliance_share. history" in top
    vault = " ".join(runner.invoke(app, ["vault", "--help"], terminal_width=100).stdout.split())
    assert "size Size the reserve over the horizon (stochastic LP on the full loss); compare" in vault
    exposure = " ".join(runner.invoke(app, ["exposure", "--help"], terminal_width=100).stdout.split())
    assert "e.g. price_cap_index[gallium]=3;" in exposure


def test_exposure_imports_only_what_it_needs() -> None:
    out = subprocess.run(
        [sys.executable, "-c", EXPOSURE_PROBE], capture_output=True, text=True, check=True, timeout=120
    )
    lines = out.stdout.strip().splitlines()
    assert lines[-2] == "CODE=0", out.stderr[-2000:]
    modules = set(lines[-1].removeprefix("MODULES=").split(","))
    assert '"material": "gallium"' in out.stdout  # the answer was printed
    heavy = sorted({m.split(".")[0] for m in modules} & set(NOT_FOR_EXPOSURE))
    assert heavy == [], heavy
    cli = sorted(m for m in modules if m.startswith("critmin.cli."))
    assert cli == ["critmin.cli.app", "critmin.cli.exposure_cmds", "critmin.cli.output", "critmin.cli.params"]
    builders = sorted(m for m in modules if m.startswith("critmin.data."))  # the build-time parsers
    assert builders == [], builders
    others = sorted(
        m
        for m in modules
        if m.startswith("critmin.") and m.split(".")[1] in ("disruption", "vault", "planning", "store", "web")
    )
    assert others == [], others


def test_the_command_map_names_every_command_and_its_modules() -> None:
    """:data:`COMMANDS` (which modules a run of one command imports) matches the registrations."""

    def modules_of(typer_app: object) -> set[str]:
        cmds = {c.callback.__module__ for c in typer_app.registered_commands if c.callback}  # type: ignore[attr-defined]
        for g in typer_app.registered_groups:  # type: ignore[attr-defined]
            cmds |= modules_of(g.typer_instance)
        return cmds

    registered: dict[str, set[str]] = {}
    for c in app.registered_commands:  # reading them imports every module
        assert c.callback is not None
        registered[c.name or c.callback.__name__] = {c.callback.__module__}
    for g in app.registered_groups:
        assert g.name is not None
        registered[g.name] = modules_of(g.typer_instance)
    assert set(registered) == set(COMMANDS)
    assert {m for ms in COMMANDS.values() for m in ms} == set(command_modules())
    for name, modules in registered.items():
        assert modules <= {f"critmin.cli.{m}" for m in COMMANDS[name]}, name


#: the console script's call (``app()`` with no arguments reads ``sys.argv``)
SCRIPT = "import sys; sys.argv = ['critmin', *sys.argv[1:]]; from critmin.cli import app; app()"


def test_the_console_script_keeps_output_and_exit_codes() -> None:
    """Through the console script's lazy command loading, the whole answer of ``critmin exposure`` reaches a
    pipe and the exit codes are the command's (0; 2 for an unknown material, with its message)."""
    ok = subprocess.run(
        [sys.executable, "-c", SCRIPT, "exposure", "--format", "json"], capture_output=True, timeout=120
    )
    assert ok.returncode == 0, ok.stderr[-2000:]
    rows = json.loads(ok.stdout)
    assert len(rows) > 80 and {r["material"] for r in rows} >= {"gallium", "cobalt", "lithium"}
    bad = subprocess.run(
        [sys.executable, "-c", SCRIPT, "exposure", "-m", "nosuch"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2
    assert bad.stderr.startswith("error: unknown material 'nosuch'")
