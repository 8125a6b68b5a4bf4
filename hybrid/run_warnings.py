"""Where a run's warnings go: the job's log inside the emulator, stderr otherwise.

A warning for the user (:class:`hybrid.errors.HybridWarning`, e.g. "the AOI covers 12 %
of its grid") is raised with :func:`warn`. The CLI shows it on stderr as
``hybrid: warning: ...``; a batch job of ``hybrid serve`` runs its graph inside
:func:`warnings_to` with a function that writes to the job's log (``GET
/jobs/{id}/logs``), as Copernicus logs such notes per job. A context variable, not
``warnings.catch_warnings`` (process-wide, not safe with several job threads), so each
job thread gets its own warnings and the engine's signature stays that of every backend.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

_SINK: ContextVar[Callable[..., None] | None] = ContextVar("hybrid_warning_sink", default=None)


@contextlib.contextmanager
def warnings_to(sink: Callable[..., None]) -> Iterator[None]:
    """Inside the block, :func:`warn` calls ``sink(message)`` instead of warning, and
    :func:`log_entry` ``sink(message, level=..., code=..., data=...)``."""
    token = _SINK.set(sink)
    try:
        yield
    finally:
        _SINK.reset(token)


def warn(message: str, *, stacklevel: int = 2) -> None:
    """A one-line :class:`HybridWarning` to the enclosing :func:`warnings_to` sink, or
    through :mod:`warnings` (``stacklevel`` as there, counted from the caller)."""
    sink = _SINK.get()
    if sink is not None:
        sink(message)
        return
    import warnings

    from hybrid.errors import HybridWarning

    warnings.warn(message, HybridWarning, stacklevel=stacklevel + 1)


def log_entry(message: str, *, level: str, **entry: Any) -> bool:
    """An entry of the job's log at ``level`` (``code``, ``data`` as the openEO log entry
    has them); False outside a job (nothing written)."""
    sink = _SINK.get()
    if sink is None:
        return False
    sink(message, level=level, **entry)
    return True


def current_sink() -> Callable[..., None] | None:
    """The enclosing :func:`warnings_to` sink (a job's log), None outside one: for
    messages that belong in a job's log but not on the CLI's stderr (distributed's
    client log, :mod:`hybrid.backends.local.client_logs`)."""
    return _SINK.get()
