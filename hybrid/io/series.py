"""aggregate_spatial results read back: one normalised time series, whatever the file.

Copernicus writes an aggregate_spatial result as ``timeseries.json``, ``.csv``, ``.nc``,
``.parquet`` or CoverageJSON (:mod:`hybrid.io.vector`), each in its own layout; each
format module reads its layout back (its ``vector`` reader) into the one form
:func:`series` makes, so that ``hybrid compare`` can set a local result against one
downloaded from Copernicus in another format.

A series is an ``xarray.DataArray`` (``feature``, ``t``, ``bands``) of float64:
``feature`` the feature index (the geometry's position in the request), ``t`` the dates
(datetime64, absent for a result without time), ``bands`` the names the file gives
(``B04``, ``band_0``, ``band0``, ``band_unnamed``...). A value the file leaves out is
NaN, whether it is written as null or an empty cell or not written at all: the CSV has
no rows for a geometry that covers no pixel centre, the netCDF no dates without any
value, and the JSON with dates has them all; read back, the three are the same series.
The JSON without dates lists only the geometries covering a pixel centre, without their
index (as Copernicus writes it): read back, its features are numbered in that order, so
set it against another JSON, or a result in which every geometry covers a pixel centre.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import xarray as xr

#: attrs flag of a series (:func:`is_series`)
SERIES = "hybrid_series"

#: one value row: (date or None without time, feature index, the bands' values)
Record = tuple[Any, int, Sequence[Any]]


def series(records: Iterable[Record], bands: Sequence[str], *, source: Path) -> xr.DataArray:
    """The series of ``records``: the dates and features any record names, NaN where
    no record gives a value. A date or value that cannot be read is a UsageError naming
    ``source``."""
    from hybrid.errors import UsageError

    rows = list(records)
    try:
        return _series(rows, bands, source)
    except (ValueError, TypeError, OverflowError) as exc:
        raise UsageError(f"{source} is not an aggregate_spatial result: {exc}") from None


def series_array(
    values: Any,
    *,
    features: Sequence[int],
    dates: Sequence[Any] | None,
    bands: Sequence[str],
    source: Path,
) -> xr.DataArray:
    """The series of ``values`` already laid out (feature, date, band), null or NaN
    where missing (netCDF, CoverageJSON); ``dates`` None for a result without time."""
    import numpy as np

    from hybrid.errors import UsageError

    try:
        shape = (len(features), 1 if dates is None else len(dates), len(bands))
        array = np.asarray(values, dtype=float).reshape(shape)
        instants = None if dates is None else [_instant(d) for d in dates]
        return _array(array, list(features), instants, bands, source)
    except (ValueError, TypeError, OverflowError) as exc:
        raise UsageError(f"{source} is not an aggregate_spatial result: {exc}") from None


def _series(rows: list[Record], bands: Sequence[str], source: Path) -> xr.DataArray:
    import numpy as np
    import pandas as pd

    timed = any(date is not None for date, _, _ in rows)
    instants = {date: _instant(date) for date in {d for d, _, _ in rows}} if timed else {}
    dates = sorted(set(instants.values())) if timed else [None]
    date_at = {d: i for i, d in enumerate(dates)}
    where_t = [date_at[instants[d]] if timed else 0 for d, _, _ in rows]
    features, where_f = np.unique([int(f) for _, f, _ in rows], return_inverse=True)
    values = np.full((len(features), len(dates), len(bands)), np.nan)
    if rows:
        cells = pd.DataFrame([list(c) for _, _, c in rows], columns=range(len(bands)))
        numbers = cells.replace({"": None}).apply(pd.to_numeric).to_numpy(dtype=float)
        values[where_f, where_t] = numbers
    return _array(values, features.tolist(), dates if timed else None, bands, source)


def _array(
    values: Any, features: list[int], dates: list[Any] | None, bands: Sequence[str], source: Path
) -> xr.DataArray:
    """The DataArray of a series; ``dates`` UTC timestamps, None without time."""
    import pandas as pd
    import xarray as xr

    coords: dict[str, Any] = {"feature": features, "bands": [str(b) for b in bands]}
    if dates is not None:
        coords["t"] = pd.DatetimeIndex(dates).tz_localize(None).to_numpy("datetime64[ns]")
    out = xr.DataArray(values, dims=("feature", "t", "bands"), coords=coords)
    out = out.sortby("t") if dates is not None else out.isel(t=0, drop=True)
    out.attrs = {"source": str(source), SERIES: True}
    return out


def is_series(obj: Any) -> bool:
    """Whether ``obj`` is a series :func:`series` made."""
    return bool(getattr(obj, "attrs", {}).get(SERIES))


def _instant(date: Any) -> Any:
    import pandas as pd

    stamp = pd.Timestamp(date)
    return stamp.tz_convert("UTC") if stamp.tzinfo is not None else stamp.tz_localize("UTC")
