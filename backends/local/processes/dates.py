"""date_between, date_shift, date_difference and date_replace_component on scalar
labels (openeo-processes-dask has none of them).

Used by filter_labels conditions on ``t`` (hybrid.workflow_graph excludes dates with it).
Accepts what the openEO spec allows for x, min and max: RFC 3339 date-times,
``YYYY-MM-DD`` dates (UTC midnight) and ``HH:MM:SS`` times; numpy datetime64 and
Python date/datetime values (and the parser's models wrapping them) are read too.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from hybrid.errors import ProcessParameterInvalid
from hybrid.rfc3339 import aware_datetime


def instant(value: Any, what: str, process: str = "date_between") -> dt.datetime | dt.time:
    value = getattr(value, "root", value)  # the graph parser wraps date-times in models
    if isinstance(value, np.datetime64):
        value = value.astype("datetime64[us]").astype(dt.datetime)
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    text = str(value).strip()
    try:
        if len(text) == 8 and text[2] == ":" and text[5] == ":":
            return dt.time.fromisoformat(text)
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
        return aware_datetime(text)
    except ValueError as exc:
        raise ProcessParameterInvalid(
            f"{process}: {what} '{value}' is not a date, date-time or time (RFC 3339)"
        ) from exc


def date_between(
    x: Any, min: Any, max: Any, exclude_max: bool = False, **_context: Any
) -> bool | None:
    """Whether ``min <= x <= max`` (``x < max`` with exclude_max); None for no-data x."""
    if x is None:
        return None
    value = instant(x, "x")
    low = instant(min, "min")
    high = instant(max, "max")
    kinds = {type(value) is dt.time, type(low) is dt.time, type(high) is dt.time}
    if len(kinds) != 1:
        raise ProcessParameterInvalid(
            "date_between: x, min and max must all be dates/date-times or all be times"
        )
    if value < low:  # type: ignore[operator]
        return False
    return bool(value < high) if exclude_max else bool(value <= high)  # type: ignore[operator]


#: date_shift units -> relativedelta keyword (milliseconds are shifted as microseconds)
_SHIFT_UNITS = {
    "year": "years",
    "month": "months",
    "week": "weeks",
    "day": "days",
    "hour": "hours",
    "minute": "minutes",
    "second": "seconds",
    "millisecond": "microseconds",
}


def _rfc3339(value: dt.datetime) -> str:
    text = value.isoformat(timespec="milliseconds" if value.microsecond else "seconds")
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def date_shift(date: Any, value: int, unit: str) -> str | None:
    """``date`` moved by ``value`` units, as text of the same kind (openEO 1.2).

    Months and years move by calendar (2020-01-31 + 1 month = 2020-02-29); a date
    without time stays a date (2018-01-01 - 1 hour = 2017-12-31); the time-zone offset
    of a date-time is kept.
    """
    from dateutil.relativedelta import relativedelta

    if date is None:
        return None
    if unit not in _SHIFT_UNITS:
        raise ProcessParameterInvalid(
            f"date_shift: unit '{unit}' is not one of {', '.join(_SHIFT_UNITS)}"
        )
    text = str(getattr(date, "root", date)).strip()
    amount = value * 1000 if unit == "millisecond" else value
    shift = relativedelta(**{_SHIFT_UNITS[unit]: amount})
    if len(text) == 10:
        day = instant(text, "date")
        assert isinstance(day, dt.datetime)
        return (day + shift).date().isoformat()
    try:
        parsed = aware_datetime(text)
    except ValueError as exc:
        raise ProcessParameterInvalid(
            f"date_shift: date '{date}' is not an RFC 3339 date or date-time"
        ) from exc
    return _rfc3339(parsed + shift)


def _moment(value: Any, what: str, process: str) -> dt.datetime:
    moment = instant(value, what, process)
    if not isinstance(moment, dt.datetime):
        raise ProcessParameterInvalid(f"{process}: {what} '{value}' is a time, not a date")
    return moment


def _whole_months(first: dt.datetime, second: dt.datetime) -> int:
    """Complete calendar months from ``first`` to ``second`` (negative when earlier)."""
    months = (second.year - first.year) * 12 + second.month - first.month
    rest1 = (first.day, first.timetz().replace(tzinfo=None))
    rest2 = (second.day, second.timetz().replace(tzinfo=None))
    if months > 0 and rest2 < rest1:
        months -= 1
    elif months < 0 and rest2 > rest1:
        months += 1
    return months


def date_difference(date1: Any, date2: Any, unit: str = "second", **_: Any) -> float | None:
    """``date2 - date1`` in ``unit``, as Copernicus computes it (openeo-geotrellis-extensions
    ``OpenEOProcessScriptBuilder.scala`` ``dateDifferenceProcess``, L785-811): days are
    whole hours / 24, hours whole minutes / 60, seconds whole seconds, months complete
    calendar months, years whole days / 365; minutes and milliseconds are refused.
    Whole numbers come back as integers."""
    if date1 is None or date2 is None:
        return None
    first = _moment(date1, "date1", "date_difference")
    second = _moment(date2, "date2", "date_difference")
    seconds = int((second - first).total_seconds())  # Java's Duration units truncate to 0
    whole = {
        "second": lambda: seconds,
        "hour": lambda: int(seconds / 60) / 60.0,
        "day": lambda: int(seconds / 3600) / 24.0,
        "month": lambda: _whole_months(first, second),
        "year": lambda: int(seconds / 86400) / 365.0,
    }
    if unit not in whole:
        raise ProcessParameterInvalid(
            f"date_difference: unsupported unit {unit!r} (Copernicus offers {', '.join(whole)})"
        )
    value = whole[unit]()
    return int(value) if float(value).is_integer() else value


#: date_replace_component's components, as Copernicus offers them
_COMPONENTS = ("year", "month", "day", "hour", "minute", "second")


def date_replace_component(date: Any, value: Any, component: str, **_: Any) -> str | None:
    """``date`` with one component set to ``value`` (openeo-geotrellis-extensions
    ``OpenEOProcessScriptBuilder.scala`` ``dateReplaceComponent``, L750-783: an integer
    value, components year to second, an impossible date refused). A date stays a
    date; a date-time keeps its offset."""
    if date is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise ProcessParameterInvalid(
            f"date_replace_component: The 'value' argument should be an integer, but got: {value}"
        )
    if component not in _COMPONENTS:
        raise ProcessParameterInvalid(
            f"date_replace_component: unsupported component {component!r} "
            f"(one of {', '.join(_COMPONENTS)})"
        )
    text = str(getattr(date, "root", date)).strip()
    moment = _moment(text, "date", "date_replace_component")
    try:
        replaced = moment.replace(**{component: value})  # type: ignore[arg-type]
    except ValueError as exc:
        raise ProcessParameterInvalid(
            f"date_replace_component: cannot set the {component} of {text} to {value}: {exc}"
        ) from exc
    if len(text) == 10 and component in ("year", "month", "day"):
        return replaced.date().isoformat()
    return _rfc3339(replaced)


#: descriptions of the processes openeo-processes-dask has no spec for
SPECS: dict[str, dict[str, Any]] = {
    "date_replace_component": {
        "id": "date_replace_component",
        "summary": "Replace a component of a date",
        "description": "Sets one component (year, month, day, hour, minute or second) of a "
        "date or date-time to a new value.",
        "categories": ["date & time"],
        "experimental": True,
        "parameters": [
            {"name": "date", "description": "The date or date-time to change.",
             "schema": [{"type": "string", "format": "date-time", "subtype": "date-time"},
                        {"type": "string", "format": "date", "subtype": "date"},
                        {"type": "null"}]},
            {"name": "value", "description": "The new value of the component.",
             "schema": {"type": "integer"}},
            {"name": "component", "description": "The component to replace.",
             "schema": {"type": "string", "enum": list(_COMPONENTS)}},
        ],
        "returns": {"description": "The changed date or date-time.",
                    "schema": [{"type": "string", "format": "date-time", "subtype": "date-time"},
                               {"type": "string", "format": "date", "subtype": "date"},
                               {"type": "null"}]},
    },
}  # fmt: skip
