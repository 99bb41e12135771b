"""critmin's command line. Each command module registers its commands on the shared Typer app.

Command modules must stay cheap to import: heavy libraries (dask, linopy, fastapi) are imported inside the
command functions, so ``critmin exposure`` starts fast.
"""

from critmin.cli.app import app

# command modules (imported for their registrations)
from critmin.cli import atlas_cmds  # noqa: E402, F401
from critmin.cli import disruption_cmds  # noqa: E402, F401
from critmin.cli import exposure_cmds  # noqa: E402, F401
from critmin.cli import planning_cmds  # noqa: E402, F401
from critmin.cli import pricing_cmds  # noqa: E402, F401
from critmin.cli import service_cmds  # noqa: E402, F401
from critmin.cli import vault_cmds  # noqa: E402, F401

__all__ = ["app"]
