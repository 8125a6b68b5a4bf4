"""``hybrid describe``: the metadata of the SENTINEL2_L2A collection on a backend."""

from __future__ import annotations

import argparse
import json
from typing import Any

from hybrid.errors import BackendUnreachable, CollectionNotFound, RemoteBackendError
from hybrid.params import COLLECTION_ID


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "describe",
        help="show the collection metadata (bands, extent, dimensions) of a backend",
        description="Print the SENTINEL2_L2A collection as a backend describes it: the "
        "local backend's own metadata (the same as 'hybrid serve' publishes), or what a "
        "remote openEO backend answers to GET /collections/{id}.",
    )
    p.add_argument(
        "--backend", default="local", help="local (default), copernicus, or an openEO URL"
    )
    p.add_argument("--collection", default=COLLECTION_ID, help="collection id")
    p.add_argument("--json", action="store_true", help="print the full JSON metadata")
    p.set_defaults(handle=handle)


def local_collection(collection_id: str) -> dict[str, Any]:
    from hybrid.collection import sentinel2_l2a

    if collection_id != COLLECTION_ID:
        raise CollectionNotFound(
            f"collection '{collection_id}' does not exist on the local backend; "
            f"the only collection is {COLLECTION_ID}"
        )
    return sentinel2_l2a()


def remote_collection(url: str, collection_id: str) -> dict[str, Any]:
    """``GET {url}/collections/{id}`` with the openeo client (no authentication)."""
    import openeo
    import requests
    from openeo.rest import OpenEoApiPlainError, OpenEoClientException

    try:
        connection = openeo.connect(url, retry=False, auto_validate=False, default_timeout=30)
        metadata = connection.describe_collection(collection_id)
    except OpenEoApiPlainError as exc:
        if exc.http_status_code == 404:
            raise CollectionNotFound(
                f"{url} has no collection '{collection_id}' ({exc.message})"
            ) from None
        raise RemoteBackendError(f"{url} refused to describe {collection_id}: {exc}") from None
    except (requests.RequestException, OpenEoClientException) as exc:
        raise BackendUnreachable(
            f"cannot reach {url} to describe {collection_id}: {type(exc).__name__}; "
            "check the URL and your network"
        ) from None
    return dict(metadata)


def _interval(extent: dict[str, Any]) -> str:
    intervals = (extent.get("temporal") or {}).get("interval") or [[None, None]]
    start, end = (intervals[0] + [None, None])[:2]
    return f"{start or 'open'} .. {end or 'open'}"


def _bbox(extent: dict[str, Any]) -> str:
    boxes = (extent.get("spatial") or {}).get("bbox") or []
    return ", ".join(f"{b:g}" for b in boxes[0]) if boxes else "-"


def _dimension(name: str, dim: dict[str, Any]) -> str:
    parts = [str(dim.get("type", "?"))]
    if "step" in dim:
        parts.append(f"step {dim['step']}")
    ref = dim.get("reference_system")
    if isinstance(ref, dict):
        ident = ref.get("id") or {}
        parts.append(f"{ident.get('authority', '')}:{ident.get('code', '')}".strip(":"))
    elif ref is not None:
        parts.append(f"EPSG:{ref}" if isinstance(ref, int) else str(ref))
    if "values" in dim:
        parts.append(f"{len(dim['values'])} values")
    if "extent" in dim and dim.get("type") == "temporal":
        parts.append(" .. ".join(str(v or "open") for v in dim["extent"]))
    return f"{name} ({', '.join(parts)})"


def _bands(meta: dict[str, Any]) -> list[dict[str, Any]]:
    summaries = meta.get("summaries") or {}
    bands = summaries.get("eo:bands") or summaries.get("bands") or []
    return [b for b in bands if isinstance(b, dict)]


def format_collection(meta: dict[str, Any], *, where: str) -> str:
    lines = [f"{meta.get('id', '?')} on {where}"]
    if meta.get("title"):
        lines.append(f"  title:      {meta['title']}")
    extent = meta.get("extent") or {}
    lines.append(f"  bbox:       {_bbox(extent)}")
    lines.append(f"  time:       {_interval(extent)}")
    dims = meta.get("cube:dimensions") or {}
    if dims:
        lines.append("  dimensions: " + "; ".join(_dimension(k, v) for k, v in dims.items()))
    bands = _bands(meta)
    if bands:
        lines.append(f"  bands ({len(bands)}):")
        lines.append(f"    {'name':<18} {'common name':<12} {'wavelength':>10} {'resolution':>10}")
        for b in bands:
            wavelength = b.get("center_wavelength")
            gsd = b.get("gsd") or b.get("openeo:gsd", {}).get("value")
            gsd_text = f"{gsd[0] if isinstance(gsd, list) else gsd} m" if gsd else "-"
            wl_text = f"{wavelength:.4f} um" if isinstance(wavelength, int | float) else "-"
            lines.append(
                f"    {b.get('name', '?'):<18} {b.get('common_name', '-'):<12} "
                f"{wl_text:>10} {gsd_text:>10}"
            )
    cloud = (meta.get("summaries") or {}).get("eo:cloud_cover")
    if isinstance(cloud, dict):
        lines.append(f"  eo:cloud_cover: {cloud.get('minimum')} .. {cloud.get('maximum')}")
    return "\n".join(lines)


def handle(args: argparse.Namespace) -> int:
    if args.backend == "local":
        meta = local_collection(args.collection)
        where = "the local backend"
    else:
        from hybrid.backends.remote import resolve_url

        url = resolve_url(args.backend)
        meta = remote_collection(url, args.collection)
        where = url
    if args.json:
        print(json.dumps(meta, indent=2))
    else:
        print(format_collection(meta, where=where))
    return 0
