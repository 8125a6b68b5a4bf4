"""``GET /processes``: the processes the engine runs."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from hybrid.server.services import Deps

router = APIRouter()


@router.get("/processes")
def processes(deps: Deps) -> JSONResponse:
    return JSONResponse({"processes": deps.engine.process_specs(), "links": []})
