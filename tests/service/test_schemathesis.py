"""Property-based API check: schemathesis generates requests for every operation of /openapi.json
(bounded examples; as the secretariat, a member, the reserve operator and the public): no request may
produce a server error, and every response must have a declared status, content type and a body that
conforms to the declared schema (each backend)."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from service.support import Service

EXAMPLES_PER_OPERATION = 6
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.mark.parametrize("who", ["secretariat", "member_a", "operator", "public"])
def test_no_server_error_and_no_schema_violation(service: Service, who: str) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", service.client.app)
    headers = service.auth(who)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 17
    calls: list[tuple[str, int]] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            response = case.call(headers=headers)
            case.validate_response(response, checks=CHECKS)
            calls.append((case.operation.label, response.status_code))

        run()
    assert all(code < 500 for _, code in calls)
    assert len({label for label, _ in calls}) == len(operations)
    assert any(400 <= code < 500 for _, code in calls)  # refusals were exercised, and conformed
