"""The emulator's job results over HTTP: the STAC collection of a job's results, signed
asset links, synchronous results and byte ranges, as Copernicus answers them.

One server (uvicorn in a thread, ``LocalBackend`` over the embedded sample) serves the
whole module; requests go over real HTTP on 127.0.0.1.
"""

from __future__ import annotations

import json
from typing import Any

import netCDF4
import pytest
import requests

from hybrid.io.netcdf_layout import NETCDF4_LOCK
from tests.server.api_session import Session, body, error_code, graph
from tests.server_helpers import SEED_BBOX, SHARED, TEMPORAL_EXTENT, ThreadServer

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
