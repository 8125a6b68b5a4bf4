"""openEO API errors of the emulator and their rendering as the API's error JSON.

Every error the emulator answers with derives from :class:`hybrid.errors.HybridError`:
the engine's errors (``ProcessGraphInvalid``, ``CollectionNotFound``, ...) keep their own
code and status; the classes here add the API-level ones (jobs, authentication, links).
Codes come from ``openeo-spec/api/errors.json``; ``BadRequest``, ``MethodNotAllowed`` and
``PayloadTooLarge`` have no code there and use the HTTP reason phrase.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from hybrid.errors import HybridError

_log = logging.getLogger(__name__)


class ApiError(HybridError):
    """An error of the openEO API itself (not of the process graph)."""

    code: ClassVar[str] = "BadRequest"
    status: ClassVar[int] = 400
    #: extra HTTP headers of the error response
    headers: ClassVar[tuple[tuple[str, str], ...]] = ()


class BadRequest(ApiError):
    code = "BadRequest"


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


class JobNotFound(ApiError):
    code = "JobNotFound"
    status = 404


class JobNotFinished(ApiError):
    code = "JobNotFinished"


class JobLocked(ApiError):
    code = "JobLocked"


class JobFailed(ApiError):
    """``GET /jobs/{id}/results`` of a job whose status is ``error`` (HTTP 424)."""

    code = "Internal"
    status = 424

    def __init__(self, message: str, *, code: str, node: str | None = None) -> None:
        super().__init__(message, node=node)
        self.error_code = code

    def to_openeo(self) -> dict[str, Any]:
        """The job's last error as a log entry (the spec's body of a 424)."""
        entry: dict[str, Any] = {"code": self.error_code, "level": "error", "message": str(self)}
        if self.node:
            entry["path"] = [{"node_id": self.node}]
        return entry


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
    body: dict[str, Any] = {"id": uuid.uuid4().hex, **error.to_openeo(), "links": []}
    return body


def error_response(error: HybridError) -> JSONResponse:
    headers = dict(getattr(error, "headers", ()))
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

    async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
        _log.exception("%s %s failed", request.method, request.url.path, exc_info=exc)
        return error_response(
            HybridError(f"Server error: {type(exc).__name__}: {exc} (see the server log).")
        )

    app.add_exception_handler(HybridError, hybrid_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(Exception, unexpected_error)
