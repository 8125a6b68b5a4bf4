"""Read a static STAC catalog and pick the Sentinel-2 items Copernicus would load.

Independent of ``hybrid``/``backends``: plain ``json`` and ``pathlib`` only.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

#: canonical band -> asset key per provider layout (Earth Search v1, Planetary Computer, CDSE)
LAYOUTS: dict[str, dict[str, str]] = {
    "earth-search": {
        "B02": "blue",
        "B03": "green",
        "B04": "red",
        "B08": "nir",
        "B11": "swir16",
        "SCL": "scl",
    },
    "planetary-computer": {
        "B02": "B02",
        "B03": "B03",
        "B04": "B04",
        "B08": "B08",
        "B11": "B11",
        "SCL": "SCL",
    },
    "cdse": {
        "B02": "B02_10m",
        "B03": "B03_10m",
        "B04": "B04_10m",
        "B08": "B08_10m",
        "B11": "B11_20m",
        "SCL": "SCL_20m",
    },
}
#: BOA_ADD_OFFSET in digital numbers, applied from processing baseline 04.00 on
BOA_ADD_OFFSET_DN = -1000.0


@dataclass(frozen=True)
class RefItem:
    """One Sentinel-2 L2A product (tile granule) as the reference sees it."""

    id: str
    datetime: dt.datetime
    cloud_cover: float | None
    #: lon/lat (xmin, ymin, xmax, ymax) or None when the item has no bbox
    bbox: tuple[float, float, float, float] | None
    #: MGRS tile, e.g. "32TLR"
    tile: str
    #: native CRS from proj:epsg / proj:code (None if the item does not say)
    epsg: int | None
    #: canonical band -> absolute href (local path or URL)
    hrefs: dict[str, str]
    #: canonical band -> DN offset to add to valid pixels (SCL always 0)
    offsets: dict[str, float]
    #: the raw STAC properties (duplicate test and recency)
    properties: dict[str, Any] = field(default_factory=dict)
    #: GeoJSON geometry in lon/lat (None when the item has none)
    geometry: dict[str, Any] | None = None

    @property
    def date(self) -> dt.date:
        return self.datetime.astimezone(dt.UTC).date()


def parse_instant(value: str) -> dt.datetime:
    """ISO date or datetime -> aware UTC datetime (a bare date means 00:00 UTC)."""
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def _resolve(href: str, base: Path) -> str:
    parsed = urlparse(href)
    if parsed.scheme == "file":
        return unquote(parsed.path)
    if parsed.scheme in ("http", "https", "s3"):
        return href
    path = Path(href)
    return str(path if path.is_absolute() else (base.parent / path).resolve())


def _walk(path: Path, seen: set[Path]) -> list[tuple[dict[str, Any], Path]]:
    """Every Item JSON reachable from ``path`` through item/child links (or itself)."""
    path = path.resolve()
    if path in seen:
        return []
    seen.add(path)
    doc = json.loads(path.read_text())
    if doc.get("type") == "Feature":
        return [(doc, path)]
    found: list[tuple[dict[str, Any], Path]] = []
    if doc.get("type") == "FeatureCollection":
        found += [(feature, path) for feature in doc.get("features", [])]
    for link in doc.get("links", []):
        if link.get("rel") in ("item", "child"):
            found += _walk(Path(_resolve(link["href"], path)), seen)
    return found


def _epsg(meta: dict[str, Any]) -> int | None:
    if meta.get("proj:epsg") is not None:
        return int(meta["proj:epsg"])
    code = meta.get("proj:code")
    if isinstance(code, str) and code.upper().startswith("EPSG:"):
        return int(code.split(":")[1])
    return None


def _tile(item: dict[str, Any]) -> str:
    props = item["properties"]
    raw: str | None = None
    if "grid:code" in props:
        raw = str(props["grid:code"]).removeprefix("MGRS-")
    elif "mgrs:utm_zone" in props:
        raw = f"{props['mgrs:utm_zone']}{props['mgrs:latitude_band']}{props['mgrs:grid_square']}"
    elif "s2:mgrs_tile" in props:
        raw = str(props["s2:mgrs_tile"])
    elif "tilename" in props:
        raw = str(props["tilename"])
    match = re.fullmatch(r"T?(\d{1,2})([C-X])([A-Z]{2})", raw or "")
    if match is None:
        raise ValueError(
            f"item {item.get('id')!r}: no MGRS tile (grid:code, mgrs:*, s2:mgrs_tile or tilename)"
        )
    return f"{int(match.group(1)):02d}{match.group(2)}{match.group(3)}"


def _baseline_offset(props: dict[str, Any]) -> float:
    version = props.get("s2:processing_baseline", props.get("processing:version"))
    if version is None:
        return 0.0
    return BOA_ADD_OFFSET_DN if float(version) >= 4.0 else 0.0


def band_offset(item: dict[str, Any], asset: dict[str, Any]) -> float:
    """DN offset for one reflectance asset: raster:bands offset/scale, else the baseline rule."""
    bands = asset.get("raster:bands")
    if bands and "offset" in bands[0] and "scale" in bands[0]:
        return float(bands[0]["offset"]) / float(bands[0]["scale"])
    if "raster:offset" in asset and "raster:scale" in asset:
        return float(asset["raster:offset"]) / float(asset["raster:scale"])
    return _baseline_offset(item["properties"])


def _layout(item: dict[str, Any]) -> dict[str, str]:
    """The layout whose keys name most of the item's assets (a product may lack one, e.g.
    SCL: Copernicus reads that band as NODATA, FileLayerProvider.scala L1494-1511)."""
    assets = item.get("assets", {})
    best = max(LAYOUTS.values(), key=lambda keys: sum(k in assets for k in keys.values()))
    if best["B04"] in assets or best["B08"] in assets:
        return best
    raise ValueError(f"item {item.get('id')!r}: no red/nir assets in a known layout")


def to_ref_item(item: dict[str, Any], item_path: Path) -> RefItem:
    props = item["properties"]
    stamp = props.get("datetime") or props["start_datetime"]
    keys = _layout(item)
    hrefs: dict[str, str] = {}
    offsets: dict[str, float] = {}
    for band, key in keys.items():
        asset = item["assets"].get(key)
        if asset is None:
            continue
        hrefs[band] = _resolve(asset["href"], item_path)
        offsets[band] = 0.0 if band == "SCL" else band_offset(item, asset)
    bbox = item.get("bbox")
    if bbox is not None and len(bbox) == 6:
        bbox = [bbox[0], bbox[1], bbox[3], bbox[4]]
    epsg = _epsg(props) or _epsg(item["assets"].get(keys["B04"], {}))
    cloud = props.get("eo:cloud_cover")
    return RefItem(
        id=str(item["id"]),
        datetime=parse_instant(stamp),
        cloud_cover=None if cloud is None else float(cloud),
        bbox=None if bbox is None else (bbox[0], bbox[1], bbox[2], bbox[3]),
        tile=_tile(item),
        epsg=epsg,
        hrefs=hrefs,
        offsets=offsets,
        properties=dict(props),
        geometry=item.get("geometry"),
    )


def read_items(catalog_json: Path) -> list[RefItem]:
    """All items of a static catalog/collection (item and child links, relative hrefs)."""
    return [to_ref_item(item, path) for item, path in _walk(Path(catalog_json), set())]


def _bbox_intersects(a: tuple[float, float, float, float], b: tuple[float, ...]) -> bool:
    return not (a[2] < b[0] or b[2] < a[0] or a[3] < b[1] or b[3] < a[1])


def _footprint_intersects(item: RefItem, bounds: tuple[float, float, float, float]) -> bool:
    if item.geometry:
        from shapely.geometry import box, shape

        return bool(shape(item.geometry).intersects(box(*bounds)))
    return item.bbox is None or _bbox_intersects(item.bbox, bounds)


def filter_items(
    items: list[RefItem],
    *,
    start: dt.datetime,
    end: dt.datetime,
    max_cloud_cover: float | None,
    lonlat_bounds: tuple[float, float, float, float],
) -> list[RefItem]:
    """start <= datetime < end, eo:cloud_cover <= max (inclusive), the footprint (the
    geometry, else the bbox) intersects the box, as a STAC API's bbox search does."""
    kept = []
    for item in items:
        if not start <= item.datetime < end:
            continue
        if max_cloud_cover is not None and (
            item.cloud_cover is None or item.cloud_cover > max_cloud_cover
        ):
            continue
        if not _footprint_intersects(item, lonlat_bounds):
            continue
        kept.append(item)
    return kept


#: properties equal between duplicates, per openeo-geopyspark-driver load_stac.py
#: ItemDeduplicator.DEFAULT_DUPLICATION_PROPERTIES
SAME_PROPERTIES = [
    "platform",
    "constellation",
    "gsd",
    "processing:level",
    "product:timeliness",
    "product:type",
    "sar:frequency_band",
    "sar:instrument_mode",
    "sar:observation_direction",
    "sar:polarizations",
    "sat:absolute_orbit",
    "sat:orbit_state",
]


def _geometries_equal(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool:
    """Equal within 3e-4 degree after normalising, or Dice overlap >= 0.99."""
    if a is None or b is None:
        return a is None and b is None
    import shapely
    from shapely.geometry import shape

    ga, gb = shape(a), shape(b)
    if shapely.equals_exact(shapely.normalize(ga), shapely.normalize(gb), tolerance=3e-4):
        return True
    area = ga.area + gb.area
    return bool(area) and 2.0 * ga.intersection(gb).area / area >= 0.99


def _duplicates(a: RefItem, b: RefItem) -> bool:
    """The driver's duplicate test: < 30 s apart, same properties, bbox and geometry."""
    if abs((a.datetime - b.datetime).total_seconds()) >= 30:
        return False
    if any(a.properties.get(k) != b.properties.get(k) for k in SAME_PROPERTIES):
        return False
    if (a.bbox is None) != (b.bbox is None):
        return False
    if (
        a.bbox is not None
        and b.bbox is not None
        and max(abs(x - y) for x, y in zip(a.bbox, b.bbox, strict=True)) > 1e-3
    ):
        return False
    return _geometries_equal(a.geometry, b.geometry)


def newest_processings(items: list[RefItem]) -> list[RefItem]:
    """Each group of duplicates reduced to its most recently updated item.

    Groups are built greedily in datetime order; the winner has the greatest
    (``updated`` as text, id) [load_stac.py ItemDeduplicator._score].
    """
    ordered = sorted(items, key=lambda i: i.datetime)
    taken = [False] * len(ordered)
    kept = []
    for i, first in enumerate(ordered):
        if taken[i]:
            continue
        group = [first]
        for j in range(i + 1, len(ordered)):
            if (ordered[j].datetime - first.datetime).total_seconds() > 30:
                break
            if _duplicates(first, ordered[j]):
                group.append(ordered[j])
                taken[j] = True
        kept.append(max(group, key=lambda x: (str(x.properties.get("updated", "")), x.id)))
    return kept


def items_per_date(items: list[RefItem]) -> dict[dt.date, list[RefItem]]:
    """The newest processings grouped per UTC date, each date's items in ascending
    source path order (the order FileLayerProvider merges them in)."""
    per_date: dict[dt.date, list[RefItem]] = {}
    for item in newest_processings(items):
        per_date.setdefault(item.date, []).append(item)
    return {
        date: sorted(group, key=lambda i: min(i.hrefs.values()))
        for date, group in sorted(per_date.items())
    }
