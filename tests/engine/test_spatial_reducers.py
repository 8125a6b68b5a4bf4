"""aggregate_spatial's reducers as Copernicus's Spark aggregates compute them
(hybrid.backends.local.spatial_reducers): the median of an integer cube keeps its
integer part, quantiles are values of the data (rank ceil(p n)), not interpolations.
Expected values from numpy on the pixels shapely finds inside the field."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from hybrid.backends.local.cell_types import INPUT_CELL_TYPE
from hybrid.backends.local.spatial_reducers import NEAREST_RANK, mark_spatial_reducers
from tests.server_helpers import SEED_BBOX

DATA = {"from_parameter": "data"}
#: a field inside the embedded sample (about 60 x 110 pixels)
FIELD = {
    "type": "Polygon",
    "coordinates": [[[6.657, 45.23], [6.662, 45.23], [6.662, 45.24], [6.657, 45.23]]],
}
#: two pixels, whose median is a half on some dates
PAIR = {"type": "MultiPoint", "coordinates": [[6.66, 45.24], [6.67, 45.25]]}
FIELDS = {
    "type": "FeatureCollection",
    "features": [{"type": "Feature", "properties": {}, "geometry": g} for g in (FIELD, PAIR)],
}


def _reducer(*nodes: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    graph = {f"r{i}": {"process_id": pid, "arguments": args} for i, (pid, args) in enumerate(nodes)}
    if len(nodes) > 1:
        refs = [{"from_node": name} for name in graph]
        graph["all"] = {"process_id": "array_create", "arguments": {"data": refs}}
    list(graph.values())[-1]["result"] = True
    return {"process_graph": graph}


def _graph(reducer: dict[str, Any], *, ndvi: bool = False) -> dict[str, Any]:
    bands = ["B04", "B08"] if ndvi else ["B04"]
    graph: dict[str, Any] = {
        "load": {"process_id": "load_collection", "arguments": {
            "id": "SENTINEL2_L2A", "spatial_extent": SEED_BBOX,
            "temporal_extent": ["2023-05-01", "2023-06-20"], "bands": bands}},
    }  # fmt: skip
    source = "load"
    if ndvi:
        graph["ndvi"] = {"process_id": "ndvi", "arguments": {"data": {"from_node": "load"}}}
        source = "ndvi"
    graph["agg"] = {"process_id": "aggregate_spatial", "arguments": {
        "data": {"from_node": source}, "geometries": FIELDS, "reducer": reducer}}  # fmt: skip
    graph["save"] = {"process_id": "save_result", "result": True,
                     "arguments": {"data": {"from_node": "agg"}, "format": "JSON"}}  # fmt: skip
    return graph


def _marked(graph: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``graph``, marked (the engine marks its own copy)."""
    graph = copy.deepcopy(graph)
    mark_spatial_reducers(graph)
    return graph


def test_medians_of_an_integer_cube_and_every_quantiles_are_marked() -> None:
    """Only aggregate_spatial's reducers: the same quantiles in a reduce_dimension keep
    the raster rule (interpolated)."""
    both = _reducer(
        ("median", {"data": DATA}), ("quantiles", {"data": DATA, "probabilities": [0.5]})
    )
    marked = _marked(_graph(both))
    median, quantiles = (
        marked["agg"]["arguments"]["reducer"]["process_graph"][k] for k in ("r0", "r1")
    )
    assert median["arguments"][INPUT_CELL_TYPE] == "int16"
    assert quantiles["arguments"][NEAREST_RANK] is True
    floats = _marked(_graph(both, ndvi=True))
    assert (
        INPUT_CELL_TYPE
        not in floats["agg"]["arguments"]["reducer"]["process_graph"]["r0"]["arguments"]
    )
    in_time = _graph(both)
    arguments = {"data": {"from_node": "load"}, "dimension": "t", "reducer": both}
    in_time["agg"] = {"process_id": "reduce_dimension", "arguments": arguments}
    reducer_nodes = _marked(in_time)["agg"]["arguments"]["reducer"]["process_graph"]
    assert NEAREST_RANK not in reducer_nodes["r1"]["arguments"]
    assert INPUT_CELL_TYPE not in reducer_nodes["r0"]["arguments"]


def test_nearest_ranks_pick_values_of_the_data() -> None:
    """rank ceil(p n) of the valid values; below the relative error the first, above
    1 minus it the last; no valid value: NaN."""
    from hybrid.backends.local.processes.quantiles import quantiles

    values = np.array([[4.0, np.nan, 1.0, 3.0, 2.0], [np.nan] * 5])
    got = quantiles(values, probabilities=[0, 0.1, 0.5, 0.51, 0.9, 1], axis=1, nearest_rank=True)
    np.testing.assert_array_equal(got[0], [1, 1, 2, 3, 4, 4])
    assert np.isnan(got[1]).all()


def _pixels(cube: xr.DataArray, epsg: int) -> list[np.ndarray]:
    """Per geometry of FIELDS, (t, pixel) values: the pixels whose centre lies in the
    field, the pixel each point falls in (shapely, pyproj)."""
    import pyproj
    from shapely.geometry import Point, shape
    from shapely.ops import transform

    project = pyproj.Transformer.from_crs(4326, epsg, always_xy=True).transform
    xs, ys = np.meshgrid(cube["x"].values, cube["y"].values)
    centres = [Point(x, y) for x, y in zip(xs.ravel(), ys.ravel(), strict=True)]
    flat = cube.values.reshape(cube.shape[0], -1)
    field = transform(project, shape(FIELD))
    inside = np.array([field.contains(c) for c in centres])
    points = [transform(project, Point(p)) for p in PAIR["coordinates"]]
    cells = [int(np.argmin([c.distance(p) for c in centres])) for p in points]
    return [flat[:, inside], flat[:, cells]]


@pytest.mark.slow
def test_field_median_and_quantiles_on_the_sample(sample_catalog: Path, tmp_path: Path) -> None:
    """Through the engine on the embedded sample: B04's median per field and date is the
    integer part of numpy's (a pair of pixels has half medians), its quantiles are the
    values of rank ceil(p n)."""
    import pyproj

    from hybrid.backends.local import LocalBackend, LocalSettings

    backend = LocalBackend(LocalSettings(stac=str(sample_catalog)))
    raw = _graph(_reducer(("mean", {"data": DATA})))
    del raw["agg"]
    raw["save"]["arguments"] = {"data": {"from_node": "load"}, "format": "netCDF"}
    (nc,) = backend.execute(raw, out_dir=tmp_path / "raw").files
    with xr.open_dataset(nc, engine="h5netcdf") as ds:
        cube = ds["B04"].load()
        epsg = int(pyproj.CRS.from_wkt(ds["crs"].attrs["crs_wkt"]).to_epsg())
    per_geometry = _pixels(cube, epsg)
    assert per_geometry[0].shape[1] > 100

    probabilities = [0.1, 0.5, 0.9]
    medians = _values(backend, _graph(_reducer(("median", {"data": DATA}))), tmp_path / "m")
    quantiles = _reducer(("quantiles", {"data": DATA, "probabilities": probabilities}))
    ranked = _values(backend, _graph(quantiles), tmp_path / "q")
    halves = 0
    for index, pixels in enumerate(per_geometry):
        for t, row in enumerate(pixels):
            valid = np.sort(row[~np.isnan(row)])
            median = float(np.median(valid))
            halves += median % 1 != 0
            assert medians[t][index] == [math.trunc(median)]
            expected = [valid[max(math.ceil(p * valid.size), 1) - 1] for p in probabilities]
            assert ranked[t][index] == [float(v) for v in expected]
    assert halves > 0, "no median to truncate: the test shows nothing"


def _values(backend: Any, graph: dict[str, Any], out: Path) -> list[list[list[float]]]:
    """JSON time series: per date (in order), per geometry, the statistics."""
    (path,) = backend.execute(graph, out_dir=out).files
    series = json.loads(path.read_text())
    return [features for _, features in sorted(series.items())]


@pytest.mark.parametrize(
    ("reducer", "refused"),
    [
        (_reducer(("extrema", {"data": DATA})), "'extrema'"),
        (_reducer(("mean", {"data": DATA}), ("sd", {"data": DATA})), None),
        (
            {
                "process_graph": {
                    "m": {"process_id": "mean", "arguments": {"data": DATA}},
                    "a": {
                        "process_id": "absolute",
                        "arguments": {"x": {"from_node": "m"}},
                        "result": True,
                    },
                }
            },
            "'absolute'",
        ),
    ],
)
def test_reducers_copernicus_cannot_build_are_refused_before_the_run(
    reducer: dict[str, Any], refused: str | None
) -> None:
    """SparkAggregateScriptBuilder.scala L127-150: "Unsupported reducer for
    aggregate_spatial" for anything but its aggregates (array_create only lists them)."""
    from hybrid.backends.local import LocalBackend
    from hybrid.errors import ProcessParameterInvalid

    graph = _graph(reducer)
    if refused is None:
        LocalBackend().validate(graph)
        return
    with pytest.raises(ProcessParameterInvalid, match=f"{refused} cannot be used in its reducer"):
        LocalBackend().validate(graph)


def test_statistics_spark_writes_as_integers_are_marked() -> None:
    """count always, min/max/first/last/median/sum/quantiles of an integer cube;
    mean, sd, variance and product never (SparkAggregateScriptBuilder.scala L130-148)."""
    from hybrid.backends.local.spatial_reducers import INTEGER_STATISTICS

    reducer = _reducer(
        ("count", {"data": DATA}),
        ("median", {"data": DATA}),
        ("quantiles", {"data": DATA, "probabilities": [0.1, 0.9]}),
        ("mean", {"data": DATA}),
    )
    marked = _marked(_graph(reducer))["agg"]["arguments"]
    assert marked[INTEGER_STATISTICS] == [True, True, True, True, False]
    of_ndvi = _marked(_graph(reducer, ndvi=True))["agg"]["arguments"]
    assert of_ndvi[INTEGER_STATISTICS] == [True, False, False, False, False]
    bits = _graph(_reducer(("sum", {"data": DATA}), ("mean", {"data": DATA})), ndvi=True)
    bits["gt"] = {"process_id": "apply", "arguments": {"data": {"from_node": "ndvi"},
                  "process": {"process_graph": {"g": {"process_id": "gt", "result": True,
                  "arguments": {"x": {"from_parameter": "x"}, "y": 0.5}}}}}}  # fmt: skip
    bits["agg"]["arguments"]["data"] = {"from_node": "gt"}
    # a comparison's bits: geotrellis' BitCellType is no floating point type
    assert _marked(bits)["agg"]["arguments"][INTEGER_STATISTICS] == [True, False]


def test_the_names_spark_gives_the_statistics_are_marked() -> None:
    """Spark 3.4.2's names of the aggregates SparkAggregateScriptBuilder.scala L120,
    L129-146 builds (seen in a Spark 3.4.2 session on these expressions); q = 4 is
    1/4, 2/4, 3/4 (OpenEOProcessScriptBuilder.scala L415-432)."""
    from hybrid.backends.local.spatial_reducers import STATISTIC_COLUMNS

    reducer = _reducer(
        ("median", {"data": DATA}),
        ("count", {"data": DATA, "condition": True}),
        ("quantiles", {"data": DATA, "q": 4}),
        ("variance", {"data": DATA}),
        ("first", {"data": DATA, "ignore_nodata": False}),
    )
    names = [
        "CAST(median({c}) AS INT)",
        "count((({c} IS NULL) OR ({c} IS NOT NULL)))",
        *(f"percentile_approx({{c}}, {p}, 100000)" for p in ("0.25", "0.5", "0.75")),
        "var_samp({c})",
        "first({c})",
    ]
    assert _marked(_graph(reducer))["agg"]["arguments"][STATISTIC_COLUMNS] == names
    of_ndvi = _marked(_graph(reducer, ndvi=True))["agg"]["arguments"][STATISTIC_COLUMNS]
    assert of_ndvi[0] == "CAST(median({c}) AS DOUBLE)" and of_ndvi[1:] == names[1:]
    lone = _marked(_graph(_reducer(("sd", {"data": DATA}))))["agg"]["arguments"]
    assert lone[STATISTIC_COLUMNS] == ["stddev_samp({c})"]
    unknown = _reducer(("mean", {"data": DATA}), ("extrema", {"data": DATA}))
    assert STATISTIC_COLUMNS not in _marked(_graph(unknown))["agg"]["arguments"]


@pytest.mark.slow
def test_integer_statistics_are_written_as_integers(sample_catalog: Path, tmp_path: Path) -> None:
    """Spark types the columns of an integer cube IntegerType and count a long, so the CSV
    holds ``16`` and ``437`` where it held ``16.0`` and ``437.0`` (AggregatePolygonProcess
    .scala L328-333); the JSON, read from it by pandas, holds integers when every column
    is integral and complete (save_result.py ``get_data``)."""
    import csv

    from hybrid.backends.local import LocalBackend, LocalSettings

    backend = LocalBackend(LocalSettings(stac=str(sample_catalog)))
    mixed = _graph(
        _reducer(("count", {"data": DATA}), ("median", {"data": DATA}), ("mean", {"data": DATA}))
    )
    mixed["save"]["arguments"]["format"] = "CSV"
    (path,) = backend.execute(mixed, out_dir=tmp_path / "csv").files
    header, *rows = list(csv.reader(path.read_text().splitlines()))
    # several statistics keep Spark's names of them (AggregatePolygonProcess.scala L349-355)
    spark = ["count(B04)", "CAST(median(B04) AS INT)", "avg(B04)"]
    assert header == ["date", "feature_index", *spark]
    full = [row for row in rows if all(row[2:])]
    assert full and all(row[2].isdigit() and row[3].isdigit() for row in full)
    assert all("." in row[4] for row in full)
    whole = _graph(_reducer(("count", {"data": DATA}), ("max", {"data": DATA})))
    (path,) = backend.execute(whole, out_dir=tmp_path / "json").files
    values = [v for features in json.loads(path.read_text()).values() for f in features for v in f]
    assert values and all(type(v) is int for v in values), values[:8]
    floats = _graph(_reducer(("count", {"data": DATA}), ("max", {"data": DATA})), ndvi=True)
    (path,) = backend.execute(floats, out_dir=tmp_path / "ndvi").files
    values = [v for features in json.loads(path.read_text()).values() for f in features for v in f]
    assert values and all(type(v) is float for v in values if v is not None)
