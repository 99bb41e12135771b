"""The API contract: every operation declares its error statuses with the error body, every response
carries the security headers, and submissions take an idempotency key (each backend)."""

from __future__ import annotations

from sqlalchemy import func, select

from critmin.store.models import AuditEntry, Submission
from service.support import Service

API = "/api/v1"
ROWS = [{"material": "lithium", "stage": "mine", "year": 2024, "tonnes": 10.0}]


def test_every_operation_declares_its_error_statuses(service: Service) -> None:
    spec = service.client.get("/openapi.json").json()
    assert "ErrorOut" in spec["components"]["schemas"]
    operations = [
        (path, method, op)
        for path, item in spec["paths"].items()
        if path.startswith(API)
        for method, op in item.items()
    ]
    assert len(operations) >= 17
    for path, method, op in operations:
        for status in ("401", "403", "404", "409", "413", "422", "429"):
            body = op["responses"][status]["content"]["application/json"]["schema"]
            assert body == {"$ref": "#/components/schemas/ErrorOut"}, (path, method, status)


def test_every_response_carries_the_security_headers(service: Service) -> None:
    responses = [
        service.client.get("/healthz"),
        service.client.get(f"{API}/aggregates"),
        service.client.get(f"{API}/jobs"),  # 401
        service.client.get(f"{API}/reserves/99", headers=service.auth("operator")),  # 404
        service.client.get(f"{API}/aggregates?kind=nope"),  # 422
        service.client.get("/docs"),
    ]
    assert [r.status_code for r in responses] == [200, 200, 401, 404, 422, 200]
    for r in responses:
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["x-content-type-options"] == "nosniff"
    assert "script-src 'self';" in responses[0].headers["content-security-policy"]  # no inline scripts


def test_submissions_take_an_idempotency_key(service: Service) -> None:
    h = {**service.auth("member_a"), "Idempotency-Key": "upload-2024-q1"}
    body = {"kind": "production", "rows": ROWS}
    first = service.client.post(f"{API}/submissions", json=body, headers=h)
    again = service.client.post(f"{API}/submissions", json=body, headers=h)
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    other_member = service.client.post(
        f"{API}/submissions",
        json=body,
        headers={**service.auth("member_b"), "Idempotency-Key": "upload-2024-q1"},
    )
    assert other_member.status_code == 201 and other_member.json()["id"] != first.json()["id"]
    csv_h = {**service.auth("member_a"), "Idempotency-Key": "csv-1"}
    files = {"file": ("p.csv", "material,stage,year,tonnes\nlithium,mine,2023,5\n", "text/csv")}
    csv_ids = {
        service.client.post(f"{API}/submissions/csv?kind=production", files=files, headers=csv_h).json()["id"]
        for _ in range(3)
    }
    assert len(csv_ids) == 1
    with service.store.read() as s:
        assert s.execute(select(func.count()).select_from(Submission)).scalar_one() == 3
        creates = s.execute(select(func.count()).where(AuditEntry.action == "submission.create")).scalar_one()
    assert creates == 3
    bad = service.client.post(f"{API}/submissions", json=body, headers={**h, "Idempotency-Key": "no spaces"})
    assert bad.status_code == 422
