"""Where the database lives: ``CRITMIN_DATABASE_URL`` or a SQLite file in the user's data directory."""

from __future__ import annotations

import os
from pathlib import Path


def default_data_dir() -> Path:
    """``CRITMIN_DATA_DIR``, else ``$XDG_DATA_HOME/critmin``, else ``~/.local/share/critmin``."""
    explicit = os.environ.get("CRITMIN_DATA_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "critmin"


def database_url() -> str:
    """The configured database URL (``CRITMIN_DATABASE_URL``) or the default SQLite file."""
    explicit = os.environ.get("CRITMIN_DATABASE_URL")
    if explicit:
        return explicit
    return f"sqlite:///{default_data_dir() / 'critmin.sqlite3'}"
