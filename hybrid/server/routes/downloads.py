"""``GET /results/{token}/{filename}``: the signed result-download links of finished jobs.

Not an openEO endpoint (the links are the asset hrefs of ``GET /jobs/{id}/results``), so it
is left out of the capabilities and the OpenAPI document. ``HEAD`` answers the headers
(size, type) only, as Copernicus's links do (Flask routes answer HEAD with GET; its S3
links carry ``X-Proxy-Head-As-Get``): what fsspec and GDAL ask before reading a URL.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse

from hybrid.io.registry import media_type
from hybrid.server.services import Deps

router = APIRouter()


@router.api_route(
    "/results/{token}/{filename:path}", methods=["GET", "HEAD"], include_in_schema=False
)
def download(token: str, filename: str, deps: Deps) -> FileResponse:
    _, path = deps.links.resolve(
        token=token, filename=filename, result_dir_of=deps.runner.result_dir
    )
    return FileResponse(path, media_type=media_type(filename), filename=path.name)
