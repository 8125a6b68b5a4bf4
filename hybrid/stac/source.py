"""STAC sources: a static catalog on disk, a STAC API URL, or a named provider.

Both kinds are searched with the same semantics (:mod:`hybrid.stac.query`): bbox
intersection, datetime in [start, end) (openEO temporal extents are end-exclusive), the
property conditions (``eo:cloud_cover <= max`` and load_collection's ``properties``).
The named providers are the table :data:`hybrid.stac.providers.PROVIDERS`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from hybrid.errors import DataSourceError, UsageError, first_line
from hybrid.stac.providers import PROVIDERS, provider_named, provider_names, read_hrefs
from hybrid.stac.query import SceneQuery, matches

__all__ = ["SceneQuery", "check_source", "prepare_items", "search", "static_items"]


def search(source: str | Path | None, query: SceneQuery) -> list[Any]:
    """Items of ``source`` that match ``query``, sorted by datetime then id.

    ``source`` is a static catalog/collection JSON (or a folder holding one), a STAC API
    URL, or a provider name (:data:`PROVIDERS`); ``None`` is the embedded sample.
    """
    if source is None:
        from hybrid.sample import ensure_sample

        source = ensure_sample()
    text = str(source)
    provider = provider_named(text)
    if provider is not None:
        from hybrid.stac.api import search_api

        items = search_api(provider.url, provider.collection, query, provider=provider.name)
    elif _api_url(text):
        from hybrid.stac.api import search_api

        items = search_api(text, None, query)
    else:
        items = [_absolute(i) for i in static_items(Path(text)) if matches(i, query)]
    return prepare_items(
        sorted(items, key=lambda i: (i.datetime or dt.datetime.min.replace(tzinfo=dt.UTC), i.id))
    )


def prepare_items(items: list[Any]) -> list[Any]:
    """Make items readable: each provider's preparation (Planetary Computer hrefs
    signed; it touches only that provider's hrefs), S3 credentials configured where an
    asset read is on S3 (:func:`hybrid.stac.providers.read_hrefs`)."""
    from hybrid.stac.access import configure_access

    for provider in PROVIDERS:
        if provider.prepare is not None:
            items = provider.prepare(items)
    configure_access([href for item in items for href in read_hrefs(item)])
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


def _api_url(text: str) -> bool:
    """Whether a ``--stac`` source is a STAC API (else a static catalog on disk)."""
    return text.startswith(("http://", "https://"))


def _has_scheme(href: str) -> bool:
    return "://" in href


def check_source(source: str | Path | None) -> None:
    """Refuse now (UsageError) a ``source`` that names a static catalog that is not
    there; a provider, a URL or the embedded sample (None) are found when searched."""
    text = str(source)
    if source is None or provider_named(text) is not None or _api_url(text):
        return
    _catalog_file(Path(text))


def _catalog_file(path: Path) -> Path:
    """The catalog or collection JSON ``path`` names (a folder: the one inside)."""
    if path.is_dir():
        for name in ("collection.json", "catalog.json"):
            if (path / name).is_file():
                return path / name
        raise UsageError(
            f"STAC folder {path} has no collection.json or catalog.json; "
            "pass the catalog file with --stac"
        )
    if not path.exists():
        raise UsageError(
            f"STAC catalog not found: {path}; pass a catalog, collection or ItemCollection "
            f"JSON, a folder, a STAC API URL or a provider name ({provider_names()})"
        )
    return path


def static_items(path: Path) -> Iterable[Any]:
    """Every item of a static STAC catalog or collection on disk, of one Item, or of an
    ItemCollection (a FeatureCollection of Items: what a STAC search saves, e.g.
    ``stac-client search ... --save items.json``), relative hrefs from its file."""
    from hybrid.stac.documents import document_items

    path = _catalog_file(path)
    try:
        document = json.loads(path.read_bytes())  # read once, whatever it holds
    except (ValueError, OSError) as exc:
        raise DataSourceError(
            f"cannot read STAC file {path}: {first_line(exc)}; give a STAC Catalog, "
            "Collection, Item or ItemCollection"
        ) from None
    return document_items(document, str(path), str(path.resolve()))
