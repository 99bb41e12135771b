"""The Typer application object shared by every command module."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="critmin",
    help="critmin: supply-chain atlas, exposure, disruption, stockpile, pricing and investment planning "
    "for a critical-minerals alliance.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
