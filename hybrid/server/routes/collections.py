"""``GET /collections``, ``GET /collections/{collection_id}`` and its queryables: the one
collection."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from hybrid.collection import sentinel2_l2a
from hybrid.errors import CollectionNotFound
from hybrid.server.errors import FeatureUnsupported
from hybrid.server.payload import base_url
from hybrid.server.results import STAC_VERSION

router = APIRouter()

#: the link relation and media type of a collection's queryables (openEO API 1.2)
QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
QUERYABLES_TYPE = "application/schema+json"


def collection_document(request: Request) -> dict[str, Any]:
    """SENTINEL2_L2A as a STAC collection with links relative to this server.

    Copernicus' layer catalog has ``summaries.productIdentifier = {}`` (an empty object is
    neither a list, a range nor a JSON schema for STAC 1.0.0, so stac-validator refuses the
    collection); empty summaries are left out here. Its opensearch link has ``[0,10]`` in
    its query, which RFC 3986 (the API's ``format: uri``) allows only percent-encoded.
    """
    root = base_url(request)
    meta = sentinel2_l2a()
    meta["summaries"] = {key: value for key, value in meta["summaries"].items() if value != {}}
    extensions = [
        "https://stac-extensions.github.io/datacube/v2.2.0/schema.json",
        "https://stac-extensions.github.io/eo/v1.1.0/schema.json",
    ]
    own_links = [
        {"rel": "self", "href": f"{root}/collections/{meta['id']}", "type": "application/json"},
        {"rel": "parent", "href": f"{root}/collections", "type": "application/json"},
        {"rel": "root", "href": f"{root}/", "type": "application/json"},
        {
            "rel": QUERYABLES_REL,
            "href": f"{root}/collections/{meta['id']}/queryables",
            "type": QUERYABLES_TYPE,
        },
    ]
    # the layer catalog writes the start as a date; the API wants RFC 3339 date-times
    meta["extent"]["temporal"]["interval"] = [
        [_datetime(value) for value in interval]
        for interval in meta["extent"]["temporal"]["interval"]
    ]
    return {
        "stac_version": STAC_VERSION,
        "stac_extensions": extensions,
        "type": "Collection",
        **meta,
        "links": own_links + [{**link, "href": _uri(link["href"])} for link in meta["links"]],
    }


def _uri(href: str) -> str:
    """``href`` with the characters RFC 3986 does not allow in a URI percent-encoded."""
    return quote(href, safe=":/?#@!$&'()*+,;=%~")


def _datetime(value: str | None) -> str | None:
    if value is None or "T" in value:
        return value
    return f"{value}T00:00:00Z"


@router.get("/collections")
def collections(request: Request) -> JSONResponse:
    return JSONResponse({"collections": [collection_document(request)], "links": []})


@router.get("/collections/{collection_id}")
def collection(collection_id: str, request: Request) -> JSONResponse:
    return JSONResponse(_known(collection_id, request))


@router.get("/collections/{collection_id}/items", include_in_schema=False)
def collection_items(collection_id: str) -> JSONResponse:
    """STAC API's item search of a collection, not an openEO endpoint: Copernicus routes it
    (openeo-python-driver views.py L2320-2331) to its catalog's ``get_collection_items``,
    which openeo-geopyspark-driver does not implement, so any id answers the default's
    501 ``FeatureUnsupported`` (python-driver backend.py L302-306, errors.py L284-287)."""
    raise FeatureUnsupported("Feature not supported.")


@router.get("/collections/{collection_id}/queryables")
def collection_queryables(collection_id: str, request: Request) -> JSONResponse:
    """The ``properties`` a load_collection may filter on (hybrid.stac.item_properties), as
    a JSON Schema; others are refused there. Copernicus answers with its STAC API's
    queryables for SENTINEL2_L2A (openeo-geopyspark-driver layercatalog.py L977-986
    redirects to stac.dataspace.copernicus.eu), of which these are the ones hybrid reads
    from every provider."""
    from hybrid.stac.item_properties import queryables

    meta = _known(collection_id, request)
    body = {
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "$id": f"{base_url(request)}/collections/{meta['id']}/queryables",
        "type": "object",
        "title": meta["id"],
        "properties": queryables(),
        "additionalProperties": False,
    }
    return JSONResponse(body, media_type=QUERYABLES_TYPE)


def _known(collection_id: str, request: Request) -> dict[str, Any]:
    meta = collection_document(request)
    if collection_id != meta["id"]:
        raise CollectionNotFound(
            f"Collection '{collection_id}' does not exist: this backend has '{meta['id']}'."
        )
    return meta
