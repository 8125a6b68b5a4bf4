"""Temporal aggregation as Copernicus labels it.

- labels are period starts (``2023-05-01T00:00:00``), not openeo-processes-dask's
  month ends;
- periods (or intervals) without any scene are dropped, not filled with NaN; a period
  whose scenes are all nodata is kept and comes out as NaN;
- the reducer skips nodata; float input is handed to it as float64 (geotrellis
  accumulates its mean in doubles) and the result is stored as float32 (integer
  results such as count stay integer, as int32);
- the periods are those the python-driver builds from the load's temporal extent
  (openeo-python-driver ProcessGraphDeserializer.py ``_period_to_intervals``, read at
  commit 510c6827, ~L1450-1506): weeks are pandas ``freq="W"`` weeks, Sunday to
  Saturday, labelled by their Sunday; dekads come from the months starting in
  [start - 10 days, end), so when the extent starts on day 12 or later the first
  month has no dekad and its dates are dropped. The extent is the cube's temporal
  extent as Copernicus tracks it in its metadata, recorded in the cube's attributes
  (:data:`TEMPORAL_EXTENT`): the load's, narrowed by filter_temporal, the union of
  both cubes' after merge_cubes (:func:`narrowed_extent`, :func:`merged_extent`);
  without it (a cube not loaded by this engine) every month has its dekads. Known
  divergence: for a yearly period whose extent starts on 31 December the driver builds
  zero-length intervals (``start - 52 weeks`` misses the previous year end); here the
  calendar year is used.

The reducer is called ONCE, on all periods at the same time: the periods are stacked
along the temporal dimension and their scenes along an extra dimension, padded with
nodata (NaN) to the longest period. openeo-pg-parser-networkx caches the result of
every node inside a callback after its first call (only the callback's result node is
re-run for aggregate_temporal_period, nothing for aggregate_temporal), so calling a
reducer once per period would hand every period the first period's result. The price
of the padding: a reducer that does not skip nodata (``ignore_nodata=false``) sees
the padding of periods shorter than the longest one.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from hybrid.backends.local.processes.callbacks import single_valued
from hybrid.backends.local.processes.cube_dimensions import require_dimension
from hybrid.errors import ProcessParameterInvalid
from hybrid.params import PERIODS  # the periods Copernicus supports (no hour, no decade)

#: name of the padded scene dimension handed to the reducer
_MEMBER_DIM = "__period_member"
_RFC3339_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

#: dates of one period reduced in one task (larger periods are reduced as a tree)
_MEMBERS_PER_TASK = 16

#: cube attribute holding load_collection's temporal extent ("start", "end") as text
TEMPORAL_EXTENT = "hybrid:temporal_extent"


def narrowed_extent(
    extent: tuple[str, str] | None, start: str | None, end: str | None
) -> tuple[str | None, str | None]:
    """The temporal extent after filter_temporal [start, end) (None: open), as
    Copernicus narrows its metadata's (openeo-geopyspark-driver 9baf2e10
    ``geopysparkcubemetadata.py`` ``filter_temporal`` L88-102, called by
    ``geopysparkdatacube.py`` ``filter_temporal`` L254): the later start and the earlier
    end, compared as texts there."""
    this_start, this_end = extent or (None, None)
    return (
        this_start if start is None or (this_start and start < this_start) else start,
        this_end if end is None or (this_end and this_end < end) else end,
    )


def merged_extent(first: Any, second: Any) -> Any:
    """The temporal extent of merge_cubes' result: the union of both cubes' when both
    have one (``geopysparkdatacube.py`` ``merge_cubes`` L1141-1147, compared as texts),
    else the first's (or the second's)."""
    if not (first and second) or None in (*first, *second):
        return first or second
    return (min(first[0], second[0]), max(first[1], second[1]))


def period_start(day: dt.date, period: str) -> dt.date:
    """First day of the ``period`` that contains ``day``."""
    if period == "day":
        return day
    if period == "week":
        # pandas freq "W" (W-SUN): the week runs from a Sunday, which labels it
        return day - dt.timedelta(days=(day.weekday() + 1) % 7)
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


def _first_dekad_month(extent: Any) -> dt.date | None:
    """The first month with dekads: the one starting in [start - 10 days, ...)."""
    if not extent:
        return None
    try:
        start = dt.date.fromisoformat(str(extent[0])[:10])
    except ValueError:
        return None
    earliest = start - dt.timedelta(days=10)
    if earliest.day == 1:
        return earliest
    month = earliest.replace(day=28) + dt.timedelta(days=4)
    return month.replace(day=1)


def _dates(data: Any, dim: str) -> list[dt.date]:
    values = np.asarray(data[dim].values).astype("datetime64[D]")
    return [v.astype(dt.date) for v in values]


def _reduce_groups(
    data: Any,
    dim: str,
    groups: list[tuple[Any, list[int]]],
    reducer: Callable[..., Any],
    context: Any,
) -> Any:
    """Reduce each group of ``dim`` positions with one call of ``reducer``, which gets
    the parent's ``context`` as its parameter of that name."""
    if not groups:
        raise ProcessParameterInvalid(f"temporal aggregation over '{dim}' produced no period")
    width = max(len(index) for _, index in groups)
    take = np.zeros((len(groups), width), dtype=np.int64)
    valid = np.zeros((len(groups), width), dtype=bool)
    for row, (_, index) in enumerate(groups):
        # a shorter period's padding repeats one of its own dates (masked below), so
        # that a period never reads another period's dates: with threads, each batch of
        # the store would compute those dates again (hybrid.io.streaming)
        take[row] = index[-1] if index else 0
        take[row, : len(index)] = index
        valid[row, : len(index)] = True
    stacked = _stacked(data, dim, take, valid)
    with np.errstate(all="ignore"):
        one = single_valued(reducer, "temporal aggregation", dim)
        reduced = stacked.reduce(
            one,
            dim=_MEMBER_DIM,
            positional_parameters={"data": 0},
            named_parameters={"context": context},
        )
    kind = np.dtype(reduced.dtype).kind
    reduced = reduced.astype(np.int32 if kind in "iub" else np.float32)
    coords = np.array([np.datetime64(label, "ns") for label, _ in groups])
    out = reduced.assign_coords({dim: coords})
    out.attrs = dict(data.attrs)
    return out.transpose(*data.dims)


def _stacked(data: Any, dim: str, take: np.ndarray, valid: np.ndarray) -> Any:
    """``data`` with ``dim`` replaced by (``dim``, member): the dates ``take`` of each
    period, the padding (not ``valid``) NaN; float input as float64."""
    import xarray as xr

    float_input = np.dtype(data.dtype).kind == "f"
    if float_input and data.chunks is not None:
        from hybrid.backends.local.processes.period_stack import stacked_periods

        axis = data.dims.index(dim)
        values = stacked_periods(data.data, axis, take, valid, _MEMBERS_PER_TASK)
        dims = (*data.dims[:axis], dim, _MEMBER_DIM, *data.dims[axis + 1 :])
        coords = {name: coord for name, coord in data.coords.items() if dim not in coord.dims}
        return xr.DataArray(values, dims=dims, coords=coords, name=data.name, attrs=data.attrs)
    indexer = xr.DataArray(take, dims=(dim, _MEMBER_DIM))
    stacked = data.isel({dim: indexer}).drop_vars(dim, errors="ignore")
    if stacked.chunks is not None:
        # a period's dates in one task per block (a few at most): dask's tree reduction
        # over one-date chunks kept every date's partial sums of the whole area alive
        stacked = stacked.chunk({_MEMBER_DIM: _MEMBERS_PER_TASK})
    members = xr.DataArray(valid, dims=(dim, _MEMBER_DIM))
    if float_input:
        return _widened(stacked, members)
    return stacked if valid.all() else stacked.where(members)


def _widened(stacked: Any, members: Any) -> Any:
    """A float stack as float64, NaN where ``members`` is False (the padding), in one
    new array per block (casting, then masking, made two of a period's size)."""
    import xarray as xr

    return xr.apply_ufunc(_widen, stacked, members, dask="parallelized", output_dtypes=[np.float64])


def _widen(values: np.ndarray, members: np.ndarray) -> np.ndarray:
    out = np.empty(np.broadcast_shapes(values.shape, members.shape), dtype=np.float64)
    np.copyto(out, values)
    if not members.all():
        np.copyto(out, np.nan, where=~members)
    return out


def _temporal_dim(data: Any, dimension: str | None, process: str) -> str:
    """The dimension to aggregate: the given one, or the cube's only temporal one."""
    if dimension is not None:
        require_dimension(data, dimension, process)
        return dimension
    temporal = [
        str(d) for d in data.dims if d in data.coords and np.asarray(data[d]).dtype.kind == "M"
    ]
    if not temporal:
        raise ProcessParameterInvalid(
            f"{process}: the cube has no temporal dimension (DimensionNotAvailable); "
            f"it has {', '.join(map(str, data.dims))}"
        )
    if len(temporal) > 1:
        raise ProcessParameterInvalid(
            f"{process}: the cube has several temporal dimensions ({', '.join(temporal)}) "
            "(TooManyDimensions); set `dimension`"
        )
    return temporal[0]


def aggregate_temporal_period(
    data: Any,
    reducer: Callable[..., Any],
    period: str,
    dimension: str | None = None,
    context: Any = None,
) -> Any:
    if period not in PERIODS:
        raise ProcessParameterInvalid(
            f"aggregate_temporal_period: period '{period}' is not supported (as on the "
            f"Copernicus backend); use one of {', '.join(PERIODS)}"
        )
    dim = _temporal_dim(data, dimension, "aggregate_temporal_period")
    first_month = _first_dekad_month(data.attrs.get(TEMPORAL_EXTENT)) if period == "dekad" else None
    groups: dict[dt.date, list[int]] = {}
    for i, day in enumerate(_dates(data, dim)):
        if first_month is not None and day < first_month:
            continue  # Copernicus builds no dekad for these days
        groups.setdefault(period_start(day, period), []).append(i)
    ordered = [(start.isoformat(), groups[start]) for start in sorted(groups)]
    return _reduce_groups(data, dim, ordered, reducer, context)


def _plain(value: Any) -> Any:
    """Unwrap openeo-pg-parser-networkx's pydantic models (Date, DateTime, intervals)."""
    while hasattr(value, "root"):
        value = value.root
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _as_time(value: Any, what: str) -> np.datetime64:
    """An interval bound as Copernicus reads it (:func:`_written_back`). Only RFC 3339
    dates and date-times: a time alone (``06:00:00``), which pandas would put on today's
    date there, is refused."""
    value = _plain(value)
    try:
        if not isinstance(value, dt.date):  # a date or a datetime the parser made
            value = str(value).strip()
            if not _RFC3339_DATE.match(value):
                raise ValueError(value)
        stamp = pd.Timestamp(value)
    except ValueError as exc:
        raise ProcessParameterInvalid(
            f"aggregate_temporal: interval {what} '{value}' is not an RFC 3339 date or time"
        ) from exc
    return _written_back(stamp)


def _label_time(value: Any) -> np.datetime64:
    """A label as Copernicus reads it (:func:`_written_back`): ``2023-05`` is 1 May
    2023, and a label pandas cannot read as a date (``may``, ``W01``) fails the job
    there: refused here."""
    value = _plain(value)
    message = (
        f"aggregate_temporal: label {value!r} is not a date; Copernicus reads every label "
        "as a date and fails the job otherwise; label each interval with a date (e.g. its "
        "start) or leave labels out"
    )
    try:
        stamp = pd.to_datetime(value)
    except (ValueError, TypeError, OverflowError) as exc:
        raise ProcessParameterInvalid(message) from exc
    if stamp is None or stamp is pd.NaT:
        raise ProcessParameterInvalid(message)
    return _written_back(stamp)


def _written_back(stamp: pd.Timestamp) -> np.datetime64:
    """``stamp`` as Copernicus hands it on: pandas parses every interval bound and label
    and ``strftime('%Y-%m-%dT%H:%M:%SZ')`` writes it back (geopyspark-driver
    geopysparkdatacube.py L965-977), so its wall time counts, to the whole second, and a
    UTC offset is dropped, not applied."""
    return np.datetime64(stamp.tz_localize(None).floor("s").to_datetime64(), "ns")


def _paired(intervals: Sequence[Any]) -> list[Any]:
    """Intervals as [start, end] pairs; a flat list of dates is read pairwise, as
    Copernicus flattens ``intervals`` into one list of instants and pairs them
    (openeo-geopyspark-driver geopysparkdatacube.py L965-972, mapInstantToInterval), so
    the client's archive/ndvi_composite.py ``[s1, e1, s2, e2]`` works."""
    if not intervals or not all(isinstance(i, str) for i in intervals):
        return list(intervals)
    if len(intervals) % 2:
        raise ProcessParameterInvalid(
            f"aggregate_temporal: a flat list of intervals needs start, end pairs, got "
            f"{len(intervals)} dates; give [[start, end], ...]"
        )
    return [list(intervals[i : i + 2]) for i in range(0, len(intervals), 2)]


def aggregate_temporal(
    data: Any,
    intervals: Sequence[Sequence[Any]],
    reducer: Callable[..., Any],
    labels: Sequence[Any] | None = None,
    dimension: str | None = None,
    context: Any = None,
) -> Any:
    dim = _temporal_dim(data, dimension, "aggregate_temporal")
    plain_intervals = _paired(_plain(intervals))
    bounds = []
    for interval in plain_intervals:
        if len(interval) != 2:
            raise ProcessParameterInvalid(
                f"aggregate_temporal: an interval needs [start, end], got {interval}"
            )
        bounds.append((_as_time(interval[0], "start"), _as_time(interval[1], "end")))
    plain_labels = _plain(labels) if labels is not None else None
    if plain_labels is not None and len(plain_labels) != len(bounds):
        raise ProcessParameterInvalid(
            f"aggregate_temporal: {len(plain_labels)} labels for {len(bounds)} intervals"
        )
    for start, end in bounds:
        if end <= start:
            raise ProcessParameterInvalid(
                f"aggregate_temporal: interval [{start}, {end}) is empty or reversed"
            )
    if plain_labels is not None:
        names = [_label_time(lab) for lab in plain_labels]
    else:
        names = [start.astype("datetime64[s]").astype("datetime64[ns]") for start, _ in bounds]
    if len(set(names)) != len(names):
        raise ProcessParameterInvalid(
            "aggregate_temporal: the labels are not unique (DistinctDimensionLabelsRequired); "
            "give one distinct label per interval"
        )
    times = np.asarray(data[dim].values).astype("datetime64[ns]")
    groups: list[tuple[Any, list[int]]] = []
    for (start, end), name in zip(bounds, names, strict=True):
        index = [int(i) for i in np.flatnonzero((times >= start) & (times < end))]
        if index:
            groups.append((name, index))
    if not groups:
        raise ProcessParameterInvalid("aggregate_temporal: no scene falls in any interval")
    return _reduce_groups(data, dim, groups, reducer, context)
