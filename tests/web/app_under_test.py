"""The app the browser tests serve: the service's app factory on the test database, dashboard mounted."""

from __future__ import annotations

import os

from fastapi import FastAPI

DB_ENV = "CRITMIN_DASHBOARD_TEST_DB"


def create_app() -> FastAPI:
    """The service app (``critmin.api.app.create_app``) on the database ``$CRITMIN_DASHBOARD_TEST_DB``."""
    from critmin.api.app import create_app as service_app
    from critmin.store import Store

    return service_app(Store(os.environ[DB_ENV]))
