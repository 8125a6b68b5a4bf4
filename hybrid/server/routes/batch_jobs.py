"""The batch-job endpoints: ``/jobs``, ``/jobs/{id}``, its results and its logs."""

from __future__ import annotations

import functools
import json
import shutil
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from hybrid.server.auth import CurrentUser
from hybrid.server.errors import (
    BadRequest,
    JobLocked,
    JobNotFinished,
    JobTransitionNotImplemented,
    NoDataForUpdate,
    OffsetInvalid,
    PropertyNotEditable,
)
from hybrid.server.job_options import (
    check_job_options,
    job_options,
    unfetched_dependencies,
    uninstalled_udf_dependencies,
)
from hybrid.server.jobs import ACTIVE, LOG_LEVELS, Job, LogEntry, parse_utc, utc_now
from hybrid.server.paging import Limit, Paged
from hybrid.server.payload import Partial, base_url, log_level, process_graph, read_json
from hybrid.server.result_collection import result_collection
from hybrid.server.results import result_item
from hybrid.server.services import Deps, Services
from hybrid.server.sync_result import with_save_result

_EDITABLE = ("title", "description", "process", "plan", "budget", "log_level")

router = APIRouter()


def _summary(job: Job) -> dict[str, Any]:
    out: dict[str, Any] = {"id": job.id, "status": job.status, "created": job.created}
    out["updated"] = job.updated
    for key in ("title", "description", "plan", "budget"):
        value = getattr(job, key)
        if value is not None:
            out[key] = value
    # openeo-python-driver backend.py BatchJobMetadata.to_api_dict: "Clamp progress for
    # certain status values according to the spec" (created/queued 0, finished 100)
    progress = {"created": 0.0, "queued": 0.0, "finished": 100.0}.get(job.status, job.progress)
    if progress is not None:
        out["progress"] = progress
    return out


def _metadata(job: Job) -> dict[str, Any]:
    return {
        **_summary(job),
        **_accounting(job),
        "process": job.process,
        "log_level": job.log_level,
        "links": [],
    }


def _accounting(job: Job) -> dict[str, Any]:
    """``costs`` and ``usage`` of a job whose last run has ended, as Copernicus describes
    it: its job tracker records costs and usage when a job reaches a final status
    (openeo-geopyspark-driver ``job_tracker_v2.py`` L586-664), and openeo-python-driver's
    ``BatchJobMetadata.to_api_dict`` adds the wall time of the run as ``usage.duration``
    in whole seconds (``backend.py`` L405-411, L452-461). This backend charges nothing
    (``GET /jobs/{id}/estimate``): ``costs`` 0; it measures no CPU or memory time."""
    if job.status not in ("finished", "error", "canceled") or not (job.started and job.finished):
        return {}
    seconds = (parse_utc(job.finished) - parse_utc(job.started)).total_seconds()
    return {"costs": 0, "usage": {"duration": {"value": round(seconds), "unit": "seconds"}}}


def _job_fields(body: dict[str, Any]) -> dict[str, Any]:
    """The job's editable fields in ``body``; a null one is cleared (the API's title,
    description, plan and budget are nullable: a null budget is no limit), a budget is
    a number from 0 (openapi.yaml ``budget``: ``minimum: 0``; a boolean is none)."""
    fields: dict[str, Any] = {}
    for key in ("title", "description", "plan", "budget"):
        if key in body and body[key] is None:
            fields[key] = None
    for key in ("title", "description", "plan"):
        if body.get(key) is not None:
            if not isinstance(body[key], str):
                raise BadRequest(f"'{key}' must be a string.")
            fields[key] = body[key]
    if body.get("budget") is not None:
        budget = body["budget"]
        if isinstance(budget, bool) or not isinstance(budget, int | float) or budget < 0:
            raise BadRequest(
                f"'budget' must be a number from 0 (or null: no limit), not {repr(budget)[:40]}."
            )
        fields["budget"] = float(budget)
    level = log_level(body)
    if level is not None:
        fields["log_level"] = level
    return fields


def _saving(deps: Services, graph: dict[str, Any]) -> dict[str, Any]:
    """The graph as the job runs it: without save_result, a raster cube is written as
    GTiff and any other value as JSON, as Copernicus's batch job does
    (openeo-geopyspark-driver ``openeogeotrellis/deploy/batch_job.py`` L368-379)."""
    return with_save_result(graph, deps.engine.process_specs())


@router.post("/jobs", status_code=201)
async def create_job(request: Request, user: CurrentUser, deps: Deps) -> Response:
    """A job whose graph loads an unknown collection is created and fails when started,
    as on Copernicus (:mod:`hybrid.backends.local.graphcheck`); one without save_result
    writes its result as a synchronous request does (:func:`_saving`)."""
    body = await read_json(request)
    submitted = process_graph(body)
    fields = _job_fields(body)  # InvalidLogLevel before the graph is looked at, as there
    graph = await run_in_threadpool(deps.resolve, submitted, user.user_id, base_url(request))
    await run_in_threadpool(deps.engine.validate, _saving(deps, graph), job=True)
    options = job_options(body)
    job = deps.store.create(
        user_id=user.user_id,
        process=body["process"],
        root_url=base_url(request),
        job_options=options,
        **fields,
    )
    deps.store.log(job.id, "info", "Job created.")
    for message in unfetched_dependencies(options) + uninstalled_udf_dependencies(graph):
        deps.store.log(job.id, "warning", message)
    url = f"{base_url(request)}/jobs/{job.id}"
    return Response(status_code=201, headers={"Location": url, "OpenEO-Identifier": job.id})


@router.get("/jobs")
def list_jobs(request: Request, user: CurrentUser, deps: Deps, page: Paged) -> JSONResponse:
    jobs = deps.store.of_user(user.user_id, limit=page.asked, skip=page.skip)
    summaries = [_summary(j) for j in jobs[: page.limit]]
    return JSONResponse({"jobs": summaries, "links": page.links(request, len(jobs))})


@router.get("/jobs/{job_id}")
def describe_job(job_id: str, user: CurrentUser, deps: Deps) -> JSONResponse:
    return JSONResponse(_metadata(deps.store.get(job_id, user_id=user.user_id)))


@router.patch("/jobs/{job_id}", status_code=204)
async def update_job(job_id: str, request: Request, user: CurrentUser, deps: Deps) -> Response:
    job = deps.store.get(job_id, user_id=user.user_id)
    body = await read_json(request)
    unknown = sorted(set(body) - set(_EDITABLE))
    if unknown:
        raise PropertyNotEditable(f"The property '{unknown[0]}' is read-only or unknown.")
    if not body:
        raise NoDataForUpdate("No data specified to be updated.")
    if job.status in ACTIVE:
        raise JobLocked("Batch job is locked while it is queued or running: cancel it first.")
    fields = _job_fields(body)
    if "process" in body:
        graph = await run_in_threadpool(
            deps.resolve, process_graph(body), user.user_id, base_url(request)
        )
        await run_in_threadpool(deps.engine.validate, _saving(deps, graph), job=True)
        fields["process"] = body["process"]
        fields["root_url"] = base_url(request)
    deps.store.update(job_id, **fields)
    return Response(status_code=204)


@router.delete("/jobs/{job_id}", status_code=204)
def delete_job(job_id: str, user: CurrentUser, deps: Deps) -> Response:
    deps.store.get(job_id, user_id=user.user_id)
    deps.store.delete(job_id)
    deps.runner.cancel(job_id)
    shutil.rmtree(deps.runner.result_dir(job_id), ignore_errors=True)
    return Response(status_code=204)


@router.get("/jobs/{job_id}/estimate")
def estimate_job(job_id: str, user: CurrentUser, deps: Deps) -> JSONResponse:
    """The local emulator charges nothing; duration and size are not known beforehand.

    ``downloads_included`` is left out: its default, null, means unlimited downloads."""
    deps.store.get(job_id, user_id=user.user_id)
    return JSONResponse({"costs": 0})


@router.post("/jobs/{job_id}/results", status_code=202)
def start_job(job_id: str, user: CurrentUser, deps: Deps) -> Response:
    """Queue the job; a queued or running one is left as it is, and options Copernicus
    refuses when a job starts are refused (:mod:`hybrid.server.job_options`).

    As Copernicus (openeo-python-driver views.py L1020-1031, openeo-geopyspark-driver
    backend.py L1936-1959): a canceled job is not started again, a 501
    JobTransitionNotImplemented. A finished or failed job runs again: Copernicus answers
    202 and leaves it as it is, which the openEO API 1.2 does not allow (openapi.yaml
    L3375-3378: such a job restarts unless the request is rejected with an error)."""
    job = deps.store.get(job_id, user_id=user.user_id)
    if job.status in ACTIVE:
        return Response(status_code=202)
    if job.status == "canceled":
        raise JobTransitionNotImplemented(
            f"Backend does not implement start job for state {job.status}"
        )
    check_job_options(job.job_options)
    if deps.store.update(
        job_id,
        expect=(job.status,),
        status="queued",
        progress=None,
        attempts=0,
        started=None,
        finished=None,
        error_code=None,
        error_message=None,
        error_node=None,
        files=[],
        assets={},
    ):
        deps.store.log(job_id, "info", "Job queued.")
        deps.runner.submit(job_id)
    return Response(status_code=202)


@router.get("/jobs/{job_id}/results")
def job_results(
    job_id: str, request: Request, user: CurrentUser, deps: Deps, partial: Partial
) -> JSONResponse:
    job = deps.store.get(job_id, user_id=user.user_id)
    if job.status != "finished" and not partial:
        raise JobNotFinished(_not_finished(job))
    media = _results_media_type(request)
    describe = (
        result_item
        if media == "application/geo+json"
        else functools.partial(result_collection, partial=partial)
    )
    document = describe(
        job,
        base_url=base_url(request),
        links=deps.links,
        result_dir=deps.runner.result_dir(job_id),
    )
    # API 1.2: OpenEO-Costs "MUST be set to 0" for the owner with free downloads left, as
    # every owner here (GET /jobs/{id}/estimate: costs 0, downloads unlimited); Copernicus
    # sends none (openeo-python-driver views.py: only OpenEO-Costs-experimental on /result)
    return JSONResponse(document, media_type=media, headers={"OpenEO-Costs": "0"})


def _results_media_type(request: Request) -> str:
    """``application/json``, the media type the openEO API 1.2 gives this response
    (openapi.yaml ``/jobs/{job_id}/results`` 200 ``content``) and Copernicus sends
    (openeo-python-driver ``views.py`` ``_list_job_results``: ``jsonify``) with a STAC
    Collection; a STAC Item, the API's only shape for GeoJSON, when the client asks for
    ``application/geo+json``, the content negotiation the spec describes."""
    accept = request.headers.get("accept", "")
    return "application/geo+json" if "application/geo+json" in accept else "application/json"


@router.delete("/jobs/{job_id}/results", status_code=204)
def cancel_job(job_id: str, user: CurrentUser, deps: Deps) -> Response:
    deps.store.get(job_id, user_id=user.user_id)
    if deps.store.update(
        job_id, expect=ACTIVE, status="canceled", progress=None, finished=utc_now()
    ):
        deps.store.log(job_id, "info", "Job canceled by the user.")
        deps.runner.cancel(job_id)
    return Response(status_code=204)


def _log_entry(entry: LogEntry) -> dict[str, Any]:
    log: dict[str, Any] = {
        "id": entry.id,
        "level": entry.level,
        "message": entry.message,
        "time": entry.time,
    }
    if entry.code:
        log["code"] = entry.code
    if entry.node:
        log["path"] = [{"node_id": entry.node}]
    if entry.data is not None:
        log["data"] = entry.data
    return log


@router.get("/jobs/{job_id}/logs")
def job_logs(
    job_id: str,
    request: Request,
    user: CurrentUser,
    deps: Deps,
    limit: Limit,
    offset: str | None = None,
    level: str = "debug",
) -> JSONResponse:
    """The job's log entries at the ``level`` asked for or above, as Copernicus reads it
    (:func:`_retrieval_level`) and writes it back in the answer (openeo-python-driver
    views.py ``get_job_logs`` L1917-1972), and at the job's own ``log_level`` or above
    (what its run wrote)."""
    job = deps.store.get(job_id, user_id=user.user_id)
    _check_offset(offset)
    effective = max(_retrieval_level(level), job.log_level, key=LOG_LEVELS.index)
    entries = deps.store.logs(job_id, offset=offset, level=effective, limit=limit)
    page_links = []
    if limit is not None and len(entries) == limit:
        query = urlencode({"offset": entries[-1].id, "level": level, "limit": limit})
        href = f"{base_url(request)}/jobs/{job_id}/logs?{query}"
        page_links.append({"rel": "next", "href": href})
    logs = [_log_entry(entry) for entry in entries]
    return JSONResponse({"level": level, "logs": logs, "links": page_links})


def _retrieval_level(level: str) -> str:
    """The lowest level of the entries answered for the query's ``level``, read as
    Copernicus reads it with the openeo client's ``normalize_log_level`` (openeo-geopyspark-
    driver ``logs.py`` L103-112; openeo ``rest/models/logs.py`` L61-94): any case,
    ``critical``/``fatal`` as error, ``warn`` as warning, and any other text (an empty one
    too) as debug, never refused."""
    upper = level.upper()
    if upper in ("CRITICAL", "ERROR", "FATAL"):
        return "error"
    if upper in ("WARNING", "WARN"):
        return "warning"
    return "info" if upper == "INFO" else "debug"


def _check_offset(offset: str | None) -> None:
    """Copernicus's log offsets are JSON (Elasticsearch sort keys; this server's ids are
    JSON numbers): other text is its 400 ``OffsetInvalid`` (openeo-geopyspark-driver
    ``logs.py`` L58-68)."""
    if offset in (None, ""):
        return
    try:
        json.loads(str(offset))
    except ValueError:
        raise OffsetInvalid(
            f"The value passed for the query parameter 'offset' is invalid: {offset}"
        ) from None


def _not_finished(job: Job) -> str:
    """The message of ``JobNotFinished``, which Copernicus answers (400) for every status
    but ``finished``, a failed job's too (openeo-python-driver views.py
    ``_list_job_results`` L1089-1091, errors.py ``JobNotFinishedException`` L316-321; the
    API suggests a 424); a failed job's message names its error (openEO code, message,
    node), as its logs do."""
    if job.status == "error":
        node = f" (process node '{job.error_node}')" if job.error_node else ""
        code = f"[{job.error_code}] " if job.error_code else ""
        return (
            f"Batch job has not finished computing the results: it failed (status 'error'): "
            f"{code}{job.error_message or 'no reason recorded'}{node}; "
            f"see GET /jobs/{job.id}/logs, "
            f"and start it again with POST /jobs/{job.id}/results."
        )
    return (
        f"Batch job has not finished computing the results yet (status {job.status!r}): "
        f"poll GET /jobs/{job.id} until it is 'finished'."
    )
