"""``/docs`` (Swagger UI) is served with local assets: no URL off the host, every asset served here."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from fastapi.testclient import TestClient

from critmin.api.app import DOCS_ASSETS, create_app
from critmin.store import Store


class _Refs(HTMLParser):
    """``src``/``href`` attributes and the text of inline scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.refs += [v for k, v in attrs if k in ("src", "href") and v]
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.scripts.append(data)


def test_docs_make_no_request_off_the_host(tmp_path: Path) -> None:
    app = create_app(Store(f"sqlite:///{tmp_path / 'docs.sqlite3'}"), job_kinds={})
    with TestClient(app) as client:
        page = client.get("/docs")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        parsed = _Refs()
        parsed.feed(page.text)
        assets = ("swagger-ui.css", "favicon-32x32.png", "swagger-ui-bundle.js")
        assert sorted(parsed.refs) == sorted(f"{DOCS_ASSETS}/{name}" for name in assets)
        off_host = [r for r in parsed.refs if re.match(r"^([a-z][a-z0-9+.-]*:)?//", r, re.I)]
        assert off_host == []
        script = "\n".join(parsed.scripts)
        assert "SwaggerUIBundle(" in script and "'/openapi.json'" in script
        assert re.findall(r"(?:https?:)?//[^\s'\"]+", script) == []  # no absolute URL in the set-up script
        assert '"validatorUrl": null' in script  # no validator badge from validator.swagger.io
        for ref in parsed.refs:
            asset = client.get(ref)
            assert asset.status_code == 200, ref
            assert len(asset.content) > 500, ref
        js = client.get(f"{DOCS_ASSETS}/swagger-ui-bundle.js")
        assert "javascript" in js.headers["content-type"] and "SwaggerUIBundle" in js.text
        assert client.get("/openapi.json").json()["info"]["title"] == "critmin alliance service"
        assert client.get("/redoc").status_code == 404  # ReDoc needs a CDN: not offered
