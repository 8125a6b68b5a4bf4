"""The emulator's own OpenAPI document (``GET /openapi.json``, :mod:`hybrid.server.api_document`).

One real server (uvicorn in a thread, ``LocalBackend`` on the embedded sample) on 127.0.0.1.
The fuzzer that checks every answer against this document is ``test_server_fuzz.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.server_helpers import ThreadServer, local_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadServer]:
    with local_server(tmp_path_factory.mktemp("openapi") / "data") as running:
        yield running


@pytest.fixture(scope="module")
def document(server: ThreadServer) -> dict[str, Any]:
    capabilities = requests.get(f"{server.url}/", timeout=30).json()
    (link,) = [link for link in capabilities["links"] if link["rel"] == "service-desc"]
    assert link["type"] == "application/vnd.oai.openapi+json;version=3.1"
    answer = requests.get(link["href"], timeout=30)
    assert answer.status_code == 200
    found: dict[str, Any] = answer.json()
    return found


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    from openapi_spec_validator import validate

    assert document["openapi"].startswith("3.1")
    validate(document)  # raises on any violation of the OpenAPI 3.1 schema


def test_the_document_lists_exactly_the_endpoints_of_the_capabilities(
    server: ThreadServer, document: dict[str, Any]
) -> None:
    endpoints = requests.get(f"{server.url}/", timeout=30).json()["endpoints"]
    listed = {(method, e["path"]) for e in endpoints for method in e["methods"]}
    documented = {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if path != "/"
    }
    assert listed == documented
    # what the emulator does not offer is not in the document
    assert not [path for path in document["paths"] if path.startswith("/files")]
    assert "/results/{token}/{filename}" not in document["paths"]


def test_every_operation_documents_its_answers_and_errors(document: dict[str, Any]) -> None:
    error = {"$ref": "#/components/schemas/Error"}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            assert [code for code in responses if code.startswith("2")], (method, path)
            for family in ("4XX", "5XX"):
                assert responses[family]["content"]["application/json"]["schema"] == error
            assert "422" not in responses  # FastAPI's default: the emulator answers 400


def test_security_follows_the_api(server: ThreadServer, document: dict[str, Any]) -> None:
    """Bearer where the API requires it, Basic for /credentials/basic, optional Bearer
    for /validation; every Bearer-only operation answers an anonymous call with 401."""
    paths = document["paths"]
    assert paths["/credentials/basic"]["get"]["security"] == [{"Basic": []}]
    assert paths["/validation"]["post"]["security"] == [{}, {"Bearer": []}]
    assert paths["/collections"]["get"]["security"] == []
    bearer = [
        (method, path)
        for path, item in paths.items()
        for method, operation in item.items()
        if operation["security"] == [{"Bearer": []}]
    ]
    assert ("get", "/jobs") in bearer and ("post", "/result") in bearer
    assert ("get", "/services") in bearer and len(bearer) == 22  # 6 of them /services
    for method, path in bearer:
        url = server.url + path.format(job_id="j1", process_graph_id="p1", service_id="s1")
        answer = requests.request(method, url, timeout=30)
        assert answer.status_code == 401, (method, path, answer.status_code)
        assert answer.json()["code"] == "AuthenticationRequired"


def test_the_documented_shapes_follow_the_openeo_api(document: dict[str, Any]) -> None:
    """A few of the API's rules, as written in its openapi.yaml, found in the document."""
    schemas = document["components"]["schemas"]
    job = schemas["JobSummary"]
    assert set(job["required"]) == {"id", "status", "created"}
    assert job["properties"]["status"]["enum"] == [
        "created", "queued", "running", "canceled", "finished", "error"
    ]  # fmt: skip
    assert set(schemas["Capabilities"]["required"]) == {
        "api_version", "backend_version", "stac_version", "id", "title", "description",
        "endpoints", "links",
    }  # fmt: skip
    assert schemas["Error"]["required"] == ["code", "message"]
    limit = {p["name"]: p for p in document["paths"]["/jobs"]["get"]["parameters"]}["limit"]
    assert limit["schema"] == {"type": "integer", "minimum": 1, "maximum": 1000}
    created = document["paths"]["/jobs"]["post"]["responses"]["201"]["headers"]
    assert {"Location", "OpenEO-Identifier"} <= set(created)


def test_an_undocumented_route_fails_the_build_of_the_document() -> None:
    from fastapi import FastAPI

    from hybrid.server import api_document

    app = FastAPI()

    @app.get("/not_in_the_table")
    def handler() -> None:
        return None

    with pytest.raises(KeyError, match="GET /not_in_the_table"):
        api_document.document(app)
