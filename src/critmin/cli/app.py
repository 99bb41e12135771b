"""The Typer application object shared by every command module."""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperGroup


class _Group(TyperGroup):
    """The command group: an inconsistent atlas (strict mode) ends any command with exit 2 and the error
    naming the problem, not a traceback."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except ValueError as exc:
            from critmin.atlas.loader import AtlasConsistencyError  # here: pandas only once it is loaded

            if not isinstance(exc, AtlasConsistencyError):
                raise
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc


app = typer.Typer(
    cls=_Group,
    name="critmin",
    help="critmin: supply-chain atlas, exposure, disruption, stockpile, pricing and investment planning "
    "for a critical-minerals alliance.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def _strict_atlas(ctx: typer.Context) -> None:
    """Every command checks the atlas when it loads: strict (an error naming the problem) unless
    ``CRITMIN_STRICT_ATLAS=false``, then the problems are listed (``critmin materials`` / ``sources``)."""
    from critmin.options import STRICT_ATLAS, options

    token = STRICT_ATLAS.set(options().strict_atlas)
    ctx.call_on_close(lambda: STRICT_ATLAS.reset(token))
