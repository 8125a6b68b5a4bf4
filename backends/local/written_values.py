"""Arguments as the graph wrote them, not as openeo-pg-parser-networkx re-typed them.

The parser validates every argument against a union that tries date, date-time, year,
time and interval models before plain JSON (pg_schema.py ``ProcessNode.arguments``,
``union_mode='left_to_right'``): ``"2020-01-31"`` arrives as a ``Date``, any two
date-like strings as a ``TemporalInterval`` and an empty list ``[]`` as an empty
``TemporalIntervals``. Processes that take plain values (``eq``, ``array_element`` on a
list, ``date_shift``, ``mean([])``, ...) then see objects instead of what the user wrote
and fail or answer wrongly. :func:`plain_arguments` gives every process the JSON value
back - dates as ``YYYY-MM-DD``, date-times as RFC 3339 text in UTC (``Z``), years as
``YYYY``, times as ``HH:MM:SS``, intervals as two-element lists (filter_temporal too:
its own implementation, processes/labels.py, builds the model the stock one reads). The
engine's own parser (hybrid.backends.local.graph_parsing) keeps the text in the first
place; this covers graphs parsed by the stock parser (callbacks the openEO test suite's
dask runner builds) and references inside lists.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any


@functools.cache
def _models() -> dict[type, str]:
    from openeo_pg_parser_networkx import pg_schema as s

    return {
        s.Date: "date",
        s.DateTime: "date-time",
        s.Year: "year",
        s.Time: "time",
        s.TemporalInterval: "interval",
        s.TemporalIntervals: "intervals",
    }


def _datetime_text(value: dt.datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    text = value.isoformat(timespec="microseconds" if value.microsecond else "seconds")
    return text + "Z"


def as_written(value: Any) -> Any:
    """``value`` with the parser's date and interval models turned back into JSON values;
    lists and objects are converted element-wise, anything else is returned unchanged."""
    kind = _models().get(type(value))
    if kind is None:
        if isinstance(value, list):
            return [as_written(v) for v in value]
        if type(value) is dict:
            return {k: as_written(v) for k, v in value.items()}
        return value
    root = value.root
    if kind == "date":
        return root.date().isoformat()
    if kind == "year":
        return f"{root.year:04d}"
    if kind == "time":
        return root.isoformat()
    if kind == "date-time":
        return _datetime_text(root)
    return [as_written(v) for v in root]  # interval(s)


def plain_arguments(pid: str, implementation: Callable[..., Any]) -> Callable[..., Any]:
    """``implementation`` called with :func:`as_written` keyword arguments."""

    @functools.wraps(implementation)
    def run(*args: Any, **kwargs: Any) -> Any:
        for name, value in kwargs.items():
            kwargs[name] = as_written(value)
        return implementation(*args, **kwargs)

    return run
