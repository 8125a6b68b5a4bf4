"""The emulator's HTTP API with the real local engine: errors, users, jobs, the spec.

One server (uvicorn in a thread, ``LocalBackend`` over the embedded sample) serves the
whole module; requests go over real HTTP on 127.0.0.1.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from hybrid.params import COLLECTION_ID
from tests.server.api_session import Session, body, error_code, graph
from tests.server_helpers import SHARED, ThreadServer, openapi_spec

# -- bad input -----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/result", "/jobs", "/validation"])
def test_malformed_json_is_400(alice: Session, path: str) -> None:
    answer = alice.post(path, data=b"{not json", headers={"Content-Type": "application/json"})
    assert error_code(answer) == (400, "BadRequest")


@pytest.mark.parametrize("path", ["/result", "/jobs"])
@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (
            body({"x": {"process_id": "no_such_process", "arguments": {}, "result": True}}),
            (400, "ProcessUnsupported"),
        ),
        (
            # a reference to a node that does not exist
            body(
                {
                    "a": {
                        "process_id": "add",
                        "arguments": {"x": {"from_node": "gone"}, "y": 2},
                        "result": True,
                    }
                }
            ),
            (400, "ProcessGraphInvalid"),
        ),
        (body({"a": "not a node"}), (400, "ProcessGraphInvalid")),
        ({"process": {}}, (400, "ProcessGraphMissing")),
        ([1, 2, 3], (400, "BadRequest")),
    ],
)
def test_bad_graphs_are_4xx_with_the_right_code(
    alice: Session, path: str, payload: Any, expected: tuple[int, str]
) -> None:
    assert error_code(alice.post(path, json=payload)) == expected


def test_an_unknown_collection_is_404_for_a_synchronous_result(alice: Session) -> None:
    """(A batch job loading it is created and fails when started, as on Copernicus:
    tests/server/test_server_graph_checks.py.)"""
    answer = alice.post("/result", json=body(graph(collection="LANDSAT_9")))
    assert error_code(answer) == (404, "CollectionNotFound")


def test_validation_lists_errors_instead_of_failing(alice: Session) -> None:
    ok = alice.post("/validation", json={"process_graph": graph()})
    assert ok.status_code == 200 and ok.json() == {"errors": []}
    bad = alice.post("/validation", json={"process_graph": graph(collection="NOPE")})
    assert bad.status_code == 200
    assert [e["code"] for e in bad.json()["errors"]] == ["CollectionNotFound"]


@pytest.mark.parametrize("path", ["/jobs", "/result"])
@pytest.mark.parametrize("level", ["verbose", "DEBUG", None, 3])
def test_a_log_level_outside_the_four_is_invalid_log_level(
    alice: Session, path: str, level: object
) -> None:
    """POST /jobs and POST /result refuse a ``log_level`` other than the API's four with
    Copernicus's 400 ``InvalidLogLevel`` (python-driver 9e5b49b2 views.py L893-901, L696,
    L931); /jobs answered ``BadRequest`` (null was taken as absent), /result ran."""
    answer = alice.post(path, json={**body(graph()), "log_level": level})
    assert error_code(answer) == (400, "InvalidLogLevel")
    assert answer.json()["message"].startswith(f"Invalid log level {level}.")


def test_a_valid_log_level_is_kept(alice: Session) -> None:
    created = alice.post("/jobs", json={**body(graph()), "log_level": "debug"})
    job_id = created.headers["OpenEO-Identifier"]
    assert alice.get(f"/jobs/{job_id}").json()["log_level"] == "debug"
    assert alice.delete(f"/jobs/{job_id}").status_code == 204


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("GET", ""),
        ("PATCH", ""),
        ("DELETE", ""),
        ("GET", "/results"),
        ("POST", "/results"),
        ("DELETE", "/results"),
        ("GET", "/logs"),
    ],
)
def test_unknown_job_is_404_job_not_found(alice: Session, method: str, suffix: str) -> None:
    answer = alice.request(method, f"/jobs/j-doesnotexist{suffix}", json={"title": "x"})
    assert error_code(answer) == (404, "JobNotFound")


def test_unknown_collection_endpoint_and_method(anonymous: Session) -> None:
    assert error_code(anonymous.get("/collections/SENTINEL1_GRD")) == (404, "CollectionNotFound")
    assert error_code(anonymous.get("/no/such/endpoint")) == (404, "NotFound")
    refused = anonymous.delete("/collections")
    assert error_code(refused) == (405, "MethodNotAllowed")
    assert refused.headers["Allow"] == "GET"  # RFC 9110: a 405 names the allowed methods


def test_runs_of_slashes_in_a_path_count_as_one(alice: Session) -> None:
    """The version URL ends in "/": a client that appends "/jobs" (the conformance suite
    does) reaches the jobs, as under Copernicus's werkzeug (merge_slashes)."""
    assert alice.get("/.well-known/openeo").json()["versions"][0]["url"] == f"{alice.url}/"
    created = alice.post(f"{alice.url}//jobs", json=body(graph(collection="NOPE")))
    assert created.status_code == 201, created.text
    job_id = created.headers["OpenEO-Identifier"]
    assert alice.get(f"{alice.url}//jobs//{job_id}").json()["id"] == job_id
    assert alice.delete(f"{alice.url}//jobs/{job_id}").status_code == 204
    assert error_code(alice.get(f"/jobs/{job_id}")) == (404, "JobNotFound")


def test_authentication_is_required(anonymous: Session) -> None:
    for method, path in [
        ("GET", "/jobs"),
        ("POST", "/jobs"),
        ("POST", "/result"),
        ("GET", "/me"),
        ("GET", "/jobs/j-x/logs"),
    ]:
        answer = anonymous.request(method, path, json=body(graph()))
        assert error_code(answer) == (401, "AuthenticationRequired"), path
    bad = anonymous.get("/me", headers={"Authorization": "Bearer basic//forged.token"})
    assert error_code(bad) == (403, "TokenInvalid")


def test_request_bodies_over_one_mib_are_413(alice: Session) -> None:
    huge = {**body(graph()), "description": "x" * (1024 * 1024 + 10)}
    assert error_code(alice.post("/jobs", json=huge)) == (413, "PayloadTooLarge")
    assert alice.get("/jobs").status_code == 200  # the server is fine afterwards


def test_collection_is_the_copernicus_metadata(anonymous: Session) -> None:
    served = anonymous.get(f"/collections/{COLLECTION_ID}").json()
    listed = anonymous.get("/collections").json()["collections"]
    assert [c["id"] for c in listed] == [COLLECTION_ID]
    cdse_file = SHARED / "cdse" / "SENTINEL2_L2A.json"
    if not cdse_file.is_file():
        pytest.skip("../shared/cdse/SENTINEL2_L2A.json is absent")
    cdse = json.loads(cdse_file.read_text(encoding="utf-8"))
    assert "_vito" not in served
    for key in ("id", "cube:dimensions", "providers", "assets", "description"):
        assert served[key] == cdse[key], key
    # CDSE's productIdentifier = {} is not valid STAC: the only summary left out
    assert cdse["summaries"]["productIdentifier"] == {}
    assert served["summaries"] == {
        k: v for k, v in cdse["summaries"].items() if k != "productIdentifier"
    }
    assert served["extent"]["spatial"] == cdse["extent"]["spatial"]
    assert served["extent"]["temporal"]["interval"] == [["2015-07-04T00:00:00Z", None]]
    assert {"self", "parent", "root"} <= {link["rel"] for link in served["links"]}


def test_the_queryables_are_the_properties_a_load_may_filter(
    anonymous: Session, alice: Session
) -> None:
    """``GET /collections/{id}/queryables`` (linked from the collection) lists the
    properties load_collection reads, as a JSON Schema; another name is refused there."""
    from hybrid.stac.item_properties import FILTERABLE

    links = anonymous.get(f"/collections/{COLLECTION_ID}").json()["links"]
    (link,) = [x for x in links if x["rel"].endswith("/queryables")]
    answer = anonymous.get(link["href"])
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/schema+json")
    schema = answer.json()
    assert schema["$id"] == link["href"] and schema["additionalProperties"] is False
    assert list(schema["properties"]) == list(FILTERABLE)
    assert schema["properties"]["eo:cloud_cover"]["type"] == "number"
    assert schema["properties"]["grid:code"]["examples"] == ["MGRS-31UFS"]
    assert error_code(anonymous.get("/collections/NOPE/queryables")) == (
        404,
        "CollectionNotFound",
    )
    condition = {"process_graph": {"c": {"process_id": "lte", "result": True, "arguments": {
        "x": {"from_parameter": "value"}, "y": 10}}}}  # fmt: skip
    filtered = graph()
    load = next(n for n in filtered.values() if n["process_id"] == "load_collection")
    # a name no item records: no item matches (Copernicus's load_stac.py L2633)
    load["arguments"]["properties"] = {"eo:mgrs": condition}
    assert error_code(alice.post("/result", json=body(filtered))) == (400, "NoDataAvailable")


def test_the_capabilities_bill_in_credits_as_copernicus(anonymous: Session) -> None:
    from openeo.rest.capabilities import OpenEoCapabilities

    capabilities = OpenEoCapabilities(anonymous.get("/").json())
    assert capabilities.currency() == "credits"


# -- the spec ----------------------------------------------------------------------------


def test_every_response_is_valid_against_the_openapi_spec(
    alice: Session, anonymous: Session, finished_job: str, exchanges: list[requests.Response]
) -> None:
    if not (SHARED / "openeo-spec" / "api" / "openapi.yaml").is_file():
        pytest.skip("../shared/openeo-spec is absent")
    from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse
    from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound

    for path in [
        "/",
        "/.well-known/openeo",
        "/conformance",
        "/file_formats",
        "/collections",
        f"/collections/{COLLECTION_ID}",
        "/processes",
        "/udf_runtimes",
        "/credentials/oidc",
    ]:
        anonymous.get(path)
    anonymous.get("/collections/NOPE")
    anonymous.get("/me")
    anonymous.get("/me", headers={"Authorization": "Bearer basic//forged"})
    alice.get("/me")
    alice.get("/jobs", params={"limit": 5})
    alice.get(f"/jobs/{finished_job}")
    alice.get(f"/jobs/{finished_job}/results")
    alice.get(f"/jobs/{finished_job}/logs", params={"offset": "1", "level": "info", "limit": 1})
    alice.post("/validation", json={"process_graph": graph()})
    alice.post("/validation", json={"process_graph": graph(collection="NOPE")})
    alice.post("/result", json=body(graph(collection="NOPE")))
    alice.post("/jobs", data=b"{", headers={"Content-Type": "application/json"})
    job_id = alice.post("/jobs", json=body(graph())).headers["OpenEO-Identifier"]
    alice.patch(f"/jobs/{job_id}", json={"description": "changed"})
    alice.get(f"/jobs/{job_id}/results")
    alice.post(f"/jobs/{job_id}/results")
    alice.delete(f"/jobs/{job_id}/results")
    alice.delete(f"/jobs/{job_id}")
    alice.get(f"/jobs/{job_id}")
    spec = openapi_spec()
    checked = set()
    failures = []
    for response in exchanges:
        is_json = response.headers.get("content-type", "").startswith(
            ("application/json", "application/geo+json")
        )
        if (response.content and not is_json) or "/oidc/" in response.url:
            continue  # result files, OIDC (not part of the openEO API)
        if "/results/" in response.url and "/jobs/" not in response.url:
            continue  # signed download links live outside the API's paths
        try:
            spec.validate_response(
                RequestsOpenAPIRequest(response.request), RequestsOpenAPIResponse(response)
            )
        except (PathNotFound, OperationNotFound):
            continue  # requests to endpoints or methods the spec does not have
        except Exception as exc:
            detail = [e.message for e in getattr(exc.__cause__, "schema_errors", [])][:3]
            failures.append(
                f"{response.request.method} {response.url} {response.status_code}: {exc} {detail}"
            )
        checked.add((response.request.method, response.status_code))
    assert not failures, "\n".join(failures)
    expected = {
        ("GET", 200),
        ("POST", 200),
        ("POST", 201),
        ("POST", 202),
        ("PATCH", 204),
        ("DELETE", 204),
        ("GET", 400),
        ("GET", 401),
        ("GET", 403),
        ("GET", 404),
        ("POST", 400),
        ("POST", 404),
    }
    assert expected <= checked, sorted(expected - checked)


def test_every_answer_has_a_request_id_and_an_error_carries_it_as_copernicus(
    server: ThreadServer, alice: Session
) -> None:
    """Copernicus sets ``Request-Id`` on every response (python-driver views.py L201-206),
    ``r-`` and a uuid hex starting with the UTC time (utils.py L355-372), and an error's
    ``id`` is that request id (errors.py L72-73); hybrid sent none, and a random error id."""
    import re

    first, second = requests.get(server.url, timeout=30), requests.get(server.url, timeout=30)
    ids = [r.headers.get("Request-Id", "") for r in (first, second)]
    assert all(re.fullmatch(r"r-\d{12}[0-9a-f]{20}", i) for i in ids) and ids[0] != ids[1]
    missing = alice.get("/jobs/no-such-job")
    assert missing.status_code == 404
    assert missing.json()["id"] == missing.headers["Request-Id"]
    preflight = requests.options(f"{server.url}/jobs", timeout=30)  # CORS answers it
    assert preflight.status_code == 204 and preflight.headers["Request-Id"].startswith("r-")


def test_collection_items_are_501_feature_unsupported_as_copernicus(anonymous: Session) -> None:
    """Copernicus routes STAC's ``GET /collections/{id}/items`` (views.py L2320-2331) to a
    catalog method its geopyspark driver leaves at the default 501 (backend.py L302-306)."""
    for collection_id in (COLLECTION_ID, "NO_SUCH_COLLECTION"):
        answer = anonymous.get(f"/collections/{collection_id}/items")
        assert error_code(answer) == (501, "FeatureUnsupported"), answer.text
