"""Input bounds, one test per class of bad input, on each backend: unstorable text (NUL, lone surrogates)
anywhere, lengths against the columns, implausible numbers, currencies, dates, booleans, duplicate rows,
oversized bodies, and SQLite ids never reused. Every refusal is a 4xx with a JSON body, never a 500."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from critmin.store.members import create_member, issue_token
from critmin.store.models import AuditEntry, Submission, SubmissionRow
from service.support import ADMIN, Service, start_service, vault_ops

API = "/api/v1"
PROD = {"material": "lithium", "stage": "mine", "year": 2024, "tonnes": 10.0}
DEAL = {
    "date": "2025-03-01",
    "material": "gallium",
    "stage": "refine",
    "tonnes": 2.0,
    "price": 5.0e5,
    "currency": "USD",
    "counterparty": "X",
}


def _submit(service: Service, kind: str, rows: list[dict[str, Any]], who: str = "member_a") -> Any:
    return service.client.post(
        f"{API}/submissions", json={"kind": kind, "rows": rows}, headers=service.auth(who)
    )


def _stored(service: Service) -> tuple[int, int]:
    with service.store.read() as s:
        return (
            s.execute(select(func.count()).select_from(Submission)).scalar_one(),
            s.execute(select(func.count()).select_from(SubmissionRow)).scalar_one(),
        )


def _raw(service: Service, method: str, url: str, text: str, who: str) -> Any:
    headers = {**service.auth(who), "Content-Type": "application/json"}
    return service.client.request(method, url, content=text.encode("utf-8"), headers=headers)


def _is_validation_error(r: Any) -> None:
    assert r.status_code == 422, (r.status_code, r.text)
    body = r.json()
    assert isinstance(body["detail"], list | str)


@pytest.mark.parametrize(
    ("who", "url", "body"),
    [
        ("secretariat", "/members", {"name": "A\u0000B", "role": "participant"}),
        ("operator", "/reserves", {"name": "Ga\u0000"}),
        (
            "member_a",
            "/submissions",
            {"kind": "transactions", "rows": [{**DEAL, "counterparty": "X\u0000Y"}]},
        ),
        ("member_a", "/jobs", {"kind": "montecarlo", "params": {"x\u0000": 1}}),
    ],
)
def test_nul_characters_are_refused_with_422(service: Service, who: str, url: str, body: Any) -> None:
    before = _stored(service)
    _is_validation_error(service.client.post(f"{API}{url}", json=body, headers=service.auth(who)))
    assert _stored(service) == before


def test_nul_in_operation_key_and_path_ids_is_refused(service: Service) -> None:
    op = service.auth("operator")
    rid = service.client.post(f"{API}/reserves", json={"name": "Ga"}, headers=op).json()["id"]
    bad = {**vault_ops(30.0)[0], "key": "open\u0000"}
    _is_validation_error(service.client.post(f"{API}/reserves/{rid}/operations", json=bad, headers=op))
    for url in (f"{API}/jobs/ab%00cd", f"{API}/tokens/ab%00cd", f"{API}/aggregates?material=li%00"):
        method = "DELETE" if "tokens" in url else "GET"
        r = service.client.request(method, url, headers=service.auth("secretariat"))
        _is_validation_error(r)


@pytest.mark.parametrize("escape", ["\\ud800", "\\udfff", "a\\ud83d"])
def test_lone_surrogates_are_refused_and_the_echo_does_not_crash(service: Service, escape: str) -> None:
    text = '{"kind": "production", "rows": [{"material": "lithium", "stage": "mine", "year": 2024, '
    text += f'"tonnes": 1.0, "note": "{escape}"}}]}}'
    r = _raw(service, "POST", f"{API}/submissions", text, "member_a")
    _is_validation_error(r)
    r = _raw(service, "POST", f"{API}/members", f'{{"name": "{escape}", "role": 7}}', "secretariat")
    _is_validation_error(r)
    r = service.client.get(f"{API}/aggregates?material=%ED%A0%80")  # a surrogate, percent-encoded
    _is_validation_error(r)
    assert _stored(service) == (0, 0)


def test_lengths_are_checked_against_the_columns(service: Service) -> None:
    sec = service.auth("secretariat")
    long_name = "N" * 200  # the longest account name: its audit actor (role prefix + name) must fit
    created = service.client.post(
        f"{API}/members", json={"name": long_name, "role": "member", "iso3": "NZL"}, headers=sec
    )
    assert created.status_code == 201
    token = service.client.post(f"{API}/members/{created.json()['id']}/tokens", json={}, headers=sec).json()[
        "token"
    ]
    r = service.client.post(
        f"{API}/submissions",
        json={"kind": "production", "rows": [PROD]},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 201
    with service.store.read() as s:
        actors = (
            s.execute(select(AuditEntry.actor).where(AuditEntry.action == "submission.create"))
            .scalars()
            .all()
        )
    assert actors == [f"member:{long_name}"]
    too_long = service.client.post(
        f"{API}/members", json={"name": "N" * 201, "role": "participant"}, headers=sec
    )
    _is_validation_error(too_long)
    op = service.auth("operator")
    rid = service.client.post(f"{API}/reserves", json={"name": "Ga"}, headers=op).json()["id"]
    key = {**vault_ops(30.0)[0], "key": "k" * 201}
    r = service.client.post(f"{API}/reserves/{rid}/operations", json=key, headers=op)
    assert r.status_code == 422 and "at most 200" in r.json()["detail"]
    _is_validation_error(_submit(service, "transactions", [{**DEAL, "counterparty": "c" * 201}]))


def test_implausible_numbers_are_refused_and_aggregates_survive(service: Service) -> None:
    for rows in (
        [{**PROD, "tonnes": 1e308}, {**PROD, "tonnes": 1e308, "year": 2023}],
        [{**PROD, "tonnes": 2e10}],
        [{**DEAL, "price": 1e300}],
    ):
        r = _submit(service, "transactions" if "price" in rows[0] else "production", rows)
        _is_validation_error(r)
        assert "plausible bound" in json.dumps(r.json())
    too_big = (
        '{"kind": "production", "rows": [' + json.dumps({**PROD, "tonnes": 0}).replace("0}", "1e999}") + "]}"
    )
    _is_validation_error(_raw(service, "POST", f"{API}/submissions", too_big, "member_a"))
    assert _submit(service, "production", [{**PROD, "tonnes": 1e10}]).status_code == 201  # the bound itself
    assert service.client.get(f"{API}/aggregates").status_code == 200
    op = service.auth("operator")
    rid = service.client.post(f"{API}/reserves", json={"name": "Ga"}, headers=op).json()["id"]
    url = f"{API}/reserves/{rid}/operations"
    ops = vault_ops(30.0)
    for body in ops[:3]:
        assert service.client.post(url, json=body, headers=op).status_code == 200
    huge = {**ops[3], "tonnes": 1e300, "price_usd_per_t": 1e300}
    r = service.client.post(url, json=huge, headers=op)
    assert r.status_code == 422 and "service_max_money_usd" in r.json()["detail"]
    assert service.client.get(f"{API}/reserves/{rid}/replay", headers=op).json()["ok"]


def test_currencies_are_iso_4217(service: Service) -> None:
    r = _submit(service, "transactions", [{**DEAL, "currency": "XYZ"}])
    _is_validation_error(r)
    assert "ISO 4217" in json.dumps(r.json())
    assert _submit(service, "transactions", [{**DEAL, "currency": "JPY", "price": 7.5e7}]).status_code == 201


@pytest.mark.parametrize(
    ("kind", "row"),
    [
        ("transactions", {**DEAL, "date": "1899-12-31"}),
        ("transactions", {**DEAL, "date": "2101-01-01"}),
        ("production", {**PROD, "year": 1899}),
        ("production", {**PROD, "year": 2101}),
    ],
)
def test_dates_outside_1900_2100_are_refused(service: Service, kind: str, row: dict[str, Any]) -> None:
    _is_validation_error(_submit(service, kind, [row]))


@pytest.mark.parametrize(
    ("field", "kind"), [("tonnes", "production"), ("year", "production"), ("price", "transactions")]
)
def test_booleans_are_never_read_as_numbers(service: Service, field: str, kind: str) -> None:
    row = {**(DEAL if kind == "transactions" else PROD), field: True}
    r = _submit(service, kind, [row])
    _is_validation_error(r)
    assert "boolean" in json.dumps(r.json())


def test_duplicate_rows_are_refused_with_their_row_numbers(service: Service) -> None:
    rows = [PROD, {**PROD, "year": 2023}, dict(PROD), {**PROD, "year": 2023}]
    r = _submit(service, "production", rows)
    _is_validation_error(r)
    errors = r.json()["errors"]
    assert [(e["row"], e["reason"]) for e in errors] == [
        (3, "duplicate of row 1: the same values"),
        (4, "duplicate of row 2: the same values"),
    ]
    assert _stored(service) == (0, 0)


@pytest.fixture
def capped(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Service]:
    monkeypatch.setenv("CRITMIN_MAX_BODY_BYTES", "20000")
    yield from start_service(db_url)


def test_oversized_bodies_are_refused_with_413(capped: Service) -> None:
    h = capped.auth("member_a")
    rows = [{**PROD, "year": 1900 + i % 200, "tonnes": float(i)} for i in range(1000)]
    assert (
        capped.client.post(
            f"{API}/submissions", json={"kind": "production", "rows": rows}, headers=h
        ).status_code
        == 413
    )
    csv_text = "material,stage,year,tonnes\n" + "".join(
        f"lithium,mine,{1900 + i % 200},{i}\n" for i in range(2000)
    )
    r = capped.client.post(
        f"{API}/submissions/csv?kind=production", files={"file": ("p.csv", csv_text, "text/csv")}, headers=h
    )
    assert r.status_code == 413 and "20,000 bytes" in r.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the cap is counted while the body streams
        yield b'{"kind": "production", "rows": ['
        for i in range(1000):
            yield (json.dumps({**PROD, "year": 1900 + i % 200, "tonnes": float(i)}) + ",").encode()
        yield b"]}"

    r = capped.client.post(
        f"{API}/submissions", content=chunks(), headers={**h, "Content-Type": "application/json"}
    )
    assert r.status_code == 413
    assert _stored(capped) == (0, 0)
    assert (
        capped.client.post(
            f"{API}/submissions", json={"kind": "production", "rows": rows[:50]}, headers=h
        ).status_code
        == 201
    )


def test_ids_are_never_reused(service: Service) -> None:
    h = service.auth("member_a")
    first = _submit(service, "production", [PROD]).json()["id"]
    second = _submit(service, "production", [{**PROD, "year": 2023}]).json()["id"]
    assert service.client.delete(f"{API}/submissions/{second}", headers=h).status_code == 204
    third = _submit(service, "production", [{**PROD, "year": 2022}]).json()["id"]
    assert first < second < third
    with service.store.write() as s:
        member = create_member(s, ADMIN, "Chile", "member", "CHL")
        issue_token(s, ADMIN, member)
    assert member.id > max(service.ids.values())
