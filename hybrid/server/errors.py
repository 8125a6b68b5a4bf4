"""openEO API errors of the emulator and their rendering as the API's error JSON.

Every error the emulator answers with derives from :class:`hybrid.errors.HybridError`:
the engine's errors (``ProcessGraphInvalid``, ``CollectionNotFound``, ...) keep their own
code and status; the classes here add the API-level ones (jobs, authentication, links).
Codes come from ``openeo-spec/api/errors.json``; ``BadRequest``, ``MethodNotAllowed`` and
``PayloadTooLarge`` have no code there and use the HTTP reason phrase.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Receive, Scope, Send

from hybrid.errors import HybridError
from hybrid.server.middleware import HttpMiddleware, StartWatch
from hybrid.server.request_ids import current_request_id

_log = logging.getLogger(__name__)


class ApiError(HybridError):
    """An error of the openEO API itself (not of the process graph)."""

    code: ClassVar[str] = "BadRequest"
    status: ClassVar[int] = 400
    #: extra HTTP headers of the error response
    headers: ClassVar[tuple[tuple[str, str], ...]] = ()


class BadRequest(ApiError):
    code = "BadRequest"


class InvalidId(ApiError):
    """A process id outside the API's pattern (Copernicus's code for it: python-driver
    ``views.py`` ``_check_valid_process_graph_id`` L2097-2105)."""

    code = "InvalidId"


class NotFound(ApiError):
    code = "NotFound"
    status = 404


class MethodNotAllowed(ApiError):
    code = "MethodNotAllowed"
    status = 405


class PayloadTooLarge(ApiError):
    code = "PayloadTooLarge"
    status = 413


class ProcessGraphMissing(ApiError):
    code = "ProcessGraphMissing"


class GraphRefused(ApiError):
    """A graph the server will not even analyse (too big, too deep, cyclic): always a 4xx,
    also at ``POST /validation``, whose other findings are listed in a 200 answer."""


class ProcessGraphComplexity(GraphRefused):
    code = "ProcessGraphComplexity"


class GraphCycle(GraphRefused):
    code = "ProcessGraphInvalid"


class ProcessNamespaceInvalid(ApiError):
    code = "ProcessNamespaceInvalid"


class ProcessIdMismatch(ApiError):
    code = "ProcessIdMismatch"


class ProcessNotFound(ApiError):
    code = "ProcessNotFound"


class JobNotFound(ApiError):
    code = "JobNotFound"
    status = 404


class JobNotFinished(ApiError):
    code = "JobNotFinished"


class FeatureUnsupported(ApiError):
    code = "FeatureUnsupported"
    status = 501


class JobLocked(ApiError):
    code = "JobLocked"


class JobTransitionNotImplemented(ApiError):
    """``POST /jobs/{id}/results`` of a canceled job, as Copernicus answers it: its
    views.py hands a canceled job to the backend's ``start_job``, whose check of the final
    states compares the status with a list (never equal) and so ends in this 501
    (openeo-geopyspark-driver backend.py L1936-1959)."""

    code = "JobTransitionNotImplemented"
    status = 501


class InvalidLogLevel(ApiError):
    """A ``log_level`` outside the API's four levels, as Copernicus words it (openeo-python-
    driver ``views.py`` ``_assert_valid_log_level`` L893-901)."""

    code = "InvalidLogLevel"


class OffsetInvalid(ApiError):
    """A log ``offset`` that is not JSON, as Copernicus answers it (openeo-geopyspark-driver
    ``logs.py`` ``elasticsearch_logs`` L58-68: its offsets are JSON sort keys)."""

    code = "OffsetInvalid"


class JobOptionRefused(ApiError):
    """A batch job option Copernicus refuses when the job starts
    (:mod:`hybrid.server.job_options`): a 400 with ``OpenEOApiException``'s default code,
    ``Internal``, where its check names none (openeo-python-driver ``errors.py`` L51-53)."""

    code = "Internal"


class RangeNotSatisfiable(ApiError):
    """A result download's ``Range`` in another unit than bytes, as Copernicus refuses it
    (openeo-python-driver 9e5b49b2 ``views.py`` L1364-1368)."""

    code = "RangeNotSatisfiable"
    status = 416


class RangeUnreadable(RangeNotSatisfiable):
    """A result download's ``Range`` werkzeug cannot serve from a file (unreadable, several
    ranges, outside the file): its ``RequestedRangeNotSatisfiable``, which Copernicus's
    handler of werkzeug errors answers as a JSON 416 with the code ``Internal``
    (``views.py`` L309-317)."""

    code = "Internal"


class InvalidStacVersion(JobOptionRefused):
    code = "InvalidStacVersion"


class PropertyNotEditable(ApiError):
    code = "PropertyNotEditable"


class NoDataForUpdate(ApiError):
    code = "NoDataForUpdate"


class FileNotFound(ApiError):
    code = "FileNotFound"
    status = 404


class FilePathInvalid(ApiError):
    code = "FilePathInvalid"


class ResultLinkExpired(ApiError):
    code = "ResultLinkExpired"
    status = 410


class ServiceUnsupported(ApiError):
    code = "ServiceUnsupported"


class ServiceNotFound(ApiError):
    code = "ServiceNotFound"
    status = 404


class AuthenticationRequired(ApiError):
    code = "AuthenticationRequired"
    status = 401
    headers = (("WWW-Authenticate", 'Bearer realm="openEO"'),)


class AuthenticationSchemeInvalid(ApiError):
    code = "AuthenticationSchemeInvalid"
    status = 403


class TokenInvalid(ApiError):
    code = "TokenInvalid"
    status = 403


class CredentialsInvalid(ApiError):
    code = "CredentialsInvalid"
    status = 403


def error_body(error: HybridError) -> dict[str, Any]:
    """The openEO error JSON of ``error``: ``id``, ``code``, ``message``, ``links``."""
    body: dict[str, Any] = {"id": current_request_id(), **error.to_openeo(), "links": []}
    return body


def error_response(error: HybridError, extra: Mapping[str, str] | None = None) -> JSONResponse:
    """``error`` as its openEO JSON answer, with its headers and ``extra`` ones."""
    headers = {**dict(getattr(error, "headers", ())), **(extra or {})}
    return JSONResponse(error_body(error), status_code=error.status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Render every error as openEO error JSON; bad requests stay 4xx."""

    async def hybrid_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HybridError)
        if exc.status >= 500:
            _log.error("%s %s failed: %s", request.method, request.url.path, exc)
        return error_response(exc)

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        error: HybridError
        if exc.status_code == 404:
            error = NotFound(f"No such endpoint: {request.method} {request.url.path}.")
        elif exc.status_code == 405:
            error = MethodNotAllowed(
                f"{request.method} is not allowed on {request.url.path}: see GET / for the "
                "endpoints and their methods."
            )
            # RFC 9110 15.5.6: a 405 MUST name the allowed methods (Starlette's header)
            return error_response(error, {"Allow": (exc.headers or {}).get("Allow", "")})
        else:
            error = BadRequest(str(exc.detail))
        return error_response(error)

    async def validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}"
            for e in exc.errors()
        )
        return error_response(BadRequest(f"Invalid request parameters: {problems}."))

    app.add_exception_handler(HybridError, hybrid_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_middleware(UnexpectedErrors)


class UnexpectedErrors(HttpMiddleware):
    """ASGI middleware: an unexpected exception becomes a 500 openEO error, and that's all.

    Starlette's own handler for ``Exception`` (in ``ServerErrorMiddleware``) re-raises after
    answering, and uvicorn then closes the keep-alive connection; a client reusing it meets
    "connection reset by peer". Here the exception ends with the answer.
    """

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        sending = StartWatch(send)
        try:
            await self.app(scope, receive, sending)
        except Exception as exc:
            path = scope.get("path", "")
            _log.error("%s %s failed", scope.get("method"), path, exc_info=exc)
            if sending.started:  # nothing else can be said on this connection
                raise
            error = HybridError(f"Server error: {type(exc).__name__}: {exc} (see the server log).")
            await error_response(error)(scope, receive, send)
