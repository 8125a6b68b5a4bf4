"""``POST /validation`` and ``POST /result``: a graph checked or computed while the client waits."""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from hybrid.cancellation import cancellable, raise_if_canceled
from hybrid.errors import FormatUnsuitable, HybridError, ProcessGraphInvalid
from hybrid.io.json_text import synchronous_answer
from hybrid.io.registry import media_type
from hybrid.limits import load_check
from hybrid.server.auth import CurrentUser
from hybrid.server.errors import GraphRefused, error_body
from hybrid.server.payload import base_url, log_level, process_graph, read_json
from hybrid.server.services import Deps, Services
from hybrid.server.sync_result import synchronous_files, with_save_result

_log = logging.getLogger(__name__)

router = APIRouter()

T = TypeVar("T")
#: how often a synchronous computation checks that its client still waits
_DISCONNECT_POLL_SECONDS = 0.5


@router.post("/validation")
async def validation(request: Request, deps: Deps) -> JSONResponse:
    body = await read_json(request)
    if "process_graph" in body:  # the spec's body: the process itself
        body = {"process": body}
    authorization = request.headers.get("authorization")
    user_id = deps.auth.user(authorization).user_id if authorization else None
    try:
        graph = await run_in_threadpool(
            deps.resolve, process_graph(body), user_id, base_url(request)
        )
        await run_in_threadpool(deps.engine.validate, graph)
    except HybridError as exc:
        if exc.status >= 500 or isinstance(exc, GraphRefused):
            raise
        return JSONResponse({"errors": [error_body(exc)]})
    return JSONResponse({"errors": []})


@router.post("/result")
async def result(request: Request, user: CurrentUser, deps: Deps) -> Response:
    body = await read_json(request)
    submitted = process_graph(body)
    log_level(body)  # refused as Copernicus refuses it; a synchronous run keeps no log
    graph = await run_in_threadpool(deps.resolve, submitted, user.user_id, base_url(request))
    graph = await run_in_threadpool(deps.job_sources, graph, user.user_id, base_url(request))
    graph = await run_in_threadpool(_saving, deps, graph)
    await run_in_threadpool(deps.engine.validate, graph)
    _log.info("synchronous result for %s", user.user_id)
    out_dir = Path(tempfile.mkdtemp(prefix="sync-", dir=deps.data_dir))
    with deps.sync_runs.running() as stop:
        task = asyncio.ensure_future(run_in_threadpool(_execute, deps, graph, out_dir, stop))
        try:
            files = await _while_awaited(request, task, stop)
        except BaseException:
            # once the thread has ended (at once when it has: a failure), whatever it
            # wrote goes
            task.add_done_callback(lambda _: shutil.rmtree(out_dir, ignore_errors=True))
            raise
    if not files:  # discard_result: Copernicus's NullResult answers JSON null
        shutil.rmtree(out_dir, ignore_errors=True)
        return JSONResponse(None)
    return FileResponse(
        files[0],
        media_type=media_type(files[0].name),
        filename=files[0].name,
        background=BackgroundTask(shutil.rmtree, out_dir, ignore_errors=True),
    )


async def _while_awaited(request: Request, task: asyncio.Future[T], stop: threading.Event) -> T:
    """``task``'s result; ``stop`` is set (the computation ends before its next task)
    once the client has gone away, or when the request is cancelled (the server is
    shutting down)."""
    try:
        while not task.done():
            await asyncio.wait({task}, timeout=_DISCONNECT_POLL_SECONDS)
            if not task.done() and await request.is_disconnected():
                stop.set()
                break
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        stop.set()
        # the thread ends on its own (RunCanceled); nobody will read its outcome
        task.add_done_callback(lambda done: done.cancelled() or done.exception())
        raise


def _saving(deps: Services, graph: dict[str, Any]) -> dict[str, Any]:
    if any(node.get("process_id") == "save_ml_model" for node in graph.values()):
        raise ProcessGraphInvalid(
            "save_ml_model saves a model as the result of a batch job (its "
            "ml_model_metadata.json is what load_ml_model reads): run this graph with "
            "create_job or execute_batch"
        )
    return with_save_result(graph, deps.engine.process_specs())


def _execute(
    deps: Services, graph: dict[str, Any], out_dir: Path, stop: threading.Event
) -> list[Path]:
    try:
        with deps.sync_runs.slots, cancellable(stop):
            raise_if_canceled()  # stopped while it waited for a slot
            # dates as Flask's jsonify writes them there; the load size checked as in a
            # synchronous request (hybrid.backends.local.load_size)
            with synchronous_answer(), load_check("sync"):
                files = [Path(f) for f in deps.engine.execute(graph, out_dir=out_dir).files]
            files = synchronous_files(graph, files)
    finally:
        if stop.is_set():  # nobody will serve it, and the server may be gone by now
            shutil.rmtree(out_dir, ignore_errors=True)
    if len(files) > 1:
        names = ", ".join(f.name for f in files[:3]) + (", ..." if len(files) > 3 else "")
        raise FormatUnsuitable(
            f"The synchronous result has {len(files)} files ({names}) and the answer is one: "
            "use save_result format 'netCDF', or a batch job (execute_batch)."
        )
    return files
