"""``inspect``: the message and a description of the data in the job's log.

Copernicus logs the message (when there is one) and then the data's text at the given
level with its driver's logger, which a batch job's log shows
(openeo-python-driver 9e5b49b2 ``processgraph/process_implementations/misc.py``
``inspect`` L38-50): for a raster cube the text of its metadata,
``CubeMetadata(['B04', 'B08'] - ['x', 'y', 't', 'bands'])`` (openeo client
``CubeMetadata.__str__``; the dimensions in the order of the collection's
``cube:dimensions``, x, y, t, bands), for anything else Python's ``str``. Here both lines go
to the job's log (``GET /jobs/{id}/logs``) with the ``code``, and to Python logging
outside a job; a synchronous request's log is the server's, as there. openeo-processes-dask
logs to Python logging only, so a job's log showed nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from hybrid.errors import ProcessParameterInvalid

_LEVELS = ("debug", "info", "warning", "error")
#: the order of a Copernicus cube's dimensions (SENTINEL2_L2A ``cube:dimensions``)
_COLLECTION_ORDER = ("x", "y", "t", "bands")

_log = logging.getLogger(__name__)


def inspect(data: Any, message: str = "", code: str = "User", level: str = "info") -> Any:
    """openEO inspect: logs, and returns ``data`` unchanged."""
    level = str(level).lower()
    if level not in _LEVELS:
        raise ProcessParameterInvalid(
            f"inspect: level must be one of {', '.join(_LEVELS)}, got {level!r}"
        )
    if message:
        _write(str(message), level, code)
    _write(describe(data), level, code)
    return data


def describe(data: Any) -> str:
    """The data's text as Copernicus logs it (see the module docstring)."""
    dims = [str(d) for d in getattr(data, "dims", ())]
    if {"x", "y"} <= set(dims) and hasattr(data, "coords"):
        ordered = [d for d in _COLLECTION_ORDER if d in dims] + [
            d for d in dims if d not in _COLLECTION_ORDER
        ]
        bands = [str(b) for b in data["bands"].values] if "bands" in dims else None
        shown = bands if bands is not None else "no bands dimension"
        return f"CubeMetadata({shown} - {ordered})"
    return str(data)


def _write(text: str, level: str, code: Any) -> None:
    from hybrid.run_warnings import log_entry

    if not log_entry(text, level=level, code=None if code is None else str(code)):
        _log.log(logging.getLevelName(level.upper()), "%s: %s", code, text)
