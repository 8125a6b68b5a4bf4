"""filter_spatial, mask_polygon and vector_to_raster on small synthetic UTM grids; expected
values from shapely on pixel centres.
"""

from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import Point, shape

from hybrid.backends.local.processes.vector import filter_spatial, mask_polygon
from hybrid.errors import HybridWarning, ProcessParameterInvalid
from tests.engine.vector_grid import (
    EPSG,
    TIMES,
    X0,
    Y0,
    collection,
    grid_cube,
    grid_shape,
    lonlat,
    rect,
    reducer,
    run_through_engine,
    spacetime,
)

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
