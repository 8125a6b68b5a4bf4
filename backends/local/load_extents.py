"""A load's ``spatial_extent`` and ``temporal_extent`` as the graph parser hands them
(pydantic models, dicts, GeoJSON), checked and read as Copernicus reads them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hybrid.errors import ProcessParameterInvalid, UsageError
from hybrid.grid import BBox

#: the start of an open temporal extent as Copernicus fills it (openeogeotrellis/utils.py:142)
OPEN_START = "2000-01-01"


def load_bbox(extent: Any) -> BBox:
    """spatial_extent as the parser hands it (BoundingBox model, dict or GeoJSON), checked."""
    bbox = parse_bbox(extent)
    from hybrid.grid import lonlat_bbox
    from hybrid.limits import MAX_SPAN_DEG

    ll = lonlat_bbox(bbox)
    if ll.east - ll.west > MAX_SPAN_DEG or ll.north - ll.south > MAX_SPAN_DEG:
        raise ProcessParameterInvalid(
            f"load_collection: spatial_extent spans {ll.east - ll.west:.1f} x "
            f"{ll.north - ll.south:.1f} degrees; at most {MAX_SPAN_DEG} degrees are "
            "supported: split the area into smaller ones"
        )
    return bbox


def parse_bbox(extent: Any) -> BBox:
    if extent is None:
        raise ProcessParameterInvalid(
            "load_collection: spatial_extent is required (a bbox or a GeoJSON polygon)"
        )
    if hasattr(extent, "west"):
        crs = getattr(extent, "crs", None) or "EPSG:4326"
        return BBox(
            float(extent.west), float(extent.south), float(extent.east), float(extent.north),
            crs=_crs_text(crs),
        )  # fmt: skip
    if hasattr(extent, "model_dump"):
        extent = extent.model_dump()
    if isinstance(extent, dict) and "west" in extent:
        return BBox(
            float(extent["west"]), float(extent["south"]), float(extent["east"]),
            float(extent["north"]), crs=_crs_text(extent.get("crs") or "EPSG:4326"),
        )  # fmt: skip
    if isinstance(extent, dict) and "type" in extent:
        from hybrid.aoi import aoi_geometry, geometry_bbox

        return geometry_bbox(aoi_geometry(extent, source="spatial_extent"))
    raise ProcessParameterInvalid(f"load_collection: unsupported spatial_extent {extent!r}")


def extent_geometry(extent: Any) -> dict[str, Any] | None:
    """The (Multi)Polygon of a GeoJSON spatial_extent; None for a bounding box."""
    if hasattr(extent, "model_dump"):
        extent = extent.model_dump()
    if isinstance(extent, dict) and "type" in extent and "west" not in extent:
        from hybrid.aoi import aoi_geometry

        return aoi_geometry(extent, source="spatial_extent")
    return None


def _crs_text(crs: Any) -> str:
    text = str(crs)
    if text.isdigit():
        return f"EPSG:{text}"
    if hasattr(crs, "to_epsg") and crs.to_epsg():
        return f"EPSG:{crs.to_epsg()}"
    return text


def interval_texts(
    extent: Any, process: str = "load_collection"
) -> tuple[str | None, str | None] | None:
    """A temporal_extent as the parser hands it (a model, a list of dates or texts) as
    its two bounds in text, None for an open one; None without an extent."""
    if extent is None:
        return None
    values = list(getattr(extent, "root", extent))
    if not values and process != "filter_temporal":  # a load's [] is none, as Copernicus
        return None
    if len(values) != 2:
        raise ProcessParameterInvalid(f"{process}: temporal_extent must be [start, end]")
    texts: list[str | None] = []
    for v in values:
        v = getattr(v, "root", v)
        texts.append(None if v is None else v.isoformat() if hasattr(v, "isoformat") else str(v))
    return texts[0], texts[1]


def load_interval(extent: Any, process: str = "load_collection") -> tuple[str, str]:
    """[start, end) of a load; open bounds as Copernicus fills them (2000-01-01, now)."""
    start_text, end_text = resolved_interval(interval_texts(extent))
    from hybrid.stac.query import parse_instant

    start = parse_instant(start_text, what="temporal_extent start")
    end = parse_instant(end_text, what="temporal_extent end")
    if end == start:
        return _whole_day(start_text, start, process)
    if end <= start:
        raise UsageError(
            f"temporal extent is empty: end {end_text} is not after start {start_text} "
            "(the end is excluded)"
        )
    return start_text, end_text


def resolved_interval(
    temporal: tuple[str | None, str | None] | None, *, now: dt.datetime | None = None
) -> tuple[str, str]:
    """[start, end) with open bounds filled as Copernicus fills them."""
    start, end = temporal or (None, None)
    if end is None:
        end = (now or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return start or OPEN_START, end


def _whole_day(text: str, start: Any, process: str) -> tuple[str, str]:
    """A load's [t, t]: from t to the end of its day, as Copernicus reads it (the whole
    day for a date; geopyspark-driver load_stac.py ``_TemporalExtent`` L1134-1143 and
    L230-235 end it at ``time.max``; openeo-python-driver process_implementations/io.py
    L56-59 only logs it)."""
    import datetime as dt

    from hybrid.run_warnings import warn

    day = start.date()
    after = (day + dt.timedelta(days=1)).isoformat()
    read = f"the whole day {day}" if len(text) <= 10 else f"from {text} to the end of {day}"
    warn(
        f"{process}: temporal_extent [{text}, {text}] has the same start and end; "
        f"read as {read} as Copernicus does (an openEO end is excluded: give [{text}, "
        f"{after}])"
    )
    return text, after
