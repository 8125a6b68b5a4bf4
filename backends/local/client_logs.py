"""dask.distributed's client logger, routed away from stderr while hybrid holds a client.

When the scheduler goes away, distributed's client logs its reconnect attempts and, when
the client is closed meanwhile, the cancelled reconnect as an ERROR with a traceback
(``distributed.client - ERROR``; distributed 2026.8 ``client.py`` ``Client._reconnect``,
decorated with ``utils.log_errors``) - on stderr, through the handler distributed's
``config.initialize_logging`` puts on the ``distributed`` logger. The run itself already
says what happened in one line (:class:`hybrid.errors.ClusterError`). So while a client
of :mod:`hybrid.backends.local.cluster` lives (and while it closes), the records of
:data:`CLIENT_LOGGERS` go as one line each to the job's log in ``hybrid serve`` (the
sink of :func:`hybrid.run_warnings.warnings_to`; the client's tasks run on its event-loop
thread but copy the context of the thread that started them), else to this module's
debug log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Iterator

from hybrid.run_warnings import current_sink

#: distributed's loggers of the client side
CLIENT_LOGGERS = ("distributed.client",)

_log = logging.getLogger(__name__)
_lock = threading.Lock()
_users = 0
_saved: list[tuple[logging.Logger, bool, list[logging.Handler]]] = []


class _ToRunLog(logging.Handler):
    """One line per record into the job's log; the cancelled reconnect of a closing
    client is dropped (it is the close itself, not news)."""

    def emit(self, record: logging.LogRecord) -> None:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, asyncio.CancelledError):
            return
        text = record.getMessage().strip().splitlines()[:1]
        line = text[0] if text else (f"{type(exc).__name__}: {exc}" if exc else "")
        if not line:
            return
        sink = current_sink()
        try:
            if sink is not None:
                sink(f"Dask client: {line}")
                return
        except Exception:  # the job log must never break the client
            pass
        _log.debug("Dask client: %s", line)


_HANDLER = _ToRunLog()


def _to_stderr(handler: logging.Handler) -> bool:
    """A console handler: distributed gives ``distributed.client`` its own stderr one
    (``config._initialize_logging_old_style``), besides the one of ``distributed``."""
    return type(handler) is logging.StreamHandler


@contextlib.contextmanager
def routed_client_logs() -> Iterator[None]:
    """Inside the block (threads may nest blocks), :data:`CLIENT_LOGGERS` write to the job's
    log instead of distributed's stderr handlers; restored when the last block ends."""
    global _users
    import distributed  # noqa: F401  (importing it installs its stderr handlers)

    with _lock:
        if _users == 0:
            for name in CLIENT_LOGGERS:
                logger = logging.getLogger(name)
                stderr = [h for h in logger.handlers if _to_stderr(h)]
                _saved.append((logger, logger.propagate, stderr))
                logger.propagate = False
                for handler in stderr:
                    logger.removeHandler(handler)
                logger.addHandler(_HANDLER)
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0:
                for logger, propagate, stderr in _saved:
                    logger.removeHandler(_HANDLER)
                    for handler in stderr:
                        logger.addHandler(handler)
                    logger.propagate = propagate
                _saved.clear()
