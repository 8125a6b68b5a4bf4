"""The emulator's own OpenAPI document: the openEO API 1.2 filtered to what it implements.

Served at ``GET /openapi.json`` and linked from ``GET /`` with ``rel: service-desc`` (the
API's capabilities: "service-desc ... A link to the API definition", machine-readable).
FastAPI lists the routes and their path and query parameters; :data:`OPERATIONS` adds what
the handlers do not declare (they read raw JSON and answer ``JSONResponse``): each
operation's success status and body (:mod:`hybrid.server.api_shapes`,
:mod:`hybrid.server.job_shapes`), its request body,
response headers, and the API's ``4XX``/``5XX`` error object. Security follows the API:
Bearer on the routes that depend on the current user, Basic on ``/credentials/basic``,
optional Bearer on ``/validation``. A route without an entry here fails the build of the
document (``tests/server/test_server_openapi.py``), so nothing is served undocumented.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import TypeAdapter

try:
    from fastapi.routing import iter_route_contexts
except ImportError:  # FastAPI < 0.165 keeps included routes flat in app.routes
    iter_route_contexts = iter  # type: ignore[assignment]

from hybrid.io.registry import FORMATS
from hybrid.limits import MAX_PAGE_SIZE
from hybrid.server import api_shapes as shapes
from hybrid.server import job_shapes
from hybrid.server.auth import current_user

#: the media type of an OpenAPI 3.1 JSON document (the ``service-desc`` link's type)
MEDIA_TYPE = "application/vnd.oai.openapi+json;version=3.1"
PATH = "/openapi.json"
_REF = "#/components/schemas/{model}"


@dataclass(frozen=True)
class Operation:
    """What one operation answers (``shape`` None: no body) and what it reads."""

    status: int
    shape: Any = None
    media_types: tuple[str, ...] = ("application/json",)
    body: Any = None
    headers: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: other answers than the API's error object: status -> (description, shape)
    other: dict[int, tuple[str, Any]] = field(default_factory=dict)
    #: a shape of its own for some media types (the others: ``shape``)
    media_shapes: dict[str, Any] = field(default_factory=dict)


_CREATED_HEADERS = {
    "Location": {"required": True, "schema": {"type": "string", "format": "uri"}},
    "OpenEO-Identifier": {"required": True, "schema": {"type": "string"}},
}
_RESULT_MEDIA_TYPES = tuple(dict.fromkeys(fmt.media_type for fmt in FORMATS))

OPERATIONS: dict[tuple[str, str], Operation] = {
    ("GET", "/"): Operation(200, shapes.Capabilities),
    ("GET", "/.well-known/openeo"): Operation(200, shapes.WellKnown),
    ("GET", "/conformance"): Operation(200, shapes.Conformance),
    ("GET", "/file_formats"): Operation(200, shapes.FileFormats),
    ("GET", "/service_types"): Operation(200, dict[str, shapes.ServiceType]),
    ("GET", "/collections"): Operation(200, shapes.Collections),
    ("GET", "/collections/{collection_id}"): Operation(200, shapes.Collection),
    ("GET", "/collections/{collection_id}/queryables"): Operation(
        200, dict[str, Any], ("application/schema+json",)
    ),
    ("GET", "/processes"): Operation(200, shapes.Processes),
    # Copernicus's non-standard public namespaces (openeo_driver/views.py L782-843)
    ("GET", "/processes/{namespace}"): Operation(200, shapes.Processes | shapes.StoredProcesses),
    ("GET", "/processes/{namespace}/{process_id}"): Operation(
        200, shapes.Process | shapes.ProcessDescription
    ),
    ("GET", "/udf_runtimes"): Operation(200, dict[str, shapes.UdfRuntime]),
    ("GET", "/credentials/basic"): Operation(200, shapes.BasicToken),
    ("GET", "/credentials/oidc"): Operation(200, shapes.OidcProviders),
    ("GET", "/me"): Operation(200, shapes.Me),
    ("POST", "/validation"): Operation(200, shapes.ValidationResult, body=shapes.Process),
    ("POST", "/result"): Operation(200, None, _RESULT_MEDIA_TYPES, body=job_shapes.SyncRequest),
    ("GET", "/process_graphs"): Operation(200, shapes.StoredProcesses),
    ("GET", "/process_graphs/{process_graph_id}"): Operation(200, shapes.Process),
    ("PUT", "/process_graphs/{process_graph_id}"): Operation(200, body=shapes.Process),
    ("DELETE", "/process_graphs/{process_graph_id}"): Operation(204),
    ("GET", "/jobs"): Operation(200, job_shapes.Jobs),
    ("POST", "/jobs"): Operation(201, body=job_shapes.JobRequest, headers=_CREATED_HEADERS),
    ("GET", "/jobs/{job_id}"): Operation(200, job_shapes.JobMetadata),
    ("PATCH", "/jobs/{job_id}"): Operation(204, body=job_shapes.JobUpdate),
    ("DELETE", "/jobs/{job_id}"): Operation(204),
    ("GET", "/jobs/{job_id}/estimate"): Operation(200, job_shapes.Estimate),
    ("POST", "/jobs/{job_id}/results"): Operation(202),
    ("GET", "/jobs/{job_id}/results"): Operation(  # API 1.2: JSON, Item or Collection
        200,
        job_shapes.JobResultsCollection | job_shapes.JobResults,
        ("application/json", "application/geo+json"),  # GeoJSON when asked for: the Item
        media_shapes={"application/geo+json": job_shapes.JobResults},
        headers={"OpenEO-Costs": {"schema": {"type": "number", "minimum": 0}}},
    ),
    ("DELETE", "/jobs/{job_id}/results"): Operation(204),
    ("GET", "/jobs/{job_id}/logs"): Operation(200, job_shapes.Logs),
    # none offered: an empty list, creating one 400 ServiceUnsupported, any id 404
    ("GET", "/services"): Operation(200, shapes.Services),
    ("POST", "/services"): Operation(201, body=shapes.ServiceRequest, headers=_CREATED_HEADERS),
    ("GET", "/services/{service_id}"): Operation(200, shapes.Service),
    ("PATCH", "/services/{service_id}"): Operation(204, body=dict[str, Any]),
    ("DELETE", "/services/{service_id}"): Operation(204),
    ("GET", "/services/{service_id}/logs"): Operation(200, job_shapes.Logs),
}

#: query and path parameters as the API describes them (FastAPI sees strings)
PARAMETERS: dict[str, dict[str, Any]] = {
    "limit": {
        "description": f"Page size, 1..{MAX_PAGE_SIZE}; empty or absent: all.",
        "allowEmptyValue": True,
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
    },
    "offset": {"allowEmptyValue": True, "schema": {"type": "string"}},
    "level": {  # the API's text says the default is debug (its schema: info)
        "description": (
            "The minimum severity of the log entries returned (default: all): error, "
            "warning, info or debug in any case, critical and fatal as error, warn as "
            "warning; any other text is debug (Copernicus refuses none)."
        ),
        "allowEmptyValue": True,
        "schema": {"type": "string", "default": "debug"},
    },
    "partial": {"schema": {"type": "boolean", "default": False}},
    "job_id": {"schema": {"type": "string", "pattern": r"^[\w\-\.~]+$"}},
    "collection_id": {"schema": {"type": "string", "pattern": r"^[\w\-\.~\/]+$"}},
    "process_graph_id": {"schema": {"type": "string", "pattern": r"^\w+$"}},
    "service_id": {"schema": {"type": "string", "pattern": r"^[\w\-\.~]+$"}},
}

_SECURITY_SCHEMES = {
    "Bearer": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "basic//TOKEN or oidc/PROVIDER/TOKEN (openEO API 1.2)",
    },
    "Basic": {"type": "http", "scheme": "basic"},
}
_PUBLIC_BUT_PERSONAL = {("POST", "/validation")}
_BASIC = {("GET", "/credentials/basic")}


def document(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``app``'s openEO routes (KeyError: an undocumented one)."""
    doc = get_openapi(
        title=app.title,
        version=app.version,
        summary="openEO API 1.2, filtered to what this backend implements",
        description="The openEO API 1.2 (https://api.openeo.org/1.2.0/) as served by the "
        "local emulator (`hybrid serve`): only the endpoints it implements.",
        routes=app.routes,
    )
    schemas: dict[str, Any] = {}
    protected = _protected_routes(app)
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            key = (method.upper(), path)
            if key not in OPERATIONS:
                raise KeyError(f"{key[0]} {path} has no entry in api_document.OPERATIONS")
            _describe(operation, OPERATIONS[key], schemas)
            operation["security"] = _security(key, protected)
    doc["components"] = {"schemas": schemas, "securitySchemes": copy.deepcopy(_SECURITY_SCHEMES)}
    return doc


def install(app: FastAPI) -> None:
    """Serve :func:`document` (built once, on the first request) as ``app.openapi()``."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _describe(operation: dict[str, Any], spec: Operation, schemas: dict[str, Any]) -> None:
    for parameter in operation.get("parameters", []):
        parameter.update(copy.deepcopy(PARAMETERS.get(parameter["name"], {})))
    responses: dict[str, Any] = {str(spec.status): _answer(spec, schemas)}
    for status, (description, shape) in spec.other.items():
        responses[str(status)] = _json(description, shape, schemas)
    error = _json("The openEO error object.", shapes.Error, schemas)
    responses["4XX"] = error
    responses["5XX"] = {**error, "description": "A server error (never on purpose)."}
    operation["responses"] = responses
    if spec.body is not None:
        body = {"application/json": {"schema": _schema(spec.body, schemas)}}
        operation["requestBody"] = {"required": True, "content": body}


def _answer(spec: Operation, schemas: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": "Success."}
    if spec.status != 204 and (spec.shape is not None or spec.media_types != ("application/json",)):
        answer["content"] = {}
        for media in spec.media_types:
            shape = spec.media_shapes.get(media, spec.shape)
            schema = _schema(shape, schemas) if shape is not None else {}
            answer["content"][media] = {"schema": schema}
    if spec.headers:
        answer["headers"] = copy.deepcopy(spec.headers)
    return answer


def _json(description: str, shape: Any, schemas: dict[str, Any]) -> dict[str, Any]:
    schema = _schema(shape, schemas)
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _schema(shape: Any, schemas: dict[str, Any]) -> dict[str, Any]:
    """JSON Schema of ``shape``: a ``$ref`` for a named type (collected in ``schemas``)."""
    found = TypeAdapter(shape).json_schema(ref_template=_REF)
    schemas.update(found.pop("$defs", {}))
    if isinstance(shape, type):
        schemas[shape.__name__] = found
        return {"$ref": _REF.format(model=shape.__name__)}
    return found


def _protected_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(METHOD, path) of the routes that depend on the authenticated user."""
    found: set[tuple[str, str]] = set()
    for route in iter_route_contexts(app.routes):
        original = route.original_route
        if isinstance(original, APIRoute) and _needs_user(original.dependant):
            found.update((method, str(route.path)) for method in route.methods or ())
    return found


def _needs_user(dependant: Any) -> bool:
    return any(dep.call is current_user or _needs_user(dep) for dep in dependant.dependencies)


def _security(key: tuple[str, str], protected: set[tuple[str, str]]) -> list[dict[str, Any]]:
    if key in _BASIC:
        return [{"Basic": []}]
    if key in _PUBLIC_BUT_PERSONAL:
        return [{}, {"Bearer": []}]
    return [{"Bearer": []}] if key in protected else []
