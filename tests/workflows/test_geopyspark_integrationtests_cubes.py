"""The Copernicus backend developers' own integration tests
(Open-EO/openeo-geopyspark-integrationtests ``tests/test_integration.py``, run against the
real backend) replayed with the openeo client against ``hybrid serve``: the ones loading
``SENTINEL2_L2A`` or no collection at all, with the extent and dates moved into the
embedded sample. Where the published test asserts a value Copernicus computed on its own
data (a minimum NDVI, a feature count), the check here is the same quantity recomputed in
numpy on the raw bands of the same server; where it asserts a value independent of the
data (a UDP's result, a UDF's structured data, band labels, a JSON layout), the same value.

The published UDF code (``tests/data/udfs/*.py`` and the strings inside the test
functions) is read from a checkout (or a bare git directory) of the repository named by
``HYBRID_GEOPYSPARK_INTEGRATIONTESTS``, not copied into this project; the tests skip
without one.
"""

from __future__ import annotations

import ast
import json
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.workflows.geopyspark_published import DAY, INTEGRATIONTESTS_ENV, NEEDS_CHECKOUT, REPO
from tests.workflows.published import published_text
from tests.workflows.raw import BBOX, DATES, pixels_inside, raw_bands, read_tiff

pytestmark = NEEDS_CHECKOUT

_TESTS = "tests/test_integration.py"


def _published(relative: str) -> str:
    return published_text(INTEGRATIONTESTS_ENV, relative, REPO)


def _strings_of(function: str, *, in_decorators: bool = False) -> list[str]:
    """The multi-line string literals (dedented) of the published test function
    ``function`` (a module function or a method), in source order: its inline UDF code;
    ``in_decorators``: those of its decorators (a ``parametrize`` of UDF code)."""
    tree = ast.parse(_published(_TESTS))
    found = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == function]
    assert found, f"{_TESTS} has no {function}"
    roots = found[0].decorator_list if in_decorators else found[0].body
    return [
        textwrap.dedent(n.value)
        for root in roots
        for n in ast.walk(root)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and "\n" in n.value
    ]


def test_udf_squares_structured_data(connection: Any) -> None:
    """test_udf_support_structured_data (L1990-2017): ``run_udf`` on a plain array, the
    UDF squaring each ``StructuredData`` list: the result is ``[1, 4, 9, 25, 64]``."""
    [udf] = _strings_of("test_udf_support_structured_data", in_decorators=True)
    graph = {
        "udf": {
            "process_id": "run_udf",
            "arguments": {"data": [1, 2, 3, 5, 8], "udf": udf, "runtime": "Python"},
            "result": True,
        }
    }
    assert connection.execute(graph) == [1, 4, 9, 25, 64]


def test_udf_on_a_polygon_returns_its_structured_dict(connection: Any) -> None:
    """test_library_availability (L1956-1987): ``run_udf`` with a bare GeoJSON Polygon as
    ``data``; the UDF clears the feature collections and answers a ``dict``
    StructuredData, returned as that dict (here importing ``numpy``, which hybrid's UDF
    runtime has; the published default ``tensorflow`` is not installed here)."""
    [template] = _strings_of("test_library_availability")
    udf = template.format(library="numpy")
    graph = {
        "udf": {
            "process_id": "run_udf",
            "arguments": {
                "data": {
                    "type": "Polygon",
                    "coordinates": [[(2, 1), (2, 3), (0, 3), (0, 1), (2, 3)]],
                },
                "udf": udf,
                "runtime": "Python",
            },
            "result": True,
        }
    }
    res = connection.execute(graph)
    assert isinstance(res, dict) and res.get("success") is True, res


@pytest.mark.filterwarnings("ignore:Specifying UDF code")
def test_apply_metadata_renames_the_udf_bands(connection: Any) -> None:
    """test_apply_metadata (L2581-2604): ``apply_dimension`` over ``bands`` with a UDF
    whose ``apply_metadata`` renames the labels; ``dimension_labels`` of the result is
    ``["computed_band_1", "computed_band_2"]``."""
    [udf] = [s for s in _strings_of("test_apply_metadata") if "apply_metadata" in s]
    cube = connection.load_collection(
        "SENTINEL2_L2A",
        bands=["B04", "B03"],
        temporal_extent=DAY,
        spatial_extent=dict(BBOX),
    )
    result = cube.apply_dimension(code=udf, dimension="bands").dimension_labels(dimension="bands")
    assert result.execute() == ["computed_band_1", "computed_band_2"]


def test_ndvi_udf_reduces_bands_on_a_web_mercator_extent(connection: Any, tmp_path: Path) -> None:
    """test_ndvi_udf_reduce_bands_udf (L324-346): ``reduce_bands`` with
    ``udfs/raster_collections_ndvi.py`` over an EPSG:3857 ``spatial_extent``: one band,
    the NDVI of B04/B08 on the native grid over the extent (Copernicus's 60 x 142 for its
    2177 x 825 m box), every value a finite NDVI."""
    import openeo
    import pyproj

    udf = _published("tests/data/udfs/raster_collections_ndvi.py")
    to_3857 = pyproj.Transformer.from_crs(4326, 3857, always_xy=True).transform
    west, south = to_3857(BBOX["west"], BBOX["south"])
    east, north = to_3857(BBOX["east"], BBOX["north"])
    extent = dict(west=west, east=east, south=south, north=north, crs="EPSG:3857")
    cube = connection.load_collection(
        "SENTINEL2_L2A", temporal_extent=DAY, spatial_extent=extent, bands=["B04", "B08"]
    )
    res = cube.reduce_bands(reducer=openeo.UDF(udf, runtime="Python"))
    res.download(tmp_path / "ndvi-udf.tiff", format="GTIFF")
    got = read_tiff(tmp_path / "ndvi-udf.tiff")

    raw = raw_bands(connection, ["B04", "B08"], tmp_path / "raw.nc", bbox=extent, dates=[DAY, DAY])
    red, nir = (raw[b].values[0].astype(np.float64) for b in ("B04", "B08"))
    assert got.shape == (1, *red.shape)
    np.testing.assert_allclose(got[0], (nir - red) / (nir + red), rtol=1e-5)


def test_point_and_polygon_timeseries_from_a_batch_job(connection: Any, tmp_path: Path) -> None:
    """test_point_timeseries_from_batch_process (L2120-2144): ``aggregate_spatial`` mean
    of a GeometryCollection of a polygon and its centroid in a batch job: a JSON of
    ``{date: [[float, ...] per member]}``, two members per date (here the sample's box,
    its centre pixel's bands the point's values)."""
    import shapely.geometry
    from shapely.geometry import GeometryCollection

    polygon = shapely.geometry.box(BBOX["west"], BBOX["south"], BBOX["east"], BBOX["north"])
    geometries = GeometryCollection([polygon, polygon.centroid])
    data_cube = (
        connection.load_collection("SENTINEL2_L2A", bands=["B04", "B03", "B02"])
        .filter_temporal(extent=DATES)
        .aggregate_spatial(geometries, "mean")
    )
    job = data_cube.execute_batch(max_poll_interval=1)
    timeseries = job.get_results().get_assets()[0].load_json()
    assert timeseries and all(
        isinstance(v, float) for rows in timeseries.values() for row in rows for v in row
    ), timeseries
    _, geometry_values = next(iter(timeseries.items()))
    assert len(geometry_values) == len(geometries.geoms)


def test_load_without_spatial_bounds_is_refused_synchronously(
    connection: Any, tmp_path: Path
) -> None:
    """test_synchronous_call_without_spatial_bounds_is_rejected (L1641-1652,
    ``PROBAV_L3_S10_TOC_333M`` as ``SENTINEL2_L2A``): a synchronous download of a load
    without spatial bounds is a 4xx ``MissingSpatialFilter`` (or
    ``ProcessGraphComplexity``): python-driver views.py L718 evaluates ``/result`` with
    ``require_bounds``, geopyspark-driver layercatalog.py L146-151 refuses then."""
    from openeo.rest import OpenEoApiError

    cube = connection.load_collection("SENTINEL2_L2A", bands=["B04"]).filter_temporal(
        [f"{DAY}T00:00:00Z", f"{DAY}T00:00:00Z"]
    )
    with pytest.raises(OpenEoApiError) as refused:
        cube.download(tmp_path / "refused.tiff", format="GTIFF")
    assert refused.value.code in {"MissingSpatialFilter", "ProcessGraphComplexity"}


def test_discard_result_job_has_no_assets(connection: Any) -> None:
    """test_discard_result_suppresses_batch_job_output_file (L1881-1892,
    ``PROBAV_L3_S10_TOC_333M`` as ``SENTINEL2_L2A``, its box as the sample's): a batch
    job ending in ``discard_result`` finishes with no asset, though the client's
    ``execute_batch`` adds a ``save_result`` (GTiff) after it: Copernicus's save_result
    keeps discard_result's ``NullResult`` (python-driver process_implementations/io.py
    L176-180), which writes nothing (save_result.py L988-994)."""
    cube = (
        connection.load_collection("SENTINEL2_L2A", bands=["B04"])
        .filter_bbox(BBOX["west"], BBOX["east"], BBOX["north"], BBOX["south"], "EPSG:4326")
        .filter_temporal(DATES)
    )
    cube = cube.process("discard_result", arguments={"data": cube})
    job = cube.execute_batch(max_poll_interval=1)
    assert job.describe()["process"]["process_graph"]["saveresult1"]["process_id"] == "save_result"
    assert len(job.get_results().get_assets()) == 0


def test_min_and_count_of_points_and_boxes_interleave_per_band(
    connection: Any, tmp_path: Path
) -> None:
    """test_aggregate_spatial_feature_collection_heterogeneous_multiple_aggregates
    (L2050-2078, ``TERRASCOPE_S2_TOC_V2`` as ``SENTINEL2_L2A``, the points and boxes moved
    into the sample): ``array_create(min, count)`` per geometry of a FeatureCollection of
    two points and two 2 x 2 px boxes gives per date ``[B04 min, B04 count, B03 min,
    B03 count, B02 min, B02 count]``, counts 1 for a point and 4 for a box. The client
    sends ``count`` as array_create's ``repeat``: Copernicus lists the aggregates whatever
    argument holds them (geotrellis-extensions SparkAggregateScriptBuilder.scala
    L97-102)."""
    import pyproj
    from openeo.processes import array_create
    from shapely.geometry import Point, Polygon, mapping

    raw = raw_bands(connection, ["B04", "B03", "B02"], tmp_path / "raw.nc", dates=[DAY, DAY])
    xs, ys = raw["x"].values, raw["y"].values

    to_lonlat = pyproj.Transformer.from_crs(
        pyproj.CRS.from_wkt(raw["crs"].attrs["crs_wkt"]), 4326, always_xy=True
    ).transform
    points = [Point(to_lonlat(xs[20], ys[30])), Point(to_lonlat(xs[40], ys[10]))]
    boxes = [
        Polygon.from_bounds(*to_lonlat(xs[10] - 5, ys[41] - 5), *to_lonlat(xs[11] + 5, ys[40] + 5)),
        Polygon.from_bounds(*to_lonlat(xs[60] - 5, ys[21] - 5), *to_lonlat(xs[61] + 5, ys[20] + 5)),
    ]
    geometries = points + boxes
    collection = {
        "type": "FeatureCollection",
        "properties": {},
        "features": [
            {"type": "Feature", "properties": {}, "geometry": mapping(g)} for g in geometries
        ],
    }
    data_cube = connection.load_collection(
        "SENTINEL2_L2A", bands=["B04", "B03", "B02"], temporal_extent=[DAY, DAY]
    )
    result = data_cube.aggregate_spatial(
        collection, lambda d: array_create(d.min(), d.count())
    ).execute()

    counts = [1, 1, 4, 4]
    picks = [(30, 20), (10, 40)] + [pixels_inside(raw, b) for b in boxes]
    want = []
    for pick, count in zip(picks, counts, strict=True):
        row: list[float] = []
        for band in ("B04", "B03", "B02"):
            picked = np.atleast_1d(raw[band].values[0][pick])
            assert picked.size == count
            row += [float(picked.min()), count]
        want.append(row)
    assert result == {f"{DAY}T00:00:00Z": want}


def test_udf_buffers_the_vectorised_scl_mask(connection: Any, tmp_path: Path) -> None:
    """test_raster_to_vector_with_apply_dimension (L2081-2117): ``(SCL == 1) * 1.0``
    vectorised with ``raster_to_vector``, then ``apply_dimension`` over ``geometry`` with
    the published UDF buffering each polygon: as GeoJSON, one feature per polygon of the
    vectorised mask (Copernicus: 3 over its area; SCL 4 here, the sample's class 1 being
    rare), each a polygon 1 m wider than its own (python-driver datacube.py L822-898: the
    UDF gets the cube's frame as a FeatureCollection)."""
    import openeo

    [udf] = _strings_of("test_raster_to_vector_with_apply_dimension")[-1:]
    s2_bands = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=dict(BBOX), temporal_extent=[DAY, DAY], bands=["SCL"]
    )
    scl_band = s2_bands.band("SCL")
    s2_cloudmask = (scl_band == 4) * 1.0
    vectors = s2_cloudmask.raster_to_vector()
    vectors.download(tmp_path / "vectors.geojson", format="geojson")
    plain = json.loads((tmp_path / "vectors.geojson").read_text())
    udf_callback = openeo.UDF(code=udf, runtime="Python")
    apply_dim_result = vectors.apply_dimension(dimension="geometry", process=udf_callback)
    apply_dim_result.download(tmp_path / "apply_dim_result.geojson", format="geojson")
    data = json.loads((tmp_path / "apply_dim_result.geojson").read_text())
    assert len(data["features"]) == len(plain["features"]) > 1
    from shapely.geometry import shape

    for got, given in zip(data["features"], plain["features"], strict=True):
        assert shape(got["geometry"]).area > shape(given["geometry"]).area
