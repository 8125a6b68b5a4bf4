"""``sleep`` and ``discard_result``: Copernicus's non-standard processes that steer a run
rather than compute (openeo-python-driver 9e5b49b2
``processgraph/process_implementations/misc.py`` L53-76, registered for openEO 2.x).

- ``sleep(data, seconds)`` waits and passes ``data`` on. Copernicus waits while it
  evaluates the graph, before any pixel is computed (not in its dry run); so does this
  engine, which builds the computation first. Here the wait ends early when the job is
  canceled, and negative seconds are refused (Python's ``time.sleep`` raises there).
- ``discard_result(data)`` ends a graph without a result: Copernicus answers a
  synchronous request with JSON ``null`` and a batch job has no assets (``NullResult``,
  save_result.py L988-994). Its data is built, not computed, so only what building does
  happens (``inspect`` logs). The run implements it
  (:meth:`hybrid.backends.local.run.Run.discard_result`) to know nothing is to be written.
"""

from __future__ import annotations

import math
import time
from typing import Any

from hybrid.errors import ProcessParameterInvalid


class NullResult:
    """What discard_result gives: Copernicus's ``NullResult``, a ``SaveResult`` that a
    save_result after it keeps (python-driver process_implementations/io.py L176-180:
    ``with_format`` of it), so the client's ``execute_batch`` or ``download``, which adds
    a save_result, still writes nothing (save_result.py L988-994)."""


#: the one NullResult (:meth:`hybrid.backends.local.run.Run.save_result` writes nothing of it)
NULL_RESULT = NullResult()


def sleep(data: Any, seconds: Any) -> Any:
    """Wait ``seconds`` (stopping when the run is canceled) and return ``data``."""
    from hybrid.cancellation import cancel_event, raise_if_canceled

    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise ProcessParameterInvalid(f"sleep: seconds must be a number, not {seconds!r}")
    if not math.isfinite(seconds) or seconds < 0:
        raise ProcessParameterInvalid(f"sleep: seconds must be 0 or more, not {seconds!r}")
    event = cancel_event()
    if event is None:
        time.sleep(seconds)
    else:
        event.wait(seconds)
        raise_if_canceled(event)
    return data


#: the descriptions Copernicus gives them (misc.py ``ProcessSpec``); its empty schemas
#: (any value) written as openeo-processes writes "any data type"
_ANY = {"description": "Any data type."}
SPECS: dict[str, dict[str, Any]] = {
    "sleep": {
        "id": "sleep",
        "description": "Sleep for given amount of seconds (and just pass-through given data).",
        "parameters": [
            {"name": "data", "description": "Data to pass through.", "schema": _ANY,
             "optional": True},
            {"name": "seconds", "description": "Number of seconds to sleep.",
             "schema": {"type": "number"}},
        ],
        "returns": {"description": "Original data", "schema": _ANY},
    },
    "discard_result": {
        "id": "discard_result",
        "description": "Discards given data. Used for side-effecting purposes.",
        "parameters": [
            {"name": "data", "description": "Data to discard.", "schema": _ANY, "optional": True},
        ],
        "returns": {"description": "Nothing", "schema": _ANY},
    },
}  # fmt: skip
