"""run_udf on an aggregate_spatial time series, as Copernicus's guide shows it
(Open-EO/openeo-geopyspark-driver ``docs/vectorcube-run_udf.md``), through the openeo
client against ``hybrid serve``, changed only in URL, AOI and dates.

The UDFs are the guide's; each answer is checked against the same time series downloaded
as JSON from the same server (checked against numpy in ``test_server_timeseries.py``) and
reshaped here with plain Python: the layout is pandas' ``split`` JSON with
``feature_index`` first, as the guide's examples show.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from tests.workflows.raw import BBOX, DATES, FIELDS

_DATAFRAME = "import pandas as pd\n\ndef udf_apply_feature_dataframe(df: pd.DataFrame){returns}:\n"
SCALAR = _DATAFRAME.format(returns=" -> float") + "    return 123.456\n"
SUM_OVER_TIME = _DATAFRAME.format(returns=" -> pd.Series") + "    return df.sum(axis=0)\n"
SUM_OVER_BANDS = _DATAFRAME.format(returns=" -> pd.Series") + (
    "    series = df.sum(axis=1)\n"
    "    series.index = series.index.strftime('%Y-%m-%d')\n"
    "    return series\n"
)
PLUS_1000 = _DATAFRAME.format(returns=" -> pd.DataFrame") + "    return df + 1000\n"
#: UdfData mode: the feature's {date: [[bands]]} as StructuredData, context passed
COUNT_DATES = """
from openeo.udf import UdfData

def udf_apply_udf_data(udf_data: UdfData) -> float:
    series = udf_data.get_structured_data_list()[0].data
    return len(series) * udf_data.user_context["factor"]
"""
#: neither function: run_udf_code on the whole time series (the JSON layout)
FIRST_FEATURE = """
from openeo.udf import StructuredData, UdfData

def first_feature(data: UdfData):
    series = data.get_structured_data_list()[0].data
    first = {date: features[0] for date, features in series.items()}
    data.set_structured_data_list([StructuredData(data=first, type="dict")])
"""


def _aggregate(connection: Any) -> Any:
    cube = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=BBOX, temporal_extent=DATES, bands=["B04", "B08"]
    )
    return cube.aggregate_spatial(geometries=FIELDS, reducer="mean")


def _run_udf(connection: Any, code: str, context: Any = None) -> Any:
    """The client's ``VectorCube.run_udf`` with an ``openeo.UDF`` (its runtime read from
    ``GET /udf_runtimes``)."""
    import openeo

    return _aggregate(connection).run_udf(udf=openeo.UDF(code, context=context))


@pytest.fixture(scope="module")
def series(connection: Any) -> dict[str, list[list[float | None]]]:
    """{date: [[B04, B08] per field]}: the time series the UDFs see."""
    doc: dict[str, list[list[float | None]]] = _aggregate(connection).execute()
    assert len(doc) >= 3 and all(len(fields) == 2 for fields in doc.values())
    return doc


def _close(got: Any, want: Any) -> bool:
    if want is None or (isinstance(want, float) and math.isnan(want)):
        return got is None
    return got == pytest.approx(want, rel=1e-9, abs=1e-9)  # to_json: 10 decimals


def _rows_close(got: list[list[Any]], want: list[list[Any]]) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert len(g) == len(w) and all(_close(a, b) for a, b in zip(g, w, strict=True)), (g, w)


@pytest.mark.slow
def test_dataframe_udfs_of_the_guide(connection: Any, series: dict[str, Any]) -> None:
    dates = sorted(series)
    scalar = _run_udf(connection, SCALAR).execute()
    assert scalar["columns"] == ["feature_index", 0]
    assert scalar["data"] == [[0, 123.456], [1, 123.456]]

    # the time dimension reduced: one row per field, a column per band (NaN skipped)
    over_time = _run_udf(connection, SUM_OVER_TIME).execute()
    assert over_time["columns"] == ["feature_index", "B04", "B08"]
    want = [[f, *(sum(series[d][f][b] or 0.0 for d in dates) for b in (0, 1))] for f in (0, 1)]
    _rows_close(over_time["data"], want)

    # the bands reduced: a column per date
    over_bands = _run_udf(connection, SUM_OVER_BANDS).execute()
    assert over_bands["columns"] == ["feature_index", *(d[:10] for d in dates)]
    want = [[f, *(sum(v or 0.0 for v in series[d][f]) for d in dates)] for f in (0, 1)]
    _rows_close(over_bands["data"], want)

    # a whole DataFrame: the dates become a column, as pandas writes them in ISO
    plus = _run_udf(connection, PLUS_1000).execute()
    assert plus["columns"] == ["feature_index", "date", "B04", "B08"]
    want = [
        [f, d.replace("Z", ".000Z"), *(None if v is None else v + 1000 for v in series[d][f])]
        for f in (0, 1)
        for d in dates
    ]
    _rows_close(plus["data"], want)


@pytest.mark.slow
def test_udf_data_and_whole_series_modes(
    connection: Any, series: dict[str, Any], tmp_path: Path
) -> None:
    counted = _run_udf(connection, COUNT_DATES, context={"factor": 10}).execute()
    assert counted["data"] == [[0, 10.0 * len(series)], [1, 10.0 * len(series)]]

    # a batch job saves the answer as JSON
    job = _run_udf(connection, FIRST_FEATURE).create_job(out_format="JSON")
    job.start_and_wait(max_poll_interval=0.2, show_error_logs=False)
    (asset,) = job.get_results().get_assets()
    first = asset.load_json()
    assert sorted(first) == sorted(series)
    for date, bands in first.items():
        _rows_close([bands], [series[date][0]])


def test_run_udf_on_its_own_refuses_anything_but_a_time_series(connection: Any) -> None:
    from openeo.rest import OpenEoApiError

    cube = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=BBOX, temporal_extent=DATES, bands=["B04"]
    )
    raster = connection.datacube_from_process("run_udf", data=cube, udf=SCALAR, runtime="Python")
    spatial = cube.max_time().aggregate_spatial(geometries=FIELDS, reducer="mean")
    no_time = connection.datacube_from_process(
        "run_udf", data=spatial, udf=SCALAR, runtime="Python"
    )
    for graph in (raster, no_time):
        with pytest.raises(OpenEoApiError) as info:
            graph.execute()
        assert info.value.http_status_code == 400
        assert "runs only on an array, on geometries" in info.value.message


def test_run_udf_on_geometries_through_the_client(connection: Any, tmp_path: Path) -> None:
    """run_udf with the fields as ``data`` (Copernicus: a FeatureCollection for the UDF):
    the areas it computes in UTM come back as the values of a vector cube, and its
    structured answer as JSON."""
    from tests.engine.test_geometry_udf import COUNT, SHRINK

    cube = connection.datacube_from_process("run_udf", data=FIELDS, udf=SHRINK, runtime="Python")
    cube.download(tmp_path / "shrunk.geojson", format="GeoJSON")
    document = json.loads((tmp_path / "shrunk.geojson").read_text())
    areas = [f["properties"]["area_m2"] for f in document["features"]]
    assert len(areas) == len(FIELDS["features"]) and all(a > 100 for a in areas)
    assert [f["properties"]["label"] for f in document["features"]] == ["first", "second"]
    counted = connection.datacube_from_process(
        "run_udf", data=FIELDS, udf=COUNT, runtime="Python", context={"factor": 2}
    ).execute()
    assert counted == {"n": 2, "epsg": 4326, "crs": "EPSG:4326", "factor": 2}


def test_run_udf_on_a_list_through_the_client(connection: Any) -> None:
    """A list as ``data`` (or array_create's array) reaches the UDF as structured data of
    type ``list``, as on Copernicus; its structured answer comes back as JSON."""
    from tests.engine.test_geometry_udf import ECHO, SPLIT

    echoed = connection.datacube_from_process(
        "run_udf", data=[1, 2, 3], udf=ECHO, runtime="Python"
    ).execute()
    assert echoed == {"data": [1, 2, 3], "type": "list", "description": "Data list", "proj": None}
    split = connection.datacube_from_process(
        "run_udf", data=list(range(5)), udf=SPLIT, runtime="Python"
    ).execute()
    assert split == [[0, 2, 4], [1, 3]]
    created = {"process_id": "array_create", "arguments": {"data": [4, 5], "repeat": 2}}
    udf = {"data": {"from_node": "created"}, "udf": ECHO, "runtime": "Python"}
    graph = {"created": created, "udf": {"process_id": "run_udf", "arguments": udf, "result": True}}
    assert connection.execute(graph)["data"] == [4, 5, 4, 5]
