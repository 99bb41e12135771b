"""``/docs`` in headless Chromium, offline: Swagger UI renders the API and no request leaves 127.0.0.1."""

from __future__ import annotations

import pytest

from .conftest import Visit

pytestmark = pytest.mark.browser


def test_swagger_ui_renders_from_local_assets(visit: Visit) -> None:
    response = visit.page.goto(visit.base + "/docs", wait_until="load")
    assert response.status == 200
    visit.page.wait_for_selector(".swagger-ui .info .title", timeout=60_000)
    title = visit.page.inner_text(".swagger-ui .info .title")
    assert title.startswith("critmin alliance service")
    visit.page.wait_for_selector(".opblock", timeout=60_000)
    assert visit.page.locator(".opblock").count() > 10  # the operations of /openapi.json are listed
    visit.assert_clean()
    assert any(u.endswith("/docs-assets/swagger-ui-bundle.js") for u in visit.requests)
    assert any(u.endswith("/openapi.json") for u in visit.requests)
