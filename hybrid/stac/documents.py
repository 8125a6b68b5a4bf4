"""The items of one static STAC document, read alike from a file and from a URL: a
Catalog or Collection (its item links, recursively), one Item, or an ItemCollection (a
FeatureCollection of Items: what a STAC search saves). As Copernicus's load_stac reads a
URL that is an Item, or a Catalog or Collection without item search (openeo-geopyspark-
driver load_stac.py L987-998, L1054-1070, 9baf2e1).
"""

from __future__ import annotations

from typing import Any

from hybrid.errors import DataSourceError, UsageError, first_line

#: what pystac raises on a document that is no readable STAC object
_UNREADABLE = (ValueError, OSError, KeyError, TypeError, AttributeError)


def document_items(document: Any, where: str, self_href: str | None = None) -> list[Any]:
    """The items of the parsed STAC ``document`` read from ``where`` (a path or URL,
    named in errors; relative hrefs resolve from it); an ItemCollection's items get
    ``self_href`` (default ``where``) as their own href."""
    import pystac

    unreadable = (pystac.STACError, pystac.STACTypeError, *_UNREADABLE)
    try:
        if isinstance(document, dict) and document.get("type") == "FeatureCollection":
            collection = pystac.ItemCollection.from_dict(document)
            for item in collection:
                item.set_self_href(self_href or where)
            return list(collection)
        root = pystac.read_dict(document, href=where)
    except unreadable as exc:
        raise DataSourceError(
            f"cannot read STAC file {where}: {first_line(exc)}; give a STAC Catalog, "
            "Collection, Item or ItemCollection"
        ) from None
    if isinstance(root, pystac.Item):
        return [root]
    if not isinstance(root, pystac.Catalog):
        raise UsageError(f"{where} is a {type(root).__name__}, not a STAC catalog or collection")
    try:
        return list(root.get_items(recursive=True))
    except unreadable as exc:
        raise DataSourceError(
            f"cannot read the items of STAC catalog {where}: {first_line(exc)}"
        ) from None
