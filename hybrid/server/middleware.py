"""What the emulator's ASGI middlewares share: acting on HTTP requests only
(:class:`HttpMiddleware`), adding headers to every answer (:func:`adding_headers`: CORS,
the request id) and knowing whether an answer has started (:class:`StartWatch`: until its
start message is sent a middleware may still answer with an error of its own; after it,
nothing else can be said on the connection)."""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

Headers = list[tuple[bytes, bytes]]


class HttpMiddleware:
    """An ASGI middleware of HTTP requests: lifespan and websocket scopes pass through
    untouched; a subclass answers HTTP in :meth:`http`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.http(scope, receive, send)

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError


def adding_headers(send: Send, add: Callable[[Headers], Headers]) -> Send:
    """``send`` with ``add`` applied to the headers of the answer's start message."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": add(list(message.get("headers", [])))}
        await send(message)

    return sending


class StartWatch:
    """``send``, noting in :attr:`started` whether the answer's start message went out."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.started = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)
