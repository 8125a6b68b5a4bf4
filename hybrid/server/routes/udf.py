"""``GET /udf_runtimes``: the UDF runtimes the engine offers (openEO API 1.2, UDF group).

Public, like on Copernicus (openeo-python-driver ``views.py`` ``udf_runtimes``). An
engine that does not run UDFs (not :class:`hybrid.backends.base.RunsUdfs`) offers none: ``{}``.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from hybrid.backends.base import RunsUdfs
from hybrid.server.services import Deps

router = APIRouter()


@router.get("/udf_runtimes")
def udf_runtimes(deps: Deps) -> JSONResponse:
    engine = deps.engine
    return JSONResponse(engine.udf_runtimes() if isinstance(engine, RunsUdfs) else {})
