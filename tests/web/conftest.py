"""Fixtures of the dashboard tests: a real uvicorn server on a free loopback port and headless Chromium.

The browser is Debian's ``/usr/bin/chromium`` driven by Playwright (never a downloaded build). Every request
a page makes is recorded by route interception; a request that would leave 127.0.0.1 is aborted and kept
in ``Visit.external``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1366, "height": 768}
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"


AXE_PATH = "/__tests__/axe.min.js"


def axe_source() -> str:
    """axe-core as shipped by the axe-playwright-python package (answered locally at :data:`AXE_PATH` by
    the browser context, so the page loads it as a same-origin script under its real CSP)."""
    from importlib import resources

    return resources.files("axe_playwright_python").joinpath("axe.min.js").read_text(encoding="utf-8")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


ACCOUNTS = {
    "secretariat": ("Secretariat", "secretariat", None),
    "member_a": ("Australia", "member", "AUS"),
    "member_b": ("Japan", "member", "JPN"),
    "member_c": ("Canada", "member", "CAN"),
    "operator": ("Reserve operator", "reserve_operator", None),
    # participant accounts are the vault participants of their names (the API's positions rule)
    "participant": ("ui-maker", "participant", None),
    "participant_b": ("ui-rival", "participant", None),
}


@dataclass(frozen=True)
class Server:
    """The running dashboard: base URL, one API token and account id per account key."""

    url: str
    tokens: dict[str, str]
    ids: dict[str, int]


def _seed(db_url: str) -> tuple[dict[str, str], dict[str, int]]:
    from critmin.store import Store
    from critmin.store.members import Principal, create_member, issue_token

    store = Store(db_url)
    store.upgrade()
    admin = Principal(None, "dashboard-test", "system", None)
    tokens: dict[str, str] = {}
    ids: dict[str, int] = {}
    with store.write() as s:
        for key, (name, role, iso3) in ACCOUNTS.items():
            member = create_member(s, admin, name, role, iso3)
            tokens[key] = issue_token(s, admin, member, "dashboard-test")
            ids[key] = member.id
    store.dispose()
    return tokens, ids


def _issue_token(server: Server, account: str) -> str:
    """A second token for an existing account (the API's secretariat endpoint)."""
    admin = {"Authorization": f"Bearer {server.tokens['secretariat']}"}
    r = httpx.post(
        f"{server.url}/api/v1/members/{server.ids[account]}/tokens", json={"label": "t"}, headers=admin
    )
    assert r.status_code == 201, r.text
    token: str = r.json()["token"]
    return token


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A uvicorn server (subprocess) with the service and the dashboard on a free 127.0.0.1 port, on a fresh
    SQLite database holding one account per role."""
    db_url = f"sqlite:///{tmp_path_factory.mktemp('dashboard') / 'critmin.db'}"
    tokens, ids = _seed(db_url)
    port = _free_port()
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "CRITMIN_DASHBOARD_TEST_DB": db_url}
    cmd = [
        sys.executable, "-m", "uvicorn", "--factory", "app_under_test:create_app",
        "--app-dir", str(Path(__file__).parent), "--host", "127.0.0.1", "--port", str(port),
        "--log-level", "warning",
    ]  # fmt: skip
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        try:
            while True:
                if proc.poll() is not None:
                    log.seek(0)
                    out = log.read().decode(errors="replace")
                    raise RuntimeError(f"dashboard server exited with {proc.returncode}:\n{out}")
                try:
                    if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("dashboard server did not answer within 60 s")
                time.sleep(0.2)
            yield Server(url, tokens, ids)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium (session-wide)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@dataclass
class Visit:
    """What one browser context saw: every request URL, the external ones, console errors."""

    page: Any
    base: str
    requests: list[str] = field(default_factory=list)
    external: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def goto(self, path: str) -> Any:
        """Open ``path`` and wait until every chart on it is drawn."""
        response = self.page.goto(self.base + path, wait_until="load")
        self.wait_charts()
        return response

    def wait_for(self, expression: str, timeout: float = 90_000) -> None:
        """Poll ``expression`` until it is truthy. Playwright's ``wait_for_function`` compiles its predicate
        with ``eval``, which the service's CSP (``script-src 'self'``) forbids, as it should; a plain
        ``evaluate`` runs through the DevTools protocol, so the page keeps its real CSP in these tests."""
        import time

        from playwright.sync_api import Error

        deadline = time.monotonic() + timeout / 1000
        while True:
            try:
                if self.page.evaluate(f"() => Boolean({expression})"):
                    return
            except Error as err:  # the page navigated (a finished job reloads itself): ask the new one
                if "context was destroyed" not in str(err) and "navigat" not in str(err):
                    raise
            if time.monotonic() > deadline:
                raise TimeoutError(f"{expression!r} still false after {timeout / 1000:.0f} s")
            self.page.wait_for_timeout(100)

    def wait_charts(self) -> None:
        """Wait until every ``.chart`` element has been drawn by Plotly."""
        self.wait_for(
            "Array.from(document.querySelectorAll('.chart')).every(d => d.dataset.rendered === '1')"
        )

    def screenshot(self, name: str) -> Path:
        """Screenshot of the viewport (1366x768) into ``artifacts/screenshots/<name>.png``."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path

    def assert_clean(self) -> None:
        """No console error, no page error, no request that left 127.0.0.1."""
        assert self.external == [], f"requests leaving 127.0.0.1: {self.external}"
        assert self.errors == [], f"console errors: {self.errors}"
        assert self.requests, "no request was recorded"


@pytest.fixture(scope="session")
def server_url(server: Server) -> str:
    """Base URL of the dashboard server."""
    return server.url


@pytest.fixture
def visit(browser: Any, server_url: str) -> Iterator[Visit]:
    """A fresh 1366x768 browser context recording requests and console errors."""
    # the app's CSP (script-src 'self') stays on: the tests poll through ``evaluate`` (``Visit.wait_for``),
    # never ``wait_for_function``, whose string predicates the CSP forbids
    context = browser.new_context(viewport=VIEWPORT)
    v = Visit(page=None, base=server_url)

    def on_route(route: Any) -> None:
        url = route.request.url
        v.requests.append(url)
        host = urlparse(url).hostname
        if host == "127.0.0.1" and urlparse(url).path == AXE_PATH:
            route.fulfill(body=axe_source(), content_type="text/javascript")
        elif url.startswith("data:") or host == "127.0.0.1":
            route.continue_()
        else:
            v.external.append(url)
            route.abort()

    context.route("**/*", on_route)
    page = context.new_page()
    page.on("console", lambda m: v.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: v.errors.append(f"page error: {e}"))
    v.page = page
    yield v
    context.close()
