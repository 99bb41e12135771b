"""The default group and the default year live once, in ``critmin/options.py`` (issue 11).

A ``"ministerial-2026"`` literal in Python source outside options.py, or a ``year`` parameter / field whose
default is a literal year, fails here (data files such as ``groups.yaml`` define the group and are not
Python source).
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "critmin"
GROUP = "ministerial-2026"
#: files still allowed a literal (none left); may only shrink
PENDING: set[str] = set()


def _sources() -> dict[str, str]:
    return {
        p.relative_to(SRC).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(SRC.rglob("*.py"))
        if p.relative_to(SRC).as_posix() != "options.py"
    }


def _literal_year(node: ast.expr | None) -> bool:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return 1990 <= node.value <= 2100
    if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "Field":
        first = node.args[0] if node.args else None
        given = [k.value for k in node.keywords if k.arg == "default"]
        return _literal_year(first) or any(_literal_year(v) for v in given)
    return False


def year_defaults(text: str) -> list[str]:
    """``name@line`` of every year-named parameter or class field whose default is a literal year."""
    out = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            args = node.args
            pos = args.posonlyargs + args.args
            pairs = list(zip(pos[len(pos) - len(args.defaults) :], args.defaults, strict=True))
            pairs += [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is not None]
            out += [f"{a.arg}@{a.lineno}" for a, d in pairs if "year" in a.arg and _literal_year(d)]
        elif (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and "year" in node.target.id
            and _literal_year(node.value)
        ):
            out.append(f"{node.target.id}@{node.lineno}")
    return out


def test_no_group_literal_outside_options() -> None:
    found = {name for name, text in _sources().items() if GROUP in text}
    assert found <= PENDING, f"{GROUP!r} outside options.py: {sorted(found - PENDING)}; use options()"


def test_no_literal_default_year_outside_options() -> None:
    found = {name: hits for name, text in _sources().items() if (hits := year_defaults(text))}
    assert found == {}, f"literal default years (use options().default_year): {found}"


def test_the_checks_see_a_literal() -> None:
    """Guard against checks that see nothing."""
    code = (
        "def f(year: int = 2024, *, base_year=2025) -> None: ...\n"
        "class R:\n    year: int = Field(default=2024, ge=1990)\n    horizon_years: int = 10\n"
    )
    assert year_defaults(code) == ["year@1", "base_year@1", "year@3"]
    assert GROUP in 'group = "ministerial-2026"'
    assert (SRC / "options.py").read_text(encoding="utf-8").count(GROUP) == 1
