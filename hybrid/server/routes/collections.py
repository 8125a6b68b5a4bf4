"""``GET /collections`` and ``GET /collections/{collection_id}``: the one collection."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from hybrid.collection import sentinel2_l2a
from hybrid.errors import CollectionNotFound
from hybrid.server.payload import base_url
from hybrid.server.results import STAC_VERSION

router = APIRouter()


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
    meta = collection_document(request)
    if collection_id != meta["id"]:
        raise CollectionNotFound(
            f"Collection '{collection_id}' does not exist: this backend has '{meta['id']}'."
        )
    return JSONResponse(meta)
