"""query_stac: the STAC Items a load_stac of the same URL and extents would read.

Copernicus's experimental process (openeo-python-driver 9e5b49b2
``process_implementations/io.py`` ``query_stac`` L149-167; openeo-geopyspark-driver
9baf2e10 ``backend.py`` L835-858, ``openeogeotrellis/query_stac.py``, a draft of
10edbdbe, April 2026) builds load_stac's item collection (``construct_item_collection``:
a STAC Item, a static Catalog or Collection walked, or a STAC API collection searched)
for the URL, ``spatial_extent`` (a bounding box, lon/lat unless it names a ``crs``) and
``temporal_extent`` (end excluded, the same day twice is that whole day) and answers
``pystac.ItemCollection(items).to_dict()``: a GeoJSON FeatureCollection of the Items.
Unlike load_stac, no property filter and no default extent: without ``temporal_extent``
every date is kept, without ``spatial_extent`` every place. A synchronous request answers
it as JSON, a batch job writes it as its JSON result.

Here the items are chosen by load_stac's own selection
(:func:`hybrid.backends.local.stac_items.stac_items`), and serialised by pystac as there.
Open bounds go to a STAC API's search open (``..``), and no interval at all when both
are open, as Copernicus sends them (``ItemCollection.from_stac_api``, load_stac.py
L1568-1572). The URL is read over http(s) as there, also when it is this server's job
results (the process gets no user, so Copernicus fetches those over HTTP too); a path or
``file://`` URL of a STAC document on this machine is read as well.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hybrid.errors import ProcessParameterInvalid

PROCESS = "query_stac"


def query_stac(url: Any, spatial_extent: Any = None, temporal_extent: Any = None) -> dict:
    """The Items of ``url`` within the extents, as a GeoJSON FeatureCollection."""
    import pystac

    from hybrid.backends.local.stac_documents import read_stac
    from hybrid.backends.local.stac_items import Extent, stac_items
    from hybrid.backends.local.stac_source import stac_location

    start, end = _interval(temporal_extent)
    extent = Extent(start=start, end=end, lonlat=_lonlat(spatial_extent))
    stac = read_stac(stac_location(url, process=PROCESS), process=PROCESS)
    found: dict = pystac.ItemCollection(stac_items(stac, extent, process=PROCESS)).to_dict()
    return found


def _lonlat(spatial_extent: Any) -> Any:
    """The lon/lat box of a bounding box (None: everywhere)."""
    from hybrid.backends.local.load_extents import parse_bbox
    from hybrid.grid import lonlat_bbox

    if spatial_extent is None:
        return None
    try:
        return lonlat_bbox(parse_bbox(spatial_extent))
    except ProcessParameterInvalid as exc:
        raise ProcessParameterInvalid(
            f"{PROCESS}: spatial_extent must be a bounding box (west, south, east, north, "
            f"optionally crs), got {spatial_extent!r}"
        ) from exc


def _interval(temporal_extent: Any) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of ``temporal_extent``; a null bound is open; the same instant twice
    is that whole day (Copernicus's ``_TemporalExtent.from_load_param_extent``)."""
    from hybrid.backends.local.load_extents import interval_texts
    from hybrid.backends.local.stac_items import OPEN_END, OPEN_START
    from hybrid.stac.query import parse_instant

    first, last = interval_texts(temporal_extent, PROCESS) or (None, None)
    start, end = OPEN_START, OPEN_END
    if first is not None:
        start = parse_instant(first, what=f"{PROCESS} temporal_extent start")
    if last is not None:
        end = parse_instant(last, what=f"{PROCESS} temporal_extent end")
        if end == start:
            end = dt.datetime.combine(end.date(), dt.time.max, dt.UTC)
    return start, end


SPEC: dict[str, Any] = {
    "id": PROCESS,
    "summary": "Queries STAC",
    "description": "The STAC Items a `load_stac` of `url` reads within the extents (no "
    "property filter), as a GeoJSON FeatureCollection of STAC Items.",
    "categories": ["import"],
    "experimental": True,
    "parameters": [
        {"name": "url", "description": "The URL of a STAC Item, Catalog, Collection or "
         "STAC API collection.", "schema": {"type": "string", "subtype": "uri"}},
        {"name": "spatial_extent", "description": "A bounding box the Items must intersect "
         "(lon/lat unless `crs` says otherwise); null: anywhere.", "optional": True,
         "default": None, "schema": [{"type": "object", "subtype": "bounding-box"},
                                     {"type": "null"}]},
        {"name": "temporal_extent", "description": "[start, end) the Items must intersect; "
         "null bounds are open; null: any date.", "optional": True, "default": None,
         "schema": [{"type": "array", "subtype": "temporal-interval", "minItems": 2,
                     "maxItems": 2, "items": {"type": ["string", "null"]}},
                    {"type": "null"}]},
    ],
    "returns": {"description": "A GeoJSON FeatureCollection of STAC Items.",
                "schema": {"type": "object"}},
}  # fmt: skip
