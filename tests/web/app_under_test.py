"""The app the browser tests serve: the service's app factory when present, else a bare FastAPI app."""

from __future__ import annotations

from fastapi import FastAPI

from critmin.web import mount


def create_app() -> FastAPI:
    """A FastAPI app with the dashboard mounted."""
    app = FastAPI()
    mount(app)
    return app
