"""Small synthetic UTM grids, geometries and time series for the vector-cube tests, and the
engine's way of running a graph (GeoJSON crs members as text)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from shapely.geometry import shape

from hybrid.backends.local.processes.spatial_aggregation import aggregate_spatial
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


def run_through_engine(process_id: str, arguments: dict[str, Any]) -> Any:
    """As the engine runs a graph: GeoJSON crs members made text first (engine.execute)."""
    plain = {k: v for k, v in arguments.items() if not isinstance(v, xr.DataArray)}
    cubes = {k: v for k, v in arguments.items() if isinstance(v, xr.DataArray)}
    return _run_through_engine(process_id, {**crs_members_as_text(plain), **cubes})


def reducer(process_id: str) -> dict[str, Any]:
    node = {"process_id": process_id, "arguments": {"data": {"from_parameter": "data"}}}
    return {"process_graph": {"r": {**node, "result": True}}}


def plain_mean(*args: Any, **kwargs: Any) -> Any:
    """A reducer with the calling convention of the engine's callbacks."""
    return np.nanmean(args[0], axis=kwargs["axis"])


RNG = np.random.default_rng(7)

TIMES = np.array(["2023-06-02", "2023-06-07", "2023-06-12"], dtype="datetime64[ns]")


def spacetime() -> xr.DataArray:
    values = RNG.uniform(-1, 1, size=(3, 8, 10))
    values[1, 2, 2] = np.nan  # one nodata pixel inside the first field
    return grid_cube(values, ("t", "y", "x"), t=TIMES)


def write_vector_cube(cube: xr.DataArray, name: str, folder: Path) -> Path:
    """save_result's path: the format registry's writer for a vector cube."""
    fmt = find_format(name)
    assert fmt is not None, name
    (path,) = write_result(cube, fmt, folder)
    return path


def two_band_series() -> xr.DataArray:
    """An aggregate_spatial time series: two bands over three fields, the last covering no
    pixel centre."""
    data = spacetime()
    values = np.stack([data.values, data.values * 10], axis=-1)
    cube = grid_cube(values, ("t", "y", "x", "bands"), t=data["t"].values, bands=["B04", "B08"])
    fields = collection(rect(1, 1, 5, 4), rect(3, 2, 7, 6), rect(50, 50, 60, 60))
    return aggregate_spatial(cube, fields, plain_mean)
