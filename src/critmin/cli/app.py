"""The Typer application object shared by every command module.

Command modules are imported when first needed: a run of one command (``critmin exposure ...``) imports
only the modules of :data:`COMMANDS` that register it; listing the commands (``critmin --help``, an
unknown name, ``typer.main.get_command(app)`` as the tests' ``CliRunner`` does) imports them all.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib import import_module
from typing import Any

import typer
from typer.core import TyperGroup
from typer.models import CommandInfo, TyperInfo

#: the modules (in ``critmin.cli``) that register each top-level command or group (a command missing here
#: still runs: every module is imported)
COMMANDS: dict[str, tuple[str, ...]] = {
    "materials": ("atlas_cmds",),
    "countries": ("atlas_cmds",),
    "sources": ("atlas_cmds",),
    "load": ("atlas_cmds",),
    "data": ("atlas_cmds",),
    "calibrate": ("calibrate_cmds",),
    "risk": ("disruption_cmds",),
    "shock": ("disruption_cmds",),
    "exposure": ("exposure_cmds",),
    "history": ("history_cmds",),
    "plan": ("planning_cmds", "planning_timeline_cmds"),
    "floor": ("pricing_cmds",),
    "price": ("pricing_cmds",),
    "sensitivity": ("sensitivity_cmds",),
    "serve": ("service_cmds",),
    "worker": ("service_cmds",),
    "db": ("service_cmds",),
    "audit": ("service_cmds",),
    "token": ("service_cmds",),
    "vault": ("vault_cmds", "vault_finance_cmds"),
}


def command_modules() -> list[str]:
    """Every command module of the package (``critmin/cli/*_cmds.py``), sorted: the order of ``--help``."""
    import pkgutil
    from pathlib import Path

    here = [str(Path(__file__).parent)]
    return sorted(m.name for m in pkgutil.iter_modules(here) if m.name.endswith("_cmds"))


class HelpGroup(TyperGroup):
    """A command group whose help lists each command with its whole first paragraph (click's plain help
    cuts it at the first sentence or about 45 characters)."""

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        rows = []
        for name in self.list_commands(ctx):
            cmd = self.get_command(ctx, name)
            if cmd is not None and not cmd.hidden:
                text = cmd.short_help or (cmd.help or "").partition("\n\n")[0]
                rows.append((name, " ".join(text.split())))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


class _Group(HelpGroup):
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


class _App(typer.Typer):
    """A Typer app whose registrations are completed (every command module imported) when they are read,
    except during a run of one command named in :data:`COMMANDS`, which imports only its modules."""

    _complete = False
    _loading = False
    _partial = False

    @property
    def registered_commands(self) -> list[CommandInfo]:
        self._complete_registrations()
        return self._commands

    @registered_commands.setter
    def registered_commands(self, value: list[CommandInfo]) -> None:
        self._commands = value

    @property
    def registered_groups(self) -> list[TyperInfo]:
        self._complete_registrations()
        return self._groups

    @registered_groups.setter
    def registered_groups(self, value: list[TyperInfo]) -> None:
        self._groups = value

    def _import(self, modules: Sequence[str]) -> None:
        self._loading = True
        try:
            for m in modules:
                import_module(f"critmin.cli.{m}")
        finally:
            self._loading = False

    def _complete_registrations(self) -> None:
        if self._complete or self._loading or self._partial:
            return
        self._import(command_modules())
        self._complete = True

    def add_typer(self, typer_instance: typer.Typer, **kwargs: Any) -> None:
        """A sub-app's group lists its commands as the top one does (:class:`HelpGroup`)."""
        kwargs.setdefault("cls", HelpGroup)
        super().add_typer(typer_instance, **kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        argv = kwargs.get("args", args[0] if args else None)
        words = list(sys.argv[1:] if argv is None else argv)
        modules = COMMANDS.get(words[0]) if words else None
        if modules is None or self._complete:
            return super().__call__(*args, **kwargs)
        self._import(modules)
        self._partial = True
        try:
            return super().__call__(*args, **kwargs)
        finally:
            self._partial = False


app = _App(
    cls=_Group,
    name="critmin",
    help="critmin: supply-chain atlas, exposure, disruption, stockpile, pricing and investment planning "
    "for a critical-minerals alliance.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # click's plain help and error messages: typer's rich help imports rich's Markdown renderer and
    # markdown-it (about half of a cold ``critmin --help``) and reads ``[word]`` in help texts as markup
    rich_markup_mode=None,
)


@app.callback()
def _strict_atlas(ctx: typer.Context) -> None:
    """Every command checks the atlas when it loads: strict (an error naming the problem) unless
    ``CRITMIN_STRICT_ATLAS=false``, then the problems are listed (``critmin materials`` / ``sources``)."""
    from critmin.options import STRICT_ATLAS, options

    token = STRICT_ATLAS.set(options().strict_atlas)
    ctx.call_on_close(lambda: STRICT_ATLAS.reset(token))
