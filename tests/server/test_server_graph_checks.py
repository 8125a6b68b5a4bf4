"""The emulator refuses graphs that cannot produce their result at once (before any
data is read), except a batch job loading an unknown collection, which is created and fails
when started, as on Copernicus; a batch job with several save_result nodes returns every file.

A real server (uvicorn in a thread, ``LocalBackend`` over the embedded sample) on
127.0.0.1; requests over real HTTP.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.server_helpers import (
    SEED_BBOX,
    TEMPORAL_EXTENT,
    ThreadServer,
    ndvi_graph,
    write_users_file,
)


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, sample_catalog: Path
) -> Iterator[ThreadServer]:
    from hybrid.backends.local import LocalBackend, LocalSettings
    from hybrid.server.app import create_app
    from hybrid.server.settings import ServerSettings

    tmp = tmp_path_factory.mktemp("checks")
    users = write_users_file(tmp / "users.toml", {"alice": "a-pass"})
    settings = ServerSettings(data_dir=tmp / "data", users_file=users, workers=1)
    engine = LocalBackend(LocalSettings(stac=str(sample_catalog)))
    with ThreadServer(create_app(settings, engine)) as running:
        yield running


@pytest.fixture(scope="module")
def alice(server: ThreadServer) -> requests.Session:
    session = requests.Session()
    token = session.get(f"{server.url}/credentials/basic", auth=("alice", "a-pass")).json()
    session.headers["Authorization"] = f"Bearer basic//{token['access_token']}"
    session.base = server.url  # type: ignore[attr-defined]
    return session


def _post(session: requests.Session, path: str, graph: dict[str, Any]) -> requests.Response:
    return session.post(f"{session.base}{path}", json={"process": {"process_graph": graph}})  # type: ignore[attr-defined]


def _unbounded() -> dict[str, Any]:
    graph = ndvi_graph(SEED_BBOX, TEMPORAL_EXTENT)
    graph["load"]["arguments"]["spatial_extent"] = None
    return graph


def _no_save_result() -> dict[str, Any]:
    graph = ndvi_graph(SEED_BBOX, TEMPORAL_EXTENT)
    del graph["save"]
    graph["ndvi"]["result"] = True
    return graph


def _bad_format() -> dict[str, Any]:
    graph = ndvi_graph(SEED_BBOX, TEMPORAL_EXTENT)
    graph["save"]["arguments"]["format"] = "ENVI"
    return graph


@pytest.mark.parametrize("path", ["/jobs", "/result"])
@pytest.mark.parametrize(
    ("make", "code", "words"),
    [
        (_unbounded, "MissingSpatialFilter", ["spatial_extent", "filter_bbox", "'load'"]),
        (_bad_format, "FormatUnsuitable", ["ENVI", "'save'"]),
    ],
)
def test_graphs_that_cannot_work_are_refused_at_once(
    alice: requests.Session, path: str, make: Any, code: str, words: list[str]
) -> None:
    answer = _post(alice, path, make())
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == code
    assert all(w in answer.json()["message"] for w in words), answer.json()


def test_validation_reports_an_unbounded_load(alice: requests.Session) -> None:
    answer = alice.post(f"{alice.base}/validation", json={"process_graph": _unbounded()})  # type: ignore[attr-defined]
    assert answer.status_code == 200
    assert [e["code"] for e in answer.json()["errors"]] == ["MissingSpatialFilter"]


def test_validation_reports_a_band_the_collection_lacks(server: ThreadServer) -> None:
    """A load of a band SENTINEL2_L2A lacks is an error of POST /validation, as Copernicus's
    extra validation resolves the bands with the collection's ``filter_bands``
    (geopyspark-driver layercatalog.py L1293, listed at backend.py L1461-1476, with code
    ``Internal`` there; here the run's own code and words); a common name is a band; the
    job is still created (Copernicus creates any job)."""
    import openeo

    connection = openeo.connect(server.url).authenticate_basic("alice", "a-pass")
    graph = ndvi_graph(SEED_BBOX, TEMPORAL_EXTENT)
    graph["load"]["arguments"]["bands"] = ["red", "B08", "B99"]
    graph["ndvi"]["arguments"]["red"] = "red"
    errors = connection.validate_process_graph(graph)
    assert [e["code"] for e in errors] == ["ProcessParameterInvalid"], errors
    assert "no band B99" in errors[0]["message"] and "'load'" in errors[0]["message"]
    graph["load"]["arguments"]["bands"] = ["red", "B08"]
    assert connection.validate_process_graph(graph) == []
    graph["load"]["arguments"]["bands"] = ["B04", "B99"]
    assert connection.create_job(graph).status() == "created"


def test_a_batch_job_without_save_result_is_created(alice: requests.Session) -> None:
    """Copernicus writes such a job's cube as GTiff (deploy/batch_job.py L368-372); the
    run is tests/workflows/test_client_docs_construction.py (client docs cookbook/tricks.rst)."""
    answer = _post(alice, "/jobs", _no_save_result())
    assert answer.status_code == 201, answer.text


@pytest.mark.slow
def test_a_job_with_several_save_results_returns_every_file(alice: requests.Session) -> None:
    graph = ndvi_graph(SEED_BBOX, TEMPORAL_EXTENT)
    graph["load"]["arguments"]["spatial_extent"] = None
    graph["bbox"] = {
        "process_id": "filter_bbox",
        "arguments": {"data": {"from_node": "load"}, "extent": SEED_BBOX},
    }
    graph["ndvi"]["arguments"]["data"] = {"from_node": "bbox"}
    graph["raw"] = copy.deepcopy(graph["save"])
    graph["raw"].pop("result")
    graph["raw"]["arguments"].update(
        data={"from_node": "bbox"}, format="GTiff", options={"filename_prefix": "bands"}
    )
    created = _post(alice, "/jobs", graph)
    assert created.status_code == 201, created.text
    job = created.headers["OpenEO-Identifier"]
    base = alice.base  # type: ignore[attr-defined]
    assert alice.post(f"{base}/jobs/{job}/results").status_code == 202
    deadline = time.monotonic() + 120
    while alice.get(f"{base}/jobs/{job}").json()["status"] in ("created", "queued", "running"):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert alice.get(f"{base}/jobs/{job}").json()["status"] == "finished"
    assets = alice.get(f"{base}/jobs/{job}/results").json()["assets"]
    names = sorted(a["href"].split("?")[0].rsplit("/", 1)[-1] for a in assets.values())
    assert names[0] == "bands_2023-06-02Z.tif"
    assert "openEO.nc" in names
    assert len([n for n in names if n.startswith("bands_")]) == len(names) - 1 > 1
    for asset in assets.values():
        assert alice.get(asset["href"]).status_code == 200


def test_a_job_loading_an_unknown_collection_is_created_and_fails_when_started(
    server: ThreadServer,
) -> None:
    """Copernicus creates any job and fails it when it runs (views.py ``create_job``);
    /validation lists CollectionNotFound and /result answers it (404), through the real
    openeo client, with the conformance suite's payload collection."""
    import openeo
    from openeo.rest import JobFailedException, OpenEoApiError

    connection = openeo.connect(server.url).authenticate_basic("alice", "a-pass")
    cube = connection.load_collection(
        "CGLS_SSM_1KM",
        spatial_extent=SEED_BBOX,
        temporal_extent=TEMPORAL_EXTENT,
        bands=["B01"],
        fetch_metadata=False,
    )
    errors = cube.save_result("netCDF").validate()
    assert [e["code"] for e in errors] == ["CollectionNotFound"]
    with pytest.raises(OpenEoApiError) as refused:
        cube.download(format="netCDF")
    assert (refused.value.http_status_code, refused.value.code) == (404, "CollectionNotFound")

    job = cube.create_job(out_format="netCDF", title="unknown collection")
    assert job.status() == "created"
    with pytest.raises(JobFailedException):
        job.start_and_wait(max_poll_interval=0.2, show_error_logs=False)
    assert job.status() == "error"
    failures = [entry for entry in job.logs() if entry["level"] == "error"]
    assert [entry["code"] for entry in failures] == ["CollectionNotFound"]
    assert "CGLS_SSM_1KM" in failures[0]["message"]
    with pytest.raises(OpenEoApiError) as no_results:
        job.get_results().get_metadata()
    # a failed job's results: Copernicus's 400 JobNotFinished (views.py L1089-1091),
    # its message naming the job's error
    assert (no_results.value.http_status_code, no_results.value.code) == (400, "JobNotFinished")
    assert "CGLS_SSM_1KM" in str(no_results.value)


def test_a_callback_copernicus_cannot_compile_runs_with_a_note_in_the_log(
    server: ThreadServer,
) -> None:
    """``mod`` has no case in Copernicus's callback builder (callback_support): the job
    runs here, and its log says the graph may fail there; ``multiply`` gives no note."""
    cube = _one_day_of_red(server)

    def notes(result: Any) -> list[str]:
        job = result.create_job(out_format="GTiff")
        job.start_and_wait(max_poll_interval=0.2, show_error_logs=False)
        assert job.status() == "finished"
        return [e["message"] for e in job.logs() if "callback builder" in e["message"]]

    (note,) = notes(cube.apply(lambda x: x.mod(7)))
    assert "'mod'" in note and "Unsupported operation: mod" in note
    assert notes(cube.apply(lambda x: x * 7)) == []


def test_a_reducer_computing_with_its_context_runs_with_a_note_in_the_log(
    server: ThreadServer,
) -> None:
    """The client's ``reduce_dimension(..., context=3)`` with a reducer reading
    ``context``: the job computes with 3, as openEO defines it, and its log says
    Copernicus's builder does not resolve it (callback_support ``_context_notes``)."""
    from openeo.internal.graph_building import PGNode

    cube = _one_day_of_red(server)
    mean = PGNode("mean", data={"from_parameter": "data"})
    reducer = PGNode("multiply", x={"from_node": mean}, y={"from_parameter": "context"})
    job = cube.reduce_dimension(dimension="t", reducer=reducer, context=3).create_job(
        out_format="GTiff"
    )
    job.start_and_wait(max_poll_interval=0.2, show_error_logs=False)
    assert job.status() == "finished"
    (note,) = [e["message"] for e in job.logs() if "callback builder" in e["message"]]
    assert note.startswith("the callback of reduce_dimension computes with its 'context'")


def test_a_process_copernicus_does_not_offer_runs_with_a_note_in_the_log(
    server: ThreadServer,
) -> None:
    """``trim_cube`` is in no Copernicus process registry (copernicus_registry): the
    job runs here, and its log says the graph fails there; one note per process."""
    from openeo.rest.datacube import THIS

    cube = _one_day_of_red(server)
    trimmed = cube.process("trim_cube", data=cube).process("trim_cube", data=THIS)
    job = trimmed.create_job(out_format="GTiff")
    job.start_and_wait(max_poll_interval=0.2, show_error_logs=False)
    assert job.status() == "finished"
    (note,) = [e["message"] for e in job.logs() if "not offered by Copernicus" in e["message"]]
    assert note.startswith("process 'trim_cube'") and "ProcessUnsupported" in note


def _one_day_of_red(server: ThreadServer) -> Any:
    import openeo

    connection = openeo.connect(server.url).authenticate_basic("alice", "a-pass")
    return connection.load_collection(
        "SENTINEL2_L2A",
        spatial_extent=SEED_BBOX,
        temporal_extent=["2023-06-12", "2023-06-13"],
        bands=["B04"],
    )


def test_discard_result_ends_a_graph_without_a_result(
    server: ThreadServer, alice: requests.Session
) -> None:
    """Copernicus's ``discard_result`` (non-standard, ``NullResult``): a synchronous
    request answers JSON null, a batch job finishes without assets; what building the
    graph does (``inspect``) is done."""
    from openeo.rest.datacube import THIS

    cube = _one_day_of_red(server).process("inspect", data=THIS, message="seen before discarding")
    discarded = cube.process("discard_result", data=THIS)
    answer = _post(alice, "/result", discarded.flat_graph())
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/json" and answer.json() is None
    job = discarded.create_job(auto_add_save_result=False)
    job.start_and_wait(max_poll_interval=0.2, show_error_logs=False)
    assert job.status() == "finished"
    assert job.get_results().get_metadata()["assets"] == {}
    assert any(e["message"] == "seen before discarding" for e in job.logs())


def test_sleep_passes_its_data_on_and_a_canceled_job_stops_sleeping(
    server: ThreadServer, alice: requests.Session, tmp_path: Path
) -> None:
    """Copernicus's ``sleep`` (non-standard) waits and passes its data on; here a job
    canceled while it sleeps frees its worker (the server has one) at once."""
    from openeo.rest.datacube import THIS

    base = alice.base  # type: ignore[attr-defined]
    listed = {p["id"]: p for p in requests.get(f"{base}/processes").json()["processes"]}
    assert listed["sleep"]["returns"]["description"] == "Original data"
    cube = _one_day_of_red(server)
    cube.process("sleep", data=THIS, seconds=0.2).download(tmp_path / "red.tif", format="GTiff")
    assert (tmp_path / "red.tif").stat().st_size > 0
    refused = _post(alice, "/result", cube.process("sleep", data=THIS, seconds=-1).flat_graph())
    assert refused.status_code == 400 and refused.json()["code"] == "ProcessParameterInvalid"

    sleeping = cube.process("sleep", data=THIS, seconds=600).create_job(out_format="GTiff")
    sleeping.start()
    deadline = time.monotonic() + 60
    while sleeping.status() != "running":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    sleeping.stop()
    started = time.monotonic()
    after = cube.process("discard_result", data=THIS).create_job(auto_add_save_result=False)
    after.start_and_wait(max_poll_interval=0.2, show_error_logs=False)
    assert after.status() == "finished" and time.monotonic() - started < 30
    assert sleeping.status() == "canceled"


def test_a_cloud_cover_written_as_text_is_a_400_naming_the_item(tmp_path: Path) -> None:
    """An item of the catalog writes ``eo:cloud_cover`` as text: Copernicus's
    ``lte`` fails on it (load_stac.py L2604-2616, a TypeError); here a 400
    ProcessParameterInvalid in one line naming the item and the property, through the
    openeo client, where the text was read as a number."""
    from openeo.rest import OpenEoApiError

    from tests.server_helpers import local_connection
    from tests.stac.test_stac_search import BOUNDARY, _inner_bbox, _text_cloud_catalog

    catalog = _text_cloud_catalog(tmp_path / "cat")
    box = _inner_bbox()
    extent = {"west": box.west, "south": box.south, "east": box.east, "north": box.north}
    with local_connection(tmp_path / "data", catalog) as connection:
        cube = connection.load_collection(
            "SENTINEL2_L2A", spatial_extent=extent, temporal_extent=["2023-05-01", "2023-06-01"],
            bands=["B04"], max_cloud_cover=20,
        )  # fmt: skip
        with pytest.raises(OpenEoApiError) as info:
            cube.download(tmp_path / "out.nc")
    error = info.value
    assert (error.http_status_code, error.code) == (400, "ProcessParameterInvalid")
    assert "\n" not in error.message and BOUNDARY[1].id in error.message
    assert "eo:cloud_cover '20.0'" in error.message
