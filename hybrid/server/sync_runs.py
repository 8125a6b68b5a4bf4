"""The synchronous computations (``POST /result``) in flight: a bounded number at once,
each one stoppable.

A synchronous computation runs in a thread of the server while its client waits. It is
stopped (before its next task: :mod:`hybrid.cancellation`) when nobody waits for it any
more: its client went away (a timeout, a closed notebook) or the server is shutting down.
Before, a client that gave up left the server computing for nobody (holding a slot, and
the NetCDF writer's lock while it wrote), and a shutdown waited for it.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator


class SyncRuns:
    """At most ``slots`` synchronous computations at once, and a stop event for each."""

    def __init__(self, slots: int) -> None:
        self.slots = threading.BoundedSemaphore(max(1, slots))
        self._lock = threading.Lock()
        self._events: set[threading.Event] = set()
        self._stopped = False

    @contextlib.contextmanager
    def running(self) -> Iterator[threading.Event]:
        """The stop event of one computation, for as long as it runs (already set once
        the server is shutting down)."""
        event = threading.Event()
        with self._lock:
            if self._stopped:
                event.set()
            self._events.add(event)
        try:
            yield event
        finally:
            with self._lock:
                self._events.discard(event)

    def stop_all(self) -> None:
        """Stop every computation in flight and any started from now on (shutdown)."""
        with self._lock:
            self._stopped = True
            for event in self._events:
                event.set()
