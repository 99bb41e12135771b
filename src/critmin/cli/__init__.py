"""critmin's command line. Each command module registers its commands on the shared Typer app.

Command modules must stay cheap to import: heavy libraries (dask, linopy, fastapi) are imported inside the
command functions, so ``critmin exposure`` starts fast.
"""

# command modules are imported for their registrations on the app
from critmin.cli import (  # noqa: F401
    atlas_cmds,
    calibrate_cmds,
    disruption_cmds,
    exposure_cmds,
    history_cmds,
    planning_cmds,
    planning_timeline_cmds,
    pricing_cmds,
    sensitivity_cmds,
    service_cmds,
    vault_cmds,
    vault_finance_cmds,
)
from critmin.cli.app import app

__all__ = ["app"]
