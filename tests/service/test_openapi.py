"""The OpenAPI document at /docs.json against real responses of a live server.

Every endpoint's success and error responses are validated against the schema the document
gives for that path, method and status; then schemathesis generates requests from the
document (valid and invalid) and fails on any 5xx, undocumented status or schema violation.
"""

from __future__ import annotations

from typing import Any

import httpx
import jsonschema
import pytest

pytestmark = pytest.mark.slow

TEXT = "The minister praised the monitoring mission for its calm and professional work."


@pytest.fixture(scope="module")
def spec(served_tiny) -> dict[str, Any]:
    r = httpx.get(f"{served_tiny.url}/docs.json", timeout=30)
    assert r.status_code == 200
    return dict(r.json())


def _check(spec: dict[str, Any], method: str, path: str, r: httpx.Response) -> None:
    """``r`` has a status documented for (method, path) and a body valid under its schema."""
    responses = spec["paths"][path][method]["responses"]
    assert str(r.status_code) in responses, (path, r.status_code, r.text)
    content = responses[str(r.status_code)]["content"]
    media = r.headers["content-type"].split(";")[0]
    assert media in content, (path, media)
    if media == "application/json":
        schema = {**content[media]["schema"], "components": spec["components"]}
        jsonschema.Draft202012Validator(schema).validate(r.json())


def test_the_document_declares_what_typed_clients_need(spec):
    assert spec["openapi"] == "3.1.0"
    assert set(spec["paths"]) == {
        "/predict",
        "/predict_targets",
        "/predict_batch",
        "/analyze_article",
        "/model",
        "/readyz",
        "/livez",
        "/healthz",
    }
    assert set(spec["paths"]["/model"]) == {"get", "post"}
    for path in ("/predict", "/predict_targets", "/predict_batch", "/analyze_article"):
        assert spec["paths"][path]["post"]["requestBody"]["required"] is True
    out = spec["components"]["schemas"]["PredictionOut"]
    for field in ("id", "speaker", "error", "label"):
        assert {"type": "null"} in out["properties"][field]["anyOf"], field
    assert set(out["required"]) == set(out["properties"])
    error = spec["components"]["schemas"]["ErrorDetail"]
    assert error["required"] == ["type", "message", "field"]


def test_real_responses_of_every_endpoint_match_the_document(served_tiny, spec):
    url = served_tiny.url
    calls: list[tuple[str, str, dict[str, Any] | None]] = [
        ("post", "/predict", {"text": TEXT, "target": "the minister"}),
        ("post", "/predict", {"text": TEXT, "target": "the minister", "speaker": "x", "id": "1"}),
        ("post", "/predict", {"text": "Russia " * 3000, "target": "Russia"}),
        ("post", "/predict", {"text": "\u200b", "target": "x"}),
        ("post", "/predict", {"text": TEXT}),
        ("post", "/predict_targets", {"text": TEXT, "targets": ["the minister", "work"]}),
        ("post", "/predict_targets", {"text": TEXT, "targets": []}),
        (
            "post",
            "/predict_batch",
            {"items": [{"text": TEXT, "target": "a"}, {"text": "", "target": "b"}]},
        ),
        ("post", "/predict_batch", {"items": "nope"}),
        ("post", "/analyze_article", {"text": f'Minister Ana Petrova said: "{TEXT}"', "id": "a"}),
        ("post", "/analyze_article", {"text": "   "}),
        ("get", "/model", None),
        ("post", "/model", {}),
        ("get", "/readyz", None),
        ("get", "/livez", None),
    ]
    seen = set()
    for method, path, body in calls:
        r = httpx.request(method.upper(), f"{url}{path}", json=body, timeout=60)
        _check(spec, method, path, r)
        seen.add((path, r.status_code))
    assert {("/predict", 200), ("/predict", 400), ("/predict_batch", 200)} <= seen
    assert {("/analyze_article", 200), ("/analyze_article", 400), ("/model", 200)} <= seen
    # Errors the edge answers: documented too.
    r = httpx.post(f"{url}/predict", content=b"{}", headers={"content-type": "text/plain"})
    _check(spec, "post", "/predict", r)
    r = httpx.put(f"{url}/predict", json={})
    assert r.status_code == 405
    _check(spec, "post", "/predict", r)


def test_schemathesis_finds_no_server_error_or_contract_violation(served_tiny, spec):
    """Generated requests (valid and invalid), bounded: a few seconds per endpoint."""
    import itertools

    import hypothesis
    import schemathesis
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    schema = schemathesis.openapi.from_dict(spec)
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation, mode in itertools.product(operations, GenerationMode):
        if mode is GenerationMode.NEGATIVE and "requestBody" not in operation.definition.raw:
            continue  # nothing to make invalid in a GET without parameters

        @hypothesis.settings(
            max_examples=12,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(hypothesis.HealthCheck),
            phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
        )
        @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
        def run(case: Any) -> None:
            case.call_and_validate(base_url=served_tiny.url, checks=checks, timeout=60)

        try:
            run()
        except Exception as err:  # collect every operation's failure, then report them all
            failures.append(f"{operation.label} ({mode.value}): {err}")
    assert not failures, "\n\n".join(failures)
