"""The package's shape (docs/architecture.md): layers, no import circles, small files and functions.

Imports are read from the source (every ``import`` statement, including those inside functions: a lazy
import is still a dependency), so the test needs no import side effects.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "critmin"
MAX_FILE_LINES = 500
MAX_FUNCTION_LINES = 80

#: layer of each top-level part of the package; an import may only go to the same or a lower layer
LAYERS: dict[str, int] = {
    "__init__": 0,
    "options": 0,
    "serialize": 0,
    "provenance": 0,
    "parameters": 0,
    "scenarios": 0,
    "atlas": 1,
    "analytics": 2,
    "market": 3,
    "disruption": 4,
    "optimize": 5,
    "pricing": 5,
    "vault": 5,
    "planning": 5,
    "runs": 6,
    "store": 7,
    "api": 7,
    "web": 7,
    "cli": 7,
    "__main__": 7,  # `python -m critmin`: the command line
    "data": 7,  # build time: reads raw files with the atlas parsers; nothing at run time imports it
}


def _modules() -> dict[str, Path]:
    out = {}
    for path in SRC.rglob("*.py"):
        parts = path.relative_to(SRC.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


MODULES = _modules()


def _target(name: str) -> str | None:
    """The critmin module an imported name refers to (the longest prefix that is a module)."""
    parts = name.split(".")
    for k in range(len(parts), 0, -1):
        cand = ".".join(parts[:k])
        if cand in MODULES:
            return cand
    return None


def _imports(module: str) -> Iterator[str]:
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{a.name}" for a in node.names]
        for n in names:
            if n.startswith("critmin"):
                t = _target(n)
                if t is not None and t != module:
                    yield t


GRAPH: dict[str, set[str]] = {m: set(_imports(m)) for m in MODULES}


def _layer(module: str) -> int:
    part = module.split(".")[1] if "." in module else "__init__"
    if part not in LAYERS:
        pytest.fail(f"{module}: top-level part {part!r} has no layer in LAYERS; add it")
    return LAYERS[part]


def test_no_import_goes_up_a_layer() -> None:
    upward = sorted(f"{a} -> {b}" for a, targets in GRAPH.items() for b in targets if _layer(b) > _layer(a))
    assert upward == [], "imports from a lower layer to a higher one:\n" + "\n".join(upward)


def _cycles() -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(GRAPH[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    return out


def test_no_import_circles_lazy_imports_included() -> None:
    assert _cycles() == []


def test_the_checker_sees_a_lazy_upward_import_and_a_circle() -> None:
    """Guard against a checker that sees nothing: a function-level import is an edge."""
    tree = ast.parse("def f():\n    from critmin.cli import app\n")
    found = [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert found and found[0].module == "critmin.cli"
    assert _target("critmin.cli.app") == "critmin.cli.app"
    assert _layer("critmin.atlas.chain") < _layer("critmin.cli.app")


def test_no_file_over_the_size_limit() -> None:
    big = sorted(
        f"{p.relative_to(SRC)}: {n} lines"
        for p in SRC.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_FILE_LINES
    )
    assert big == [], f"files over {MAX_FILE_LINES} lines:\n" + "\n".join(big)


def test_no_function_over_the_size_limit() -> None:
    long = []
    for p in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = (node.end_lineno or node.lineno) - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long.append(f"{p.relative_to(SRC)}:{node.lineno} {node.name}: {n} lines")
    assert sorted(long) == [], f"functions over {MAX_FUNCTION_LINES} lines:\n" + "\n".join(sorted(long))
