"""``GET /results/{token}/{filename}``: the signed result-download links of finished jobs,
``GET /jobs/{id}/results/items/{token}/{filename}``: the signed STAC Item of each, and
``GET /jobs/{id}/results/{token}``: the signed results Collection (its ``canonical`` link).

Not an openEO endpoint (the links are the asset hrefs of ``GET /jobs/{id}/results``), so it
is left out of the capabilities and the OpenAPI document. ``HEAD`` answers GET's status
and headers (size, type) only, as Copernicus's links do (Flask routes answer HEAD with GET;
its S3 links carry ``X-Proxy-Head-As-Get``): what fsspec and GDAL ask before reading a URL.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse

from hybrid.io.model_item import METADATA_FILE
from hybrid.io.registry import media_type
from hybrid.server.errors import FileNotFound
from hybrid.server.payload import Partial, base_url
from hybrid.server.services import Deps

router = APIRouter()


@router.api_route(
    "/results/{token}/{filename:path}", methods=["GET", "HEAD"], include_in_schema=False
)
def download(token: str, filename: str, request: Request, deps: Deps) -> FileResponse:
    """The file with the headers Flask sends, in the byte range asked for when Copernicus
    serves that range, else its 416, with ``If-Range`` as werkzeug decides it, and its 304
    (412) to ``If-None-Match``, ``If-Modified-Since`` (``If-Match``)
    (:mod:`hybrid.server.byte_ranges`, :mod:`hybrid.server.conditional`)."""
    from hybrid.server.byte_ranges import ResultFile

    _, path = deps.links.resolve(
        token=token, filename=filename, result_dir_of=deps.runner.result_dir
    )
    return ResultFile(
        path, media_type=media_type(filename), stat=path.stat(), request_headers=request.headers
    )


@router.get("/jobs/{job_id}/results/items/{token}/{item_id:path}", include_in_schema=False)
def result_item(
    job_id: str, token: str, item_id: str, request: Request, deps: Deps
) -> JSONResponse:
    """The STAC Item of one result file (:mod:`hybrid.server.result_items`), opened by the
    signed link the results Collection gives, without credentials."""
    from hybrid.server.result_items import ITEM_MEDIA_TYPE, asset_item

    claimed, _ = deps.links.resolve(
        token=token, filename=item_id, result_dir_of=deps.runner.result_dir
    )
    if claimed != job_id:
        raise FileNotFound(f"File {item_id!r} does not exist.")
    job = deps.store.get(job_id)
    if job.status != "finished" or item_id not in job.files:
        raise FileNotFound(f"File {item_id!r} does not exist.")
    if item_id == METADATA_FILE:  # a saved model's own Item
        from hybrid.server.model_results import served_model_item

        model = served_model_item(
            job, base_url=base_url(request), links=deps.links,
            result_dir=deps.runner.result_dir(job_id),
        )  # fmt: skip
        return JSONResponse(model, media_type=ITEM_MEDIA_TYPE)
    item = asset_item(
        job,
        item_id,
        base_url=base_url(request),
        links=deps.links,
        result_dir=deps.runner.result_dir(job_id),
    )
    return JSONResponse(item, media_type=ITEM_MEDIA_TYPE)


@router.get("/jobs/{job_id}/results/{token}", include_in_schema=False)
def signed_results(
    job_id: str, token: str, request: Request, deps: Deps, partial: Partial
) -> JSONResponse:
    """The results Collection of a finished job, opened by its signed ``canonical`` link
    without credentials, as Copernicus's ``list_job_results_signed`` (openeo-python-driver
    views.py L1041-1050); with ``partial`` (the canonical link of a partial answer) of a
    job in any state, with its ``openeo:status``."""
    from hybrid.server.result_collection import result_collection

    deps.links.resolve_results(token=token, job_id=job_id)
    job = deps.store.get(job_id)
    if job.status != "finished" and not partial:
        raise FileNotFound(f"The results of batch job {job_id!r} do not exist.")
    document = result_collection(
        job,
        base_url=base_url(request),
        links=deps.links,
        result_dir=deps.runner.result_dir(job_id),
        partial=partial,
    )
    return JSONResponse(document)
