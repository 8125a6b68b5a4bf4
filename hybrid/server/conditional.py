"""The headers and conditional answers of a result download as Copernicus's Flask sends
them.

Copernicus sends a job's result file with Flask's ``send_from_directory`` (openeo-python-driver
9e5b49b2 ``views.py`` L1432-1433), werkzeug's ``send_file`` (werkzeug 3.1 ``utils.py``
L312-527) with Flask's defaults: ``Content-Disposition: inline; filename=NAME`` (the file's
name, quoted only when it is not a token, an ASCII copy and ``filename*`` when it is not
ASCII), ``Cache-Control: no-cache`` (no ``SEND_FILE_MAX_AGE_DEFAULT``), the ``ETag``
``"MTIME-SIZE-ADLER32"`` (the file's ``st_mtime`` as Python writes a float, its size, the
Adler-32 of its path), then ``make_conditional`` (``wrappers/response.py`` L708-783): a
request that is no served range and whose validators say the file is unchanged
(``is_resource_modified`` with ``If-Range`` ignored, ``sansio/http.py`` L17-) is a 304 without
the entity headers (``remove_entity_headers``: no ``Content-Length``, ``Content-Type``,
``Last-Modified``), or a 412 when it has an ``If-Match``, which werkzeug sends with the
whole file (``get_app_iter`` L520- empties only HEAD, 204 and 304 answers).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
import unicodedata
import zlib
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote

#: werkzeug http.py ``_etag_re``: one tag of a list, quoted or not, weak or not
_ETAG = re.compile(r'([Ww]/)?(?:"(.*?)"|(.*?))(?:\s*,\s*|$)')
#: werkzeug http.py ``_token_chars``: what a header value may hold unquoted
_TOKEN = frozenset("!#$%&'*+-.0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ^_`abcdefghijklmnopqrstuvwxyz|~")

#: the headers werkzeug's 304 leaves out (http.py ``_entity_headers`` but ``expires``)
ENTITY_HEADERS = frozenset(
    {
        "allow",
        "content-encoding",
        "content-language",
        "content-length",
        "content-md5",
        "content-range",
        "content-type",
        "last-modified",
    }
)


def flask_etag(path: Path, mtime: float, size: int) -> str:
    """werkzeug ``send_file``'s ``ETag`` of the file at ``path``, quoted."""
    check = zlib.adler32(str(path).encode()) & 0xFFFFFFFF
    return f'"{mtime}-{size}-{check}"'


def inline_disposition(name: str) -> str:
    """werkzeug ``send_file``'s ``Content-Disposition`` of a file named ``name``."""
    try:
        name.encode("ascii")
    except UnicodeEncodeError:
        simple = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
        quoted = quote(name, safe="!#$&+-.^_`|~")
        return f"inline; filename={_header_value(simple)}; filename*=UTF-8''{quoted}"
    return f"inline; filename={_header_value(name)}"


def _header_value(value: str) -> str:
    """werkzeug ``quote_header_value``: a token as it is, anything else quoted."""
    if value and _TOKEN.issuperset(value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def etags(value: str | None) -> tuple[bool, set[str], set[str]]:
    """werkzeug ``parse_etags``: (``*``, the strong tags, the weak tags) of a header."""
    strong: set[str] = set()
    weak: set[str] = set()
    position = 0
    while value and position < len(value):
        match = _ETAG.match(value, position)
        if match is None:
            break
        is_weak, quoted, raw = match.groups()
        if raw == "*":
            return True, set(), set()
        (weak if is_weak else strong).add(quoted or raw)
        position = match.end()
    return False, strong, weak


def http_date(value: str | None) -> dt.datetime | None:
    """werkzeug ``parse_date``: an HTTP date as UTC, None when it is none."""
    if value is None:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed


def unchanged_status(headers: Mapping[str, str], etag: str, last_modified: str) -> int | None:
    """The 304 (or 412 with ``If-Match``) werkzeug's ``make_conditional`` answers a request
    that is not served a range, with these request ``headers``, for a file with this
    ``ETag`` and ``Last-Modified``; None when it sends the file."""
    if not unmodified(headers, etag, last_modified, if_range=False):
        return None
    star, strong, weak = etags(headers.get("if-match"))
    return 412 if star or strong or weak else 304


def unmodified(
    headers: Mapping[str, str], etag: str, last_modified: str, *, if_range: bool
) -> bool:
    """werkzeug ``is_resource_modified``, negated: whether the request ``headers`` say the
    file with this ``ETag`` and ``Last-Modified`` is unchanged, reading ``If-Range`` (as
    ``_is_range_request_processable`` does) or not (as ``make_conditional`` does). An
    ``If-Range`` date stands for ``If-Modified-Since``; an ``If-Range`` tag alone decides,
    else ``If-None-Match`` (weakly, or ``*``) and then ``If-Match`` (strongly) do."""
    range_date: dt.datetime | None = None
    range_tag: str | None = None
    value = headers.get("if-range") if if_range else None
    if value:  # werkzeug parse_if_range_header: an empty value is neither
        range_date = http_date(value)
        range_tag = None if range_date is not None else unquote_etag(value)
    since = range_date or http_date(headers.get("if-modified-since"))
    modified = http_date(last_modified)
    result = since is not None and modified is not None and modified <= since
    tag = unquote_etag(etag)
    if range_tag is not None:
        star, strong, _ = etags(range_tag)
        return star or tag in strong
    star, strong, weak = etags(headers.get("if-none-match"))
    if star or strong or weak:
        result = star or tag in strong or tag in weak
    star, strong, weak = etags(headers.get("if-match"))
    if star or strong or weak:
        result = tag not in strong
    return result


def unquote_etag(tag: str) -> str:
    """werkzeug ``unquote_etag``: the tag without ``W/`` and its quotes."""
    tag = tag.strip()
    tag = tag[2:] if tag[:2] in ("W/", "w/") else tag
    return tag[1:-1] if tag[:1] == tag[-1:] == '"' else tag
