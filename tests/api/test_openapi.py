"""The OpenAPI document is complete enough for a generated client: every parameter described,
every error documented as a problem document."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

PROBLEM = "application/problem+json"


def _operations(api: TestClient) -> list[tuple[str, str, dict[str, Any]]]:
    doc = api.get("/openapi.json").json()
    return [
        (method, path, op)
        for path, item in doc["paths"].items()
        if path.startswith("/v1/")
        for method, op in item.items()
    ]


def test_every_v1_operation_documents_its_errors_as_problems(api: TestClient) -> None:
    for method, path, op in _operations(api):
        codes = set(op["responses"])
        assert {"401", "403", "413", "422", "429"} <= codes, (method, path, codes)
        if "{" in path and not path.startswith("/v1/metrics/"):  # ids, not the metric enum
            assert "404" in codes, (method, path)
        for code, response in op["responses"].items():
            if code.startswith(("4", "5")):
                assert PROBLEM in response["content"], (method, path, code)
        assert op.get("summary") and op.get("description"), (method, path)
        assert op.get("security"), (method, path)


def test_every_parameter_is_described(api: TestClient) -> None:
    missing = [
        (method, path, p["name"])
        for method, path, op in _operations(api)
        for p in op.get("parameters", [])
        if not p.get("description") and not p["schema"].get("description")
    ]
    assert not missing, missing


def test_metric_reads_document_etag_and_304(api: TestClient) -> None:
    ops = {(m, p): op for m, p, op in _operations(api)}
    for path in ("/v1/metrics/{metric}", "/v1/metrics/{metric}/series"):
        responses = ops[("get", path)]["responses"]
        assert "304" in responses and "ETag" in responses["200"]["headers"]
