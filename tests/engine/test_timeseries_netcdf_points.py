"""The ``lat``/``lon`` of an aggregate_spatial time series as netCDF: a representative
point of each geometry in the geometries' own CRS, as Copernicus computes it
(openeo-python-driver 9e5b49b2 save_result.py ``to_netcdf`` L455 and L460-461:
``r.representative_point()`` of ``self._regions.get_geometries()``, the vector cube's
geometries as load_url or read_vector read them, not reprojected). GeoJSON in the graph
is lon/lat, so its points are degrees; a GeoParquet in EPSG:3035 gives metres."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyproj
import pytest
import xarray as xr
from shapely.geometry import shape
from shapely.ops import transform

from hybrid.backends.local.processes.geojson_load import features_cube
from hybrid.backends.local.processes.spatial_aggregation import aggregate_spatial
from hybrid.geometries import Features
from tests.engine.vector_grid import (
    EPSG,
    collection,
    plain_mean,
    rect,
    spacetime,
    write_vector_cube,
)


def _series_of(crs: int) -> tuple[xr.DataArray, list[Any]]:
    """aggregate_spatial over a vector cube of two fields given in ``crs`` (as load_url
    reads a GeoParquet), and those geometries."""
    to_crs = pyproj.Transformer.from_crs(EPSG, crs, always_xy=True).transform
    geometries = tuple(transform(to_crs, shape(g)) for g in (rect(1, 1, 5, 4), rect(3, 2, 7, 6)))
    cube = features_cube(Features(geometries, ({}, {}), f"EPSG:{crs}"), [], None)
    return aggregate_spatial(spacetime(), cube, plain_mean), list(geometries)


def test_lat_lon_are_in_the_crs_of_the_geometries(tmp_path: Path) -> None:
    series, geometries = _series_of(3035)
    path = write_vector_cube(series, "netCDF", tmp_path)
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        points = [g.representative_point() for g in geometries]
        assert ds["lon"].values.tolist() == pytest.approx([p.x for p in points])
        assert ds["lat"].values.tolist() == pytest.approx([p.y for p in points])
        assert float(ds["lon"][0]) > 1e6  # metres, as Copernicus writes them


def test_lat_lon_of_geojson_are_degrees(tmp_path: Path) -> None:
    fields = collection(rect(1, 1, 5, 4), rect(3, 2, 7, 6))
    series = aggregate_spatial(spacetime(), fields, plain_mean)
    path = write_vector_cube(series, "netCDF", tmp_path)
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        points = [shape(f["geometry"]).representative_point() for f in fields["features"]]
        assert ds["lon"].values.tolist() == pytest.approx([p.x for p in points])
        assert ds["lat"].values.tolist() == pytest.approx([p.y for p in points])
