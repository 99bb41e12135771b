"""Fixtures of the service tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from service.support import Service, start_service


@pytest.fixture
def service(db_url: str) -> Iterator[Service]:
    """The service on an empty database of each backend."""
    yield from start_service(db_url)
