"""``HEAD`` on every ``GET`` endpoint, as Copernicus answers it.

Copernicus's Flask routes answer ``HEAD`` wherever they answer ``GET`` (werkzeug 3.1
``routing/rules.py`` ``Rule.__init__`` L496-497 adds ``HEAD`` to a rule with ``GET``): the status
and headers of the GET, ``Content-Length`` included, without the body (werkzeug
``Response.get_app_iter``). FastAPI's routes answered 405. :class:`HeadAsGet` hands a
``HEAD`` that no route takes but a ``GET`` route would to that route as a ``GET`` and
drops the body it sends; a route that takes ``HEAD`` itself (a result download, which
then reads no file) is left to it.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hybrid.server.middleware import HttpMiddleware


class HeadAsGet(HttpMiddleware):
    """``HEAD`` answered as the ``GET`` of the same path, without its body."""

    def __init__(self, app: ASGIApp, *, routes: Sequence[BaseRoute]) -> None:
        super().__init__(app)
        #: the app's routes (the router's own list: routes included later count)
        self.routes = routes

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "HEAD" or not self._only_get(scope):
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)

    def _only_get(self, scope: Scope) -> bool:
        """Whether no route takes this HEAD and one takes it as a GET."""
        if any(route.matches(scope)[0] == Match.FULL for route in self.routes):
            return False
        as_get = {**scope, "method": "GET"}
        return any(route.matches(as_get)[0] == Match.FULL for route in self.routes)
