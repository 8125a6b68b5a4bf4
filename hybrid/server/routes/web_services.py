"""Secondary web services (``/services``): the API's endpoints, with none to offer.

``GET /service_types`` is empty, so the list of a user's services is empty too, creating
one is refused as its type is not supported (400 ``ServiceUnsupported``) and any service
id is unknown (404 ``ServiceNotFound``): the API's answer of a backend without service
types (the conformance suite's WP4 reads ``/service_types``). Copernicus registers none of
these routes (openeo-python-driver ``views.py`` L266-269 only with a ``secondary_services``
implementation, which openeo-geopyspark-driver ``backend.py`` L384-399 does not pass), so
there they are 404 ``NotFound`` and ``openeo.Connection.list_services()`` fails.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from hybrid.server.auth import CurrentUser
from hybrid.server.errors import ServiceNotFound, ServiceUnsupported
from hybrid.server.payload import read_json

router = APIRouter()


@router.get("/services")
def list_services(user: CurrentUser) -> JSONResponse:
    return JSONResponse({"services": [], "links": []})


@router.post("/services", status_code=201)
async def create_service(request: Request, user: CurrentUser) -> None:
    body = await read_json(request)
    kind = body.get("type")
    raise ServiceUnsupported(
        f"Service type {kind!r} is not supported: this backend offers no secondary web "
        "services (GET /service_types is empty); download the result with POST /result or "
        "a batch job instead."
    )


@router.get("/services/{service_id}")
@router.patch("/services/{service_id}", status_code=204)
@router.delete("/services/{service_id}", status_code=204)
@router.get("/services/{service_id}/logs")
def unknown_service(service_id: str, user: CurrentUser) -> None:
    raise ServiceNotFound(f"Service {service_id!r} does not exist.")
