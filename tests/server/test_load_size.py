"""Copernicus's size check of a load_collection (``hybrid.backends.local.load_size``)
through ``hybrid serve`` and the real openeo client: ``POST /result`` with its 20000 px
side limit, a batch job failing with the error (or running with ``do_extent_check``
false), aggregate_spatial's geometries lifting the side limit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openeo.rest import JobFailedException, OpenEoApiError

from tests.server_helpers import local_connection

#: 3 x 2 degrees in the Alps, about 31000 x 22000 pixels of 10 m: over the side limit
_WIDE = {"west": 5.0, "south": 44.5, "east": 9.0, "north": 46.5}
#: the sample holds no scene in these years: a load that gets through finds nothing
_FEW_DATES = ["2019-01-01", "2019-01-21"]
#: 146 steps of 10 days: 4 bands of _WIDE make about 4e11 pixels, over 1e11
_MANY_DATES = ["2019-01-01", "2023-01-01"]


def _graph(dates: list[str], *, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    """NDVI of :data:`_WIDE` over ``dates`` (per field of ``fields``, when given)."""
    graph: dict[str, Any] = {
        "load": {
            "process_id": "load_collection",
            "arguments": {
                "id": "SENTINEL2_L2A",
                "spatial_extent": dict(_WIDE),
                "temporal_extent": dates,
                "bands": ["B02", "B03", "B04", "B08"],
            },
        },
        "ndvi": {
            "process_id": "ndvi",
            "arguments": {"data": {"from_node": "load"}, "red": "B04", "nir": "B08"},
        },
    }
    data = {"from_node": "ndvi"}
    if fields is not None:
        reducer = {"process_graph": {"m": {
            "process_id": "mean", "arguments": {"data": {"from_parameter": "data"}},
            "result": True,
        }}}  # fmt: skip
        graph["agg"] = {
            "process_id": "aggregate_spatial",
            "arguments": {"data": data, "geometries": fields, "reducer": reducer},
        }
        data = {"from_node": "agg"}
    save = {"data": data, "format": "JSON" if fields is not None else "netCDF"}
    graph["save"] = {"process_id": "save_result", "arguments": save, "result": True}
    return graph


@pytest.fixture(scope="module")
def connection(tmp_path_factory: pytest.TempPathFactory, sample_catalog: Path) -> Iterator[Any]:
    with local_connection(tmp_path_factory.mktemp("load-size"), sample_catalog) as connected:
        yield connected


def _refusal(connection: Any, graph: dict[str, Any]) -> OpenEoApiError:
    with pytest.raises(OpenEoApiError) as raised:
        connection.download(graph)
    return raised.value


def test_a_synchronous_load_over_20000_pixels_a_side_is_refused(connection: Any) -> None:
    """is_layer_too_large L1431-1432 (geopyspark-driver 9baf2e10): a sync request over
    20000 px in x or y is a 400 ProcessGraphComplexity, however few its dates and bands.
    Before, the load searched and answered NoDataAvailable (or loaded the whole extent)."""
    error = _refusal(connection, _graph(_FEW_DATES))
    assert (error.http_status_code, error.code) == (400, "ProcessGraphComplexity")
    assert "20000 x 20000 a synchronous request" in error.message
    assert "run the graph as a batch job" in error.message


def test_geometries_lift_the_side_limit_of_a_synchronous_load(connection: Any) -> None:
    """With aggregate_spatial's geometries the side limit does not apply (L1431 ``and not
    geometries``): the load runs, and finds no scene in those dates."""
    field = {"type": "Polygon", "coordinates": [[
        [6.66, 45.24], [6.67, 45.24], [6.67, 45.25], [6.66, 45.25], [6.66, 45.24],
    ]]}  # fmt: skip
    error = _refusal(connection, _graph(_FEW_DATES, fields=field))
    assert error.code == "NoDataAvailable", error.message


def test_a_batch_job_too_large_fails_with_the_error_in_its_log(connection: Any) -> None:
    """A batch job makes the check when it runs (deploy/batch_job.py L348-356,
    layercatalog.py L97-121): its start is accepted, the job fails with
    ProcessGraphComplexity and the way through (the job option do_extent_check)."""
    job = connection.create_job(_graph(_MANY_DATES))
    with pytest.raises(JobFailedException):
        job.start_and_wait(max_poll_interval=0.2, show_error_logs=False)
    assert job.status() == "error"
    failures = [entry for entry in job.logs() if entry["level"] == "error"]
    assert [entry["code"] for entry in failures] == ["ProcessGraphComplexity"]
    assert "in a batch job, set the job option do_extent_check: false" in failures[0]["message"]
    assert "146 dates" in failures[0]["message"]
    job.delete()


@pytest.mark.parametrize("value", [False, "false", "OFF", 0])
def test_the_job_option_do_extent_check_false_turns_the_check_off(
    connection: Any, value: Any
) -> None:
    """``do_extent_check`` read as Copernicus's ``smart_bool``: the load runs (and finds
    no scene in those years of the sample)."""
    job = connection.create_job(_graph(_MANY_DATES), job_options={"do_extent_check": value})
    with pytest.raises(JobFailedException):
        job.start_and_wait(max_poll_interval=0.2, show_error_logs=False)
    failures = [entry for entry in job.logs() if entry["level"] == "error"]
    assert [entry["code"] for entry in failures] == ["NoDataAvailable"]
    job.delete()


def test_a_synchronous_request_cannot_turn_the_check_off(connection: Any) -> None:
    """The job options of ``POST /result`` stay under the evaluation's ``job_options``
    (python-driver views.py L722), which the check does not read."""
    body = {"process": {"process_graph": _graph(_FEW_DATES)}, "job_options": {
        "do_extent_check": False,
    }}  # fmt: skip
    with pytest.raises(OpenEoApiError) as raised:
        connection.post("/result", json=body, expected_status=200)
    assert raised.value.code == "ProcessGraphComplexity"
