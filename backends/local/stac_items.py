"""What load_stac reads from a STAC Collection, Catalog or Item, as Copernicus does.

openeo-geopyspark-driver ``openeogeotrellis/load_stac.py`` (the version in
/work/.mirror, 2026-08):

- the document is read with pystac (``_await_stac_object``, L2526-2568); a static
  Collection or Catalog is walked recursively, skipping child Collections whose extent
  misses the request (``ItemCollection.from_stac_catalog``, L1467-1482); a single Item is
  taken if it intersects (L1405-1408);
- a STAC API collection is searched (:mod:`hybrid.backends.local.stac_documents`), the
  items it gives kept when they meet the extent as below;
- ``properties`` on a static Catalog, Collection or Item is refused with
  ProcessParameterUnsupported (L987-991, L1058-1061): only a STAC API filters on them
  (sent as CQL2 and the answer checked again, ``post_query_property_filtering``, here as
  there: :mod:`hybrid.backends.local.stac_documents`,
  :mod:`hybrid.backends.local.property_filters`);
- an item intersects when its [start_datetime, end_datetime] (else its datetime) meets
  [start, end) and its lon/lat ``bbox`` meets the requested extent (L1161-1185,
  L1349-1354);
- the band assets of an item are those with a raster media type or a data role, or else
  band metadata (``_is_band_asset``, L1940-1987), visited by (gsd, asset id)
  (L325-335); an asset's band names come from ``eo:bands``, else ``bands``
  (openeo-python-client ``metadata.py`` ``bands_from_stac_asset``), else its asset id
  (L355-368); an asset whose bands were already taken is skipped (L372-374);
- projection from ``proj:code``/``proj:epsg``, ``proj:bbox``, ``proj:shape``,
  ``proj:transform`` of the asset, its bands, else the item (``_ProjectionMetadata``,
  L2147-2190);
- an asset is read from its ``alternate`` ``local`` or ``s3`` href where that names a file
  on this machine (``s3://bucket/key`` as ``/bucket/key``), else from its href
  (``get_best_url``, L2403-2441);
- the asset's ``nodata`` and ``data_type`` (``_get_datatype_and_no_data`` L2366-2369,
  passed to ``addLink`` L395-425) are not read: geotrellis takes both from the file
  (:mod:`hybrid.backends.local.stac_cell_types`);
- no scaling: raster:scale/offset are applied only for Sentinel-2 STAC URLs of
  Copernicus and Terrascope (``_get_pixel_value_scaling_mode``, L2289-2316).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from hybrid.errors import ProcessParameterInvalid, ProcessParameterUnsupported
from hybrid.grid import BBox
from hybrid.stac.band_metadata import RASTER_MEDIA

_BAND_ROLES = frozenset({"data", "data-mask", "snow-ice", "land-water", "water-mask"})


@dataclass(frozen=True)
class BandAsset:
    """One file of an item and the bands it holds, in file order."""

    href: str
    names: tuple[str, ...]
    epsg: int | None
    bbox: tuple[float, float, float, float] | None
    shape: tuple[int, int] | None
    netcdf: bool

    def resolution(self) -> tuple[float, float] | None:
        if self.bbox is None or self.shape is None:
            return None
        xmin, ymin, xmax, ymax = self.bbox
        rows, cols = self.shape
        return (xmax - xmin) / cols, (ymax - ymin) / rows


@dataclass(frozen=True)
class StacScene:
    """One item: its nominal time, its lon/lat bbox and its band assets."""

    id: str
    nominal: dt.datetime
    bbox: tuple[float, float, float, float] | None
    assets: tuple[BandAsset, ...]


#: the bounds of an interval open at that end (query_stac without them)
OPEN_START = dt.datetime.min.replace(tzinfo=dt.UTC)
OPEN_END = dt.datetime.max.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class Extent:
    """What a load_stac asks for: [start, end) and a lon/lat bbox (None: anywhere)."""

    start: dt.datetime
    end: dt.datetime
    lonlat: BBox | None

    def search_interval(self) -> tuple[dt.datetime | None, dt.datetime | None] | None:
        """The interval for a STAC API search: an open end as None (``..``), none at
        all when both are open."""
        start = None if self.start == OPEN_START else self.start
        end = None if self.end == OPEN_END else self.end
        return None if start is None and end is None else (start, end)


def stac_items(
    stac: Any, extent: Extent, conditions: tuple[Any, ...] = (), process: str = "load_stac"
) -> list[Any]:
    """The items of ``stac`` that meet ``extent`` (and, from a STAC API, the property
    ``conditions``), in catalog order; ``process`` names the caller in errors."""
    import pystac

    from hybrid.backends.local.stac_documents import (
        fetching,
        searched_items,
        supports_item_search,
    )

    if isinstance(stac, pystac.Collection) and supports_item_search(stac):
        return [
            item
            for item in searched_items(stac, extent, conditions, process)
            if _item_meets(item, extent)
            and all(c.holds(item.properties.get(c.name), item, process) for c in conditions)
        ]
    if conditions:
        kind = "Item" if isinstance(stac, pystac.Item) else "Catalog or Collection"
        raise ProcessParameterUnsupported(
            f"load_stac: 'properties' cannot filter a static STAC {kind} (Copernicus "
            "filters on properties only through a STAC API): leave it out and filter the "
            "cube afterwards"
        )
    if isinstance(stac, pystac.Item):
        return [stac] if _item_meets(stac, extent) else []
    with fetching(stac.get_self_href() or stac.id, process):  # a static catalog over http(s)
        return [item for cat in _catalogs(stac, extent) for item in _own_items(cat, extent)]


def _catalogs(root: Any, extent: Extent) -> Iterator[Any]:
    import pystac

    if isinstance(root, pystac.Collection) and not _collection_meets(root, extent):
        return
    yield root
    for child in root.get_children():
        yield from _catalogs(child, extent)


def _own_items(catalog: Any, extent: Extent) -> Iterator[Any]:
    for item in catalog.get_items(recursive=False):
        if _item_meets(item, extent):
            yield item


def _item_meets(item: Any, extent: Extent) -> bool:
    start, end = item_interval(item)
    in_time = (end is None or extent.start <= end) and (start is None or start < extent.end)
    return in_time and _bbox_meets(item.bbox, extent.lonlat)


def _collection_meets(collection: Any, extent: Extent) -> bool:
    """Per STAC, a first overall bbox/interval is skipped when finer ones follow."""
    bboxes = collection.extent.spatial.bboxes
    intervals = collection.extent.temporal.intervals
    bboxes = bboxes[1:] if len(bboxes) > 1 else bboxes
    intervals = intervals[1:] if len(intervals) > 1 else intervals
    in_space = any(_bbox_meets(b, extent.lonlat) for b in bboxes)
    in_time = any(
        (end is None or extent.start <= _utc(end)) and (start is None or _utc(start) < extent.end)
        for start, end in intervals
    )
    return in_space and in_time


def _bbox_meets(bbox: Any, lonlat: BBox | None) -> bool:
    if lonlat is None or not bbox:
        return True
    west, south, east, north = (float(v) for v in list(bbox)[:2] + list(bbox)[-2:])
    in_x = west <= lonlat.east and lonlat.west <= east
    return in_x and south <= lonlat.north and lonlat.south <= north


def item_interval(item: Any) -> tuple[dt.datetime | None, dt.datetime | None]:
    """[start_datetime, end_datetime] of an item, else its datetime twice."""
    import pystac.utils

    props = item.properties
    start = props.get("start_datetime")
    end = props.get("end_datetime")
    if start is None and end is None and item.datetime is not None:
        return _utc(item.datetime), _utc(item.datetime)
    parse = pystac.utils.str_to_datetime
    return (_utc(parse(start)) if start else None, _utc(parse(end)) if end else None)


def nominal_datetime(item: Any) -> dt.datetime:
    """:func:`hybrid.stac.selection.nominal_datetime`: ``datetime``, else
    ``start_datetime`` (load_stac.py L321), in the offset the item writes it with (none:
    UTC), as Copernicus parses that text with ``ZonedDateTime.parse``, which keeps the
    offset (openeo-opensearch-client OpenSearchResponses.scala L117 ``withNominalDate``),
    and labels the product with ``nominalDate.toLocalDate`` (FileLayerProvider.scala
    L1029, L1125): ``2023-05-31T23:30:00-02:00`` is 31 May there (1 June in UTC).
    Compared as instants everywhere else. An item with neither is refused."""
    from hybrid.stac.selection import nominal_datetime as written

    if item.datetime is None and not item.properties.get("start_datetime"):
        raise ProcessParameterInvalid(f"load_stac: item {item.id!r} has no datetime")
    return written(item)


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def band_assets(item: Any) -> list[tuple[str, Any]]:
    """The band assets of ``item``, finest gsd first, then by asset id."""
    found = [(key, asset) for key, asset in item.assets.items() if _is_band_asset(asset)]

    def order(entry: tuple[str, Any]) -> tuple[float, str]:
        key, asset = entry
        gsd = asset.extra_fields.get("gsd") or item.properties.get("gsd") or 40e6
        return float(gsd), key

    return sorted(found, key=order)


def _is_band_asset(asset: Any) -> bool:
    media = (asset.media_type or "").lower()
    if media:
        if media == "image/vnd.stac.geotiff; cloud-optimized=true":
            return True
        if not media.startswith(RASTER_MEDIA):
            return False
    if asset.roles:
        return bool(_BAND_ROLES & set(asset.roles))
    return "eo:bands" in asset.extra_fields or "bands" in asset.extra_fields


def band_asset(key: str, asset: Any, item: Any, names: list[str]) -> BandAsset:
    """An asset with its projection, read as load_stac.py reads it."""
    from hybrid.backends.local.stac_documents import readable_location

    def get(field: str) -> Any:
        return _asset_field(asset, field) or item.properties.get(field)

    epsg = _epsg(get("proj:code"), get("proj:epsg"))
    bbox = _proj_bbox(get("proj:bbox"), get("proj:shape"), get("proj:transform"))
    shape = get("proj:shape")
    href = _best_href(asset)
    media = (asset.media_type or "").lower()
    return BandAsset(
        href=readable_location(href),
        names=tuple(names),
        epsg=epsg,
        bbox=bbox,
        shape=(int(shape[0]), int(shape[1])) if shape and len(shape) == 2 else None,
        netcdf="netcdf" in media or ".nc" in href,
    )


def _best_href(asset: Any) -> str:
    """The asset's ``alternate`` ``local``/``s3`` file where it exists here, else its href,
    as openeo-geopyspark-driver load_stac.py (9baf2e1) ``get_best_url`` L2417-2441 picks it
    (alternate-assets extension; an alternate that is no file here is passed over)."""
    from pathlib import Path
    from urllib.parse import urlparse

    for key, alternate in (asset.extra_fields.get("alternate") or {}).items():
        href = alternate.get("href") if isinstance(alternate, Mapping) else None
        if key not in ("local", "s3") or not isinstance(href, str):
            continue
        url = urlparse(href)
        path = url.path if url.scheme in ("", "file") else None
        if url.scheme == "s3":
            path = f"/{url.netloc}{url.path}"
        if path and Path(path).exists():
            return path
    return str(asset.get_absolute_href() or asset.href)


def _asset_field(asset: Any, field: str) -> Any:
    """The asset's own field, else the one value all its ``bands`` agree on."""
    if field in asset.extra_fields:
        return asset.extra_fields[field]
    values = []
    for band in asset.extra_fields.get("bands") or []:
        value = band.get(field) if isinstance(band, Mapping) else None
        if value and value not in values:
            values.append(value)
    return values[0] if len(values) == 1 else None


def _epsg(code: Any, epsg: Any) -> int | None:
    if isinstance(code, str) and code.upper().startswith("EPSG:") and code[5:].isdigit():
        return int(code[5:])
    return int(epsg) if isinstance(epsg, int | float) and not isinstance(epsg, bool) else None


def _proj_bbox(bbox: Any, shape: Any, transform: Any) -> tuple[float, float, float, float] | None:
    if bbox and len(bbox) in (4, 6):
        values = [float(v) for v in bbox]
        return (values[0], values[1], values[-3], values[-2]) if len(bbox) == 6 else (
            values[0], values[1], values[2], values[3]
        )  # fmt: skip
    if shape and transform and len(transform) >= 6:
        a0, a1, a2, a3, a4, a5 = (float(v) for v in transform[:6])
        rows, cols = shape
        xs = [a0 * x + a1 * y + a2 for x, y in ((0, 0), (cols, 0), (0, rows), (cols, rows))]
        ys = [a3 * x + a4 * y + a5 for x, y in ((0, 0), (cols, 0), (0, rows), (cols, rows))]
        return min(xs), min(ys), max(xs), max(ys)
    return None
