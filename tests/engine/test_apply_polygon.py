"""apply_polygon (hybrid.backends.local.processes.polygons) on a small cube: the chunk a
UDF receives per polygon, the placing back, and what is refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from hybrid.backends.local.processes.polygons import apply_polygon
from hybrid.backends.local.udf.callbacks import MARKER
from hybrid.errors import ProcessParameterInvalid, ProcessUnsupported

#: the UDF adds 1000 times the chunk's height plus its width, so each chunk shows its size
CODE = """
from openeo.udf import XarrayDataCube

def apply_datacube(cube: XarrayDataCube, context: dict) -> XarrayDataCube:
    arr = cube.get_array()
    return XarrayDataCube(arr + 1000 * arr.sizes["y"] + arr.sizes["x"])
"""


def _cube() -> xr.DataArray:
    x = 500_000 + 5 + 10 * np.arange(8)
    y = 5_000_000 - 5 - 10 * np.arange(6)
    values = np.arange(2 * 1 * 6 * 8, dtype=np.int16).reshape(2, 1, 6, 8)
    cube = xr.DataArray(
        values,
        dims=("t", "bands", "y", "x"),
        coords={"t": np.array(["2023-06-01", "2023-06-02"], "datetime64[ns]"),
                "bands": ["B04"], "y": y, "x": x},
    )  # fmt: skip
    cube.attrs["epsg"] = 32632
    return cube


def _box(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
    return {"type": "Polygon", "coordinates": [ring]}


def _lonlat(geometry: dict[str, Any]) -> dict[str, Any]:
    import pyproj
    from shapely.geometry import mapping, shape
    from shapely.ops import transform

    to_lonlat = pyproj.Transformer.from_crs(32632, 4326, always_xy=True).transform
    return dict(mapping(transform(to_lonlat, shape(geometry))))


def _udf() -> dict[str, Any]:
    return {MARKER: {"code": CODE, "runtime": "Python", "version": None, "context": {}}}


#: A: columns 1..3, rows 1..2 (a 2 x 3 chunk, every centre inside); B: columns 3..5,
#: rows 1..3 (3 x 3), overlapping A on column 3, the centres of column 5 outside it
A = _box(500_012, 4_999_972, 500_038, 4_999_988)
B = _box(500_032, 4_999_962, 500_052, 4_999_988)


def _file_cube(tmp_path: Path, *geometries: dict[str, Any]) -> Any:
    """read_vector's cube of a GeoJSON file of ``geometries`` (UTM, its crs member)."""
    from hybrid.backends.local.processes.vector_files import file_cube

    path = tmp_path / "fields.geojson"
    features = [{"type": "Feature", "properties": {}, "geometry": g} for g in geometries]
    crs = {"type": "name", "properties": {"name": "EPSG:32632"}}
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features, "crs": crs}))
    return file_cube(str(path), "read_vector")


@pytest.mark.slow
def test_each_file_polygon_gets_its_aligned_box_masked_outside_and_the_first_wins(
    tmp_path: Path,
) -> None:
    """read_vector's polygons are chunks as they are (Copernicus's DelayedVector)."""
    cube = _cube()
    got = apply_polygon(cube, _udf(), _file_cube(tmp_path, A, B), mask_value=-1.0)
    assert got.dtype == np.float32 and got.dims == cube.dims
    data = cube.values.astype(np.float32)
    want = np.full(data.shape, np.nan, np.float32)
    want[..., 1:4, 3:5] = data[..., 1:4, 3:5] + 3003  # B
    want[..., 1:4, 5] = -1 + 3003  # B's mask_value, then the UDF
    want[..., 1:3, 1:4] = data[..., 1:3, 1:4] + 2003  # A, first, wins on column 3
    np.testing.assert_array_equal(got.values, want)


@pytest.mark.slow
def test_a_feature_collection_and_a_vector_cube_are_dissolved_into_one_chunk() -> None:
    """Copernicus's ``geojson_to_multipolygon`` / ``to_multipolygon``: ``unary_union``,
    so A and B overlapping are one L-shaped chunk (rows 1..3, columns 1..5)."""
    from tests.engine.vector_grid import run_through_engine

    cube = _cube()
    geometries = {  # in lon/lat: GeoJSON is read so, as on Copernicus
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": {}, "geometry": _lonlat(g)} for g in (A, B)],
    }
    data = cube.values.astype(np.float32)
    want = np.full(data.shape, np.nan, np.float32)
    want[..., 1:4, 1:6] = -1 + 3005  # the chunk's pixels outside the union
    want[..., 1:3, 1:5] = data[..., 1:3, 1:5] + 3005  # A, and B on rows 1..2
    want[..., 3, 3:5] = data[..., 3, 3:5] + 3005  # B's last row
    loaded = run_through_engine("load_geojson", {"data": geometries})
    for given in (geometries, loaded):
        got = apply_polygon(cube, _udf(), given, mask_value=-1.0)
        np.testing.assert_array_equal(got.values, want)


@pytest.mark.slow
def test_a_multipolygon_s_parts_are_chunks() -> None:
    """A MultiPolygon (not a collection) is taken as it is: each part its own chunk."""
    cube = _cube()
    left = _box(500_012, 4_999_972, 500_028, 4_999_988)  # columns 1..2, rows 1..2
    right = _box(500_052, 4_999_952, 500_068, 4_999_968)  # columns 5..6, rows 3..4
    parts = [_lonlat(g)["coordinates"] for g in (left, right)]
    got = apply_polygon(cube, _udf(), {"type": "MultiPolygon", "coordinates": parts})
    data = cube.values.astype(np.float32)
    want = np.full(data.shape, np.nan, np.float32)
    want[..., 1:3, 1:3] = data[..., 1:3, 1:3] + 2002
    want[..., 3:5, 5:7] = data[..., 3:5, 5:7] + 2002
    np.testing.assert_array_equal(got.values, want)


def test_a_multipolygon_of_a_vector_file_is_refused(tmp_path: Path) -> None:
    far = _box(500_052, 4_999_952, 500_068, 4_999_968)
    multi = {"type": "MultiPolygon", "coordinates": [A["coordinates"], far["coordinates"]]}
    with pytest.raises(ProcessParameterInvalid, match="MultiPolygon is not a polygon"):
        apply_polygon(_cube(), _udf(), _file_cube(tmp_path, A, multi))


def test_a_process_other_than_a_udf_is_refused() -> None:
    with pytest.raises(ProcessUnsupported, match="apply_polygon runs only a UDF"):
        apply_polygon(_cube(), lambda data: data, _box(0, 0, 1, 1))


def test_points_are_refused() -> None:
    point = {"type": "Point", "coordinates": [6.66, 45.24]}
    with pytest.raises(ProcessParameterInvalid, match="not a polygon"):
        apply_polygon(_cube(), _udf(), point)
