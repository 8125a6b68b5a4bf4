"""Temporal aggregation as Copernicus does it: labels are period starts, empty periods dropped."""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

PERIODS = ("day", "week", "dekad", "month", "season", "tropical-season", "year")
REDUCERS = ("mean", "median", "min", "max", "sd", "count")


def period_intervals(
    start: dt.datetime, end: dt.datetime, period: str
) -> list[tuple[dt.date, dt.date]]:
    """[start, end) periods of aggregate_temporal_period for a load extent, as the
    python-driver builds them (ProcessGraphDeserializer ``_period_to_intervals``):

    - week: pandas ``freq="W"`` (Sundays), each week [Sunday, next Sunday);
    - dekad: days 1-10, 11-20, 21-end of the months starting in [start - 10 days, end),
      so an extent starting on day 12 or later has no dekad in its first month;
    - month, season (Mar/Jun/Sep/Dec), tropical-season (May/Nov), year: calendar periods;
    - only periods starting before ``end`` are kept.
    """
    import pandas as pd

    first = pd.Timestamp(start.date())
    last = (
        pd.Timestamp(end.date())
        if end.time() == dt.time(0)
        else pd.Timestamp(end.date()) + pd.Timedelta(days=1)
    )
    if period not in PERIODS:
        raise ValueError(f"unknown period {period!r}; use one of {', '.join(PERIODS)}")
    if period == "day":
        starts = list(pd.date_range(first, last, freq="D", inclusive="left"))
        bounds = [(s, s + pd.Timedelta(days=1)) for s in starts]
    elif period == "week":
        sundays = pd.date_range(first - pd.Timedelta(days=7), last, freq="W-SUN", inclusive="left")
        bounds = [(s, s + pd.Timedelta(days=7)) for s in sundays]
    elif period == "dekad":
        months = pd.date_range(first - pd.Timedelta(days=10), last, freq="MS", inclusive="left")
        bounds = []
        for m in months:
            nxt = m + pd.offsets.MonthBegin(1)
            bounds += [
                (m, m + pd.Timedelta(days=10)),
                (m + pd.Timedelta(days=10), m + pd.Timedelta(days=20)),
            ]
            bounds.append((m + pd.Timedelta(days=20), nxt))
    else:
        step = {"month": 1, "season": 3, "tropical-season": 6, "year": 12}[period]
        phase = {"month": 0, "season": 3, "tropical-season": 5, "year": 1}[period]
        # the period containing the start: its first month is phase + k * step
        back = (first.month - phase) % step
        current = first.replace(day=1) - pd.DateOffset(months=back)
        bounds = []
        while current < last:
            nxt = current + pd.DateOffset(months=step)
            bounds.append((current, nxt))
            current = nxt
    return [(s.date(), e.date()) for s, e in bounds if s < last]


def timestamp_label(date: dt.date) -> str:
    return f"{date.isoformat()}T00:00:00Z"


def reduce_stack(stack: np.ndarray, reducer: str) -> np.ndarray:
    """Reduce (t, y, x) over t skipping NaN; float32. No valid value: NaN, also for
    count (geotrellis-extensions OpenEOProcessScriptBuilder.scala ``multibandReduce``
    leaves a pixel without values as its first tile has it)."""
    values = stack.astype(np.float64)
    valid = ~np.isnan(values)
    count = valid.sum(axis=0)
    if reducer == "count":
        return np.where(count == 0, np.nan, count).astype(np.float32)
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
    extent: tuple[dt.datetime, dt.datetime] | None = None,
) -> tuple[list[str], np.ndarray]:
    """Group the (t, y, x) stack into periods (or [start, end) intervals) and reduce.

    Periods are those of the load's temporal ``extent`` (default: the first date to
    the day after the last). Dates in no period and groups with no date are dropped;
    groups whose pixels are all NaN stay (as NaN).
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
        if extent is None:
            first, last = min(dates), max(dates) + dt.timedelta(days=1)
            extent = (
                dt.datetime.combine(first, dt.time(0), dt.UTC),
                dt.datetime.combine(last, dt.time(0), dt.UTC),
            )
        for start, end in period_intervals(extent[0], extent[1], period):
            members = [i for i, d in enumerate(dates) if start <= d < end]
            if members:
                groups.append((timestamp_label(start), members))
    shape = stack.shape[1:]
    data = np.empty((len(groups), *shape), dtype=np.float32)
    for k, (_label, members) in enumerate(groups):
        data[k] = reduce_stack(stack[members], reducer)
    return [label for label, _ in groups], data
