"""Rendering of command results as a rich table, CSV or JSON (the ``--format`` option of data commands)."""

from __future__ import annotations

import difflib
import math
import sys
from collections.abc import Iterable
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pandas is imported by the commands that print frames, not at start-up
    import pandas as pd


class Format(StrEnum):
    """Output formats accepted by ``--format``."""

    table = "table"
    csv = "csv"
    json = "json"


def to_json(obj: Any) -> str:
    """JSON text of a result object (dicts, lists, numpy scalars; NaN becomes null)."""
    from critmin.serialize import dumps

    return dumps(obj, indent=2)


def emit_frame(df: pd.DataFrame, fmt: Format, title: str = "", caption: str = "") -> None:
    """Print a DataFrame as a rich table, CSV or JSON records."""
    import pandas as pd

    if fmt is Format.csv:
        df.to_csv(sys.stdout, index=False, lineterminator="\n")
        return
    if fmt is Format.json:
        sys.stdout.write(to_json(df.to_dict(orient="records")) + "\n")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title or None, caption=caption or None)
    for col in df.columns:
        numeric = pd.api.types.is_numeric_dtype(df[col])
        table.add_column(str(col), justify="right" if numeric else "left")
    for row in df.itertuples(index=False):
        table.add_row(*(_cell(v) for v in row))
    Console().print(table)


def _cell(v: Any) -> str:
    if isinstance(v, float):
        if not math.isfinite(v):
            return "-"
        return f"{v:,.4g}" if abs(v) < 1e5 else f"{v:,.0f}"
    return str(v)


def emit_object(obj: dict[str, Any], fmt: Format) -> None:
    """Print a result object: JSON as is; table/CSV as key-value pairs."""
    if fmt is Format.json:
        sys.stdout.write(to_json(obj) + "\n")
        return
    import pandas as pd

    flat = pd.DataFrame(
        [(k, v if not isinstance(v, dict | list) else to_json(v)) for k, v in obj.items()],
        columns=["field", "value"],
    )
    emit_frame(flat, fmt)


def unknown_name(what: str, name: str, known: Iterable[str], listing: str) -> str:
    """``unknown <what> 'x'; did you mean ...? <listing>: a, b, c`` (close names by difflib)."""
    names = sorted(set(known))
    near = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(near)}? " if near else ""
    return f"unknown {what} {name!r}; {hint}{listing}: {', '.join(names)}"
