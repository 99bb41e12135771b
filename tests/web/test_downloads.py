"""Every download is named after its content (Content-Disposition): public pages, a member's own page,
the published prices and the reserve operations."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from critmin.api.app import create_app
from critmin.store import Store
from critmin.store.members import Principal, create_member, issue_token

ORIGIN = {"Origin": "http://testserver"}


@pytest.fixture
def app_client(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str], dict[str, int]]]:
    store = Store(f"sqlite:///{tmp_path / 'dl.db'}")
    store.upgrade()
    admin = Principal(None, "test", "system", None)
    tokens, ids = {}, {}
    with store.write() as s:
        for key, role, iso3 in (("member", "member", "AUS"), ("operator", "reserve_operator", None)):
            m = create_member(s, admin, key, role, iso3)
            tokens[key], ids[key] = issue_token(s, admin, m, "t"), m.id
    with TestClient(create_app(store, job_kinds={})) as c:
        yield c, tokens, ids


def _sign_in(c: TestClient, token: str) -> None:
    c.cookies.clear()
    csrf = re.search(r'name="csrf" value="([^"]+)"', c.get("/members").text)
    assert csrf is not None
    r = c.post("/members/signin", data={"token": token, "csrf": csrf.group(1)}, headers=ORIGIN,
               follow_redirects=False)  # fmt: skip
    assert r.status_code == 303


def _filename(response: object) -> str:
    header = response.headers["content-disposition"]  # type: ignore[attr-defined]
    match = re.fullmatch(r'attachment; filename="([A-Za-z0-9._-]+)"', header)
    assert match is not None, header
    return match.group(1)


def test_downloads_are_named_after_their_content(
    app_client: tuple[TestClient, dict[str, str], dict[str, int]],
) -> None:
    c, tokens, ids = app_client
    public = c.get("/download.csv?page=material&block=key-facts&material=gallium")
    assert public.status_code == 200 and _filename(public) == "material-gallium-key-facts.csv"
    assert public.text.splitlines()[0].startswith("Stage,Year,China (% of world)")
    _sign_in(c, tokens["member"])
    own = c.get(f"/members/{ids['member']}/download.csv?block=submissions")
    assert own.status_code == 200 and _filename(own) == f"member-{ids['member']}-submissions.csv"
    published = c.get("/prices/published/download.csv?block=latest")
    assert published.status_code == 404  # no release yet: the block does not exist, nothing is invented
    _sign_in(c, tokens["operator"])
    ops = c.get("/reserve/operations/download.csv?block=ledger")
    assert ops.status_code == 200 and _filename(ops) == "reserve-operations-ledger.csv"
    template = c.get("/members/template.csv?kind=transactions")
    assert _filename(template) == "critmin-transactions-template.csv"
