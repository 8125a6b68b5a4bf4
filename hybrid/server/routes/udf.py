"""``GET /udf_runtimes``: the UDF runtimes the engine offers (openEO API 1.2, UDF group).

Public, like on Copernicus (openeo-python-driver ``views.py`` ``udf_runtimes``). An
engine without UDF support (no ``udf_runtimes()``) offers none: ``{}``.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from hybrid.server.services import Deps

router = APIRouter()


@router.get("/udf_runtimes")
def udf_runtimes(deps: Deps) -> JSONResponse:
    runtimes = getattr(deps.engine, "udf_runtimes", None)
    return JSONResponse(runtimes() if callable(runtimes) else {})
