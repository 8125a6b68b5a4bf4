"""Which ``Range`` of a result download Copernicus serves.

Copernicus sends a job's result file from its disk with Flask's ``send_from_directory``
(openeo-python-driver 9e5b49b2 ``views.py`` L1432-1433), so werkzeug reads the header:
``parse_range_header`` (werkzeug 3.1 ``http.py`` L828-884) takes ``unit=first-last``,
``first-`` and ``-suffix`` parts of plain digits, ascending, ``last`` not before
``first``; ``Range.range_for_length`` (``datastructures/range.py`` L69-83) serves exactly
one range of bytes that starts inside the file (``http.py`` ``is_byte_range_valid``
L1423-1438). Anything else is a 416 (``wrappers/response.py`` L692-699), and another unit
than bytes is refused before (``views.py`` L1364-1368). A servable range is left to
Starlette's ``FileResponse``, which serves the same bytes (206).
"""

from __future__ import annotations

import re

from hybrid.server.errors import RangeNotSatisfiable, RangeUnreadable

_PLAIN_INT = re.compile(r"-?\d+", re.ASCII)  # werkzeug _internal.py L196 _plain_int_re


def check_range(value: str, size: int) -> None:
    """Raise the 416 Copernicus answers for the ``Range`` header ``value`` of a file of
    ``size`` bytes, unless it serves it (one range of bytes inside the file)."""
    if size == 0:
        return  # werkzeug reads no range of an empty file: the whole (empty) file
    unit, equals, ranges = value.partition("=")
    parts = [_part(item.strip()) for item in ranges.split(",")] if equals else [None]
    if any(part is None for part in parts):
        raise RangeUnreadable(_UNSERVED)
    if unit.strip().lower() != "bytes":
        raise RangeNotSatisfiable(
            f"Unsupported Range unit {unit.strip().lower()}; supported is: bytes"
        )
    if len(parts) != 1 or not _inside(parts[0], size):
        raise RangeUnreadable(_UNSERVED)


#: werkzeug's RequestedRangeNotSatisfiable as text (exceptions.py L524-533)
_UNSERVED = "416 Requested Range Not Satisfiable: The server cannot provide the requested range."


def _part(item: str) -> tuple[int, int | None] | None:
    """One ``first-last`` part as werkzeug reads it: (first, last + 1), (first, None) or
    (-suffix, None); None when it cannot be read."""
    if "-" not in item:
        return None
    if item.startswith("-"):
        return (int(item), None) if _PLAIN_INT.fullmatch(item) else None
    first, last = (text.strip() for text in item.split("-", 1))
    if not _PLAIN_INT.fullmatch(first) or (last and not _PLAIN_INT.fullmatch(last)):
        return None
    if not last:
        return int(first), None
    return (int(first), int(last) + 1) if int(first) < int(last) + 1 else None


def _inside(part: tuple[int, int | None] | None, size: int) -> bool:
    assert part is not None
    start, stop = part
    if stop is None:
        stop = size
        start = start + size if start < 0 else start
    return 0 <= start < size and start < stop
