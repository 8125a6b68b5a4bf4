"""Copernicus's size estimate of a load_collection (``hybrid.backends.local.load_size``),
from a graph's inferred loads: dates per 10 days, the bands' mean gsd, a resample handed
to the load, aggregate_spatial's rough area; and ``hybrid run`` refusing with exit 2."""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import pytest

from hybrid.backends.local.extents import infer_loads
from hybrid.backends.local.load_size import check_load_sizes, observations
from hybrid.cli import main
from hybrid.errors import ExtentTooLarge
from hybrid.limits import MAX_PIXELS, extent_check_wanted, load_check

#: 2 x 1 degrees at 45 N: about 15700 x 11100 pixels of 10 m
_BOX = {"west": 6.0, "south": 45.0, "east": 8.0, "north": 46.0}
#: 255 steps of 10 days
_YEARS = ["2016-01-01", "2023-01-01"]
#: with _BOX and _YEARS, about 1.8e11 pixels
_BANDS = ["B02", "B03", "B04", "B08"]


def _graph(
    bbox: dict[str, float], dates: list[str], bands: list[str] | None, *after: dict[str, Any]
) -> dict[str, Any]:
    """load_collection, then the processes ``after`` in a chain, then save_result."""
    args: dict[str, Any] = {"id": "SENTINEL2_L2A", "spatial_extent": bbox, "temporal_extent": dates}
    if bands is not None:
        args["bands"] = bands
    graph: dict[str, Any] = {"n0": {"process_id": "load_collection", "arguments": args}}
    for index, node in enumerate(after, start=1):
        arguments = {"data": {"from_node": f"n{index - 1}"}, **node["arguments"]}
        graph[f"n{index}"] = {"process_id": node["process_id"], "arguments": arguments}
    save = {"data": {"from_node": f"n{len(after)}"}, "format": "netCDF"}
    graph["save"] = {"process_id": "save_result", "arguments": save, "result": True}
    return graph


def _refused(graph: dict[str, Any], kind: str = "batch") -> str | None:
    """The refusal's message in a request of ``kind``; None when the load passes."""
    with load_check(kind):  # type: ignore[arg-type]
        try:
            check_load_sizes(infer_loads(graph))
        except ExtentTooLarge as exc:
            assert exc.code == "ProcessGraphComplexity" and exc.node == "n0"
            return exc.message
    return None


def test_dates_are_estimated_per_10_days_within_the_collections_period() -> None:
    """estimate_number_of_temporal_observations L949-974: floor(days / 10), at least 1;
    the period starts no earlier than the collection (2015-07-04, L898-947)."""
    assert observations(("2023-01-01", "2023-04-11")) == 10
    assert observations(("2023-01-01", "2023-01-03")) == 1
    assert observations(("2010-01-01", "2015-07-14")) == 1
    assert observations((None, "2025-07-04")) == 365  # 3653 days from 2015-07-04


def test_the_issue_17_scale_check_passes_in_every_kind_of_request() -> None:
    """100 x 100 km over 10 dates 5 days apart, 5 bands (benchmarks/scenes.py): 4 steps of
    10 days x 1e8 pixels x 5 bands = 2e9, below 1e11, and 10000 pixels a side."""
    box = {"west": 7.0, "south": 45.0, "east": 8.27, "north": 45.9}
    graph = _graph(box, ["2023-04-01", "2023-05-17"], ["B02", "B03", "B04", "B08", "SCL"])
    assert _refused(graph, "sync") is None and _refused(graph, "batch") is None


def test_every_band_counts_at_the_mean_of_their_gsd() -> None:
    """Without bands: all 19 of the collection, the cell 1/sqrt(mean(1/gsd^2)) of the 13
    that have a gsd (4 of 10 m, 7 of 20 m, 2 of 60 m; L1290-1328)."""
    cell = 1 / math.sqrt((4 / 10**2 + 7 / 20**2 + 2 / 60**2) / 13)
    message = _refused(_graph(_BOX, ["2016-01-01", "2023-01-01"], None))
    assert message is not None and f"of {cell:g} m x 255 dates" in message
    assert "x 19 bands" in message and "the period shorter or the bands fewer" in message


def test_the_estimate_is_area_over_cell_times_dates_times_bands() -> None:
    """L1434: a period just long enough to pass the threshold at one band, refused at two."""
    message = _refused(_graph(_BOX, _YEARS, _BANDS))
    assert message is not None
    columns, rows = (float(v) for v in message.split("(")[1].split(" of ")[0].split(" x "))
    assert float(message.split("estimated ")[1].split(" ")[0]) == pytest.approx(
        columns * rows * 255 * 4, rel=1e-2
    )
    dates = math.floor(MAX_PIXELS / (columns * rows)) - 1  # under the threshold at one band
    end = dt.date(2016, 1, 1) + dt.timedelta(days=10 * dates)
    period = ["2016-01-01", end.isoformat()]
    assert _refused(_graph(_BOX, period, ["B04"])) is None
    assert _refused(_graph(_BOX, period, ["B04", "B08", "B03"])) is not None


def test_a_resample_handed_to_the_load_gives_its_cell() -> None:
    """L1402-1410: resample_spatial's resolution (and projection) replace the bands' gsd."""
    period, bands = _YEARS, _BANDS
    coarse = {"process_id": "resample_spatial", "arguments": {"resolution": 60}}
    assert _refused(_graph(_BOX, period, bands)) is not None
    assert _refused(_graph(_BOX, period, bands, coarse)) is None
    degrees = {"process_id": "resample_spatial", "arguments": {
        "resolution": 0.0001, "projection": 4326,
    }}  # fmt: skip
    message = _refused(_graph(_BOX, period, bands, degrees))
    assert message is not None and "20000 x 10000 of 0.0001 units of EPSG:4326" in message


def _fields(*boxes: tuple[float, float, float, float]) -> dict[str, Any]:
    polygons = [[[[w, s], [e, s], [e, n], [w, n], [w, s]]] for w, s, e, n in boxes]
    return {"type": "MultiPolygon", "coordinates": polygons}


def _aggregate(geometries: dict[str, Any]) -> dict[str, Any]:
    reducer = {"process_graph": {"m": {
        "process_id": "mean", "arguments": {"data": {"from_parameter": "data"}}, "result": True,
    }}}  # fmt: skip
    return {"process_id": "aggregate_spatial", "arguments": {
        "geometries": geometries, "reducer": reducer,
    }}  # fmt: skip


def test_aggregate_spatial_geometries_count_by_their_rough_area() -> None:
    """L1437-1461: over the threshold, the sum of the polygons' bbox areas (degrees) over
    a cell reprojected to degrees decides; the side limit does not apply (L1431)."""
    period, bands = _YEARS, _BANDS
    small = _fields((6.1, 45.1, 6.2, 45.2), (7.1, 45.1, 7.2, 45.2))
    assert _refused(_graph(_BOX, period, bands, _aggregate(small)), "sync") is None
    # two polygons: their bboxes' areas add up (not their envelope's, 2 x 1 degrees)
    large = _fields((6.0, 45.0, 7.0, 46.0), (7.0, 45.0, 8.0, 46.0))
    assert _refused(_graph(_BOX, period, bands, _aggregate(large))) is not None


def test_the_check_is_off_as_the_job_option_says() -> None:
    graph = _graph(_BOX, _YEARS, _BANDS)
    assert _refused(graph, "batch") is not None and _refused(graph, "off") is None
    assert extent_check_wanted(None) and extent_check_wanted({"do_extent_check": "yes"})
    assert not extent_check_wanted({"do_extent_check": "No"})
    assert not extent_check_wanted({"do_extent_check": None})


def test_hybrid_run_refuses_a_load_too_large_with_exit_2(tmp_path, capsys) -> None:
    """``hybrid run`` runs a graph as a batch job: the check without the side limit,
    refused before any search, one line, exit 2."""
    graph_file = tmp_path / "big.json"
    graph_file.write_text(json.dumps(_graph(_BOX, _YEARS, _BANDS)))
    out = tmp_path / "out"
    assert main(["run", "--graph", str(graph_file), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "ProcessGraphComplexity there" in err
    assert not out.exists()


@pytest.mark.parametrize("option", [False, "false"])
def test_hybrid_run_takes_a_job_documents_do_extent_check(tmp_path, capsys, option) -> None:
    """A job document (``{"process": ..., "job_options": ...}``) turns the check off as a
    batch job's option does: the load runs, and finds no scene of the sample there."""
    body = {
        "process": {"process_graph": _graph(_BOX, _YEARS, _BANDS)},
        "job_options": {"do_extent_check": option},
    }
    graph_file = tmp_path / "job.json"
    graph_file.write_text(json.dumps(body))
    out = tmp_path / "out"
    assert main(["run", "--graph", str(graph_file), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "no data available" in err and "ProcessGraphComplexity" not in err
