"""Areas of interest: GeoJSON in, a checked geometry and its bounding box out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hybrid.errors import UsageError
from hybrid.grid import BBox, Grid
from hybrid.limits import MAX_SPAN_DEG

_GEOMETRY_TYPES = {"Polygon", "MultiPolygon"}
#: below this share of its grid covered by the AOI, the grid is "mostly empty" (a warning)
MIN_COVERAGE = 0.5
#: how close to +-180 degrees a part must reach to count as split at the antimeridian
_EDGE = 1e-6


def read_aoi(path: str | Path) -> dict[str, Any]:
    """Read a GeoJSON file (geometry, Feature or FeatureCollection) as one geometry."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"AOI file not found: {path}; pass a GeoJSON file with --aoi")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"AOI file {path} is not valid JSON ({exc}); pass a GeoJSON file") from exc
    return aoi_geometry(doc, source=str(path))


def aoi_geometry(doc: Any, *, source: str = "AOI") -> dict[str, Any]:
    """The one (Multi)Polygon geometry of a GeoJSON document, validated."""
    if not isinstance(doc, dict) or "type" not in doc:
        raise UsageError(f"{source} is not GeoJSON: expected an object with a 'type'")
    kind = doc["type"]
    if kind == "FeatureCollection":
        features = doc.get("features") or []
        geoms: list[dict[str, Any]] = [
            f["geometry"] for f in features if isinstance(f, dict) and f.get("geometry")
        ]
        if not geoms:
            raise UsageError(f"{source} has no feature with a geometry")
        geometry: Any = geoms[0] if len(geoms) == 1 else _union(geoms, source)
    elif kind == "Feature":
        geometry = doc.get("geometry")
        if not geometry:
            raise UsageError(f"{source} is a Feature without a geometry")
    else:
        geometry = doc
    return check_geometry(geometry, source=source)


def _union(geoms: list[dict[str, Any]], source: str) -> dict[str, Any]:
    from shapely.geometry import mapping, shape
    from shapely.ops import unary_union

    shapes = [shape(check_geometry(g, source=source)) for g in geoms]
    return dict(mapping(unary_union(shapes)))


def check_geometry(geometry: Any, *, source: str = "AOI") -> dict[str, Any]:
    """Validate a lon/lat (Multi)Polygon; return it as a plain dict."""
    from shapely.errors import GEOSException
    from shapely.geometry import mapping, shape
    from shapely.validation import explain_validity

    if not isinstance(geometry, dict) or geometry.get("type") not in _GEOMETRY_TYPES:
        got = geometry.get("type") if isinstance(geometry, dict) else type(geometry).__name__
        raise UsageError(f"{source}: geometry must be a Polygon or MultiPolygon, got {got}")
    try:
        geom = shape(geometry)
    except (GEOSException, ValueError, TypeError, IndexError, KeyError) as exc:
        raise UsageError(f"{source}: malformed {geometry.get('type')} coordinates ({exc})") from exc
    if geom.is_empty:
        raise UsageError(f"{source}: the geometry is empty; give a polygon with an area")
    if not geom.is_valid:
        raise UsageError(
            f"{source}: invalid geometry ({explain_validity(geom)}); "
            "fix it, e.g. with shapely.make_valid or QGIS 'Fix geometries'"
        )
    west, south, east, north = geom.bounds
    if west < -180 or east > 180 or south < -90 or north > 90:
        raise UsageError(
            f"{source}: coordinates {geom.bounds} are not longitude/latitude; "
            "GeoJSON must be in EPSG:4326 (lon, lat)"
        )
    if geom.area == 0:
        raise UsageError(f"{source}: the polygon has no area")
    if east - west > MAX_SPAN_DEG and west <= -180 + _EDGE and east >= 180 - _EDGE:
        raise UsageError(
            f"{source}: the geometry crosses the antimeridian (split at 180 degrees; its parts "
            f"span {_span_across_antimeridian(geom):.1f} degrees of longitude across it); one "
            "grid cannot wrap around 180 degrees: run the parts east and west of it separately"
        )
    if east - west > MAX_SPAN_DEG or north - south > MAX_SPAN_DEG:
        raise UsageError(
            f"{source}: AOI spans {east - west:.1f} x {north - south:.1f} degrees; "
            f"hybrid handles AOIs up to {MAX_SPAN_DEG} degrees: split it into smaller areas"
        )
    return dict(mapping(geom))


def _span_across_antimeridian(geom: Any) -> float:
    """Longitudes covered by ``geom`` when its western parts are moved east by 360 degrees."""
    parts = getattr(geom, "geoms", [geom])
    lons = [x + 360 if part.bounds[2] <= 0 else x for part in parts for x in part.bounds[::2]]
    return max(lons) - min(lons)


def warn_if_mostly_empty(geometry: dict[str, Any], grid: Grid, *, source: str = "AOI") -> None:
    """A one-line :class:`HybridWarning` (:func:`hybrid.run_warnings.warn`: the job's log
    in the emulator) when ``geometry`` covers less than
    :data:`MIN_COVERAGE` of ``grid``.

    Copernicus loads one grid over the bounding box of the area, in the UTM zone of the
    box's representative point, however far apart its parts are: openeo-geopyspark-driver
    ``openeogeotrellis/layercatalog.py:257-258`` (load_collection:
    ``auto_utm_epsg_for_geometry(box(west, south, east, north))``) and
    ``openeogeotrellis/load_stac.py:625-626`` (items in several UTM zones:
    ``target_bbox.best_utm()``), both ending in openeo-python-driver
    ``openeo_driver/util/utm.py:62-67`` (``geometry.representative_point()``). hybrid does
    the same (:func:`hybrid.grid.target_epsg`) and says when most of that grid is empty.
    """
    import shapely
    from pyproj import Transformer
    from shapely.geometry import box, shape

    from hybrid.run_warnings import warn

    to_grid = Transformer.from_crs("EPSG:4326", grid.crs, always_xy=True).transform
    area = shapely.transform(shape(geometry), to_grid, interleaved=False)
    cells = box(grid.xmin, grid.ymin, grid.xmax, grid.ymax)
    share = area.intersection(cells).area / cells.area
    if share < MIN_COVERAGE:
        warn(
            f"{source} covers {share:.0%} of its {grid.width} x {grid.height} px grid in "
            f"{grid.crs} (one grid over its bounding box, in the UTM zone of the box's "
            "representative point, as on Copernicus); the empty rest is loaded and computed "
            "too: run distant parts separately to save time",
            stacklevel=2,
        )


def geometry_bbox(geometry: dict[str, Any]) -> BBox:
    """The lon/lat bounding box of a GeoJSON geometry."""
    from shapely.geometry import shape

    west, south, east, north = shape(geometry).bounds
    return BBox(west, south, east, north)
