"""critmin's command line. Each command module registers its commands on the shared Typer app.

The modules are imported when first needed (see :mod:`critmin.cli.app`): ``critmin exposure`` imports
only ``exposure_cmds``; ``critmin --help`` imports every module. Command modules must stay cheap to
import: heavy libraries (pandas, dask, linopy, fastapi) are imported inside the command functions.
"""

from critmin.cli.app import app

__all__ = ["app"]
