"""date_between on scalar labels (openeo-processes-dask has no implementation).

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


def instant(value: Any, what: str) -> dt.datetime | dt.time:
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
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise ProcessParameterInvalid(
            f"date_between: {what} '{value}' is not a date, date-time or time (RFC 3339)"
        ) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


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
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise ProcessParameterInvalid(
            f"date_shift: date '{date}' is not an RFC 3339 date or date-time"
        ) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return _rfc3339(parsed + shift)
