"""``GET /processes``: the processes the engine runs; ``/processes/{namespace}[/{id}]``: a
namespace's processes without authentication, as Copernicus serves them (openeo-python-
driver ``openeo_driver/views.py`` ``processes_from_namespace`` L782-820 and
``processes_details`` L822-843): ``u:{user}`` the user's published processes
(:mod:`hybrid.server.udp_sharing`), ``backend`` the predefined ones (the registry's
namespace, ``processes.py`` ``DEFAULT_NAMESPACE`` L78), any other namespace without ``:``
none (``get_specs(namespace=...)`` filters on it, L330-350)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from hybrid.errors import ProcessUnsupported
from hybrid.server.errors import BadRequest
from hybrid.server.payload import base_url
from hybrid.server.services import Deps
from hybrid.server.udp_sharing import USER_PREFIX, as_shown, public_process, public_processes

router = APIRouter()

#: the namespace of the predefined processes
PREDEFINED = "backend"
#: the fields a listing keeps unless ``full`` (views.py L805-809, backend.py L716-718)
_LISTED = ("id", "summary", "description", "parameters", "returns")


@router.get("/processes")
def processes(deps: Deps) -> JSONResponse:
    return JSONResponse({"processes": deps.engine.process_specs(), "links": []})


def _owner(namespace: str) -> str | None:
    if namespace.startswith(USER_PREFIX):
        return namespace[len(USER_PREFIX) :]
    if ":" in namespace:
        raise BadRequest(f"Could not handle namespace '{namespace}'.")
    return None


@router.get("/processes/{namespace}")
def namespace_processes(
    namespace: str, request: Request, deps: Deps, full: bool = False
) -> JSONResponse:
    owner = _owner(namespace)
    found: list[dict[str, Any]]
    if owner is None:
        found = deps.engine.process_specs() if namespace == PREDEFINED else []
    else:
        shown = [as_shown(p, base_url(request), owner) for p in public_processes(deps.udps, owner)]
        found = shown if full else [{k: p[k] for k in _LISTED if k in p} for p in shown]
    return JSONResponse({"processes": found, "links": []})


@router.get("/processes/{namespace}/{process_id}")
def namespace_process(
    namespace: str, process_id: str, request: Request, deps: Deps
) -> JSONResponse:
    owner = _owner(namespace)
    if owner is None:
        specs = deps.engine.process_specs() if namespace == PREDEFINED else []
        found = next((p for p in specs if p["id"] == process_id), None)
    else:
        stored = public_process(deps.udps, owner, process_id)
        found = None if stored is None else as_shown(stored, base_url(request), owner)
    if found is None:
        raise ProcessUnsupported(
            f"Process with identifier '{process_id}' is not available in namespace '{namespace}'."
        )
    return JSONResponse(found)
