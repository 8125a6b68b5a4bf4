"""cumsum, cumproduct, cummax and cummin with openEO 1.2's nodata rules, on lists and
on the arrays a callback gets from a cube (numpy or dask, lazily).

openeo-processes-dask (2026.9.1, ``process_implementations/math.py``) assigns NaN into
the result after accumulating: on integers (``cumsum([1, 3, 5])``) that raises "cannot
convert float NaN to integer" even without nodata, and ``cummax``/``cummin`` turn a dask
array into numpy first (the whole cube is computed). Here integers without nodata stay
integers, nodata stays nodata at its position (``ignore_nodata=true``: it is skipped by
the accumulation) or makes every later value nodata (``ignore_nodata=false``), as the
spec's examples say (``cumsum([1, 3, null, 3, 1])`` = ``[1, 4, null, 7, 8]``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: process -> (numpy ufunc accumulating it, the value that leaves the accumulation as is)
_KINDS: dict[str, tuple[Any, float]] = {
    "cumsum": (np.add, 0.0),
    "cumproduct": (np.multiply, 1.0),
    "cummax": (np.maximum, -np.inf),
    "cummin": (np.minimum, np.inf),
}


def _values(data: Any) -> Any:
    """A numpy or dask array of the data (lists: None as NaN)."""
    if hasattr(data, "dtype") and hasattr(data, "ndim"):
        return data
    items = list(data)
    if any(v is None for v in items):
        return np.array([np.nan if v is None else v for v in items], dtype=np.float64)
    return np.asarray(items)


def _accumulate(kind: str, values: Any, axis: int) -> Any:
    ufunc, identity = _KINDS[kind]
    if type(values).__module__.startswith("dask"):
        from dask.array.reductions import cumreduction

        return cumreduction(
            ufunc.accumulate, ufunc, identity, values, axis=axis, dtype=values.dtype
        )
    return ufunc.accumulate(values, axis=axis)


def _cumulative(kind: str, data: Any, ignore_nodata: bool, axis: Any) -> Any:
    import xarray as xr

    if isinstance(data, xr.DataArray):  # same labels, accumulated values
        return data.copy(data=_cumulative(kind, data.data, ignore_nodata, axis))
    values = _values(data)
    axis = 0 if axis is None else axis
    if values.dtype.kind in "iub":  # no nodata possible
        return _accumulate(kind, values, axis)
    values = values.astype(np.float64) if values.dtype.kind != "f" else values
    if not ignore_nodata:
        return _accumulate(kind, values, axis)  # NaN propagates to every later value
    nodata = np.isnan(values)
    filled = np.where(nodata, _KINDS[kind][1], values)
    return np.where(nodata, np.nan, _accumulate(kind, filled, axis))


def cumsum(data: Any, ignore_nodata: bool = True, axis: Any = None) -> Any:
    return _cumulative("cumsum", data, ignore_nodata, axis)


def cumproduct(data: Any, ignore_nodata: bool = True, axis: Any = None) -> Any:
    return _cumulative("cumproduct", data, ignore_nodata, axis)


def cummax(data: Any, ignore_nodata: bool = True, axis: Any = None) -> Any:
    return _cumulative("cummax", data, ignore_nodata, axis)


def cummin(data: Any, ignore_nodata: bool = True, axis: Any = None) -> Any:
    return _cumulative("cummin", data, ignore_nodata, axis)
