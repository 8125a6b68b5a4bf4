"""Headers an ASGI middleware adds to every answer (CORS, the request id)."""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import Message, Send

Headers = list[tuple[bytes, bytes]]


def adding_headers(send: Send, add: Callable[[Headers], Headers]) -> Send:
    """``send`` with ``add`` applied to the headers of the answer's start message."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": add(list(message.get("headers", [])))}
        await send(message)

    return sending
