"""Schemathesis against the served OpenAPI document, through the real database, with an admin key:
no server error, and every answer's status, content type, headers and body as documented."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from services.api.app import create_app
from services.api.config import ApiSettings
from shared.settings import CommonSettings

# Examples per operation: ~20 operations, kept well under a minute in all.
MAX_EXAMPLES = 30
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def fuzzed_app(common: CommonSettings) -> Iterator[Any]:
    """The API on this test's database, lifespan running, without a rate limit."""
    app = create_app(common, ApiSettings(rate_limit_per_second=0))
    with TestClient(app):
        yield app


@pytest.fixture
def admin_headers(make_key: Callable[..., str]) -> dict[str, str]:
    """A key that may call every route."""
    return {"Authorization": f"Bearer {make_key('admin')}"}


def test_api_conforms_to_its_openapi_document(
    fuzzed_app: Any, admin_headers: dict[str, str]
) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzzed_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def conforms(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=admin_headers, checks=CHECKS)

        conforms()
