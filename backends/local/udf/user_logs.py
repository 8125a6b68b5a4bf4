"""What a UDF logs with ``openeo.udf.inspect`` goes to its job's log.

``inspect(data, message, code, level)`` logs to the ``openeo.udf.debug.user`` logger with
``data`` and ``code`` as extras (openeo ``openeo/udf/debug.py``); Copernicus's batch jobs
log the executors' Python logging as JSON and the job's logs show such a record as an
entry with its level, message, code and data (docs/udf.rst "Logging from a UDF"). The
worker writes the records to ``FOLDER/log.jsonl`` (:func:`capture`); the server adds them
to the running job's log (:func:`forward`), before the UDF's error if it failed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

#: openeo.udf.debug's ``_user_log`` (OPENEO_UDF_USER_LOGGER is not set in the worker)
USER_LOGGER = "openeo.udf.debug.user"
LOG_FILE = "log.jsonl"
#: at most this many entries per UDF run, each's data at most this many characters
MAX_ENTRIES = 200
MAX_DATA_CHARS = 20_000
#: the longest line of the log file the server reads: an entry's message and data at
#: most MAX_DATA_CHARS characters each, JSON-escaped
MAX_LINE_BYTES = 16 * MAX_DATA_CHARS
_LEVELS = {"DEBUG": "debug", "INFO": "info", "WARNING": "warning", "ERROR": "error"}

_log = logging.getLogger(__name__)


def json_default(value: Any) -> Any:
    """``value`` as JSON can hold it: arrays as lists, dates and times in ISO 8601 (as
    Copernicus's ``JSONResult`` writes them, save_result.py L255-261), anything else as
    its text (the ``default`` of ``json.dumps`` for what a UDF logs or answers)."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (set, tuple)):
        return list(value)
    return str(value)


class _ToFile(logging.Handler):
    def __init__(self, path: Path) -> None:
        super().__init__(level=logging.DEBUG)
        self.path = path
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if self.count >= MAX_ENTRIES:
            return
        self.count += 1
        data = json.dumps(getattr(record, "data", None), default=json_default)
        if len(data) > MAX_DATA_CHARS:
            data = json.dumps(data[:MAX_DATA_CHARS] + " ...")
        entry = {
            "level": _LEVELS.get(record.levelname, "info"),
            "message": record.getMessage()[:MAX_DATA_CHARS],
            "code": getattr(record, "code", None),
            "data": json.loads(data),
        }
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(entry) + "\n")


def capture(folder: Path) -> None:
    """In the worker: the UDF's ``inspect`` records go to ``folder``'s log file."""
    logger = logging.getLogger(USER_LOGGER)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    logger.addHandler(_ToFile(folder / LOG_FILE))


def _lines(path: Path) -> Iterator[str]:
    """The first :data:`MAX_ENTRIES` lines of ``path``, none longer than
    :data:`MAX_LINE_BYTES`: the UDF may write the file itself, without the worker's
    bounds (300 entries of 1 MB each went to the job's log, through the server's memory)."""
    with path.open("rb") as file:
        for _ in range(MAX_ENTRIES):
            line = file.readline(MAX_LINE_BYTES + 1)
            if len(line) > MAX_LINE_BYTES:
                return  # the rest of the file is not the worker's
            if not line:
                return
            yield line.decode("utf-8", errors="replace")


def forward(folder: Path) -> None:
    """In the server: the worker's log entries to the running job's log."""
    from hybrid.run_warnings import log_entry

    path = folder / LOG_FILE
    if not path.is_file():
        return
    for line in _lines(path):
        try:
            entry = json.loads(line)
            message, level = str(entry["message"])[:MAX_DATA_CHARS], str(entry["level"])
        except (ValueError, KeyError, TypeError, RecursionError):
            continue  # a line cut by the worker's end
        if not log_entry(message, level=level, code=entry.get("code"), data=entry.get("data")):
            _log.info("UDF: %s %s", message, entry.get("data"))
