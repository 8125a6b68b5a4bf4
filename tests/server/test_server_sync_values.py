"""``POST /result`` without ``save_result`` answers the computed value as JSON, as Copernicus;
with a save_result that has nothing to write, a 400 that says why.

A real server (uvicorn in a thread) over the real ``LocalBackend``; the graphs are the
plain-value ones a user sends with ``connection.execute({...})``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.server_helpers import SEED_BBOX, TEMPORAL_EXTENT, ThreadServer, local_server


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, sample_catalog: Path
) -> Iterator[ThreadServer]:
    with local_server(tmp_path_factory.mktemp("values") / "data", sample_catalog) as running:
        yield running


@pytest.fixture(scope="module")
def connection(server: ThreadServer) -> Any:
    import openeo

    return openeo.connect(server.url).authenticate_basic("hybrid", "hybrid")


def _node(process_id: str, **arguments: Any) -> dict[str, Any]:
    return {"r": {"process_id": process_id, "arguments": arguments, "result": True}}


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        (_node("add", x=1, y=2.5), 3.5),
        (_node("text_concat", data=["a", "b", 1], separator="-"), "a-b-1"),
        (_node("sort", data=[3, 1, 2]), [1, 2, 3]),
        (_node("gt", x=1, y=2), False),
        (_node("is_nan", x="text"), True),
        (_node("if", value=False, accept=1), None),
        (_node("array_element", data=[{"a": [1, 2]}], index=0), {"a": [1, 2]}),
    ],
    ids=["number", "string", "array", "false", "true", "null", "object"],
)
def test_values_come_back_as_json(connection: Any, graph: dict[str, Any], expected: Any) -> None:
    assert connection.execute(graph) == expected


@pytest.mark.parametrize(
    "graph",
    [_node("divide", x=1, y=0), _node("divide", x=0, y=0.0), _node("mod", x=-2, y=0)],
    ids=["divide", "zero-by-zero", "mod"],
)
def test_two_numbers_by_zero_are_a_division_by_zero(connection: Any, graph: dict) -> None:
    """Copernicus computes two numbers in Python (openeo_processes 0.0.4 math.py
    Divide.exec_num L4055 ``x / y``, Mod.exec_num L1765 ``x % y``): ZeroDivisionError, not
    +-infinity. Here the spec's DivisionByZero, a 400."""
    from openeo.rest import OpenEoApiError

    with pytest.raises(OpenEoApiError) as caught:
        connection.execute(graph)
    assert caught.value.http_status_code == 400 and caught.value.code == "DivisionByZero"
    assert "0 of two numbers" in caught.value.message


def test_answer_is_json_over_http(server: ThreadServer, connection: Any) -> None:
    token = connection.auth.bearer
    answer = requests.post(
        f"{server.url}/result",
        json={"process": {"process_graph": _node("gt", x=3, y=2)}},
        headers={"Authorization": f"Bearer {token}"},
        timeout=120,
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.text.strip() == "true"


def test_an_infinity_is_written_as_copernicus_writes_it_and_nan_as_null(
    server: ThreadServer, connection: Any
) -> None:
    """Copernicus writes a JSON result with ``json.dumps``' defaults after replacing NaN by
    ``null`` (python-driver save_result.py L271, L286; utils.py ``replace_nan_values``
    L130-151): ``ln(0)``, numpy's -inf there (openeo_processes 0.0.4 math.py L555), is
    ``-Infinity``. Here numpy's RuntimeWarning made it a 500 under a warnings filter."""
    headers = {"Authorization": f"Bearer {connection.auth.bearer}"}

    def post(graph: dict[str, Any]) -> str:
        body = {"process": {"process_graph": graph}}
        answer = requests.post(f"{server.url}/result", json=body, headers=headers, timeout=120)
        assert answer.status_code == 200, answer.text
        return answer.text.strip()

    assert post(_node("ln", x=0)) == "-Infinity"
    assert post(_node("array_create", data=[1, None])) == "[1, null]"


@pytest.mark.slow
def test_a_raster_without_save_result_comes_back_as_geotiff(connection: Any) -> None:
    import rasterio

    cube = connection.load_collection(
        "SENTINEL2_L2A",
        spatial_extent=SEED_BBOX,
        temporal_extent=TEMPORAL_EXTENT,
        bands=["B04", "B08"],
    )
    graph = cube.ndvi(red="B04", nir="B08").reduce_dimension(dimension="t", reducer="mean")
    body = {"process": {"process_graph": graph.flat_graph()}}
    answer = connection.post("/result", json=body, expected_status=200)
    assert answer.headers["content-type"].startswith("image/tiff")
    with rasterio.MemoryFile(answer.content) as memory, memory.open() as raster:
        assert raster.count == 1 and raster.crs.to_epsg() == 32632


def test_a_gtiff_without_dates_says_so(connection: Any, tmp_path: Path) -> None:
    """A filter_temporal that keeps no date leaves a GTiff nothing to write (one file per
    date): one 400 that names the dates, not "the process graph has no save_result"."""
    from openeo.rest import OpenEoApiError

    cube = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=SEED_BBOX, temporal_extent=TEMPORAL_EXTENT, bands=["B04"]
    )
    empty = cube.filter_temporal(["2023-06-13", "2023-06-14"])  # no scene that day
    with pytest.raises(OpenEoApiError) as caught:
        empty.download(tmp_path / "empty.tif", format="GTiff")
    assert caught.value.http_status_code == 400 and caught.value.code == "NoDataAvailable"
    assert "no dates" in caught.value.message and "save_result" in caught.value.message


@pytest.mark.parametrize("out_format", ["netCDF", "GTiff", "JSON"])
def test_a_filter_bbox_outside_the_load_says_so(
    connection: Any, tmp_path: Path, out_format: str
) -> None:
    """A filter_bbox disjoint from load_collection's spatial_extent (the load's own extent
    wins, as on Copernicus) leaves no pixel: one 400 that names the extents, whatever the
    format, and no file."""
    from openeo.rest import OpenEoApiError

    cube = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=SEED_BBOX, temporal_extent=TEMPORAL_EXTENT, bands=["B04"]
    )
    # 15 km west of the sample, in its UTM zone
    outside = cube.filter_bbox(west=300000, south=5010000, east=301000, north=5011000, crs=32632)
    target = tmp_path / "outside.out"
    with pytest.raises(OpenEoApiError) as caught:
        outside.download(target, format=out_format)
    assert caught.value.http_status_code == 400 and caught.value.code == "NoDataAvailable"
    assert "no pixels" in caught.value.message and "filter_bbox" in caught.value.message
    assert not target.exists()


def test_time_labels_are_written_as_copernicus_writes_its_dates(
    connection: Any, tmp_path: Path
) -> None:
    """dimension_labels of ``t`` gives naive datetimes on Copernicus: a synchronous answer
    writes them as Flask's ``jsonify`` does (HTTP dates), a batch job's ``result.json`` as
    ``isoformat()`` (openeo-python-driver save_result.py L255-286); band labels are text."""
    import datetime as dt
    import email.utils
    import json

    cube = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=SEED_BBOX, temporal_extent=TEMPORAL_EXTENT, bands=["B04"]
    )
    answered = cube.dimension_labels("t").execute()
    job = cube.dimension_labels("t").save_result(format="JSON").execute_batch()
    written = json.loads(job.get_results().download_files(tmp_path)[0].read_text())
    instants = [dt.datetime.fromisoformat(text) for text in written]
    assert instants and all(t.tzinfo is None and t.time() == dt.time(0) for t in instants)
    assert all(dt.datetime(2023, 6, 1) <= t < dt.datetime(2023, 7, 1) for t in instants)
    assert answered == [
        email.utils.format_datetime(t.replace(tzinfo=dt.UTC), usegmt=True) for t in instants
    ]
    assert answered[0].endswith(" 00:00:00 GMT")
    assert cube.dimension_labels("bands").execute() == ["B04"]
