"""Geometries handed to aggregate_spatial, filter_spatial and mask_polygon.

GeoJSON (a geometry, a Feature, a FeatureCollection) or a vector cube becomes
:class:`Features`: one shapely geometry per value to compute, the Features' properties
and the reference system.

How Copernicus reads them (openeo-python-driver, openeo-geopyspark-driver):

- one value per Feature of a FeatureCollection, one per geometry otherwise; a
  GeometryCollection gives one value per member (``regions_to_wkt``,
  openeogeotrellis/geopysparkdatacube.py, ``zonal_statistics``);
- GeoJSON is longitude/latitude (EPSG:4326), as RFC 7946 says: the old ``crs`` member
  (``{"type": "name", "properties": {"name": "EPSG:32631"}}``) is ignored and
  coordinates outside -180..180 / -90..90 are refused. Copernicus's DriverVectorCube
  reads it so since 2024-05 (openeo-python-driver 29eb784b, geopyspark-driver #577;
  at 9e5b49b2 ``datacube.py`` ``from_geojson`` L501-535, ``ignore_crs=True``, and
  ``util/geometry.py`` ``validate_geojson_coordinates`` L87-109), for aggregate_spatial,
  filter_spatial (``process_implementations/cubes.py`` L451-459, L358-360) and
  load_geojson; mask_polygon ignores the member too (``geojson_to_multipolygon``), and is
  refused the out-of-range coordinates here rather than computing with them. Only
  vector_buffer reads the member (``process_implementations/geometry.py`` L84-90);
- a URL or a file path is not GeoJSON: load_url reads a URL, read_vector a GeoJSON file
  or a shapefile by path or URL (``backends/local/processes/vector_files.py``), as on
  Copernicus, where aggregate_spatial refuses a string too (``cubes.py`` L462-466).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hybrid.errors import ProcessParameterInvalid

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

DEFAULT_CRS = "EPSG:4326"
_GEOMETRY_TYPES = {
    "Point",
    "MultiPoint",
    "LineString",
    "MultiLineString",
    "Polygon",
    "MultiPolygon",
}


@dataclass(frozen=True)
class Features:
    """Geometries (in ``crs``) with their GeoJSON properties, one per value to compute."""

    geometries: tuple[BaseGeometry, ...]
    properties: tuple[dict[str, Any], ...]
    crs: str = DEFAULT_CRS
    ids: tuple[Any, ...] = field(default=())

    def to_crs(self, crs: Any) -> tuple[BaseGeometry, ...]:
        """The geometries reprojected to ``crs`` (anything pyproj reads)."""
        import pyproj
        import shapely

        source, target = pyproj.CRS.from_user_input(self.crs), pyproj.CRS.from_user_input(crs)
        if source == target:
            return self.geometries
        project = pyproj.Transformer.from_crs(source, target, always_xy=True).transform
        return tuple(shapely.transform(g, project, interleaved=False) for g in self.geometries)


def unwrapped(value: Any) -> Any:
    """Unwrap openeo-pg-parser-networkx's pydantic models into dicts and lists."""
    if hasattr(value, "model_dump"):
        value = value.model_dump(exclude_none=True)
    while hasattr(value, "root"):
        value = value.root
    return value


def read_features(value: Any, *, process: str, crs_member: bool = False) -> Features:
    """The geometries of a ``geometries``/``mask`` argument; raises ProcessParameterInvalid.
    With ``crs_member``, GeoJSON in the CRS its ``crs`` member names (vector_buffer)."""
    import xarray as xr

    value = unwrapped(value)
    if isinstance(value, xr.DataArray) and "geometries" in value.dims:
        return vector_cube_features(value)
    if isinstance(value, str):
        raise ProcessParameterInvalid(
            f"{process}: geometries given as a URL or file path ({value[:80]!r}) are not "
            "GeoJSON; put the GeoJSON inline in the process graph, read an http(s) URL with "
            "load_url, or a GeoJSON file or shapefile with read_vector"
        )
    if not isinstance(value, dict) or "type" not in value:
        raise ProcessParameterInvalid(
            f"{process}: geometries must be GeoJSON (a geometry, Feature or FeatureCollection)"
        )
    if crs_member:
        return _features(value, _crs_member(value, process), process)
    # a "crs" member is ignored (see the module docstring)
    return _checked_lonlat(_features(value, DEFAULT_CRS, process), process)


def _features(value: dict[str, Any], crs: str, process: str) -> Features:
    kind = value["type"]
    if kind == "FeatureCollection":
        members = value.get("features") or []
        if not members:
            raise ProcessParameterInvalid(f"{process}: the FeatureCollection has no features")
        geometries, properties, ids = [], [], []
        for index, feature in enumerate(members):
            geometry, props = _feature(feature, process, f"feature {index}")
            geometries.append(geometry)
            properties.append(props)
            ids.append(feature.get("id") if isinstance(feature, dict) else None)
        return Features(tuple(geometries), tuple(properties), crs, tuple(ids))
    if kind == "Feature":
        geometry, props = _feature(value, process, "the Feature")
        return Features((geometry,), (props,), crs, (value.get("id"),))
    if kind == "GeometryCollection":
        parts = [
            _geometry(g, process, "a GeometryCollection member")
            for g in value.get("geometries") or []
        ]
        if not parts:
            raise ProcessParameterInvalid(f"{process}: the GeometryCollection is empty")
        return Features(tuple(parts), tuple({} for _ in parts), crs)
    return Features((_geometry(value, process, "the geometry"),), ({},), crs)


def _feature(feature: Any, process: str, what: str) -> tuple[BaseGeometry, dict[str, Any]]:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise ProcessParameterInvalid(f"{process}: {what} is not a GeoJSON Feature")
    props = feature.get("properties") or {}
    return _geometry(feature.get("geometry"), process, what), dict(props)


def _geometry(geometry: Any, process: str, what: str) -> BaseGeometry:
    from shapely.geometry import shape

    if not isinstance(geometry, dict) or geometry.get("type") not in _GEOMETRY_TYPES:
        kind = geometry.get("type") if isinstance(geometry, dict) else type(geometry).__name__
        raise ProcessParameterInvalid(
            f"{process}: {what} has geometry type {kind!r}; supported are "
            f"{', '.join(sorted(_GEOMETRY_TYPES))}"
        )
    try:
        result = shape(geometry)
    except (ValueError, TypeError, IndexError, AttributeError) as exc:
        raise ProcessParameterInvalid(f"{process}: {what} is not valid GeoJSON ({exc})") from None
    if not result.is_valid:
        from shapely.validation import make_valid

        result = make_valid(result)
    return result


def _crs_member(value: dict[str, Any], process: str) -> str:
    crs = value.get("crs")
    if crs is None:
        return DEFAULT_CRS
    name = crs.get("properties", {}).get("name") if isinstance(crs, dict) else crs
    import pyproj

    try:
        parsed = pyproj.CRS.from_user_input(name)
    except (pyproj.exceptions.CRSError, TypeError) as exc:
        raise ProcessParameterInvalid(f"{process}: unknown GeoJSON crs {name!r} ({exc})") from None
    epsg = parsed.to_epsg()
    return f"EPSG:{epsg}" if epsg else parsed.to_wkt()


def _checked_lonlat(features: Features, process: str) -> Features:
    """``features`` if every geometry lies within longitude -180..180 / latitude -90..90;
    else ProcessParameterInvalid naming the first one outside."""
    for index, geometry in enumerate(features.geometries):
        if geometry.is_empty:
            continue
        west, south, east, north = geometry.bounds
        if west < -180 or east > 180 or south < -90 or north > 90:
            raise ProcessParameterInvalid(
                f"{process}: geometry {index} has coordinates outside longitude -180..180 / "
                f"latitude -90..90 (bounds {west:g}, {south:g}, {east:g}, {north:g}); GeoJSON "
                "is read as longitude/latitude (EPSG:4326) and a 'crs' member is ignored, as "
                "on Copernicus: reproject the geometries to EPSG:4326"
            )
    return features


def vector_cube_features(cube: Any) -> Features:
    """The geometries a vector cube (from aggregate_spatial) carries."""
    geometries = tuple(cube["geometry"].values) if "geometry" in cube.coords else ()
    if len(geometries) != cube.sizes["geometries"]:
        raise ProcessParameterInvalid("the vector cube carries no geometries")
    properties = tuple(cube.attrs.get("vector_properties") or ({} for _ in geometries))
    return Features(geometries, properties, str(cube.attrs.get("vector_crs", DEFAULT_CRS)))


def crs_members_as_text(value: Any) -> Any:
    """A copy of a process graph whose GeoJSON ``crs`` members are plain text.

    openeo-pg-parser-networkx tries every dict argument as a BoundingBox first, and its
    crs validator (pg_schema.py ``parse_crs``) calls ``.strip()`` on the value: the
    GeoJSON form ``{"type": "name", "properties": {"name": "EPSG:32631"}}`` makes it
    raise AttributeError instead of moving on. The name alone parses.
    """
    if isinstance(value, list):
        return [crs_members_as_text(v) for v in value]
    if not isinstance(value, dict):
        return value
    out = {k: crs_members_as_text(v) for k, v in value.items()}
    crs = value.get("crs")
    if isinstance(crs, dict) and isinstance(crs.get("properties"), dict):
        name = crs["properties"].get("name")
        if isinstance(name, str):
            out["crs"] = name
    return out
