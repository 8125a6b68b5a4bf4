"""Cross-origin requests (CORS), as the openEO API asks of every back-end.

openapi.yaml (1.2.0, "CORS"): every response carries ``Access-Control-Allow-Origin``
(``*``, recommended for browser clients such as the Web Editor) and
``Access-Control-Expose-Headers`` listing at least ``Link``, ``Location``,
``OpenEO-Costs`` and ``OpenEO-Identifier`` (here also ``Accept-Ranges``,
``Content-Range`` and ``Content-Encoding``, as Copernicus, so a browser reads a ranged
download); every endpoint answers ``OPTIONS`` (a
browser's preflight) with 204, no body, the allowed methods and headers (``Authorization``
at least) and a JSON content type. Copernicus does the same with flask-cors
(openeo-python-driver 9e5b49b2 ``views.py`` L117-133). Credentials travel in the
``Authorization`` header, never in cookies, so ``*`` lets a page read nothing a script
without the token could not.

Starlette's ``CORSMiddleware`` adds its headers only to requests with an ``Origin`` and
answers a preflight with 200: hence this small ASGI middleware, outside the error
handlers, so that error answers carry the headers too (only the request ids are outer:
:mod:`hybrid.server.request_ids`).
"""

from __future__ import annotations

from starlette.types import Receive, Scope, Send

from hybrid.server.middleware import HttpMiddleware, adding_headers

#: the API's four and, as Copernicus's flask-cors (views.py L118-125), a download's range
EXPOSED = (
    b"Link, Location, OpenEO-Costs, OpenEO-Identifier, Accept-Ranges, Content-Range, "
    b"Content-Encoding"
)
METHODS = b"OPTIONS, GET, POST, PATCH, PUT, DELETE"
#: allowed when a preflight names no headers (Copernicus's list: views.py L123)
HEADERS = b"Authorization, Content-Type, Range"


class Cors(HttpMiddleware):
    """ASGI middleware: the CORS headers on every answer, 204 to every ``OPTIONS``."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] == "OPTIONS":
            await _preflight(scope, send)
            return

        await self.app(scope, receive, adding_headers(send, _added))


def _added(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    present = {name.lower() for name, _ in headers}
    for name, value in (
        (b"access-control-allow-origin", b"*"),
        (b"access-control-expose-headers", EXPOSED),
    ):
        if name not in present:
            headers.append((name, value))
    return headers


async def _preflight(scope: Scope, send: Send) -> None:
    """204 with the methods, the headers the browser asks to send (or the usual two)."""
    asked = dict(scope.get("headers", [])).get(b"access-control-request-headers", b"").strip()
    headers = _added(
        [
            (b"access-control-allow-methods", METHODS),
            (b"access-control-allow-headers", asked or HEADERS),
            (b"access-control-max-age", b"3600"),
            (b"content-type", b"application/json"),
        ]
    )
    await send({"type": "http.response.start", "status": 204, "headers": headers})
    await send({"type": "http.response.body", "body": b""})
