"""STAC sources: a static catalog on disk, a STAC API URL, or a named provider.

Both kinds are searched with the same semantics: bbox intersection, datetime in
[start, end) (openEO temporal extents are end-exclusive), ``eo:cloud_cover <= max``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hybrid.errors import DataSourceError, UsageError
from hybrid.grid import BBox

#: named providers: (STAC API URL, collection id)
PROVIDERS = {
    "earth-search": ("https://earth-search.aws.element84.com/v1", "sentinel-2-l2a"),
    "planetary-computer": (
        "https://planetarycomputer.microsoft.com/api/stac/v1",
        "sentinel-2-l2a",
    ),
    "cdse": ("https://stac.dataspace.copernicus.eu/v1", "sentinel-2-l2a"),
}


@dataclass(frozen=True)
class SceneQuery:
    """What load_collection asks of a STAC source."""

    #: lon/lat bbox to intersect (already including any kernel buffer)
    bbox: BBox
    #: first day included, ``YYYY-MM-DD`` or an RFC 3339 timestamp
    start: str
    #: first day excluded
    end: str
    max_cloud_cover: float | None = None


def parse_instant(value: str, *, what: str) -> dt.datetime:
    """An ISO date or RFC 3339 timestamp as an aware UTC datetime."""
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(
            f"{what} '{value}' is not a date; use YYYY-MM-DD (e.g. 2023-05-01)"
        ) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def matches(item: Any, query: SceneQuery) -> bool:
    """Whether an item falls in the query (the in-process search of static catalogs)."""
    when = item.datetime or _start_datetime(item)
    if when is None:
        return False
    when = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
    if not parse_instant(query.start, what="start") <= when < parse_instant(query.end, what="end"):
        return False
    if query.max_cloud_cover is not None:
        cover = item.properties.get("eo:cloud_cover")
        if cover is None or float(cover) > query.max_cloud_cover:
            return False
    if item.bbox is None:
        return True
    bb = item.bbox
    west, south, east, north = (bb[0], bb[1], bb[3], bb[4]) if len(bb) == 6 else bb
    b = query.bbox
    return not (east < b.west or west > b.east or north < b.south or south > b.north)


def _start_datetime(item: Any) -> dt.datetime | None:
    value = item.properties.get("start_datetime")
    return parse_instant(value, what="item start_datetime") if value else None


def search(source: str | Path | None, query: SceneQuery) -> list[Any]:
    """Items of ``source`` that match ``query``, sorted by datetime then id.

    ``source`` is a static catalog/collection JSON (or a folder holding one), a STAC API
    URL, or a provider name (earth-search, planetary-computer, cdse); ``None`` is the
    embedded sample.
    """
    if source is None:
        from hybrid.sample import ensure_sample

        source = ensure_sample()
    text = str(source)
    if text in PROVIDERS:
        url, collection = PROVIDERS[text]
        from hybrid.stac.api import search_api

        items = search_api(url, collection, query, provider=text)
    elif text.startswith(("http://", "https://")):
        from hybrid.stac.api import search_api

        items = search_api(text, None, query)
    else:
        items = [_absolute(i) for i in static_items(Path(text)) if matches(i, query)]
    return prepare_items(
        sorted(items, key=lambda i: (i.datetime or dt.datetime.min.replace(tzinfo=dt.UTC), i.id))
    )


def prepare_items(items: list[Any]) -> list[Any]:
    """Make items readable: Planetary Computer hrefs signed, S3 credentials configured."""
    from hybrid.stac.access import configure_access, sign_items

    items = sign_items(items)
    configure_access(items)
    return items


def _absolute(item: Any) -> Any:
    """A detached copy of a static catalog's item: absolute asset hrefs, no tree links.

    (``Item.full_copy`` would copy the whole catalog tree through the root link, for
    every item: seconds for a season.)
    """
    from pystac.utils import make_absolute_href

    base = item.get_self_href()
    clone = item.clone()
    clone.links = [link for link in clone.links if link.rel not in _TREE_RELS]
    clone.set_root(None)
    for asset in clone.assets.values():
        if not _has_scheme(asset.href) and base:
            asset.href = make_absolute_href(asset.href, base)
    return clone


_TREE_RELS = frozenset({"root", "parent", "collection", "self"})


def _has_scheme(href: str) -> bool:
    return "://" in href


def static_items(path: Path) -> Iterable[Any]:
    """Every item of a static STAC catalog or collection on disk."""
    import pystac

    if path.is_dir():
        for name in ("collection.json", "catalog.json"):
            if (path / name).is_file():
                path = path / name
                break
        else:
            raise UsageError(
                f"STAC folder {path} has no collection.json or catalog.json; "
                "pass the catalog file with --stac"
            )
    if not path.exists():
        raise UsageError(
            f"STAC catalog not found: {path}; pass a catalog/collection JSON, a folder, "
            "a STAC API URL or a provider name (earth-search, planetary-computer, cdse)"
        )
    try:
        root = pystac.read_file(str(path))
    except (pystac.STACError, ValueError, OSError, KeyError, TypeError) as exc:
        raise DataSourceError(f"cannot read STAC file {path}: {exc}") from exc
    if isinstance(root, pystac.Item):
        return [root]
    if not isinstance(root, pystac.Catalog):
        raise UsageError(f"{path} is a {type(root).__name__}, not a STAC catalog or collection")
    try:
        return list(root.get_items(recursive=True))
    except (pystac.STACError, ValueError, OSError, KeyError, TypeError) as exc:
        raise DataSourceError(f"cannot read the items of STAC catalog {path}: {exc}") from exc
