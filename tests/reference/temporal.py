"""Temporal aggregation as Copernicus does it: labels are period starts, empty periods dropped."""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

PERIODS = ("day", "week", "dekad", "month", "season", "tropical-season", "year")
REDUCERS = ("mean", "median", "min", "max", "sd", "count")


def period_start(date: dt.date, period: str) -> dt.date:
    """First day of the ``period`` containing ``date``."""
    if period == "day":
        return date
    if period == "week":
        return date - dt.timedelta(days=date.weekday())
    if period == "dekad":
        return date.replace(day=1 if date.day <= 10 else 11 if date.day <= 20 else 21)
    if period == "month":
        return date.replace(day=1)
    if period == "season":
        if date.month == 12:
            return dt.date(date.year, 12, 1)
        if date.month <= 2:
            return dt.date(date.year - 1, 12, 1)
        return dt.date(date.year, 3 * (date.month // 3), 1)
    if period == "tropical-season":
        if 5 <= date.month <= 10:
            return dt.date(date.year, 5, 1)
        return dt.date(date.year if date.month >= 11 else date.year - 1, 11, 1)
    if period == "year":
        return dt.date(date.year, 1, 1)
    raise ValueError(f"unknown period {period!r}; use one of {', '.join(PERIODS)}")


def timestamp_label(date: dt.date) -> str:
    return f"{date.isoformat()}T00:00:00Z"


def reduce_stack(stack: np.ndarray, reducer: str) -> np.ndarray:
    """Reduce (t, y, x) over t skipping NaN; float32. No valid value: NaN (count: 0)."""
    values = stack.astype(np.float64)
    valid = ~np.isnan(values)
    count = valid.sum(axis=0)
    if reducer == "count":
        return count.astype(np.float32)
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        if reducer == "mean":
            out = np.nansum(values, axis=0) / count
        elif reducer == "median":
            out = np.nanmedian(values, axis=0)
        elif reducer == "min":
            out = np.nanmin(values, axis=0)
        elif reducer == "max":
            out = np.nanmax(values, axis=0)
        elif reducer == "sd":
            mean = np.nansum(values, axis=0) / count
            squares = np.nansum((values - mean) ** 2, axis=0)
            out = np.sqrt(squares / (count - 1))
            out[count < 2] = np.nan
        else:
            raise ValueError(f"unknown reducer {reducer!r}; use one of {', '.join(REDUCERS)}")
    out[count == 0] = np.nan
    return out.astype(np.float32)


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def normalise_intervals(intervals: Sequence[Any]) -> list[tuple[dt.date, dt.date, str]]:
    """(start, end[, label]) tuples or objects with start/end/label -> (start, end, label)."""
    out = []
    for interval in intervals:
        if isinstance(interval, (tuple, list)):
            start, end = interval[0], interval[1]
            label = interval[2] if len(interval) > 2 else None
        else:
            start, end, label = interval.start, interval.end, getattr(interval, "label", None)
        first = _as_date(start)
        out.append((first, _as_date(end), label if label is not None else timestamp_label(first)))
    return out


def aggregate(
    stack: np.ndarray,
    dates: Sequence[dt.date],
    *,
    reducer: str,
    period: str = "month",
    intervals: Sequence[Any] | None = None,
) -> tuple[list[str], np.ndarray]:
    """Group the (t, y, x) stack into periods (or [start, end) intervals) and reduce.

    Groups with no date are dropped; groups whose pixels are all NaN stay (as NaN).
    """
    if reducer not in REDUCERS:
        raise ValueError(f"unknown reducer {reducer!r}; use one of {', '.join(REDUCERS)}")
    groups: list[tuple[str, list[int]]] = []
    if intervals is not None:
        for start, end, label in normalise_intervals(intervals):
            members = [i for i, d in enumerate(dates) if start <= d < end]
            if members:
                groups.append((label, members))
    else:
        period_start(dt.date(2000, 1, 1), period)  # validates the period name
        starts: dict[dt.date, list[int]] = {}
        for i, d in enumerate(dates):
            starts.setdefault(period_start(d, period), []).append(i)
        groups = [(timestamp_label(s), starts[s]) for s in sorted(starts)]
    shape = stack.shape[1:]
    data = np.empty((len(groups), *shape), dtype=np.float32)
    for k, (_label, members) in enumerate(groups):
        data[k] = reduce_stack(stack[members], reducer)
    return [label for label, _ in groups], data
