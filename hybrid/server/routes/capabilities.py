"""``GET /``, ``/.well-known/openeo``, ``/conformance`` and ``/file_formats``.

The capabilities' endpoint list is derived from the app's own routes: a route module
added to :data:`hybrid.server.routes.ROUTERS` appears there without another edit.
"""

from __future__ import annotations

from importlib import metadata
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from hybrid.io.registry import file_formats_document
from hybrid.server import api_document
from hybrid.server.api_document import iter_route_contexts
from hybrid.server.payload import base_url
from hybrid.server.results import STAC_VERSION
from hybrid.server.services import Deps

API_VERSION = "1.2.0"

#: as Copernicus declares them (openeo-python-driver ``backend.py`` L903-913), but for the
#: processing-parameters extension: there is no ``/processing_parameters`` here
CONFORMANCE = (
    "https://api.openeo.org/1.2.0",
    # namespace URLs (hybrid.server.remote_processes) and canonical links of shared UDPs
    "https://api.openeo.org/extensions/remote-process-definition/0.1.0",
    "https://api.stacspec.org/v1.0.0/collections",
)

router = APIRouter()


def backend_version() -> str:
    try:
        return metadata.version("hybrid")
    except metadata.PackageNotFoundError:
        return "0.1.0"


def endpoints(app: FastAPI) -> list[dict[str, Any]]:
    """The openEO endpoints the app serves: its routes, less ``/`` and non-API routes.

    Routes outside the openEO API (the OIDC provider, signed downloads) are registered with
    ``include_in_schema=False`` and so are left out; HEAD is implied by GET.
    """
    methods: dict[str, set[str]] = {}
    for route in iter_route_contexts(app.routes):
        if not isinstance(route.original_route, APIRoute) or route.path in (None, "/"):
            continue
        if route.include_in_schema:
            methods.setdefault(route.path, set()).update((route.methods or set()) - {"HEAD"})
    order = ("GET", "POST", "PUT", "PATCH", "DELETE")
    return [
        {"path": path, "methods": sorted(found, key=order.index)} for path, found in methods.items()
    ]


@router.get("/")
def capabilities(request: Request, deps: Deps) -> JSONResponse:
    root = base_url(request)
    settings = deps.settings
    return JSONResponse(
        {
            "api_version": API_VERSION,
            "backend_version": backend_version(),
            "stac_version": STAC_VERSION,
            "type": "Catalog",
            "id": settings.backend_id,
            "title": settings.title,
            "description": "A local emulation of an openEO API 1.2 backend: the Copernicus "
            f"SENTINEL2_L2A NDVI workflow runs offline on the '{deps.engine.name}' engine.",
            "production": False,
            "conformsTo": list(CONFORMANCE),
            "endpoints": endpoints(request.app),
            # Copernicus bills in credits (geopyspark-driver 9baf2e10 backend.py
            # ``capabilities_billing`` L405-408); the client's ``currency()`` reads it
            "billing": {"currency": "credits"},
            "links": [
                {"rel": "self", "href": f"{root}/", "type": "application/json"},
                {"rel": "data", "href": f"{root}/collections", "type": "application/json"},
                {"rel": "conformance", "href": f"{root}/conformance"},
                {"rel": "version-history", "href": f"{root}/.well-known/openeo"},
                {
                    "rel": "service-desc",
                    "href": f"{root}{api_document.PATH}",
                    "type": api_document.MEDIA_TYPE,
                },
            ],
        }
    )


@router.get("/.well-known/openeo")
def well_known(request: Request) -> JSONResponse:
    version = {"url": f"{base_url(request)}/", "api_version": API_VERSION, "production": False}
    return JSONResponse({"versions": [version]})


@router.get("/conformance")
def conformance() -> JSONResponse:
    return JSONResponse({"conformsTo": list(CONFORMANCE)})


@router.get("/service_types")
def service_types() -> JSONResponse:
    """No secondary web services (WMTS, XYZ, ...): an empty map."""
    return JSONResponse({})


@router.get("/file_formats")
def file_formats() -> JSONResponse:
    return JSONResponse(file_formats_document())
