"""Literal extents in process arguments: a bounding box, GeoJSON or a temporal interval.

The load extents (``hybrid.backends.local.extents``) read these from load_collection's
own arguments and from the filters and vector processes after it, as Copernicus's dry run
does (openeo-python-driver ``openeo_driver/dry_run.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from hybrid.errors import ProcessParameterInvalid
from hybrid.grid import BBox, bounds_union

#: degrees around a point geometry: Copernicus buffers points by 10 m (dry_run.py:757-761)
_POINT_BUFFER_M = 10.0
#: the geometries of a load_url left unread (a batch job being created): they bound the
#: load, where is known when the job runs
UNREAD = object()


def inline_geojson(graph: Mapping[str, Any], value: Any) -> Any:
    """GeoJSON given inline, or through a load_geojson (or to_vector_cube) node with
    inline data, or the buffered geometries of a vector_buffer of those, or the vector
    cube of a load_url (or read_vector, get_geometries) node with a literal URL or path
    (Copernicus's dry run evaluates them; :data:`UNREAD` while a batch job is being
    created)."""
    if isinstance(value, Mapping) and "from_node" in value:
        node_id = str(value["from_node"])
        source = graph.get(node_id) or {}
        args = source.get("arguments") or {}
        if source.get("process_id") in ("load_geojson", "to_vector_cube"):
            return args.get("data")
        if source.get("process_id") == "vector_buffer":
            return _buffered(graph, args)
        if source.get("process_id") == "load_url":
            return _fetched(node_id, args)
        if source.get("process_id") in ("read_vector", "get_geometries"):
            return _file_read(node_id, str(source["process_id"]), args)
        return None
    return value


def _fetched(node_id: str, args: Mapping[str, Any]) -> Any:
    """load_url's vector cube where its arguments are literal, else None (see
    :func:`_read_now`)."""
    from hybrid.backends.local.processes.url_load import load_url

    url, format = args.get("url"), args.get("format")
    if not isinstance(url, str) or not isinstance(format, str):
        return None
    return _read_now(node_id, lambda: load_url(url, format, args.get("options")))


def _file_read(node_id: str, process: str, args: Mapping[str, Any]) -> Any:
    """The vector cube of a read_vector or get_geometries node with a literal filename
    (get_geometries without one: its feature_collection), else None (see
    :func:`_read_now`)."""
    from hybrid.backends.local.processes.vector_files import file_cube

    filename = args.get("filename")
    if process == "get_geometries" and filename is None:
        return args.get("feature_collection")
    if not isinstance(filename, str):
        return None
    return _read_now(node_id, lambda: file_cube(filename, process))


def _read_now(node_id: str, read: Callable[[], Any]) -> Any:
    """``read()``; :data:`UNREAD` while a batch job is being created
    (:func:`~hybrid.backends.local.processes.url_load.unread`); what cannot be read is
    refused now, naming the node."""
    from hybrid.backends.local.processes.url_load import left_unread
    from hybrid.errors import HybridError

    if left_unread():
        return UNREAD
    try:
        return read()
    except HybridError as exc:
        raise type(exc)(exc.message, node=node_id) from None


def _buffered(graph: Mapping[str, Any], args: Mapping[str, Any]) -> Any:
    """A vector_buffer's result where its arguments are literal; None otherwise (the
    run reports what is wrong with them)."""
    from hybrid.backends.local.processes.buffering import vector_buffer
    from hybrid.errors import HybridError

    geometries = inline_geojson(graph, args.get("geometries", args.get("geometry")))
    if geometries is None or geometries is UNREAD:
        return geometries
    try:
        return vector_buffer(geometries, args.get("distance"), args.get("unit", "meter"))
    except HybridError:
        return None


def temporal_interval(node_id: str, name: str, value: Any) -> tuple[str | None, str | None] | None:
    """[start, end] as given (open bounds None); a parameter reference: (None, None)."""
    if isinstance(value, Mapping):  # a parameter reference
        return (None, None)
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise ProcessParameterInvalid(f"{name} must be [start, end], got {value!r}", node=node_id)
    if value[0] is None and value[1] is None:
        raise ProcessParameterInvalid(
            f"{name}: start and end are both null; give at least one date", node=node_id
        )
    bounds = tuple(None if v is None else str(v) for v in value)
    return bounds[0], bounds[1]


def spatial_bbox(node_id: str, name: str, value: Any) -> BBox | None:
    """A bbox (dict with west/south/east/north) or GeoJSON as a BBox; None: not literal."""
    if isinstance(value, Mapping) and ("from_parameter" in value or "from_node" in value):
        return None
    if isinstance(value, Mapping) and "west" in value:
        try:
            west, south = float(value["west"]), float(value["south"])
            east, north = float(value["east"]), float(value["north"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ProcessParameterInvalid(
                f"{name} must have numeric west, south, east and north ({exc})", node=node_id
            ) from exc
        crs = value.get("crs") or "EPSG:4326"
        crs = f"EPSG:{crs}" if isinstance(crs, int) or str(crs).isdigit() else str(crs)
        return BBox(west, south, east, north, crs=crs)
    if isinstance(value, Mapping) and "type" in value:
        bbox = geometries_bbox(value, node_id, name)
        if bbox is None:
            raise ProcessParameterInvalid(f"{name}: GeoJSON without coordinates", node=node_id)
        return bbox
    raise ProcessParameterInvalid(
        f"{name} must be a bounding box or GeoJSON, got {value!r}", node=node_id
    )


def require_load_polygons(node_id: str, process: str, value: Any) -> None:
    """A load's GeoJSON ``spatial_extent`` must be polygons, as on Copernicus
    (openeo-python-driver 9e5b49b2 ``processgraph/process_implementations/io.py`` L63-99:
    a Polygon, MultiPolygon, or a Feature / FeatureCollection of only those, read as its
    bbox in EPSG:4326; a GeometryCollection or a Feature of anything else 400
    ProcessParameterInvalid, L64-73; a bare Point or line a ValueError, L88, a 500 there,
    the same 400 here). A bbox or a parameter reference passes."""
    if not isinstance(value, Mapping) or "type" not in value or "west" in value:
        return
    kind = _not_polygon(value)
    if kind is not None:
        raise ProcessParameterInvalid(
            f"{process}: spatial_extent is GeoJSON holding a {kind}; Copernicus takes only "
            "a Polygon or MultiPolygon there (alone, as a Feature or in a FeatureCollection): "
            "give a bounding box {west, south, east, north} or polygons",
            node=node_id,
        )


def _not_polygon(value: Any) -> str | None:
    """The first kind in ``value`` that is not a (Multi)Polygon; None: all are."""
    kind = value.get("type") if isinstance(value, Mapping) else type(value).__name__
    if kind in ("Polygon", "MultiPolygon"):
        return None
    if kind == "Feature":
        geometry = value.get("geometry")
        return "Feature without a geometry" if geometry is None else _not_polygon(geometry)
    if kind == "FeatureCollection" and isinstance(value.get("features"), list):
        found = (_not_polygon(feature) for feature in value["features"])
        return next((k for k in found if k is not None), None)
    return str(kind)


def geometries_bbox(value: Any, node_id: str, name: str) -> BBox | None:
    """The bbox (in their CRS) of literal GeoJSON or a vector cube's geometries; None if
    neither. Points are buffered by 10 m first, as Copernicus does (dry_run.py:757-761)."""
    cube = hasattr(value, "dims") and "geometries" in value.dims
    if not cube and (not isinstance(value, Mapping) or "type" not in value):
        return None
    from hybrid.geometries import read_features

    try:
        features = read_features(value if cube else dict(value), process=name)
    except ProcessParameterInvalid as exc:
        raise ProcessParameterInvalid(exc.message, node=node_id) from None
    bounds: list[tuple[float, float, float, float]] = []
    for geom in features.geometries:
        if geom.is_empty:
            continue
        if geom.geom_type in ("Point", "MultiPoint"):
            if features.crs == "EPSG:4326":
                dy = _POINT_BUFFER_M / 111_320.0
                geom = geom.buffer(dy / max(math.cos(math.radians(geom.centroid.y)), 0.01))
            else:
                geom = geom.buffer(_POINT_BUFFER_M)
        bounds.append(geom.bounds)
    if not bounds:
        return None
    return BBox(*bounds_union(bounds), crs=features.crs)


def geometries_rough_area(value: Any, name: str) -> float | None:
    """Copernicus's rough area of literal GeoJSON or a vector cube's geometries: the sum of
    the bbox areas of every single polygon (parts of multi-geometries apart), in square
    degrees (openeo-geopyspark-driver 9baf2e10 ``utils.py`` ``calculate_rough_area``
    L648-661, used by ``layercatalog.py`` ``is_layer_too_large`` L1439-1448); None if
    ``value`` is neither."""
    cube = hasattr(value, "dims") and "geometries" in value.dims
    if not cube and (not isinstance(value, Mapping) or "type" not in value):
        return None
    from hybrid.geometries import read_features

    try:
        features = read_features(value if cube else dict(value), process=name)
    except ProcessParameterInvalid:
        return None  # refused with the node's name by geometries_bbox
    return sum(_rough_area(geom) for geom in features.to_crs("EPSG:4326"))


def _rough_area(geom: Any) -> float:
    if hasattr(geom, "geoms"):
        return sum(_rough_area(part) for part in geom.geoms)
    if geom.is_empty:
        return 0.0
    west, south, east, north = geom.bounds
    return float((east - west) * (north - south))
