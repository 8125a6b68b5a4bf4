"""Request ids, as Copernicus gives every answer one.

openeo-python-driver 9e5b49b2 sets a ``Request-Id`` header on every response
(``views.py`` L201-206), an id of the form ``r-<yymmddHHMMSS><rest of a uuid4 hex>``
(``utils.py`` ``generate_unique_id`` L355-372, ``util/logging.py`` L275-278), and an
error's ``id`` is its request's id (``errors.py`` L72-73), so a user quoting either finds
the request in the logs. The openeo client shows an error's id as "(ref: ...)"
(openeo/rest/__init__.py L94); it reads no ``Request-Id`` header.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import uuid

from starlette.types import Receive, Scope, Send

from hybrid.server.middleware import HttpMiddleware, adding_headers

_CURRENT: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


def new_request_id() -> str:
    """``r-`` and a uuid4 hex whose first 12 digits are the UTC time, as Copernicus's."""
    stamp = dt.datetime.now(dt.UTC).strftime("%y%m%d%H%M%S")
    return f"r-{stamp}{uuid.uuid4().hex[len(stamp) :]}"


def current_request_id() -> str:
    """The id of the request being answered (a new one outside a request)."""
    return _CURRENT.get() or new_request_id()


class RequestIds(HttpMiddleware):
    """ASGI middleware: a new id per HTTP request, in its ``Request-Id`` header."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = new_request_id()
        token = _CURRENT.set(request_id)
        header = (b"request-id", request_id.encode())
        try:
            await self.app(scope, receive, adding_headers(send, lambda found: [*found, header]))
        finally:
            _CURRENT.reset(token)
