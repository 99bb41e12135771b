"""Malformed uploads are rejected whole: the database is unchanged and every bad value is listed."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from critmin.store.models import AuditEntry, Submission, SubmissionRow
from critmin.store.submissions import SubmissionInvalid, validate_rows
from service.support import Service

API = "/api/v1"


def _rows(n: int) -> list[dict[str, object]]:
    return [
        {"material": "lithium", "stage": "mine", "year": 2000 + i % 25, "tonnes": float(i)} for i in range(n)
    ]


def _counts(service: Service) -> tuple[int, int, int]:
    with service.store.read() as s:
        return (
            s.execute(select(func.count()).select_from(Submission)).scalar_one(),
            s.execute(select(func.count()).select_from(SubmissionRow)).scalar_one(),
            s.execute(select(func.count()).select_from(AuditEntry)).scalar_one(),
        )


def _to_csv(rows: list[dict[str, object]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["material", "stage", "year", "tonnes"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_bad_row_500_of_1000_leaves_database_unchanged(service: Service, fmt: str) -> None:
    h = service.auth("member_a")
    ok = service.client.post(f"{API}/submissions", json={"kind": "production", "rows": _rows(10)}, headers=h)
    assert ok.status_code == 201
    before = _counts(service)
    rows = _rows(1000)
    rows[499]["tonnes"] = -5.0
    if fmt == "json":
        r = service.client.post(f"{API}/submissions", json={"kind": "production", "rows": rows}, headers=h)
    else:
        r = service.client.post(
            f"{API}/submissions/csv?kind=production",
            files={"file": ("p.csv", _to_csv(rows), "text/csv")},
            headers=h,
        )
    assert r.status_code == 422
    body = r.json()
    assert "nothing was stored" in body["detail"]
    assert len(body["errors"]) == 1
    err = body["errors"][0]
    assert err["row"] == 500 and err["field"] == "tonnes"
    assert float(err["value"]) == -5.0
    assert "greater than or equal to 0" in err["reason"]
    assert _counts(service) == before


def test_every_bad_value_is_listed_with_row_field_value_reason(service: Service) -> None:
    audit_before = _counts(service)[2]
    rows = _rows(6)
    rows[1]["material"] = "Gallium!"
    rows[3]["stage"] = "smelt"
    rows[3]["year"] = 1800
    del rows[5]["tonnes"]
    rows[4]["colour"] = "blue"
    r = service.client.post(
        f"{API}/submissions", json={"kind": "production", "rows": rows}, headers=service.auth("member_b")
    )
    assert r.status_code == 422
    got = {(e["row"], e["field"], e["value"]) for e in r.json()["errors"]}
    assert got == {
        (2, "material", "Gallium!"),
        (4, "stage", "smelt"),
        (4, "year", 1800),
        (5, "colour", "blue"),
        (6, "tonnes", None),
    }
    assert _counts(service) == (0, 0, audit_before)


def test_unknown_material_is_rejected(service: Service) -> None:
    rows = [_rows(2)[0], {"material": "unobtainium", "stage": "mine", "year": 2024, "tonnes": 1.0}]
    r = service.client.post(
        f"{API}/submissions", json={"kind": "production", "rows": rows}, headers=service.auth("member_a")
    )
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {"row": 2, "field": "material", "value": "unobtainium", "reason": "not a material of the atlas"}
    ]


def test_transactions_need_positive_price_currency_and_date(service: Service) -> None:
    rows = [
        {
            "date": "2025-02-30",
            "material": "cobalt",
            "stage": "refine",
            "tonnes": 1,
            "price": 3e4,
            "currency": "USD",
            "counterparty": "X",
        },
        {
            "date": "2025-02-01",
            "material": "cobalt",
            "stage": "refine",
            "tonnes": 1,
            "price": 0,
            "currency": "usd",
            "counterparty": "X",
        },
    ]
    r = service.client.post(
        f"{API}/submissions", json={"kind": "transactions", "rows": rows}, headers=service.auth("member_a")
    )
    assert r.status_code == 422
    assert {(e["row"], e["field"]) for e in r.json()["errors"]} == {
        (1, "date"),
        (2, "price"),
        (2, "currency"),
    }


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 60), data=st.data())
def test_error_rows_are_exactly_the_corrupted_rows(n: int, data: st.DataObject) -> None:
    bad = sorted(data.draw(st.sets(st.integers(1, n), max_size=n)))
    rows = _rows(n)
    for i in bad:
        rows[i - 1]["year"] = "twenty"
    if not bad:
        assert len(validate_rows("production", rows)) == n
        return
    with pytest.raises(SubmissionInvalid) as exc:
        validate_rows("production", rows)
    assert [e.row for e in exc.value.errors] == bad
    assert {(e.field, e.value) for e in exc.value.errors} == {("year", "twenty")}


def test_a_stray_carriage_return_is_a_422_not_a_server_error(service: Service) -> None:
    """Found by schemathesis: a CSV body of just "\\r0" broke the csv reader (500)."""
    h = service.auth("member_a")
    before = _counts(service)
    for body in ("\r0", 'material,stage\n"x\ry\n'):
        r = service.client.post(
            f"{API}/submissions/csv?kind=demand", files={"file": ("d.csv", body, "text/csv")}, headers=h
        )
        assert r.status_code == 422, (body, r.text)
        assert r.json()["errors"], body
    assert _counts(service) == before
