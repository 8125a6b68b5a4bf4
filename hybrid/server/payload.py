"""Request bodies and queries: size limit, JSON parsing, the process graph inside them, the
log level and the `partial` flag of a job's results."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hybrid.errors import ProcessGraphInvalid
from hybrid.server.errors import (
    BadRequest,
    InvalidLogLevel,
    PayloadTooLarge,
    ProcessGraphMissing,
    error_response,
)
from hybrid.server.graph_limits import check_graph, check_json_depth
from hybrid.server.jobs import LOG_LEVELS
from hybrid.server.middleware import HttpMiddleware, StartWatch


def base_url(request: Request) -> str:
    """The server's root URL as the client reached it, without a trailing slash."""
    return str(request.base_url).rstrip("/")


async def read_json(request: Request) -> dict[str, Any]:
    """The body as a JSON object (``BadRequest`` when it is not one)."""
    body = await request.body()
    check_json_depth(body)
    try:
        data = json.loads(body)
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, too many digits
        raise BadRequest(f"The request body is not valid JSON: {exc}.") from exc
    if not isinstance(data, dict):
        raise BadRequest("The request body must be a JSON object.")
    _refuse_lone_surrogates(body, data)
    return data


def _refuse_lone_surrogates(body: bytes, data: dict[str, Any]) -> None:
    """A ``\\ud800`` escape without its pair parses, but is no UTF-8 text: the job store,
    the logs and every answer would fail on it later (a 500 at ``POST /jobs``)."""
    if b"\\u" not in body:
        return
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise BadRequest(
            f"The request body is not valid JSON text: a lone surrogate {exc.object[exc.start]!a} "
            "(escape a character outside the BMP as a pair, e.g. \\ud83d\\ude00)."
        ) from None


def process_graph(body: dict[str, Any]) -> dict[str, Any]:
    """The flat process graph of ``{"process": {"process_graph": {...}}}``, within the
    limits of :mod:`hybrid.server.graph_limits`."""
    process = body.get("process")
    if not isinstance(process, dict) or "process_graph" not in process:
        raise ProcessGraphMissing(
            "Invalid process specified: the body needs {'process': {'process_graph': {...}}}."
        )
    graph = process["process_graph"]
    if not isinstance(graph, dict) or not graph:
        raise ProcessGraphInvalid("Invalid process graph specified: it must be a non-empty object.")
    for node_id, node in graph.items():
        if not isinstance(node, dict) or not isinstance(node.get("process_id"), str):
            raise ProcessGraphInvalid(
                "Invalid process graph specified: every node needs a 'process_id'.", node=node_id
            )
    check_graph(graph)
    return graph


def log_level(body: dict[str, Any]) -> str | None:
    """``body``'s ``log_level``, None when absent; any other value than the API's four
    levels (null, ``DEBUG`` too) is a 400 ``InvalidLogLevel``, as Copernicus answers
    ``POST /jobs`` and ``POST /result`` once it has the graph (openeo-python-driver
    ``views.py`` L696, L931, ``_assert_valid_log_level`` L893-901)."""
    if "log_level" not in body:
        return None
    level = body["log_level"]
    if not isinstance(level, str) or level not in LOG_LEVELS:
        raise InvalidLogLevel(
            f"Invalid log level {str(level)[:40]}. Should be one of {list(LOG_LEVELS)}."
        )
    return level


def partial_flag(partial: str | None = None) -> bool:
    """The ``partial`` query of a job's results as Copernicus reads it: true when it is
    ``true`` or ``1`` in any case, false otherwise (openeo-python-driver 9e5b49b2
    ``views.py`` L1038, L1048), not refused."""
    return str(partial).lower() in {"true", "1"}


#: a route's ``partial`` query, read by :func:`partial_flag`
Partial = Annotated[bool, Depends(partial_flag)]


class BodySizeLimit(HttpMiddleware):
    """ASGI middleware: refuse request bodies larger than ``max_bytes`` with 413."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        super().__init__(app)
        self.max_bytes = max_bytes

    def _too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(
            f"The request body is larger than {self.max_bytes} bytes: send a smaller process graph."
        )

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers", ()))
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await error_response(self._too_large())(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise self._too_large()
            return message

        sending = StartWatch(send)
        try:
            await self.app(scope, limited_receive, sending)
        except PayloadTooLarge as exc:
            if sending.started:
                raise
            await error_response(exc)(scope, receive, send)
