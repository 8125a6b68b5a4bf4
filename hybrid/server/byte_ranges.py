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

The view checks the unit first, of any range Flask can read (``request.range``), for
every file; werkzeug then reads no range of an empty file (``complete_length`` 0:
``Response._process_range_request``, ``wrappers/response.py`` L687-688), whose whole
(empty) content it sends with 200. With ``If-Range`` werkzeug reads the range only while
the request's validators say the file is unchanged (``Response._is_range_request_processable``,
``sansio/http.py`` ``is_resource_modified``, :func:`hybrid.server.conditional.unmodified`):
an ``If-Range`` tag, its ``W/`` dropped, that is the file's (or ``*``) alone decides; an
``If-Range`` date stands for ``If-Modified-Since`` (the file's ``Last-Modified`` not after
it) and an empty ``If-Range`` for nothing, and ``If-None-Match`` then ``If-Match`` have the
last word. Otherwise it sends the whole file with 200 (or its 304/412,
:mod:`hybrid.server.conditional`), whatever the range says, after the view's unit check.
Starlette reads the range only for an exact copy of its ``ETag`` or ``Last-Modified`` and
never for a weak tag, so :class:`ResultFile` decides instead (:func:`served_range`) and
hands Starlette the request without its ``If-Range``.

Starlette is handed only the range werkzeug serves, written plainly (``bytes=start-end``),
or none: its own parser read ``bytes=-0`` (the whole file for werkzeug) as past the end,
``bytes=0-`` of an empty file too (plain-text 416s), and an unreadable range under a
matching ``If-Range`` as a plain-text 400.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fastapi.responses import FileResponse, Response

from hybrid.server.conditional import (
    ENTITY_HEADERS,
    flask_etag,
    inline_disposition,
    unchanged_status,
    unmodified,
)
from hybrid.server.errors import RangeNotSatisfiable, RangeUnreadable

_PLAIN_INT = re.compile(r"-?\d+", re.ASCII)  # werkzeug _internal.py L196 _plain_int_re


def served_range(value: str, size: int, *, read: bool = True) -> tuple[int, int] | None:
    """The (start, stop) werkzeug serves for the ``Range`` header ``value`` of a file of
    ``size`` bytes, None for the whole file (an empty one, or ``read`` False: an
    ``If-Range`` the file does not meet, when only the unit is checked); the 416
    Copernicus answers when it serves none (not one range of bytes inside the file)."""
    unit, equals, ranges = value.partition("=")
    parts = [_part(item.strip()) for item in ranges.split(",")] if equals else [None]
    if any(part is None for part in parts):
        if read and size:
            raise RangeUnreadable(_UNSERVED)
        return None  # Flask's request.range is None: no unit to check
    if unit.strip().lower() != "bytes":
        raise RangeNotSatisfiable(
            f"Unsupported Range unit {unit.strip().lower()}; supported is: bytes"
        )
    if not read or size == 0:
        return None  # werkzeug reads no range of an empty file: the whole (empty) file
    span = _inside(parts[0], size) if len(parts) == 1 else None
    if span is None:
        raise RangeUnreadable(_UNSERVED)
    return span


class ResultFile(FileResponse):
    """A result file with the headers Flask sends (:mod:`hybrid.server.conditional`), its
    ``Range`` read as werkzeug reads it (the module's notes), else its 304 or 412 when the
    request's validators say the file is unchanged."""

    def __init__(
        self,
        path: Path,
        *,
        media_type: str,
        stat: os.stat_result,
        request_headers: Mapping[str, str],
    ) -> None:
        headers = {
            "etag": flask_etag(path, stat.st_mtime, stat.st_size),
            "content-disposition": inline_disposition(path.name),
            "cache-control": "no-cache",
        }
        super().__init__(path, headers=headers, media_type=media_type, stat_result=stat)
        asked = request_headers.get("range")
        #: the (start, stop) served, None for the whole file
        self.span: tuple[int, int] | None = None
        if asked is not None:
            read = "if-range" not in request_headers or unmodified(
                request_headers, self.headers["etag"], self.headers["last-modified"], if_range=True
            )
            self.span = served_range(asked, stat.st_size, read=read)
        if self.span is None:
            unchanged = unchanged_status(
                request_headers, self.headers["etag"], self.headers["last-modified"]
            )
            self.status_code = unchanged or self.status_code

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self.status_code == 304:  # werkzeug remove_entity_headers, no body
            unchanged = {k: v for k, v in self.headers.items() if k not in ENTITY_HEADERS}
            await Response(status_code=304, headers=unchanged)(scope, receive, send)
            return
        kept = [(k, v) for k, v in scope["headers"] if k.lower() not in (b"range", b"if-range")]
        if self.span is not None:
            start, stop = self.span
            kept.append((b"range", f"bytes={start}-{stop - 1}".encode()))
        await super().__call__({**scope, "headers": kept}, receive, send)


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


def _inside(part: tuple[int, int | None] | None, size: int) -> tuple[int, int] | None:
    """werkzeug's ``range_for_length``: the part's (start, stop) within the file, None
    when it does not start inside it (``bytes=-0`` is a suffix from 0: the whole file)."""
    assert part is not None
    start, stop = part
    if stop is None:
        stop = size
        start = start + size if start < 0 else start
    return (start, min(stop, size)) if 0 <= start < size and start < stop else None
