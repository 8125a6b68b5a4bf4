"""aggregate_spatial on small synthetic UTM grids: per field and date, overlapping and
multi-part geometries, several statistics, nodata; callbacks through
openeo-pg-parser-networkx as in the engine. Expected values from shapely on pixel centres.

The grids and geometries are tests/engine/vector_grid.py's; tests/io imports them from here,
so this module re-exports them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import xarray as xr
from shapely.geometry import Point, shape

from hybrid.backends.local.processes.spatial_aggregation import aggregate_spatial
from hybrid.errors import ProcessParameterInvalid

# tests/io imports these from here; tests/engine/vector_grid.py is their home
from tests.engine.vector_grid import (  # noqa: F401
    EPSG,
    RNG,
    TIMES,
    UTM_CRS,
    collection,
    grid_cube,
    grid_shape,
    plain_mean,
    rect,
    reducer,
    run_through_engine,
    spacetime,
    two_band_series,
    write_vector_cube,
)


def centre_values(cube: xr.DataArray, geometry: Any) -> np.ndarray:
    """Independent reference: values (..., pixel) of pixels whose centre is in geometry."""
    xs, ys = cube["x"].values, cube["y"].values
    keep = [
        (j, i) for j, y in enumerate(ys) for i, x in enumerate(xs) if geometry.contains(Point(x, y))
    ]
    stacked = cube.transpose(..., "y", "x").values
    return np.stack([stacked[..., j, i] for j, i in keep], axis=-1)


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
