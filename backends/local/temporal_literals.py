"""Literal temporal intervals checked as Copernicus checks them before anything runs.

With both bounds given, openeo-python-driver's ``_extract_temporal_extent``
(``processgraph/process_implementations/io.py`` L39-61 for load_collection, load_stac,
query_stac; ``cubes.py`` L38-60 for filter_temporal) compares
``openeo.util.rfc3339.parse_date_or_datetime(end) < ...(start)``: a bound longer than ten
characters must be a UTC date-time ending in ``Z`` (``2023-06-02T10:00:00Z``, fractions
allowed), a shorter one a date (``2023-06-02``), and a date against a date-time cannot be
compared. Anything else raises there, which the API answers with a 500 ``Internal``
(a batch job fails). Here the same call decides and a 400 says what to write instead.
With one bound open nothing is compared there, and the other bound is read by dateutil
(openeo-geopyspark-driver load_stac.py L227-230, util/datetime.py L15-19, utils.py
L130-144), which fills a missing day or month from the day the job runs: ``2023-06``
starts on 2023-06-07 on 7 December. Such a bound is refused here as with both bounds
given; the openeo client never sends one (it writes ``2023-06-01``, openeo/dates.py
``_convert_abbreviated_date``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hybrid.errors import ProcessParameterInvalid

#: process -> its interval argument
_INTERVALS = {
    "load_collection": "temporal_extent",
    "load_stac": "temporal_extent",
    "filter_temporal": "extent",
}


def check_interval(node_id: str, process: str, args: Mapping[str, Any]) -> None:
    """Refuse a literal interval of ``process``'s arguments that Copernicus cannot read."""
    field = _INTERVALS.get(process)
    if field is None:
        return
    extent = args.get(field)
    if not isinstance(extent, list) or len(extent) != 2:
        return
    if not all(isinstance(bound, str) for bound in extent):
        _check_beside_open_bound(node_id, process, field, extent)
        return
    from openeo.util import rfc3339

    try:
        start, end = (rfc3339.parse_date_or_datetime(bound) for bound in extent)
        _ = end < start  # type: ignore[operator]  # the driver's comparison, as it is
    except (TypeError, ValueError):
        for bound in extent:  # not a date at all: that message
            _readable(node_id, process, field, bound)
        raise ProcessParameterInvalid(
            f"{process}: {field} {extent!r} cannot be read by Copernicus (it fails there "
            "with an internal error): give both bounds as dates (2023-06-02) or both as "
            "UTC date-times ending in Z (2023-06-02T10:00:00Z)",
            node=node_id,
        ) from None


def _check_beside_open_bound(node_id: str, process: str, field: str, extent: list[Any]) -> None:
    """A text bound beside an open one must be a whole date or date-time (see above)."""
    if None not in extent:
        return  # a parameter or not text: other checks judge it
    for bound in extent:
        if isinstance(bound, str):
            _readable(node_id, process, field, bound)


def _readable(node_id: str, process: str, field: str, bound: str) -> None:
    """Refuse a ``bound`` that is no date or date-time, naming the node as the other
    argument errors do."""
    from hybrid.errors import UsageError
    from hybrid.stac.query import parse_instant

    try:
        parse_instant(bound, what=f"{process} {field}")
    except UsageError as exc:
        raise ProcessParameterInvalid(exc.message, node=node_id) from None
