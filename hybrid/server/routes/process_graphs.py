"""``/process_graphs``: each user's own user-defined processes (list, get, put, delete).

A stored process is checked on PUT: a process graph within the graph limits, an id of
word characters, parameters as a list, no loop of processes calling each other. A
process it calls that is neither predefined nor stored (yet) is no error, as Copernicus
stores any body with a ``process_graph`` (openeo-python-driver views.py ``udp_store``
L2107-2121): a script may store the outer process first; a run of it names what is
missing. Graphs use it by id (namespace
``user`` or none), other users by its canonical URL when it is public
(:mod:`hybrid.server.udp_sharing`); :mod:`hybrid.server.udp_expansion` inlines it before
the engine runs.
"""

from __future__ import annotations

import contextlib
import re
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from hybrid.errors import HybridError, ProcessGraphInvalid, ProcessUnsupported
from hybrid.server.auth import CurrentUser
from hybrid.server.errors import InvalidId, ProcessGraphMissing
from hybrid.server.paging import Paged
from hybrid.server.payload import base_url, process_graph, read_json
from hybrid.server.services import Deps
from hybrid.server.udp_expansion import expand
from hybrid.server.udp_sharing import as_shown, calls_predefined, lookup

router = APIRouter()

#: the API's ``process_id`` pattern (openapi.yaml components/schemas/process_id)
_ID = re.compile(r"^\w+$")
#: the fields of a process description the list shows (the spec's user_defined_process_meta)
_SUMMARY_FIELDS = ("id", "summary", "description", "parameters", "returns", "categories")


def _valid_id(process_id: str) -> None:
    """The id a stored process can have (PUT, GET and DELETE check it, as Copernicus)."""
    if not _ID.fullmatch(process_id):
        raise InvalidId(
            f"The process id '{process_id[:60]}' must consist of word characters "
            r"(letters, digits, _: ^\w+$)."
        )


def _checked(
    process_id: str, body: dict[str, Any], user_id: str, deps: Deps, own_root: str
) -> dict[str, Any]:
    _valid_id(process_id)
    # the spec (PUT /process_graphs/{id}): a differing body id is replaced by the path's
    if not isinstance(body.get("parameters", []), list):
        raise ProcessGraphInvalid("'parameters' must be a list of parameter descriptions.")
    for parameter in body.get("parameters") or []:
        if not isinstance(parameter, dict) or not isinstance(parameter.get("name"), str):
            raise ProcessGraphInvalid("Every parameter needs a 'name'.")
    if not isinstance(body.get("public", False), bool):
        raise ProcessGraphInvalid("'public' must be true or false.")
    if "process_graph" not in body:  # Copernicus's words (errors.py ProcessGraphMissing)
        raise ProcessGraphMissing("Invalid process specified. It doesn't contain a process graph.")
    process_graph({"process": body})  # a graph within the limits
    process = {**body, "id": process_id}

    # Copernicus stores a process without reading the URLs its nodes call
    others = lookup(deps.udps, user_id, own_root, fetch=False, predefined=deps.predefined)

    def find(pid: str, namespace: str | None) -> dict[str, Any] | None:
        # a call without namespace of a predefined id is the predefined process, so a
        # stored ``ndvi`` may call ``ndvi``
        itself = namespace in (None, "user") and not calls_predefined(
            pid, namespace, deps.predefined
        )
        if pid == process_id and itself:
            return process
        return others(pid, namespace)

    # loops through other stored processes surface here; a process not stored yet is not
    # an error until a run
    try:
        with contextlib.suppress(ProcessUnsupported):
            expand({_CALL: {"process_id": process_id, "arguments": {}}}, _lenient(find))
    except HybridError as exc:
        if exc.node == _CALL:  # a node of the check's own, not of the user's graph
            exc.node = None
        raise
    return process


#: the node that calls the process being stored, to expand it
_CALL = "_"


def _lenient(lookup: Any) -> Any:
    """``lookup`` for a validation expansion: parameters are filled with null."""

    def find(pid: str, namespace: str | None) -> dict[str, Any] | None:
        found = lookup(pid, namespace)
        if found is None:
            return None
        return {**found, "parameters": None}

    return find


@router.get("/process_graphs")
def list_process_graphs(
    request: Request, user: CurrentUser, deps: Deps, page: Paged
) -> JSONResponse:
    found = deps.udps.of_user(user.user_id, limit=page.asked, skip=page.skip)
    processes = [{key: p[key] for key in _SUMMARY_FIELDS if key in p} for p in found[: page.limit]]
    return JSONResponse({"processes": processes, "links": page.links(request, len(found))})


@router.get("/process_graphs/{process_graph_id}")
def get_process_graph(
    process_graph_id: str, request: Request, user: CurrentUser, deps: Deps
) -> JSONResponse:
    _valid_id(process_graph_id)
    found = deps.udps.get(user.user_id, process_graph_id)
    return JSONResponse(as_shown(found, base_url(request), user.user_id))


@router.put("/process_graphs/{process_graph_id}")
async def put_process_graph(
    process_graph_id: str, request: Request, user: CurrentUser, deps: Deps
) -> Response:
    body = await read_json(request)
    # the first call imports the engine's process catalogue: not on the event loop
    process = await run_in_threadpool(
        _checked, process_graph_id, body, user.user_id, deps, base_url(request)
    )
    deps.udps.put(user.user_id, process)
    return Response(status_code=200)


@router.delete("/process_graphs/{process_graph_id}", status_code=204)
def delete_process_graph(process_graph_id: str, user: CurrentUser, deps: Deps) -> Response:
    _valid_id(process_graph_id)
    deps.udps.delete(user.user_id, process_graph_id)
    return Response(status_code=204)
