"""The openeo client's ``DataCube.raster_to_vector`` against ``hybrid serve``: NDVI
classes (tenths) as polygons, the synchronous answer GeoJSON in the cube's CRS as
Copernicus writes it, checked against the classes downloaded from the same server and
grouped with scipy (4-connected cells of the same integer part)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from tests.engine.test_raster_to_vector import zones
from tests.workflows.raw import BBOX, DATES


def test_ndvi_classes_as_polygons(connection: Any, tmp_path: Path) -> None:
    import shapely
    from shapely.geometry import shape

    cube = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=BBOX, temporal_extent=DATES, bands=["B04", "B08"]
    )
    classes = cube.ndvi().apply(lambda x: x * 10)
    classes.download(tmp_path / "classes.nc", format="netCDF")
    answer = classes.raster_to_vector().execute()

    assert answer["crs"]["properties"]["name"] == "urn:ogc:def:crs:EPSG::32632"
    with xr.open_dataset(tmp_path / "classes.nc", engine="h5netcdf") as ds:
        grid = ds[next(v for v in ds.data_vars if v != "crs")].load()
    columns = {
        f"{np.datetime_as_string(t, unit='s')}Z~band0": i for i, t in enumerate(grid.t.values)
    }
    xs, ys = np.meshgrid(grid.x.values, grid.y.values)
    rows, cols = np.indices(xs.shape)
    found: dict[int, set[Any]] = {i: set() for i in columns.values()}
    for feature in answer["features"]:
        dated = {k: v for k, v in feature["properties"].items() if v is not None}
        assert len(dated) == 1, "a polygon has its value at its own date only"
        ((column, value),) = dated.items()
        inside = shapely.contains_xy(shape(feature["geometry"]), xs, ys)
        cells = frozenset(zip(rows[inside].tolist(), cols[inside].tolist(), strict=True))
        found[columns[column]].add((value, cells))
    for index in range(grid.sizes["t"]):
        assert found[index] == set(zones(grid.isel(t=index).values))
    assert sum(len(f) for f in found.values()) == len(answer["features"]) > 1
