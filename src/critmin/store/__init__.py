"""The alliance service's store: SQLAlchemy 2 models, Alembic migrations, repositories and the audit chain.

SQLite (a file in the user's data directory) is the embedded default; PostgreSQL is used when
``CRITMIN_DATABASE_URL`` names it. :class:`critmin.store.engine.Store` is the entry point.
"""

from critmin.store.config import database_url, default_data_dir
from critmin.store.engine import Store

__all__ = ["Store", "database_url", "default_data_dir"]
