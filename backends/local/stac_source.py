"""Where a load_stac reads from, and which bands its cube has.

The local engine reads a STAC document on this machine (a ``file://`` URL or an absolute
path) or over http(s) (:mod:`hybrid.backends.local.stac_documents`); ``hybrid serve``
first turns the URLs of its own job results into local STAC documents
(:mod:`hybrid.server.job_stac`).

Bands, as openeo-geopyspark-driver ``openeogeotrellis/load_stac.py`` names them:

- an asset's bands are those its metadata names that the request asks for (or all when
  it asks for none), or the asset id itself when the request names it (L355-368); the
  first asset of an item holding a set of bands wins (L372-374);
- the cube's bands are the requested ones in the requested order; without a request, the
  bands the document lists (``bands_from_stac_object``: Collection summaries ``eo:bands``
  or ``bands``, else those of its items and their assets, in order) followed by the
  other band names found in the assets, sorted (L595-604).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from hybrid.backends.local.stac_items import (
    BandAsset,
    StacScene,
    band_asset,
    band_assets,
    nominal_datetime,
)
from hybrid.errors import BandNotFound, NoDataAvailable, ProcessParameterInvalid
from hybrid.stac.band_metadata import asset_band_names


def stac_location(url: Any, *, process: str = "load_stac") -> str:
    """The path or http(s) URL a load_stac (or query_stac) ``url`` names; other schemes
    and relative paths are refused."""
    from hybrid.backends.local.stac_documents import readable_location

    if not isinstance(url, str) or not url.strip():
        raise ProcessParameterInvalid(f"{process}: url must be a text (a URL or a path)")
    location = readable_location(url, process)
    remote = urlparse(location).scheme in ("http", "https")
    if not remote and not Path(location).is_absolute():
        raise ProcessParameterInvalid(
            f"{process}: {url} is not an http(s) URL, absolute path or file:// URL of a "
            "STAC document"
        )
    return location


def listed_bands(stac: Any) -> list[str]:
    """The band names a STAC object lists, as the openEO client's parser finds them."""
    import pystac

    if isinstance(stac, pystac.Item):
        return _item_bands(stac, consult_collection=True)
    summaries = stac.extra_fields.get("summaries") or {}
    if isinstance(stac, pystac.Collection):
        summaries = stac.summaries.to_dict() if stac.summaries else {}
    for field in ("eo:bands", "bands"):
        if isinstance(summaries.get(field), list):
            return _names(summaries[field])
    if not isinstance(stac, pystac.Collection):
        return []
    if isinstance(stac.extra_fields.get("bands"), list):
        return _names(stac.extra_fields["bands"])
    for definition in (stac.extra_fields.get("item_assets") or {}).values():
        for field in ("eo:bands", "bands"):
            if isinstance(definition.get(field), list):
                return _names(definition[field])
    return _merged(_item_bands(i, consult_collection=False) for i in stac.get_items())


def _item_bands(item: Any, *, consult_collection: bool) -> list[str]:
    for field in ("eo:bands", "bands"):
        if isinstance(item.properties.get(field), list):
            return _names(item.properties[field])
    parent = item.get_collection() if consult_collection else None
    if parent is not None:
        summaries = parent.summaries.to_dict() if parent.summaries else {}
        for field in ("eo:bands", "bands"):
            if isinstance(summaries.get(field), list):
                return _names(summaries[field])
    return _merged(asset_band_names(a) for a in item.assets.values())


def _names(bands: list[Any]) -> list[str]:
    return [str(b["name"]) for b in bands if isinstance(b, Mapping) and b.get("name")]


def _merged(lists: Iterable[list[str]]) -> list[str]:
    out: list[str] = []
    for names in lists:
        out.extend(n for n in names if n not in out)
    return out


def scenes_of(items: list[Any], selection: list[str] | None) -> list[StacScene]:
    """Each item with the assets holding the selected bands (items without any dropped)."""
    scenes = []
    for item in items:
        assets: list[BandAsset] = []
        seen: set[tuple[str, ...]] = set()
        for key, asset in band_assets(item):
            names = _asset_bands(key, asset, selection)
            if names is None or tuple(sorted(names)) in seen:
                continue
            seen.add(tuple(sorted(names)))
            assets.append(band_asset(key, asset, item, names))
        if assets:
            bbox = tuple(float(v) for v in item.bbox[:4]) if item.bbox else None
            scenes.append(StacScene(item.id, nominal_datetime(item), bbox, tuple(assets)))  # type: ignore[arg-type]
    return scenes


def _asset_bands(key: str, asset: Any, selection: list[str] | None) -> list[str] | None:
    """The band names an asset contributes (None: it is skipped), load_stac.py L355-368."""
    names = asset_band_names(asset)
    if not selection:
        return names or [key]
    if set(names) & set(selection):
        return names
    if key in selection:
        return [key]
    return None


def cube_bands(
    requested: list[str] | None, listed: list[str], scenes: list[StacScene], url: str
) -> list[str]:
    """The cube's bands: the requested ones, else the listed then the other found ones."""
    found = {n for scene in scenes for asset in scene.assets for n in asset.names}
    if not requested:
        bands = listed + sorted(found - set(listed))
        if not bands:
            raise ProcessParameterInvalid(
                f"load_stac: no band names found in {url}; give 'bands' explicitly"
            )
        return bands
    missing = [b for b in requested if b not in found]
    if missing:
        raise BandNotFound(
            f"load_stac: band(s) {', '.join(missing)} not in the assets of {url}; it has "
            f"{', '.join(sorted(found)) or 'none'}"
        )
    return list(requested)


def no_data(url: str) -> NoDataAvailable:
    """load_stac.py L268-269: no item meets the extents."""
    return NoDataAvailable(
        f"load_stac: no data available: no item of {url} intersects the spatial and "
        "temporal extent; widen the extents"
    )
