"""Temporal aggregation as Copernicus labels it.

- labels are period starts (``2023-05-01``), not openeo-processes-dask's month ends;
- periods (or intervals) without any scene are dropped, not filled with NaN;
- the reducer skips nodata; the result is float32 (integer reducers such as count
  stay integer).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from hybrid.errors import ProcessParameterInvalid

#: the periods Copernicus supports (no hour, no decade)
PERIODS = ("day", "week", "dekad", "month", "season", "tropical-season", "year")


def period_start(day: dt.date, period: str) -> dt.date:
    """First day of the ``period`` that contains ``day``."""
    if period == "day":
        return day
    if period == "week":
        return day - dt.timedelta(days=day.weekday())
    if period == "dekad":
        return day.replace(day=1 if day.day <= 10 else 11 if day.day <= 20 else 21)
    if period == "month":
        return day.replace(day=1)
    if period == "season":
        # DJF, MAM, JJA, SON; December starts the winter season of its own year
        if day.month in (12, 1, 2):
            return dt.date(day.year if day.month == 12 else day.year - 1, 12, 1)
        return dt.date(day.year, 3 * (day.month // 3), 1)
    if period == "tropical-season":
        # NDJFMA starts 1 November, MJJASO starts 1 May
        if 5 <= day.month <= 10:
            return dt.date(day.year, 5, 1)
        return dt.date(day.year if day.month >= 11 else day.year - 1, 11, 1)
    if period == "year":
        return day.replace(month=1, day=1)
    raise ProcessParameterInvalid(
        f"aggregate_temporal_period: period '{period}' is not supported; "
        f"use one of {', '.join(PERIODS)}"
    )


def _dates(data: Any, dim: str) -> list[dt.date]:
    values = np.asarray(data[dim].values).astype("datetime64[D]")
    return [v.astype(dt.date) for v in values]


def _reduce_groups(
    data: Any,
    dim: str,
    groups: list[tuple[Any, list[int]]],
    reducer: Callable[..., Any],
    *,
    text_labels: bool = False,
) -> Any:
    import xarray as xr

    parts = []
    for _label, index in groups:
        subset = data.isel({dim: index})
        with np.errstate(all="ignore"):
            reduced = subset.reduce(reducer, dim=dim, positional_parameters={"data": 0})
        kind = np.dtype(reduced.dtype).kind
        reduced = reduced.astype(np.int32 if kind in "iub" else np.float32)
        parts.append(reduced)
    if not parts:
        raise ProcessParameterInvalid(f"temporal aggregation over '{dim}' produced no period")
    out = xr.concat(parts, dim=dim, join="exact")
    if text_labels:
        out = out.assign_coords({dim: [str(label) for label, _ in groups]})
    else:
        out = out.assign_coords({dim: [np.datetime64(label, "ns") for label, _ in groups]})
    out.attrs = dict(data.attrs)
    return out.transpose(*data.dims)


def _temporal_dim(data: Any, dimension: str | None) -> str:
    dim = dimension or "t"
    if dim not in data.dims:
        raise ProcessParameterInvalid(
            f"temporal aggregation: dimension '{dim}' not in the cube ({', '.join(data.dims)})"
        )
    return dim


def aggregate_temporal_period(
    data: Any,
    reducer: Callable[..., Any],
    period: str,
    dimension: str | None = None,
    context: Any = None,
) -> Any:
    dim = _temporal_dim(data, dimension)
    if period not in PERIODS:
        raise ProcessParameterInvalid(
            f"aggregate_temporal_period: period '{period}' is not supported; "
            f"use one of {', '.join(PERIODS)}"
        )
    groups: dict[dt.date, list[int]] = {}
    for i, day in enumerate(_dates(data, dim)):
        groups.setdefault(period_start(day, period), []).append(i)
    ordered = [(start.isoformat(), groups[start]) for start in sorted(groups)]
    return _reduce_groups(data, dim, ordered, reducer)


def _as_date(value: Any, what: str) -> dt.date:
    text = str(value).strip()
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError as exc:
        raise ProcessParameterInvalid(
            f"aggregate_temporal: {what} '{value}' is not a date"
        ) from exc


def aggregate_temporal(
    data: Any,
    intervals: Sequence[Sequence[Any]],
    reducer: Callable[..., Any],
    labels: Sequence[Any] | None = None,
    dimension: str | None = None,
    context: Any = None,
) -> Any:
    dim = _temporal_dim(data, dimension)
    bounds = [(_as_date(i[0], "start"), _as_date(i[1], "end")) for i in intervals]
    if labels is not None and len(labels) != len(bounds):
        raise ProcessParameterInvalid(
            f"aggregate_temporal: {len(labels)} labels for {len(bounds)} intervals"
        )
    for start, end in bounds:
        if end <= start:
            raise ProcessParameterInvalid(
                f"aggregate_temporal: interval [{start}, {end}) is empty or reversed"
            )
    names = (
        [str(lab) for lab in labels] if labels is not None else [s.isoformat() for s, _ in bounds]
    )
    days = _dates(data, dim)
    groups: list[tuple[Any, list[int]]] = []
    for (start, end), name in zip(bounds, names, strict=True):
        index = [i for i, day in enumerate(days) if start <= day < end]
        if index:
            groups.append((name, index))
    if not groups:
        raise ProcessParameterInvalid("aggregate_temporal: no scene falls in any interval")
    if all(_is_date(name) for name, _ in groups):
        groups = [(name[:10], index) for name, index in groups]
        return _reduce_groups(data, dim, groups, reducer)
    return _reduce_groups(data, dim, groups, reducer, text_labels=True)


def _is_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text[:10])
    except ValueError:
        return False
    return len(text) == 10 or text[10] in "T "
