"""Whether an answer has started: until its start message is sent, a middleware may still
answer with an error of its own; after it, nothing else can be said on the connection."""

from __future__ import annotations

from starlette.types import Message, Send


class StartWatch:
    """``send``, noting in :attr:`started` whether the answer's start message went out."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.started = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)
