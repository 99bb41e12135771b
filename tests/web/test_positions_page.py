"""A participant's positions page (``/reserve/positions``) on SQLite and PostgreSQL: its own subscriptions
with committed, open and drawable tonnes, fees and repurchase exposure, a sentence that adds them up, and
the CSV; another participant's positions never appear, in the page or in the download."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from critmin.api.app import create_app
from critmin.store import Store
from critmin.store.members import Principal, create_member, issue_token
from critmin.web.render import money

DAY = "2026-03-02"
# two manufacturers in one reserve; the other's figures are distinctive so that any leak is visible
MINE = {"subscription_id": "sub-a1", "participant_id": "maker-a", "material": "gallium", "quantity_t": 40.0,
        "preset_price_usd_per_t": 1500.0, "upfront_fee_usd": 2500.0}  # fmt: skip
THEIRS = {"subscription_id": "sub-b-hidden", "participant_id": "maker-b", "material": "germanium",
          "quantity_t": 777.0, "preset_price_usd_per_t": 98765.0, "upfront_fee_usd": 43210.0}  # fmt: skip


def _ops() -> list[dict[str, Any]]:
    from critmin.vault import default_terms

    reg = [{"op": "register", "key": f"reg-{p}", "on": DAY,
            "participant": {"id": p, "kind": "manufacturer", "name": name}}
           for p, name in (("maker-a", "Alpha Magnets"), ("maker-b", "Bravo Secret Wafers"))]  # fmt: skip
    return [
        {"op": "open", "key": "open", "on": DAY, "terms": default_terms().model_dump(mode="json")},
        *reg,
        {"op": "subscribe", "key": "sub-a", "on": DAY, **MINE},
        {"op": "subscribe", "key": "sub-b", "on": DAY, **THEIRS},
        {"op": "acquire", "key": "acq-ga", "on": DAY, "material": "gallium", "tonnes": 30.0,
         "price_usd_per_t": 1500.0},
        {"op": "acquire", "key": "acq-ge", "on": DAY, "material": "germanium", "tonnes": 300.0,
         "price_usd_per_t": 98765.0},
        {"op": "draw", "key": "draw-a", "on": DAY, "draw_id": "d-a", "subscription_id": "sub-a1",
         "tonnes": 12.5, "due": "2026-06-01"},
        {"op": "draw", "key": "draw-b", "on": DAY, "draw_id": "d-b-hidden", "subscription_id": "sub-b-hidden",
         "tonnes": 123.0, "due": "2026-06-01"},
    ]  # fmt: skip


@pytest.fixture
def client(db_url: str) -> Iterator[tuple[TestClient, dict[str, str]]]:
    store = Store(db_url)
    store.upgrade()
    admin = Principal(None, "test", "system", None)
    accounts = {"maker-a": ("participant", None), "maker-b": ("participant", None),
                "operator": ("reserve_operator", None), "Australia": ("member", "AUS")}  # fmt: skip
    tokens = {}
    with store.write() as s:
        for name, (role, iso3) in accounts.items():
            tokens[name] = issue_token(s, admin, create_member(s, admin, name, role, iso3), "t")
    with TestClient(create_app(store, job_kinds={})) as c:
        op = {"Authorization": f"Bearer {tokens['operator']}"}
        rid = c.post("/api/v1/reserves", json={"name": "Alliance reserve"}, headers=op).json()["id"]
        for body in _ops():
            r = c.post(f"/api/v1/reserves/{rid}/operations", json=body, headers=op)
            assert r.status_code == 200, r.text
        yield c, tokens
    store.dispose()


LEAKS = ("maker-b", "sub-b-hidden", "Bravo", "germanium", "777", "98,765", "98765", "43,210", "43210", "d-b")


def test_a_participant_sees_its_own_positions_only(client: tuple[TestClient, dict[str, str]]) -> None:
    c, tokens = client
    me = {"Authorization": f"Bearer {tokens['maker-a']}"}
    page = c.get("/reserve/positions", headers=me)
    assert page.status_code == 200
    html = page.text
    assert "Your positions in the reserves" in html and 'id="table-positions"' in html
    for leak in LEAKS:
        assert leak not in html, leak
    # the sentence says what the positions add up to: 40 t committed, 40 open, 27.5 drawable after 12.5 t
    assert ("Your 1 subscription in 1 reserve: 40 t committed, 40 t still open, draw rights on 27.5 t; "
            f"repurchase exposure {money(40 * 1500.0)} at the preset prices; upfront fees "
            f"{money(2500.0)}") in html  # fmt: skip
    csv = c.get("/reserve/positions/download.csv", headers=me)
    assert csv.status_code == 200
    assert csv.headers["content-disposition"] == 'attachment; filename="reserve-positions-maker-a.csv"'
    lines = csv.text.splitlines()
    assert len(lines) == 2 and lines[0].startswith("reserve_id,reserve,participant_id,subscription_id")
    row = dict(zip(lines[0].split(","), lines[1].split(","), strict=True))
    assert (row["subscription_id"], row["committed_t"], row["outstanding_draws_t"]) == (
        "sub-a1",
        "40.0",
        "12.5",
    )
    assert row["draw_rights_t"] == "27.5" and row["repurchase_exposure_usd"] == "60000.0"
    for leak in LEAKS:
        assert leak not in csv.text, leak
    assert 'href="/reserve/positions/download.csv?page=positions&amp;block=positions"' in html


def test_the_other_participant_sees_only_its_own(client: tuple[TestClient, dict[str, str]]) -> None:
    c, tokens = client
    html = c.get("/reserve/positions", headers={"Authorization": f"Bearer {tokens['maker-b']}"}).text
    assert "sub-b-hidden" in html and "sub-a1" not in html and "Alpha" not in html and "maker-a" not in html


def test_the_operator_sees_every_subscriber_and_others_are_refused(
    client: tuple[TestClient, dict[str, str]],
) -> None:
    c, tokens = client
    csv = c.get("/reserve/positions/download.csv", headers={"Authorization": f"Bearer {tokens['operator']}"})
    assert csv.status_code == 200 and len(csv.text.splitlines()) == 3
    assert "sub-a1" in csv.text and "sub-b-hidden" in csv.text
    member = c.get("/reserve/positions", headers={"Authorization": f"Bearer {tokens['Australia']}"})
    assert member.status_code == 403 and "participants" in member.text
    assert "sub-a1" not in member.text
    c.cookies.clear()
    assert c.get("/reserve/positions").status_code == 401
    assert c.get("/reserve/positions/download.csv").status_code == 401


def _sign_in(c: TestClient, token: str) -> None:
    import re

    c.cookies.clear()
    csrf = re.search(r'name="csrf" value="([^"]+)"', c.get("/members").text)
    assert csrf is not None
    r = c.post("/members/signin", data={"token": token, "csrf": csrf.group(1)},
               headers={"Origin": "http://testserver"}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303


def test_the_reserve_page_links_only_what_the_account_may_open(
    client: tuple[TestClient, dict[str, str]],
) -> None:
    c, tokens = client
    links = {}
    for account in ("maker-a", "Australia", "operator"):
        _sign_in(c, tokens[account])
        html = c.get("/reserve").text
        links[account] = {h for h in ("/reserve/positions", "/reserve/operations") if f'href="{h}"' in html}
        for href in links[account]:
            assert c.get(href).status_code == 200, (account, href)
    assert links == {"maker-a": {"/reserve/positions"}, "Australia": set(),
                     "operator": {"/reserve/positions", "/reserve/operations"}}  # fmt: skip
