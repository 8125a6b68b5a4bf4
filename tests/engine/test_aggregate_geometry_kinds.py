"""aggregate_spatial warns about geometries Copernicus does not aggregate (the run here
computes them all):

- a MultiPoint, LineString or MultiLineString: the load before aggregate_spatial reads
  the geometries as polygons (openeo-geopyspark-driver 9baf2e10 load_stac.py L730,
  ``to_projected_polygons(..., buffer_points=True)``; utils.py L215-230 buffers Points
  only and hands every other geometry to ``ProjectedPolygons.fromWkt``), whose
  ``parsePolygonWkt`` casts it to a Polygon (openeo-geotrellis-extensions 2a25a26e
  ProjectedPolygons.scala L47-53): a ClassCastException fails the job;
- a Point in a vector cube whose CRS is not lon/lat (load_url of a GeoParquet in
  EPSG:3035): with a Point among them Copernicus aggregates the geometries' WKT as
  EPSG:4326 whatever their CRS (geopysparkdatacube.py L1878, L1944-1953);
- any geometry in a CRS that is not lon/lat over a cube without ``t``: the spatial
  aggregation takes the WKT as EPSG:4326 too (L1901-1903).
"""

from __future__ import annotations

import warnings
from typing import Any

import pyproj
import pytest
from shapely.geometry import shape
from shapely.ops import transform

from hybrid.backends.local.processes.geojson_load import features_cube
from hybrid.backends.local.processes.spatial_aggregation import aggregate_spatial
from hybrid.errors import HybridWarning
from hybrid.geometries import Features
from tests.engine.vector_grid import X0, Y0, collection, plain_mean, rect, spacetime

POINT = {"type": "Point", "coordinates": [X0 + 25, Y0 - 15]}
PAIR = {"type": "MultiPoint", "coordinates": [[X0 + 25, Y0 - 15], [X0 + 45, Y0 - 35]]}
LINE = {"type": "LineString", "coordinates": [[X0 + 5, Y0 - 5], [X0 + 55, Y0 - 25]]}
LINES = {"type": "MultiLineString", "coordinates": [LINE["coordinates"]]}


@pytest.mark.parametrize(
    ("geometry", "kind"), [(PAIR, "MultiPoint"), (LINE, "LineString"), (LINES, "MultiLineString")]
)
def test_points_in_one_geometry_and_lines_are_flagged(geometry: Any, kind: str) -> None:
    fields = collection(rect(1, 1, 5, 4), geometry)
    with pytest.warns(HybridWarning, match=f"geometry 1 is a {kind}; Copernicus fails"):
        result = aggregate_spatial(spacetime(), fields, plain_mean)
    assert result.sizes["geometries"] == 2  # computed here all the same


def _projected(*geometries: Any) -> Any:
    """A vector cube of ``geometries`` (in the test grid's UTM zone) in EPSG:3035."""
    to_laea = pyproj.Transformer.from_crs(32632, 3035, always_xy=True).transform
    shapes = tuple(transform(to_laea, shape(g)) for g in geometries)
    return features_cube(Features(shapes, tuple({} for _ in shapes), "EPSG:3035"), [], None)


def _lonlat(crs: str, *geometries: Any) -> Any:
    """A vector cube of ``geometries`` (GeoJSON, lon/lat) in the lon/lat CRS ``crs``, as
    load_url reads a GeoParquet written without a CRS or in ``OGC:CRS84``."""
    shapes = tuple(shape(g["geometry"]) for g in collection(*geometries)["features"])
    return features_cube(Features(shapes, tuple({} for _ in shapes), crs), [], None)


@pytest.mark.parametrize("crs", ["OGC:CRS84", "EPSG:4326"])
def test_points_of_a_lonlat_vector_cube_are_not_flagged(crs: str) -> None:
    """Copernicus reads the WKT of a vector cube with a Point as EPSG:4326 (and an
    ``OGC:CRS84`` cube, without an EPSG code, as EPSG:4326 too: utils.py L199-202): the
    same longitudes and latitudes."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", HybridWarning)
        aggregate_spatial(spacetime(), _lonlat(crs, rect(1, 1, 5, 4), POINT), plain_mean)


def test_points_of_a_projected_vector_cube_are_flagged() -> None:
    with pytest.warns(HybridWarning, match="reads them as longitude/latitude"):
        aggregate_spatial(spacetime(), _projected(rect(1, 1, 5, 4), POINT), plain_mean)


def test_polygons_and_points_copernicus_aggregates_are_not_flagged() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", HybridWarning)
        aggregate_spatial(spacetime(), collection(rect(1, 1, 5, 4), POINT), plain_mean)
        aggregate_spatial(spacetime(), _projected(rect(1, 1, 5, 4), rect(3, 2, 7, 6)), plain_mean)


def test_projected_geometries_over_a_cube_without_t_are_flagged() -> None:
    """Without ``t`` Copernicus aggregates every geometry's WKT as EPSG:4326
    (geopysparkdatacube.py L1901-1903), polygons too; lon/lat ones are right."""
    spatial = spacetime().isel(t=0, drop=True)
    fields = _projected(rect(1, 1, 5, 4), rect(3, 2, 7, 6))
    with pytest.warns(HybridWarning, match="no time dimension; Copernicus then reads them"):
        result = aggregate_spatial(spatial, fields, plain_mean)
    assert result.sizes["geometries"] == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error", HybridWarning)
        aggregate_spatial(spatial, collection(rect(1, 1, 5, 4)), plain_mean)
