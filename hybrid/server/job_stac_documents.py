"""The static STAC documents of a finished job's results, with local assets, that
load_stac reads in place of ``/jobs/ID/results`` (:mod:`hybrid.server.job_stac`).

One Item per raster result file (GeoTIFF, netCDF), as Copernicus's own-job load_stac
builds them (openeo-geopyspark-driver ``openeogeotrellis/load_stac.py``
``ItemCollection.from_own_job`` L1410-1465): its date from the file, else the job's
start and end; its lon/lat bbox; one ``data`` asset with the file's bands as
``eo:bands`` and its ``proj:epsg``, ``proj:bbox``, ``proj:shape``. The Collection lists
the band names sorted in ``summaries`` (no band listing there, so the cube's bands come
sorted: L595-604). Written atomically, again each time (a job run again has new files).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hybrid.atomic import atomic_path
from hybrid.grid import bounds_union
from hybrid.io.registry import media_type
from hybrid.server.jobs import Job
from hybrid.server.results import STAC_VERSION, footprint

_RASTER_TYPES = ("geotiff", "netcdf")


def write_collection(job: Job, result_dir: Path, folder: str) -> Path:
    """``result_dir/folder/collection.json`` and its items; the Collection's path."""
    out = result_dir / folder
    items = [_item(job, result_dir, name) for name in _raster_files(job)]
    for item in items:
        _write(out / "items" / f"{item['id']}.json", item)
    names = sorted({b["name"] for i in items for a in i["assets"].values() for b in a["eo:bands"]})
    collection = {
        "type": "Collection",
        "stac_version": STAC_VERSION,
        "id": job.id,
        "description": f"Results of batch job {job.id}",
        "license": "proprietary",
        "extent": {
            "spatial": {"bbox": [_union([i["bbox"] for i in items if i.get("bbox")])]},
            "temporal": {"interval": [[None, None]]},
        },
        "summaries": {"eo:bands": [{"name": n} for n in names]},
        "links": [
            {"rel": "item", "href": f"./items/{i['id']}.json", "type": "application/geo+json"}
            for i in items
        ],
    }
    return _write(out / "collection.json", collection)


def write_item(job: Job, result_dir: Path, folder: str, filename: str) -> Path:
    """The Item of one result file; its path."""
    item = _item(job, result_dir, filename)
    bands = [b for a in item["assets"].values() for b in a["eo:bands"]]
    item["properties"]["eo:bands"] = sorted(bands, key=lambda b: str(b["name"]))
    return _write(result_dir / folder / "single" / f"{item['id']}.json", item)


def _raster_files(job: Job) -> list[str]:
    return [n for n in job.files if any(t in media_type(n) for t in _RASTER_TYPES)]


def _item(job: Job, result_dir: Path, filename: str) -> dict[str, Any]:
    from hybrid.server.asset_fields import lonlat_bbox
    from hybrid.server.result_items import file_times

    asset = _asset(result_dir / filename)
    bbox = lonlat_bbox({filename: asset}) or footprint(job.results_graph)[0]
    properties = file_times(job, filename)
    if properties.get("datetime") is None and "start_datetime" not in properties:
        properties["datetime"] = job.created  # a job without dates: when it was made
    geometry = None
    if bbox is not None:
        west, south, east, north = bbox
        ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
        geometry = {"type": "Polygon", "coordinates": [ring]}
    return {
        "type": "Feature",
        "stac_version": STAC_VERSION,
        "id": filename,
        "geometry": geometry,
        "bbox": bbox,
        "properties": properties,
        "links": [],
        "assets": {filename: asset},
    }


def _asset(path: Path) -> dict[str, Any]:
    from hybrid.io.raster_facts import raster_facts

    asset: dict[str, Any] = {
        "href": str(path.resolve()),
        "type": media_type(path.name),
        "roles": ["data"],
        "eo:bands": [],
    }
    facts = raster_facts(path)
    if facts is None:
        return asset
    asset["eo:bands"] = [{"name": band} for band in facts.bands]
    if facts.epsg is not None:
        asset["proj:epsg"] = facts.epsg
    if facts.bbox is not None:
        asset["proj:bbox"] = list(facts.bbox)
    if facts.shape is not None:
        asset["proj:shape"] = list(facts.shape)
    return asset


def _union(boxes: list[list[float]]) -> list[float]:
    if not boxes:
        return [-180.0, -90.0, 180.0, 90.0]
    return list(bounds_union(boxes))


def _write(path: Path, document: Mapping[str, Any]) -> Path:
    """``document`` as JSON at ``path``, replaced atomically, with the permissions a
    normal file gets (:func:`hybrid.atomic.atomic_path`)."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(document, indent=1), encoding="utf-8")
    return path
