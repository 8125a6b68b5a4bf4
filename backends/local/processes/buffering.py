"""vector_buffer: geometries grown by a distance in metres (shrunk by a negative one),
Copernicus's non-standard process for, typically, keeping a field's edge pixels out of
its time series (``aggregate_spatial`` over the field buffered by -10 m).

As Copernicus (openeo-python-driver ``processgraph/process_implementations/geometry.py``
``vector_buffer`` L37-121):

- ``geometries``: GeoJSON (a geometry, Feature, FeatureCollection or
  GeometryCollection, in EPSG:4326 unless it carries the old ``crs`` member), a vector
  cube, or the path or URL of a vector file, read as read_vector reads it
  (:mod:`~hybrid.backends.local.processes.vector_files`); the deprecated name
  ``geometry`` is accepted;
- ``distance`` in metres, or in kilometres with the non-standard ``unit: "kilometer"``;
- buffered in the UTM zone of the first geometry's representative point
  (``openeo_driver/util/utm.py`` L62-77), three segments per quarter circle
  (``resolution=3``), and returned in EPSG:4326. Copernicus reads that point as
  longitude/latitude whatever the input's CRS; here it is converted first;
- a geometry that a negative distance buffers away is refused;
- the result is GeoJSON without the features' properties: the one geometry itself, or a
  FeatureCollection of all of them (ids "0", "1", ..., each with its ``bbox``:
  geopandas' ``GeoSeries.__geo_interface__``), which aggregate_spatial, filter_spatial
  and mask_polygon take.
"""

from __future__ import annotations

from typing import Any

from hybrid.errors import ProcessParameterInvalid
from hybrid.geometries import DEFAULT_CRS, read_features, unwrapped

#: metres per unit of ``distance`` (Copernicus's ``unit_scaling``)
UNITS = {"meter": 1.0, "kilometer": 1000.0}


def vector_buffer(
    geometries: Any = None, distance: Any = None, unit: Any = "meter", geometry: Any = None
) -> dict[str, Any]:
    """The buffered geometries as GeoJSON in EPSG:4326 (see the module's notes)."""
    import geopandas as gpd

    given = geometry if geometries is None else geometries
    if given is None:
        raise ProcessParameterInvalid("vector_buffer: give the 'geometries' to buffer")
    metres = _metres(distance, unit)
    if isinstance(unwrapped(given), str):
        from hybrid.backends.local.processes.vector_files import file_features

        features = file_features(given, "vector_buffer")
    else:
        features = read_features(given, process="vector_buffer", crs_member=True)
    series = gpd.GeoSeries(list(features.geometries), crs=features.crs)
    buffered = series.to_crs(_utm(series)).buffer(metres, quad_segs=3).to_crs(DEFAULT_CRS)
    empty = [int(i) for i in buffered.index[buffered.is_empty]]
    if empty:
        raise ProcessParameterInvalid(
            f"vector_buffer: buffering by {metres:g} m leaves nothing of the geometries at "
            f"position(s) {empty}; use a smaller negative distance"
        )
    if len(buffered) == 1:
        return dict(buffered.iloc[0].__geo_interface__)
    return dict(buffered.__geo_interface__)


def _metres(distance: Any, unit: Any) -> float:
    if isinstance(distance, bool) or not isinstance(distance, int | float):
        raise ProcessParameterInvalid(
            f"vector_buffer: 'distance' must be a number of metres, got {distance!r}"
        )
    if not isinstance(unit, str) or unit not in UNITS:
        raise ProcessParameterInvalid(f"vector_buffer: unit {unit!r} is not one of {sorted(UNITS)}")
    return float(distance) * UNITS[unit]


def _utm(series: Any) -> str:
    """The UTM zone of the first geometry's representative point."""
    from hybrid.grid import utm_epsg

    point = series.iloc[:1].representative_point().to_crs(DEFAULT_CRS).iloc[0]
    return f"EPSG:{utm_epsg(point.x, point.y)}"
