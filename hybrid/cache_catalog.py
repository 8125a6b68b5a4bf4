"""The static STAC collection ``hybrid cache`` writes over the windows it copied.

Items keep every property, their footprint (geometry and bbox: Copernicus resolves
duplicates and tile overlap from them) and their provider's asset keys; asset hrefs
become relative, and the assets' ``proj:shape``/``proj:transform``/``proj:bbox``
describe the windows (:mod:`hybrid.cache` copies them). The collection JSON is written
last, so an interrupted run leaves no catalog that looks complete.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hybrid.atomic import atomic_path
from hybrid.grid import bounds_union

#: the cache's catalog, written last
CATALOG_NAME = "collection.json"
COG_MEDIA_TYPE = "image/tiff; application=geotiff; profile=cloud-optimized"
#: asset fields that describe the original file, not the copy
_DROPPED_ASSET_FIELDS = ("alternate", "alternate:name", "file:size", "file:checksum",
                         "file:header_size", "file:local_path", "storage:refs")  # fmt: skip


def safe_name(name: str) -> str:
    """An item id or asset key as a file or folder name of the cache."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def write_item(item: Any, out_dir: Path, windows: dict[str, dict[str, Any]]) -> Path:
    """The item rewritten for its copies, written next to them."""
    doc = item.to_dict(include_self_link=False, transform_hrefs=False)
    folder = out_dir / safe_name(item.id)
    assets: dict[str, Any] = {}
    for key, meta in windows.items():
        asset = dict(doc["assets"][key])
        for name in _DROPPED_ASSET_FIELDS:
            asset.pop(name, None)
        asset["href"] = f"./{safe_name(key)}.tif"
        asset["type"] = COG_MEDIA_TYPE
        asset["proj:shape"] = meta["shape"]
        asset["proj:transform"] = meta["transform"]
        asset["proj:bbox"] = meta["bbox"]
        if meta["epsg"] is not None and "proj:code" not in asset:
            asset["proj:epsg"] = meta["epsg"]
        assets[key] = asset
    doc["assets"] = assets
    props = doc["properties"]
    finest = min(windows.values(), key=lambda m: abs(m["transform"][0]))
    for name, value in (("proj:shape", finest["shape"]), ("proj:transform", finest["transform"])):
        if name in props:
            props[name] = value
    props.pop("proj:bbox", None)
    props.pop("proj:geometry", None)
    if not doc.get("geometry"):
        # the product's footprint decides duplicates and tile overlap (per layout key),
        # so an item's own geometry and bbox are kept; only items without one get the
        # outline of the copied windows
        west, south, east, north = _lonlat_bounds(windows.values())
        doc["bbox"] = [west, south, east, north]
        doc["geometry"] = {
            "type": "Polygon",
            "coordinates": [
                [[west, south], [east, south], [east, north], [west, north], [west, south]]
            ],
        }
    doc["links"] = [
        {"rel": "root", "href": "../collection.json", "type": "application/json"},
        {"rel": "parent", "href": "../collection.json", "type": "application/json"},
        {"rel": "collection", "href": "../collection.json", "type": "application/json"},
    ]
    doc["collection"] = _collection_id([item])
    path = folder / f"{safe_name(item.id)}.json"
    _write_json(path, doc)
    return path


def _lonlat_bounds(metas: Any) -> tuple[float, float, float, float]:
    from rasterio.warp import transform_bounds

    return bounds_union(
        transform_bounds(f"EPSG:{m['epsg']}", "EPSG:4326", *m["bbox"], densify_pts=21)
        for m in metas
    )


def _collection_id(items: list[Any]) -> str:
    ids = {i.collection_id for i in items if i.collection_id}
    return ids.pop() if len(ids) == 1 else "sentinel-2-l2a"


def write_collection(
    items: list[Any], item_paths: list[Path], out_dir: Path, description: str
) -> Path:
    """The collection of the cached items, written last (its presence says the cache is
    complete)."""
    bboxes = [json.loads(p.read_text())["bbox"] for p in item_paths]
    times = sorted(i.datetime.strftime("%Y-%m-%dT%H:%M:%S.%fZ") for i in items if i.datetime)
    doc = {
        "type": "Collection",
        "stac_version": "1.0.0",
        "id": _collection_id(items),
        "title": "Sentinel-2 L2A windows cached by hybrid",
        "description": description,
        "license": "proprietary",
        "extent": {
            "spatial": {"bbox": [list(bounds_union(bboxes))]},
            "temporal": {"interval": [[times[0] if times else None, times[-1] if times else None]]},
        },
        "links": [{"rel": "root", "href": "./collection.json", "type": "application/json"}]
        + [
            {"rel": "item", "href": f"./{p.parent.name}/{p.name}", "type": "application/geo+json"}
            for p in item_paths
        ],
    }
    path = out_dir / CATALOG_NAME
    _write_json(path, doc)
    return path


def _write_json(path: Path, doc: dict[str, Any]) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(doc, indent=1), encoding="utf-8")
