"""The alliance service's HTTP API (FastAPI): :func:`critmin.api.app.create_app`."""
