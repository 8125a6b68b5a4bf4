"""aggregate_spatial, filter_spatial, mask_polygon and the vector-cube result layouts.

Cubes are small synthetic UTM grids; callbacks run through openeo-pg-parser-networkx as
in the engine (tests/process_vectors.py ``run_through_engine``). Expected values come
from an independent computation: shapely point-in-polygon tests on the pixel centres
(not rasterio's rasteriser, which the implementation uses).
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from shapely.geometry import Point, shape

from hybrid.backends.local.processes.spatial_aggregation import aggregate_spatial
from hybrid.backends.local.processes.vector import filter_spatial, mask_polygon
from hybrid.errors import FormatUnsuitable, HybridWarning, ProcessParameterInvalid
from hybrid.geometries import crs_members_as_text
from hybrid.io.registry import find_format, write_result
from tests.process_vectors import run_through_engine as _run_through_engine

EPSG = 32632
X0, Y0 = 500000.0, 5000000.0  # upper-left corner of the grid
UTM_CRS = {"type": "name", "properties": {"name": f"EPSG:{EPSG}"}}


def grid_cube(values: Any, dims: tuple[str, ...], **coords: Any) -> xr.DataArray:
    values = np.asarray(values, dtype=np.float64)
    full = dict(coords)
    full["x"] = X0 + 5.0 + 10.0 * np.arange(values.shape[dims.index("x")])
    full["y"] = Y0 - 5.0 - 10.0 * np.arange(values.shape[dims.index("y")])
    cube = xr.DataArray(values, dims=dims, coords=full)
    cube.attrs = {"crs": f"EPSG:{EPSG}", "epsg": EPSG}
    return cube


def rect(col0: float, row0: float, col1: float, row1: float) -> dict[str, Any]:
    """A rectangle in pixel units (0 = the grid's left/top edge) as a UTM polygon."""
    x0, x1 = X0 + 10 * col0, X0 + 10 * col1
    y0, y1 = Y0 - 10 * row0, Y0 - 10 * row1
    ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
    return {"type": "Polygon", "coordinates": [ring]}


def collection(*geometries: dict[str, Any], crs: Any = UTM_CRS) -> dict[str, Any]:
    """A FeatureCollection of ``geometries`` given in the grid's UTM coordinates (lon/lat
    with ``crs=None``), written in lon/lat: GeoJSON is read as lon/lat, a ``crs`` member
    ignored, as on Copernicus (hybrid.geometries)."""
    features = [
        {"type": "Feature", "properties": {"name": f"f{i}"},
         "geometry": g if crs is None else lonlat(g)}
        for i, g in enumerate(geometries)
    ]  # fmt: skip
    return {"type": "FeatureCollection", "features": features}


def lonlat(geometry: dict[str, Any]) -> dict[str, Any]:
    """A GeoJSON geometry in the grid's UTM zone as lon/lat GeoJSON (pyproj)."""
    import pyproj
    from shapely.geometry import mapping
    from shapely.ops import transform

    to_lonlat = pyproj.Transformer.from_crs(EPSG, 4326, always_xy=True).transform
    return dict(mapping(transform(to_lonlat, shape(geometry))))


def grid_shape(geometry: dict[str, Any]) -> Any:
    """A lon/lat GeoJSON geometry as a shapely geometry in the grid's UTM zone."""
    import pyproj
    from shapely.ops import transform

    to_grid = pyproj.Transformer.from_crs(4326, EPSG, always_xy=True).transform
    return transform(to_grid, shape(geometry))


def write_vector_cube(cube: xr.DataArray, name: str, folder: Path) -> Path:
    """save_result's path: the format registry's writer for a vector cube."""
    fmt = find_format(name)
    assert fmt is not None, name
    (path,) = write_result(cube, fmt, folder)
    return path


def run_through_engine(process_id: str, arguments: dict[str, Any]) -> Any:
    """As the engine runs a graph: GeoJSON crs members made text first (engine.execute)."""
    plain = {k: v for k, v in arguments.items() if not isinstance(v, xr.DataArray)}
    cubes = {k: v for k, v in arguments.items() if isinstance(v, xr.DataArray)}
    return _run_through_engine(process_id, {**crs_members_as_text(plain), **cubes})


def reducer(process_id: str) -> dict[str, Any]:
    node = {"process_id": process_id, "arguments": {"data": {"from_parameter": "data"}}}
    return {"process_graph": {"r": {**node, "result": True}}}


def centre_values(cube: xr.DataArray, geometry: Any) -> np.ndarray:
    """Independent reference: values (..., pixel) of pixels whose centre is in geometry."""
    xs, ys = cube["x"].values, cube["y"].values
    keep = [
        (j, i) for j, y in enumerate(ys) for i, x in enumerate(xs) if geometry.contains(Point(x, y))
    ]
    stacked = cube.transpose(..., "y", "x").values
    return np.stack([stacked[..., j, i] for j, i in keep], axis=-1)


def plain_mean(*args: Any, **kwargs: Any) -> Any:
    """A reducer with the calling convention of the engine's callbacks."""
    return np.nanmean(args[0], axis=kwargs["axis"])


RNG = np.random.default_rng(7)
TIMES = np.array(["2023-06-02", "2023-06-07", "2023-06-12"], dtype="datetime64[ns]")


def spacetime() -> xr.DataArray:
    values = RNG.uniform(-1, 1, size=(3, 8, 10))
    values[1, 2, 2] = np.nan  # one nodata pixel inside the first field
    return grid_cube(values, ("t", "y", "x"), t=TIMES)


def two_band_series() -> xr.DataArray:
    """An aggregate_spatial time series: two bands over three fields, the last covering no
    pixel centre."""
    data = spacetime()
    values = np.stack([data.values, data.values * 10], axis=-1)
    cube = grid_cube(values, ("t", "y", "x", "bands"), t=data["t"].values, bands=["B04", "B08"])
    fields = collection(rect(1, 1, 5, 4), rect(3, 2, 7, 6), rect(50, 50, 60, 60))
    return aggregate_spatial(cube, fields, plain_mean)


def test_mean_per_field_and_date_uses_pixel_centres() -> None:
    data = spacetime()
    # field 0 covers the centres of rows 1-3, cols 1-4 (edges between centres)
    # field 1 covers pixel (5, 6) and 60% of its neighbours' area, but not their centres
    fields = collection(rect(1, 1, 5, 4), rect(5.8, 4.8, 7.2, 6.2))
    out = run_through_engine(
        "aggregate_spatial", {"data": data, "geometries": fields, "reducer": reducer("mean")}
    )
    assert out.dims == ("geometries", "t")
    for index, feature in enumerate(fields["features"]):
        want = np.nanmean(centre_values(data, grid_shape(feature["geometry"])), axis=-1)
        np.testing.assert_allclose(out.values[index], want)
    assert centre_values(data, grid_shape(fields["features"][1]["geometry"])).shape[-1] == 1


def test_overlapping_and_multipolygon_each_get_their_pixels() -> None:
    data = spacetime()
    multi = {
        "type": "MultiPolygon",
        "coordinates": [rect(0, 0, 2, 2)["coordinates"], rect(6, 5, 9, 8)["coordinates"]],
    }
    fields = collection(rect(1, 1, 5, 4), rect(3, 2, 7, 6), multi)
    out = run_through_engine(
        "aggregate_spatial", {"data": data, "geometries": fields, "reducer": reducer("sum")}
    )
    for index, feature in enumerate(fields["features"]):
        want = np.nansum(centre_values(data, grid_shape(feature["geometry"])), axis=-1)
        np.testing.assert_allclose(out.values[index], want)


def test_lonlat_geojson_is_reprojected() -> None:
    import pyproj
    from shapely.ops import transform

    data = spacetime()
    to_ll = pyproj.Transformer.from_crs(EPSG, 4326, always_xy=True).transform
    utm = shape(rect(1.3, 0.6, 6.7, 5.2))
    lonlat = transform(to_ll, utm)
    doc = {"type": "Feature", "properties": {}, "geometry": lonlat.__geo_interface__}
    out = run_through_engine(
        "aggregate_spatial", {"data": data, "geometries": doc, "reducer": reducer("max")}
    )
    back = transform(pyproj.Transformer.from_crs(4326, EPSG, always_xy=True).transform, lonlat)
    np.testing.assert_allclose(out.values[0], np.nanmax(centre_values(data, back), axis=-1))


def test_several_statistics_from_array_create() -> None:
    data = spacetime()
    graph = {
        "process_graph": {
            "m": {"process_id": "mean", "arguments": {"data": {"from_parameter": "data"}}},
            "s": {"process_id": "sd", "arguments": {"data": {"from_parameter": "data"}}},
            "a": {
                "process_id": "array_create",
                "arguments": {"data": [{"from_node": "m"}, {"from_node": "s"}]},
                "result": True,
            },
        }
    }
    fields = collection(rect(1, 1, 5, 4), rect(3, 2, 7, 6))
    out = run_through_engine(
        "aggregate_spatial", {"data": data, "geometries": fields, "reducer": graph}
    )
    assert out.dims == ("geometries", "t", "bands")
    assert list(out["bands"].values) == ["band_0", "band_1"]
    for index, feature in enumerate(fields["features"]):
        pixels = centre_values(data, grid_shape(feature["geometry"]))
        np.testing.assert_allclose(out.values[index, :, 0], np.nanmean(pixels, axis=-1))
        np.testing.assert_allclose(out.values[index, :, 1], np.nanstd(pixels, axis=-1, ddof=1))


def test_bands_kept_and_statistics_band_after_band() -> None:
    values = RNG.uniform(0, 1, size=(2, 2, 6, 6))
    data = grid_cube(values, ("t", "bands", "y", "x"), t=TIMES[:2], bands=["B04", "B08"])
    fields = collection(rect(0, 0, 3, 3))
    out = run_through_engine(
        "aggregate_spatial", {"data": data, "geometries": fields, "reducer": reducer("min")}
    )
    assert out.dims == ("geometries", "t", "bands")
    assert list(out["bands"].values) == ["B04", "B08"]
    pixels = centre_values(data, grid_shape(fields["features"][0]["geometry"]))
    np.testing.assert_allclose(out.values[0], pixels.min(axis=-1))
    graph = {
        "process_graph": {
            "lo": {"process_id": "min", "arguments": {"data": {"from_parameter": "data"}}},
            "hi": {"process_id": "max", "arguments": {"data": {"from_parameter": "data"}}},
            "a": {
                "process_id": "array_create",
                "arguments": {"data": [{"from_node": "lo"}, {"from_node": "hi"}]},
                "result": True,
            },
        }
    }
    two = run_through_engine(
        "aggregate_spatial", {"data": data, "geometries": fields, "reducer": graph}
    )
    # Copernicus's column order: B04 min, B04 max, B08 min, B08 max
    want = np.stack(
        [pixels[:, 0].min(-1), pixels[:, 0].max(-1), pixels[:, 1].min(-1), pixels[:, 1].max(-1)],
        axis=-1,
    )
    np.testing.assert_allclose(two.values[0], want)


def test_multi_node_reducer_differs_per_geometry() -> None:
    # regression guard: the parser caches callback nodes after their first call
    data = grid_cube(np.array([[-2.0, -2.0, 6.0, 6.0]]), ("y", "x"))
    graph = {
        "process_graph": {
            "m": {"process_id": "mean", "arguments": {"data": {"from_parameter": "data"}}},
            "a": {"process_id": "absolute", "arguments": {"x": {"from_node": "m"}}, "result": True},
        }
    }
    fields = collection(rect(0, 0, 2, 1), rect(2, 0, 4, 1))
    out = run_through_engine(
        "aggregate_spatial", {"data": data, "geometries": fields, "reducer": graph}
    )
    np.testing.assert_array_equal(out.values, [2.0, 6.0])


def test_geometry_without_pixels_gives_nodata() -> None:
    data = spacetime()
    fields = collection(rect(1, 1, 3, 3), rect(50, 50, 60, 60), rect(2.2, 2.2, 2.4, 2.4))
    out = aggregate_spatial(data, fields, plain_mean)
    assert np.isfinite(out.values[0]).all()
    assert np.isnan(out.values[1:]).all()


@pytest.mark.parametrize(
    ("geometries", "message"),
    [
        ("https://example.com/fields.geojson", "are not GeoJSON.*load_url.*read_vector"),
        ({"type": "FeatureCollection", "features": []}, "no features"),
        ({"type": "Polygon", "coordinates": "nope"}, "not valid GeoJSON"),
        ({"type": "Circle"}, "geometry type"),
        (rect(0, 0, 1, 1), "outside longitude -180..180"),
        # UTM coordinates with their crs member: read as lon/lat, as on Copernicus
        ({**collection(rect(0, 0, 1, 1), crs=None), "crs": UTM_CRS}, "'crs' member is ignored"),
    ],
)
def test_bad_geometries_are_one_line_errors(geometries: Any, message: str) -> None:
    with pytest.raises(ProcessParameterInvalid, match=message):
        aggregate_spatial(spacetime(), geometries, np.nanmean)


def test_target_dimension_refused_as_on_copernicus() -> None:
    with pytest.raises(ProcessParameterInvalid, match="target_dimension"):
        aggregate_spatial(spacetime(), collection(rect(0, 0, 1, 1)), np.nanmean, "result")


def test_a_udf_along_an_aggregate_results_dimension_is_refused_naming_run_udf() -> None:
    """On an aggregate_spatial result: Copernicus runs a UDF along a vector cube's
    dimension only on its ``DriverVectorCube`` (experimental, python-driver datacube.py
    ``DriverVectorCube.apply_dimension`` L822-898); its aggregate_spatial result is none,
    and apply_dimension's ``data`` is checked to be one (cubes.py L112)."""
    from hybrid.backends.local.processes.udf import apply_dimension
    from hybrid.backends.local.udf.callbacks import mark_udf_callbacks

    cube = aggregate_spatial(spacetime(), collection(rect(0, 0, 1, 1)), plain_mean)
    run = {"process_id": "run_udf", "result": True, "arguments": {
        "data": {"from_parameter": "data"}, "udf": "x = 1", "runtime": "Python"}}  # fmt: skip
    graph = {"a": {"process_id": "apply_dimension", "result": True, "arguments": {
        "process": {"process_graph": {"u": run}}}}}  # fmt: skip
    udf = mark_udf_callbacks(graph)["a"]["arguments"]["process"]
    for dimension in ("geometry", "properties"):
        with pytest.raises(ProcessParameterInvalid, match="no aggregate_spatial result"):
            apply_dimension(cube, udf, dimension)


# ---------------------------------------------------------------- mask_polygon, filter_spatial


def test_mask_polygon_without_bands_and_inside() -> None:
    data = spacetime()
    poly = rect(1, 1, 5, 4)
    inside_px = ~np.isnan(mask_polygon(data.fillna(0), collection(poly)).values[0])
    geometry = shape(poly)
    want = np.array(
        [[geometry.contains(Point(x, y)) for x in data["x"].values] for y in data["y"].values]
    )
    np.testing.assert_array_equal(inside_px, want)
    # as on Copernicus, inside and replacement are not read, with a warning
    with pytest.warns(HybridWarning, match="'inside' and 'replacement' are not used"):
        out = mask_polygon(data, collection(poly), replacement=-9, inside=True)
    assert out.dims == data.dims
    np.testing.assert_array_equal(out.values[:, want], data.values[:, want])
    assert np.isnan(out.values[:, ~want]).all()


def test_mask_polygon_of_points_is_refused_as_on_copernicus() -> None:
    point = lonlat({"type": "Point", "coordinates": [X0 + 25, Y0 - 25]})
    with pytest.raises(ProcessParameterInvalid, match="area of 0"):
        mask_polygon(spacetime(), point)


def test_mask_polygon_through_engine_on_a_bandless_spatial_cube() -> None:
    data = grid_cube(np.ones((4, 4)), ("y", "x"))
    out = run_through_engine("mask_polygon", {"data": data, "mask": collection(rect(0, 0, 2, 2))})
    assert np.isnan(out.values).sum() == 12
    assert out.values[:2, :2].sum() == 4


def test_filter_spatial_masks_and_crops_to_bounds() -> None:
    data = grid_cube(np.arange(80.0).reshape(8, 10), ("y", "x"))
    out = filter_spatial(data, collection(rect(2, 1, 5, 3), rect(6, 5, 7, 6)))
    # bounds cols 2..7, rows 1..6 (on pixel edges): the pixels overlapping them
    assert out.sizes == {"y": 5, "x": 5}
    np.testing.assert_array_equal(out["x"].values, data["x"].values[2:7])
    assert np.isfinite(out.values).sum() == 3 * 2 + 1
    empty = filter_spatial(data, collection(rect(50, 50, 51, 51)))
    assert empty.sizes == {"y": 0, "x": 0}


def test_kept_pixels_are_a_slice_when_they_are_one_run() -> None:
    from hybrid.grid import kept_pixels

    assert kept_pixels(np.array([0, 1, 1, 1, 0], bool)) == slice(1, 4)
    assert kept_pixels(np.zeros(4, bool)) == slice(0, 0)
    np.testing.assert_array_equal(kept_pixels(np.array([1, 0, 1], bool)), [0, 2])


def test_spatial_filters_slice_the_blocks_of_a_lazy_cube() -> None:
    """An index array would be dask's take, run as a shuffle of every block across its
    neighbours; the filters cut the edge blocks and keep the others as they are."""
    from hybrid.backends.local.processes.vector import filter_bbox

    eager = grid_cube(np.arange(2400.0).reshape(40, 60), ("y", "x"))
    lazy = eager.chunk({"y": 10, "x": 20})
    bbox = {"west": X0 + 50, "east": X0 + 450, "north": Y0 - 30, "south": Y0 - 330}
    cases = [
        (filter_spatial, collection(rect(5, 3, 45, 33))),
        (filter_bbox, {**bbox, "crs": EPSG}),
    ]
    for process, where in cases:
        out = process(lazy, where)
        assert out.chunks == ((7, 10, 10, 3), (15, 20, 5)), process
        assert not [name for name in out.data.dask.layers if "shuffle" in name], process
        np.testing.assert_array_equal(out.values, process(eager, where).values)


# ---------------------------------------------------------------- result layouts


@pytest.fixture()
def timeseries() -> xr.DataArray:
    data = spacetime()
    fields = collection(rect(1, 1, 5, 4), rect(3, 2, 7, 6), rect(50, 50, 60, 60))
    return aggregate_spatial(data, fields, plain_mean)


def test_json_layout_date_to_features_to_bands(timeseries: xr.DataArray, tmp_path: Path) -> None:
    doc = json.loads(write_vector_cube(timeseries, "JSON", tmp_path).read_text())
    assert list(doc) == ["2023-06-02T00:00:00Z", "2023-06-07T00:00:00Z", "2023-06-12T00:00:00Z"]
    first = doc["2023-06-02T00:00:00Z"]
    assert len(first) == 3 and all(len(feature) == 1 for feature in first)
    assert first[0][0] == pytest.approx(float(timeseries.values[0, 0]))
    assert first[2] == [None]


def test_csv_reads_as_the_cdse_notebook_reads_it(timeseries: xr.DataArray, tmp_path: Path) -> None:
    path = write_vector_cube(timeseries, "CSV", tmp_path)
    assert path.name == "timeseries.csv"
    assert path.read_text().splitlines()[0] == "date,feature_index,band_unnamed"
    # NDVI_Timeseries.ipynb (eu-cdse/notebook-samples): read_csv(index_col=0), to_datetime
    df = pd.read_csv(path, index_col=0)
    df.index = pd.to_datetime(df.index)
    series = df.sort_index().groupby("feature_index")["band_unnamed"]
    np.testing.assert_allclose(series.get_group(1).values, timeseries.values[1])
    assert df.index[0] == pd.Timestamp("2023-06-02", tz="UTC")
    # field 2 covers no pixel centre: no row, as Spark aggregates only rasterised pixels
    # (AggregatePolygonProcess.scala L270-277); JSON and GeoParquet have it as null
    assert sorted(set(df["feature_index"])) == [0, 1] and len(df) == 6


def test_geometries_covering_no_pixel_centre(tmp_path: Path) -> None:
    """Copernicus: no CSV row for them, null in JSON; no dates at all in JSON when no
    geometry covers a pixel centre (save_result.py ``get_data`` takes the CSV's dates)."""
    data = spacetime()
    between = rect(2.2, 2.2, 2.4, 2.4)  # inside pixel (2, 2), around no centre
    some = aggregate_spatial(data, collection(between, rect(1, 1, 3, 3)), plain_mean)
    assert some.attrs["uncovered"] == [0]
    doc = json.loads(write_vector_cube(some, "JSON", tmp_path / "a").read_text())
    assert [features[0] for features in doc.values()] == [[None]] * 3
    assert all(f[1][0] is not None for f in doc.values())
    csv = write_vector_cube(some, "CSV", tmp_path / "a").read_text().splitlines()
    assert [line.split(",")[1] for line in csv[1:]] == ["1", "1", "1"]
    none = aggregate_spatial(data, collection(between, rect(50, 50, 60, 60)), plain_mean)
    assert json.loads(write_vector_cube(none, "JSON", tmp_path / "b").read_text()) == {}
    csv = write_vector_cube(none, "CSV", tmp_path / "b").read_text()
    assert csv == "date,feature_index,band_unnamed\n"


def test_without_t_json_lists_only_the_geometries_covering_a_pixel_centre(
    tmp_path: Path,
) -> None:
    """Copernicus's spatial JSON is its CSV's rows sorted by feature index, not
    reindexed (python-driver save_result.py ``_band_values_by_geometry`` L797-800): a
    geometry around no pixel centre has no entry and the next one moves up."""
    data = spacetime().isel(t=0, drop=True)
    between = rect(2.2, 2.2, 2.4, 2.4)  # inside pixel (2, 2), around no centre
    fields = collection(rect(1, 1, 3, 3), between, rect(3, 2, 7, 6))
    result = aggregate_spatial(data, fields, plain_mean)
    assert result.attrs["uncovered"] == [1]
    doc = json.loads(write_vector_cube(result, "JSON", tmp_path).read_text())
    expected = [float(result.values[0]), float(result.values[2])]
    assert [row[0] for row in doc] == pytest.approx(expected)
    csv = write_vector_cube(result, "CSV", tmp_path).read_text().splitlines()
    assert [line.split(",")[0] for line in csv[1:]] == ["0", "2"]


def test_netcdf_layout(timeseries: xr.DataArray, tmp_path: Path) -> None:
    path = write_vector_cube(timeseries, "netCDF", tmp_path)
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        assert dict(ds.sizes) == {"feature": 3, "t": 3}
        assert list(ds.data_vars) == ["band_0"]
        assert list(ds["feature_names"].values) == ["feature_0", "feature_1", "feature_2"]
        np.testing.assert_allclose(ds["band_0"].values, timeseries.values)
        # the grid's corner is the zone's central meridian (9 E), ~45.15 N
        assert abs(float(ds["lon"][0]) - 9.0005) < 1e-3
        assert abs(float(ds["lat"][0]) - 45.153) < 1e-3


@pytest.mark.parametrize(
    ("ids", "names"),
    [
        (["parcel_A", "parcel_B"], ["parcel_A", "parcel_B"]),
        ([7, 9], [7, 9]),
        (["parcel_A", None], ["parcel_A", "feature_1"]),
    ],
)
def test_netcdf_feature_names_are_the_features_ids(
    ids: list[Any], names: list[Any], tmp_path: Path
) -> None:
    """Copernicus names the features by their ``id`` property (save_result.py L451-458,
    ``DriverVectorCube.get_ids``: the ``id`` column geopandas builds from them)."""
    fields = collection(rect(1, 1, 5, 4), rect(3, 2, 7, 6))
    for feature, given in zip(fields["features"], ids, strict=True):
        if given is not None:
            feature["properties"]["id"] = given
    path = write_vector_cube(aggregate_spatial(spacetime(), fields, plain_mean), "netCDF", tmp_path)
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        assert ds["feature_names"].values.tolist() == names


def test_geoparquet_layout(timeseries: xr.DataArray, tmp_path: Path) -> None:
    import geopandas as gpd

    path = write_vector_cube(timeseries, "Parquet", tmp_path)
    gdf = gpd.read_parquet(path)
    # Copernicus joins the rows with its frame of the geometries (save_result.py
    # to_geoparquet), which geopandas builds from the features: geometry, then properties
    fields = collection(rect(1, 1, 5, 4), rect(3, 2, 7, 6), rect(50, 50, 60, 60))
    regions = gpd.GeoDataFrame.from_features(fields["features"])
    assert list(gdf.columns) == ["date", "feature_index", "band_unnamed", *regions.columns]
    assert list(regions.columns) == ["geometry", "name"]
    assert len(gdf) == 9 and gdf.crs.to_epsg() == 4326  # the geometries as given
    row = gdf[(gdf.feature_index == 1) & (gdf.date == "2023-06-07T00:00:00Z")]
    assert float(row["band_unnamed"].iloc[0]) == pytest.approx(float(timeseries.values[1, 1]))


def test_without_time_json_csv_and_no_netcdf(tmp_path: Path) -> None:
    data = grid_cube(RNG.uniform(size=(2, 6, 6)), ("bands", "y", "x"), bands=["a", "b"])
    out = aggregate_spatial(data, collection(rect(0, 0, 3, 3), rect(3, 3, 6, 6)), plain_mean)
    doc = json.loads(write_vector_cube(out, "json", tmp_path).read_text())
    assert np.allclose(doc, out.values)
    df = pd.read_csv(io.StringIO(write_vector_cube(out, "csv", tmp_path).read_text()))
    assert list(df.columns) == ["feature_index", "a", "b"]
    with pytest.raises(FormatUnsuitable, match="time dimension"):
        write_vector_cube(out, "netCDF", tmp_path)
    with pytest.raises(FormatUnsuitable, match="GTiff"):
        write_vector_cube(out, "GTiff", tmp_path)


def test_sync_result_without_save_result_saves_a_vector_cube_as_json() -> None:
    from hybrid.backends.local import LocalBackend
    from hybrid.server.sync_result import SAVE_NODE, with_save_result

    graph = {
        "load": {"process_id": "load_collection", "arguments": {"id": "SENTINEL2_L2A"}},
        "agg": {
            "process_id": "aggregate_spatial",
            "arguments": {"data": {"from_node": "load"}, "geometries": rect(0, 0, 1, 1),
                          "reducer": reducer("mean")},
            "result": True,
        },
    }  # fmt: skip
    specs = LocalBackend().process_specs()
    saved = with_save_result(graph, specs)
    assert saved[SAVE_NODE]["arguments"]["format"] == "JSON"
    # load_url's cube is Copernicus's VectorCubeResult (DEFAULT_FORMAT GeoJSON), though
    # openEO describes its result as any data cube (it was GTiff, then a 400)
    for pid, arguments in (
        ("load_url", {"url": "http://127.0.0.1:9/fields.geojson", "format": "GeoJSON"}),
        ("load_geojson", {"data": rect(0, 0, 1, 1)}),
    ):
        lone = {"v": {"process_id": pid, "arguments": arguments, "result": True}}
        assert with_save_result(lone, specs)[SAVE_NODE]["arguments"]["format"] == "GeoJSON"


def test_vector_to_raster_burns_each_value_into_the_pixels_whose_centre_is_inside() -> None:
    data = spacetime()
    fields = collection(rect(1, 1, 5, 4), rect(5.8, 4.8, 7.2, 6.2))
    vectors = run_through_engine(
        "aggregate_spatial", {"data": data, "geometries": fields, "reducer": reducer("mean")}
    )
    target = grid_cube(np.zeros((8, 10)), ("y", "x"))
    out = run_through_engine("vector_to_raster", {"data": vectors, "target": target})
    assert out.dims == ("t", "bands", "y", "x") and out.dtype == np.float64
    np.testing.assert_array_equal(out["t"].values, TIMES)
    want = np.full((3, 8, 10), np.nan)
    for index, feature in enumerate(fields["features"]):
        polygon = grid_shape(feature["geometry"])
        for j, y in enumerate(target["y"].values):
            for i, x in enumerate(target["x"].values):
                if polygon.contains(Point(x, y)):
                    want[:, j, i] = vectors.values[index]
    np.testing.assert_array_equal(out.values[:, 0], want)
    assert np.isfinite(want).sum() == 3 * (12 + 1)
    point = {"type": "Point", "coordinates": [9.0, 45.0]}
    only_geometries = run_through_engine("load_geojson", {"data": point})
    with pytest.raises(ProcessParameterInvalid, match="without data is not supported"):
        run_through_engine("vector_to_raster", {"data": only_geometries, "target": target})
