"""Stopping a run from outside it: the emulator's ``DELETE /jobs/{id}/results``.

The job's thread runs the engine inside :func:`cancellable`; whoever wants the run to
stop sets the event. The engine checks it where a run can stop cleanly: before every
dask task of a threaded computation, and every second while a dask.distributed
computation runs (there it also cancels the futures, so the workers drop the tasks).
A context variable, so the engine's signature stays that of every backend.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from contextvars import ContextVar

from hybrid.errors import RunCanceled

_EVENT: ContextVar[threading.Event | None] = ContextVar("hybrid_cancel_event", default=None)


@contextlib.contextmanager
def cancellable(event: threading.Event) -> Iterator[threading.Event]:
    """Runs inside the block stop (raise :class:`RunCanceled`) once ``event`` is set."""
    token = _EVENT.set(event)
    try:
        yield event
    finally:
        _EVENT.reset(token)


def cancel_event() -> threading.Event | None:
    """The event of the enclosing :func:`cancellable` block, if any."""
    return _EVENT.get()


def raise_if_canceled(event: threading.Event | None = None) -> None:
    """Raise :class:`RunCanceled` when ``event`` (default: the current one) is set."""
    event = event if event is not None else _EVENT.get()
    if event is not None and event.is_set():
        raise RunCanceled("the run was canceled")
