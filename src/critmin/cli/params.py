"""The one parameter-override option of every command: ``--param NAME[MATERIAL]=VALUE`` (repeatable).

``--set`` is kept as a deprecated alias of ``--param``. Parsing and validation live in
:mod:`critmin.parameters`; this module only turns an :class:`~critmin.parameters.OverrideError` into a
clear error line and exit code 2.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    import pandas as pd

    from critmin.parameters import ParameterSet

PARAM_HELP = (
    "Parameter override NAME[MATERIAL]=VALUE (NAME=VALUE for the default row), repeatable, "
    "e.g. price_cap_index[gallium]=3; names and materials are checked against the parameter table "
    "(critmin/data/parameters/*.csv). --set is a deprecated alias."
)


def param_option() -> list[str] | None:
    """The shared ``--param``/``-p`` option (with ``--set`` as a deprecated alias)."""
    return typer.Option(None, "--param", "-p", "--set", help=PARAM_HELP)


def parse_params(items: list[str] | None, table: pd.DataFrame | None = None) -> dict[tuple[str, str], float]:
    """Validated ``{(name, material): value}`` (against ``table``, default: the bundled parameter table);
    an invalid item exits with code 2 and says why."""
    from critmin.parameters import OverrideError, parse_overrides

    try:
        return parse_overrides(items or [], table)
    except OverrideError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


def param_set(items: list[str] | None) -> ParameterSet:
    """The bundled parameters with the validated overrides of ``--param`` (the table is read once)."""
    from critmin.parameters import ParameterSet

    base = ParameterSet()
    return base.with_overrides(parse_params(items, base.table))
