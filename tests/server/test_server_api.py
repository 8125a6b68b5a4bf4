"""The emulator's HTTP API with the real local engine: errors, users, links, the spec.

One server (uvicorn in a thread, ``LocalBackend`` over the embedded sample) serves the
whole module; requests go over real HTTP on 127.0.0.1.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import netCDF4
import pytest
import requests

from hybrid.io.netcdf_layout import NETCDF4_LOCK
from hybrid.params import COLLECTION_ID
from tests.server_helpers import (
    SEED_BBOX,
    SHARED,
    TEMPORAL_EXTENT,
    ThreadServer,
    ndvi_graph,
    openapi_spec,
    two_user_server,
)


def graph(*, collection: str = COLLECTION_ID, dates: list[str] = TEMPORAL_EXTENT) -> dict:
    """A small valid graph: NDVI of the seed AOI, saved as netCDF."""
    return ndvi_graph(SEED_BBOX, dates, collection=collection)


def body(process_graph: dict) -> dict:
    return {"process": {"process_graph": process_graph}}


class Session(requests.Session):
    """requests against one server, authenticated as one user, recording every exchange."""

    def __init__(self, url: str, log: list[requests.Response], user: tuple[str, str] | None):
        super().__init__()
        self.url = url
        self.log = log
        if user is not None:
            token = self.get("/credentials/basic", auth=user).json()["access_token"]
            self.headers["Authorization"] = f"Bearer basic//{token}"

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        target = url if str(url).startswith("http") else f"{self.url}{url!s}"
        response = super().request(method, target, *args, **kwargs)
        self.log.append(response)
        return response


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, sample_catalog: Path
) -> Iterator[ThreadServer]:
    with two_user_server(tmp_path_factory.mktemp("api"), sample_catalog) as running:
        yield running


@pytest.fixture(scope="module")
def exchanges() -> list[requests.Response]:
    return []


@pytest.fixture(scope="module")
def alice(server: ThreadServer, exchanges: list[requests.Response]) -> Session:
    return Session(server.url, exchanges, ("alice", "a-pass"))


@pytest.fixture(scope="module")
def bob(server: ThreadServer, exchanges: list[requests.Response]) -> Session:
    return Session(server.url, exchanges, ("bob", "b-pass"))


@pytest.fixture(scope="module")
def anonymous(server: ThreadServer, exchanges: list[requests.Response]) -> Session:
    return Session(server.url, exchanges, None)


def wait_for(session: Session, job_id: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = session.get(f"/jobs/{job_id}").json()
        if job["status"] not in ("created", "queued", "running"):
            return dict(job)
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s")


@pytest.fixture(scope="module")
def finished_job(alice: Session) -> str:
    created = alice.post("/jobs", json={**body(graph()), "title": "ndvi"})
    assert created.status_code == 201, created.text
    job_id = created.headers["OpenEO-Identifier"]
    assert created.headers["Location"] == f"{alice.url}/jobs/{job_id}"
    assert alice.post(f"/jobs/{job_id}/results").status_code == 202
    assert wait_for(alice, job_id)["status"] == "finished"
    return job_id


def error_code(response: requests.Response) -> tuple[int, str]:
    payload = response.json()
    assert set(payload) >= {"id", "code", "message", "links"}, payload
    return response.status_code, payload["code"]


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


# -- users -----------------------------------------------------------------------------


def test_another_users_job_is_not_visible(alice: Session, bob: Session, finished_job: str) -> None:
    assert finished_job in [j["id"] for j in alice.get("/jobs").json()["jobs"]]
    assert finished_job not in [j["id"] for j in bob.get("/jobs").json()["jobs"]]
    for method, suffix in [
        ("GET", ""),
        ("GET", "/results"),
        ("GET", "/logs"),
        ("DELETE", ""),
        ("POST", "/results"),
        ("PATCH", ""),
    ]:
        answer = bob.request(method, f"/jobs/{finished_job}{suffix}", json={"title": "mine"})
        assert error_code(answer) == (404, "JobNotFound"), (method, suffix)
    assert alice.get(f"/jobs/{finished_job}").json()["title"] == "ndvi"


# -- results and links -------------------------------------------------------------------


def test_results_are_a_stac_collection_with_signed_asset_links(
    alice: Session, anonymous: Session, finished_job: str
) -> None:
    # Copernicus at API >= 1.1: a STAC Collection (openeo-python-driver views.py)
    results = alice.get(f"/jobs/{finished_job}/results").json()
    assert results["type"] == "Collection" and results["id"] == finished_job
    assert results["openeo:status"] == "finished" and results["title"] == "ndvi"
    assert results["description"] == f"Results for batch job {finished_job}"
    (bbox,) = results["extent"]["spatial"]["bbox"]
    assert bbox == pytest.approx(list(SEED_BBOX.values()))
    start, end = TEMPORAL_EXTENT
    assert results["extent"]["temporal"]["interval"] == [[f"{start}T00:00:00Z", f"{end}T00:00:00Z"]]
    (provider,) = results["providers"]
    expression = provider["processing:expression"]
    assert expression == {"format": "openeo", "expression": graph()}
    assert {link["rel"] for link in results["links"]} == {"self", "canonical", "item"}
    (asset,) = results["assets"].values()
    assert asset["type"] == "application/x-netcdf" and asset["roles"] == ["data"]
    assert asset["bands"] == asset["eo:bands"]
    assert asset["proj:epsg"] == 32632
    rows, cols = asset["proj:shape"]
    west, south, east, north = asset["proj:bbox"]
    assert (east - west) / cols == pytest.approx(10) and (north - south) / rows == pytest.approx(10)
    download = anonymous.get(asset["href"])  # no credentials needed
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/x-netcdf"
    assert download.content[:4] == b"\x89HDF"
    assert asset["file:size"] == len(download.content)
    # what the file holds (the server runs in this process: netCDF4 under its lock)
    with NETCDF4_LOCK, netCDF4.Dataset("results.nc", memory=download.content) as nc:
        variables = [n for n, v in nc.variables.items() if v.dimensions[-2:] == ("y", "x")]
        assert [band["name"] for band in asset["bands"]] == variables != []
        assert [len(nc.dimensions["y"]), len(nc.dimensions["x"])] == asset["proj:shape"]
    logs = alice.get(f"/jobs/{finished_job}/logs").json()
    assert any("finished" in e["message"] for e in logs["logs"])


def _skeleton(value: Any) -> Any:
    """The structure of a JSON value: keys and JSON types (a list: its first element's)."""
    if isinstance(value, dict):
        return {key: _skeleton(v) for key, v in value.items()}
    if isinstance(value, list):
        return [_skeleton(value[0])] if value else []
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "number"
    return type(value).__name__


def test_results_have_the_structure_of_a_real_copernicus_answer(
    alice: Session, finished_job: str
) -> None:
    real_file = SHARED / "cdse" / "real-job" / "job-results.json"
    if not real_file.is_file():
        pytest.skip("../shared/cdse/real-job/job-results.json is absent")
    real = json.loads(real_file.read_text(encoding="utf-8"))
    ours = alice.get(f"/jobs/{finished_job}/results").json()
    assert ours.keys() == real.keys()
    for key in ("type", "stac_version", "license", "summaries", "openeo:status"):
        assert ours[key] == real[key], key
    assert sorted(ours["stac_extensions"]) == sorted(real["stac_extensions"])
    assert _skeleton(ours["extent"]) == _skeleton(real["extent"])
    for key in ("id", "title", "description"):
        assert _skeleton(ours[key]) == _skeleton(real[key]), key
    real_links = {link["rel"]: link for link in real["links"]}
    assert {link["rel"] for link in ours["links"]} == {"self", "canonical", "item"}
    for link in ours["links"]:
        assert _skeleton(link) == _skeleton(real_links[link["rel"]]), link["rel"]
    (provider,), real_provider = ours["providers"], real["providers"][0]
    assert provider.keys() == real_provider.keys()
    assert provider["roles"] == real_provider["roles"] == ["processor"]
    assert provider["processing:expression"]["format"] == "openeo"
    (asset,), (real_asset,) = ours["assets"].values(), real["assets"].values()
    shared_keys = real_asset.keys()
    assert shared_keys <= asset.keys() and asset.keys() - shared_keys == {"file:size"}
    assert {k: _skeleton(asset[k]) for k in shared_keys} == {
        k: _skeleton(real_asset[k]) for k in shared_keys
    }
    assert asset["type"] == real_asset["type"] and asset["roles"] == real_asset["roles"]


def test_results_are_json_unless_geojson_is_asked_for(alice: Session, finished_job: str) -> None:
    # openEO API 1.2: the 200 content of GET /jobs/{id}/results is application/json;
    # application/geo+json only through content negotiation (Copernicus: jsonify)
    plain = alice.get(f"/jobs/{finished_job}/results")
    assert plain.headers["content-type"] == "application/json"
    assert plain.headers["OpenEO-Costs"] == "0"  # the owner downloads for free
    asked = alice.get(f"/jobs/{finished_job}/results", headers={"Accept": "application/geo+json"})
    assert asked.headers["content-type"] == "application/geo+json"
    assert asked.json()["id"] == plain.json()["id"] == finished_job  # hrefs: signed anew
    # the API's only GeoJSON shape is the Item (batch_job_result); JSON: the Collection
    item, collection = asked.json(), plain.json()
    assert (item["type"], collection["type"]) == ("Feature", "Collection")
    assert item["properties"]["openeo:status"] == "finished"
    assert item["bbox"] == pytest.approx(list(SEED_BBOX.values()))
    assert item["assets"].keys() == collection["assets"].keys()


def test_result_links_refuse_traversal_forgery_and_expiry(
    server: ThreadServer, anonymous: Session, alice: Session, finished_job: str
) -> None:
    from hybrid.server.auth import load_or_create_secret
    from hybrid.server.results import ResultLinks

    item = alice.get(f"/jobs/{finished_job}/results").json()
    href = next(iter(item["assets"].values()))["href"]
    prefix, _, name = href.rpartition("/")
    token = prefix.rpartition("/")[2]
    for path in [
        f"/results/{token}/..%2F..%2Fjobs.sqlite",
        f"/results/{token}/%2E%2E/secret.key",
        f"/results/{token}/%2Fetc%2Fpasswd",
    ]:
        answer = anonymous.get(path)
        assert answer.status_code in (400, 404) and b"root:" not in answer.content, path
        assert error_code(answer)[1] in ("FilePathInvalid", "FileNotFound", "NotFound")
    assert error_code(anonymous.get(f"/results/{token}/other.nc")) == (404, "FileNotFound")
    forged = f"{token[:-4]}AAAA"
    assert error_code(anonymous.get(f"/results/{forged}/{name}")) == (404, "FileNotFound")

    data_dir = server.app.state.settings.data_dir
    expired = ResultLinks(secret=load_or_create_secret(data_dir / "secret.key"), ttl=-1)
    url = expired.url(base_url=server.url, job_id=finished_job, filename=name)
    assert error_code(anonymous.get(url)) == (410, "ResultLinkExpired")


def test_the_canonical_results_link_is_signed_and_opens_without_credentials(
    server: ThreadServer, anonymous: Session, alice: Session, finished_job: str
) -> None:
    """Copernicus's canonical link: the results Collection for anyone holding the signed
    URL (openeo-python-driver views.py ``list_job_results_signed``), refused once forged,
    given for another job or expired."""
    from hybrid.server.auth import load_or_create_secret
    from hybrid.server.results import ResultLinks

    own = alice.get(f"/jobs/{finished_job}/results").json()
    (canonical,) = [link["href"] for link in own["links"] if link["rel"] == "canonical"]
    assert canonical.startswith(f"{server.url}/jobs/{finished_job}/results/")
    shared = anonymous.get(canonical)
    assert shared.status_code == 200, shared.text
    assert shared.json()["id"] == finished_job
    assert shared.json()["assets"].keys() == own["assets"].keys()
    assert error_code(anonymous.get(canonical[:-4] + "AAAA")) == (404, "FileNotFound")
    other = canonical.replace(finished_job, "j-" + "0" * 32)
    assert error_code(anonymous.get(other)) == (404, "FileNotFound")
    data_dir = server.app.state.settings.data_dir
    expired = ResultLinks(secret=load_or_create_secret(data_dir / "secret.key"), ttl=-1)
    url = expired.results_url(base_url=server.url, job_id=finished_job)
    assert error_code(anonymous.get(url)) == (410, "ResultLinkExpired")


def test_synchronous_result_is_netcdf(alice: Session) -> None:
    answer = alice.post("/result", json=body(graph()))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/x-netcdf"
    assert answer.content[:4] == b"\x89HDF"


def test_job_lifecycle_patch_cancel_delete(alice: Session) -> None:
    job_id = alice.post("/jobs", json=body(graph())).headers["OpenEO-Identifier"]
    assert alice.patch(f"/jobs/{job_id}", json={"title": "renamed"}).status_code == 204
    assert alice.get(f"/jobs/{job_id}").json()["title"] == "renamed"
    # null clears a nullable field (it was kept); a budget is a number from 0
    assert alice.patch(f"/jobs/{job_id}", json={"title": None, "budget": 3}).status_code == 204
    described = alice.get(f"/jobs/{job_id}").json()
    assert described.get("title") is None and described["budget"] == 3
    for budget in (-5, True, "5"):
        answer = alice.patch(f"/jobs/{job_id}", json={"budget": budget})
        assert error_code(answer) == (400, "BadRequest"), budget
    assert alice.patch(f"/jobs/{job_id}", json={"budget": None}).status_code == 204
    assert alice.get(f"/jobs/{job_id}").json().get("budget") is None
    assert error_code(alice.patch(f"/jobs/{job_id}", json={"status": "finished"})) == (
        400,
        "PropertyNotEditable",
    )
    assert error_code(alice.get(f"/jobs/{job_id}/results")) == (400, "JobNotFinished")
    partial = alice.get(f"/jobs/{job_id}/results", params={"partial": "true"}).json()
    assert partial["type"] == "Collection" and partial["assets"] == {}
    assert partial["openeo:status"] == "running"  # created: "running" (PARTIAL_JOB_STATUS)
    # its canonical link opens without credentials, partial too (it was a 404)
    (canonical,) = [link["href"] for link in partial["links"] if link["rel"] == "canonical"]
    assert canonical.endswith("?partial=true")
    opened = requests.get(canonical, timeout=10)
    assert opened.status_code == 200 and opened.json()["openeo:status"] == "running"
    assert requests.get(canonical.split("?")[0], timeout=10).status_code == 404  # not partial
    # ``partial`` is true for "true"/"1" in any case, else false, as Copernicus reads it
    # (views.py L1038); "yes" or "maybe" were a 400 or true here
    for value, document in (("TRUE", True), ("1", True), ("yes", False), ("maybe", False)):
        answer = alice.get(f"/jobs/{job_id}/results", params={"partial": value})
        assert answer.status_code == (200 if document else 400), value
    assert alice.delete(f"/jobs/{job_id}").status_code == 204
    assert error_code(alice.get(f"/jobs/{job_id}")) == (404, "JobNotFound")


def test_starting_again_a_canceled_job_is_refused_and_an_ended_one_reruns(alice: Session) -> None:
    """Copernicus hands a canceled job to its backend's start_job (python-driver views.py
    L1020-1031), which ends in 501 JobTransitionNotImplemented (geopyspark-driver
    backend.py L1936-1959); it was queued and run again here. A finished job runs again:
    Copernicus answers 202 without running it, which the API 1.2 does not allow."""
    first, second = (alice.post("/jobs", json=body(graph())) for _ in range(2))
    job_a, job_b = (r.headers["OpenEO-Identifier"] for r in (first, second))
    assert alice.post(f"/jobs/{job_a}/results").status_code == 202
    assert alice.post(f"/jobs/{job_b}/results").status_code == 202  # behind job_a: one worker
    assert alice.delete(f"/jobs/{job_b}/results").status_code == 204
    assert alice.get(f"/jobs/{job_b}").json()["status"] == "canceled"
    again = alice.post(f"/jobs/{job_b}/results")
    assert again.status_code == 501, (again.status_code, again.text)
    assert error_code(again) == (501, "JobTransitionNotImplemented")
    assert again.json()["message"] == "Backend does not implement start job for state canceled"
    assert wait_for(alice, job_a)["status"] == "finished"
    assert alice.get(f"/jobs/{job_b}").json()["status"] == "canceled"
    assert alice.post(f"/jobs/{job_a}/results").status_code == 202
    assert wait_for(alice, job_a)["status"] == "finished"
    logs = alice.get(f"/jobs/{job_a}/logs").json()["logs"]
    assert [e["message"] for e in logs].count("Job queued.") == 2
    for job_id in (job_a, job_b):
        assert alice.delete(f"/jobs/{job_id}").status_code == 204


def test_results_keep_describing_the_graph_that_made_them_after_a_patch(
    alice: Session,
) -> None:
    """PATCH of a finished job's ``process`` leaves its status and files (the API: the
    status does not change); the results document kept describing the new graph
    (``processing:expression``, the temporal extent) beside the old files."""
    first = graph(dates=["2023-06-01", "2023-06-15"])
    job_id = alice.post("/jobs", json=body(first)).headers["OpenEO-Identifier"]
    alice.post(f"/jobs/{job_id}/results")
    assert wait_for(alice, job_id)["status"] == "finished"
    before = alice.get(f"/jobs/{job_id}/results").json()
    assert alice.patch(f"/jobs/{job_id}", json=body(graph(dates=["2023-08-01", "2023-08-20"]))).ok
    after = alice.get(f"/jobs/{job_id}/results").json()
    assert alice.get(f"/jobs/{job_id}").json()["status"] == "finished"
    expression = after["providers"][0]["processing:expression"]["expression"]
    assert expression == first
    assert after["extent"] == before["extent"] and set(after["assets"]) == set(before["assets"])
    assert alice.delete(f"/jobs/{job_id}").status_code == 204


def test_failed_job_results_are_job_not_finished_as_copernicus_and_logs_name_its_node(
    alice: Session,
) -> None:
    """A failed job's results are a 400 ``JobNotFinished`` as Copernicus answers every
    status but ``finished`` (python-driver views.py L1089-1091, not the API's 424); the
    message names the job's error and node."""
    no_data = graph(dates=["2019-01-01", "2019-02-01"])  # before the sample
    job_id = alice.post("/jobs", json=body(no_data)).headers["OpenEO-Identifier"]
    alice.post(f"/jobs/{job_id}/results")
    assert wait_for(alice, job_id)["status"] == "error"
    failed = alice.get(f"/jobs/{job_id}/results")
    assert failed.status_code == 400 and failed.json()["code"] == "JobNotFinished", failed.text
    assert "it failed (status 'error')" in failed.json()["message"], failed.text
    errors = alice.get(f"/jobs/{job_id}/logs", params={"level": "error"}).json()
    assert errors["level"] == "error" and errors["logs"]
    assert all(e["level"] == "error" for e in errors["logs"])
    # the node is named once (it was twice: the stored message already named it)
    (node,) = errors["logs"][-1]["path"]
    assert failed.json()["message"].count(f"(process node '{node['node_id']}')") == 1
    # and its openEO error code, as the log entry has it
    code = errors["logs"][-1]["code"]
    assert f"it failed (status 'error'): [{code}] " in failed.json()["message"], failed.text


def test_an_ended_job_describes_its_costs_and_usage_as_copernicus(
    alice: Session, finished_job: str
) -> None:
    """GET /jobs/{id} of a job whose run ended carries ``costs`` and ``usage.duration``
    (whole seconds), as Copernicus's job tracker records them at a final status and
    python-driver's ``to_api_dict`` writes the duration (backend.py L452-461); the
    openeo client's MultiBackendJobManager copies both into its job table. Before a run,
    and in the listing (Copernicus reads neither there), neither."""
    described = alice.get(f"/jobs/{finished_job}").json()
    assert described["costs"] == 0
    duration = described["usage"]["duration"]
    assert duration["unit"] == "seconds" and isinstance(duration["value"], int)
    assert 0 <= duration["value"] < 120
    listed = {job["id"]: job for job in alice.get("/jobs").json()["jobs"]}[finished_job]
    assert "usage" not in listed and "costs" not in listed
    created = alice.post("/jobs", json=body(graph())).headers["OpenEO-Identifier"]
    fresh = alice.get(f"/jobs/{created}").json()
    assert "usage" not in fresh and "costs" not in fresh
    assert alice.delete(f"/jobs/{created}").status_code == 204


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


def test_udf_script_dependencies_not_installed_get_a_warning_in_the_jobs_log(
    alice: Session,
) -> None:
    """Copernicus pip-installs the packages a Python UDF declares in its inline script
    metadata for a batch job (geopyspark-driver deploy/batch_job.py L1256,
    udf/__init__.py L151-163; openeo-gfmap's feature extractors declare theirs so); this
    backend does not, and said nothing. Installed ones (numpy) are not named."""
    code = (
        '# /// script\n# dependencies = [\n#   "numpy",\n#   "hybrid-no-such-package>=1",\n'
        "# ]\n# ///\ndef apply_datacube(cube, context):\n    return cube\n"
    )
    udf = {"process_id": "run_udf", "result": True, "arguments": {
        "data": {"from_parameter": "x"}, "udf": code, "runtime": "Python"}}  # fmt: skip
    pg = graph()
    pg["apply"] = {"process_id": "apply", "arguments": {
        "data": {"from_node": "ndvi"}, "process": {"process_graph": {"udf": udf}}}}  # fmt: skip
    pg["save"]["arguments"]["data"] = {"from_node": "apply"}
    created = alice.post("/jobs", json=body(pg))
    assert created.status_code == 201, created.text
    job_id = created.headers["OpenEO-Identifier"]
    logs = alice.get(f"/jobs/{job_id}/logs", params={"level": "warning"}).json()["logs"]
    assert len(logs) == 1 and "hybrid-no-such-package>=1" in logs[0]["message"]
    assert "numpy" not in logs[0]["message"]


def test_udf_dependency_job_options_get_a_warning_in_the_jobs_log(alice: Session) -> None:
    """Copernicus fetches ``udf-dependency-archives``/``-files`` for the UDFs
    (geopyspark-driver job_options.py L108-115); this backend does not, and said nothing:
    a UDF importing from them failed with a bare ModuleNotFoundError."""
    options = {"udf-dependency-archives": ["https://example.com/onnx_deps.zip#onnx_deps"],
               "executor-memory": "2g"}  # fmt: skip
    created = alice.post("/jobs", json={**body(graph()), "job_options": options})
    assert created.status_code == 201, created.text
    job_id = created.headers["OpenEO-Identifier"]
    logs = alice.get(f"/jobs/{job_id}/logs", params={"level": "warning"}).json()["logs"]
    assert len(logs) == 1 and "udf-dependency-archives" in logs[0]["message"]
    plain = alice.post("/jobs", json=body(graph())).headers["OpenEO-Identifier"]
    assert alice.get(f"/jobs/{plain}/logs", params={"level": "warning"}).json()["logs"] == []


def test_a_range_copernicus_cannot_serve_is_its_416(alice: Session, finished_job: str) -> None:
    """Copernicus sends a result file from disk with Flask (python-driver views.py
    L1432-1433): werkzeug serves one range of bytes inside the file (206) and answers
    anything else, a range it cannot read (``bytes=10-5``), several ranges or one past
    the end, with a 416 its handler writes as JSON with the code ``Internal`` (werkzeug
    wrappers/response.py L692-699; views.py L309-317); another unit is a 416
    ``RangeNotSatisfiable`` (views.py L1364-1368). Here ``bytes=10-5`` was the whole file
    with 200 (a plain-text 400 before), several ranges a multipart 206."""
    (asset,) = alice.get(f"/jobs/{finished_job}/results").json()["assets"].values()
    whole = requests.get(asset["href"], timeout=30)
    size = len(whole.content)
    refused = ("bytes=10-5", "bytes=x-5", "bytes=", "bytes=0-9,20-29", f"bytes={size + 10}-")
    for unserved in (*refused, f"bytes=-{size + 1}", "bytes 0-9"):
        answer = requests.get(asset["href"], headers={"Range": unserved}, timeout=30)
        assert (answer.status_code, answer.json()["code"]) == (416, "Internal"), unserved
        assert "Requested Range Not Satisfiable" in answer.json()["message"]
    other_unit = requests.get(asset["href"], headers={"Range": "items=0-9"}, timeout=30)
    assert (other_unit.status_code, other_unit.json()["code"]) == (416, "RangeNotSatisfiable")
    for served, want in (("bytes=0-9", whole.content[:10]), ("bytes=-10", whole.content[-10:])):
        part = requests.get(asset["href"], headers={"Range": served}, timeout=30)
        assert part.status_code == 206 and part.content == want, served
    beyond = requests.get(asset["href"], headers={"Range": f"bytes=5-{size + 99}"}, timeout=30)
    assert beyond.status_code == 206 and beyond.content == whole.content[5:]


def test_if_range_is_decided_as_werkzeug_decides_it(alice: Session, finished_job: str) -> None:
    """Copernicus's ``send_from_directory`` (python-driver views.py L1432) answers a
    ``Range`` under ``If-Range`` as werkzeug does (wrappers/response.py
    ``_is_range_request_processable``, sansio/http.py ``is_resource_modified``): the range
    while the file is unchanged (its entity tag, ``W/`` or not, or ``*``; a date not
    before its ``Last-Modified``), then an unservable range is its 416; else the whole
    file with 200, only the unit checked first (views.py L1364-1368). Starlette decided
    here: a weak tag or a later date was the whole file, ``bytes=10-5`` under a matching
    tag a plain-text 400, another unit under a stale tag the whole file."""
    (asset,) = alice.get(f"/jobs/{finished_job}/results").json()["assets"].values()
    whole = requests.get(asset["href"], timeout=30)
    etag, modified = whole.headers["ETag"], whole.headers["Last-Modified"]

    def get(if_range: str, asked: str = "bytes=0-9") -> requests.Response:
        headers = {"Range": asked, "If-Range": if_range}
        return requests.get(asset["href"], headers=headers, timeout=30)

    for unchanged in (etag, f"W/{etag}", "*", modified, "Fri, 01 Jan 2100 00:00:00 GMT"):
        part = get(unchanged)
        assert (part.status_code, part.content) == (206, whole.content[:10]), unchanged
    for changed in ('"another"', "Mon, 01 Jan 1990 00:00:00 GMT", ""):
        full = get(changed)
        assert (full.status_code, full.content) == (200, whole.content), changed
        assert (get(changed, "bytes=10-5").status_code, get(changed, "x").status_code) == (
            200,
            200,
        ), changed
    unserved = get(etag, "bytes=10-5")
    assert (unserved.status_code, unserved.json()["code"]) == (416, "Internal")
    other_unit = get('"another"', "items=0-9")
    assert (other_unit.status_code, other_unit.json()["code"]) == (416, "RangeNotSatisfiable")


def test_a_browser_may_read_a_downloads_range_headers_as_on_copernicus(
    alice: Session, finished_job: str
) -> None:
    """Copernicus's flask-cors exposes ``Accept-Ranges``, ``Content-Range`` and
    ``Content-Encoding`` besides the API's four and allows a ``Range`` request header
    (python-driver views.py L118-125), so a browser client reads a partial download's
    range; hybrid exposed the four only."""
    (asset,) = alice.get(f"/jobs/{finished_job}/results").json()["assets"].values()
    part = requests.get(asset["href"], headers={"Range": "bytes=0-9"}, timeout=30)
    exposed = {h.strip() for h in part.headers["Access-Control-Expose-Headers"].split(",")}
    assert part.status_code == 206 and part.headers["Content-Range"].startswith("bytes 0-9/")
    assert {"Accept-Ranges", "Content-Range", "Content-Encoding"} <= exposed, exposed
    preflight = requests.options(asset["href"], timeout=30)  # no headers asked: the default
    assert "Range" in preflight.headers["Access-Control-Allow-Headers"]


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
