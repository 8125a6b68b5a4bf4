"""Logic (and, or, xor, not, any, all) with openEO's and Copernicus's null rules.

- Single values: openEO 1.2 three-valued logic. ``and`` is false if either side is
  false, else null if either is null; ``or`` is true if either side is true, else null
  if either is null; ``xor`` and ``not`` are null if an operand is null. A null that
  came in as NaN goes out as NaN, one that came in as ``None`` as ``None``.
- Arrays: boolean arrays (what comparisons give, Copernicus's bit tiles) combine into
  boolean arrays in one vectorised pass. A float array's NaN is nodata, and as in
  geotrellis ``And``/``Or``/``Xor`` (raster/.../mapalgebra/local/Or.scala: "NoData values
  will cause the results of this operation to be NODATA") nodata on either side gives
  nodata (NaN, in a float32 result); other values count as true when non-zero.

openeo-processes-dask returns 1.0/0.0 floats and takes ~10 numpy passes for ``or``; on
the cloud mask (SCL == 8 | SCL == 9) that was the largest single cost of the workflow.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from hybrid.backends.local.processes.comparison import is_array, is_nan_value, null_of


def _is_null(value: Any) -> bool:
    return value is None or is_nan_value(value)


def _truth(value: Any) -> Any:
    """An array's truth (non-zero) and where it is nodata (None when it cannot be)."""
    if value is None:
        return np.False_, np.True_
    if not is_array(value):
        return np.bool_(bool(value) and not _is_null(value)), np.bool_(_is_null(value))
    if np.dtype(value.dtype).kind == "b":
        return value, None
    if np.dtype(value.dtype).kind == "f":
        nodata = np.isnan(value)
        return (value != 0) & ~nodata, nodata
    return value != 0, None


def _where_nodata(nodata: Any, truth: Any) -> Any:
    """float32 truth (1/0) with NaN where nodata; keeps a DataArray a DataArray."""
    import xarray as xr

    if isinstance(nodata, xr.DataArray) or isinstance(truth, xr.DataArray):
        return xr.where(nodata, np.float32(np.nan), truth).astype(np.float32)
    truth = truth.astype(np.float32) if hasattr(truth, "astype") else np.float32(truth)
    return np.where(nodata, np.float32(np.nan), truth)  # dask stays lazy (__array_function__)


def _array_logic(op: Callable[[Any, Any], Any], x: Any, y: Any) -> Any:
    x_true, x_nodata = _truth(x)
    y_true, y_nodata = _truth(y)
    result = op(x_true, y_true)
    nodata = [n for n in (x_nodata, y_nodata) if n is not None]
    if not nodata:
        return result
    unknown = nodata[0] | nodata[1] if len(nodata) == 2 else nodata[0]
    return _where_nodata(unknown, result)


def and_(x: Any, y: Any) -> Any:
    if is_array(x) or is_array(y):
        return _array_logic(np.logical_and, x, y)
    if x is False or y is False:
        return False
    if _is_null(x) or _is_null(y):
        return null_of(x, y)
    return bool(x) and bool(y)


def or_(x: Any, y: Any) -> Any:
    if is_array(x) or is_array(y):
        return _array_logic(np.logical_or, x, y)
    if (x is not None and not _is_null(x) and bool(x)) or (
        y is not None and not _is_null(y) and bool(y)
    ):
        return True
    if _is_null(x) or _is_null(y):
        return null_of(x, y)
    return False


def xor(x: Any, y: Any) -> Any:
    if is_array(x) or is_array(y):
        return _array_logic(np.logical_xor, x, y)
    if _is_null(x) or _is_null(y):
        return null_of(x, y)
    return bool(x) != bool(y)


def not_(x: Any) -> Any:
    if is_array(x):
        truth, nodata = _truth(x)
        if nodata is None:
            return ~truth
        return _where_nodata(nodata, ~truth)
    if _is_null(x):
        return null_of(x)
    return not bool(x)


def _array_any_all(data: Any, ignore_nodata: bool, axis: Any, want_any: bool) -> Any:
    truth, nodata = _truth(data)
    if nodata is None:
        return np.any(truth, axis=axis) if want_any else np.all(truth, axis=axis)
    if want_any:
        result = np.any(truth, axis=axis)
        decided = result
    else:
        decided = np.any(~truth & ~nodata, axis=axis)  # a false value decides all()
        result = ~decided
    if ignore_nodata:
        return result
    unknown = ~decided & np.any(nodata, axis=axis)
    return _where_nodata(unknown, result)


def _list_any_all(data: list[Any], ignore_nodata: bool, want_any: bool) -> Any:
    """openEO 1.2 (and the 2.0.0-rc.1 descriptions served): an empty array, or one of
    only nodata values when they are ignored, gives null (2.0.0-rc.2 later changed this
    to false for any and true for all)."""
    values = [v for v in data if not _is_null(v)]
    decisive = any(bool(v) == want_any for v in values)
    if decisive:
        return want_any
    if not values:
        return null_of(*data) if data else None
    if not ignore_nodata and len(values) < len(data):
        return null_of(*data)
    return not want_any


def _fold_arrays(data: list[Any], op: Callable[[Any, Any], Any]) -> Any:
    """A list holding arrays (a callback's ``[x == 3, x == 8, ...]``): folded with ``or``/
    ``and`` as Copernicus's script builder folds the list's tiles (``reduceFunction``:
    ``tiles.reduce(Or)``, nodata on either side nodata; ``ignore_nodata`` not read)."""
    return functools.reduce(op, data)


def any_(data: Any, ignore_nodata: bool = True, axis: Any = None) -> Any:
    if is_array(data):
        return _array_any_all(data, ignore_nodata, axis, want_any=True)
    if data and any(is_array(v) for v in data):
        return _fold_arrays(list(data), or_)
    return _list_any_all(list(data), ignore_nodata, want_any=True)


def all_(data: Any, ignore_nodata: bool = True, axis: Any = None) -> Any:
    if is_array(data):
        return _array_any_all(data, ignore_nodata, axis, want_any=False)
    if data and any(is_array(v) for v in data):
        return _fold_arrays(list(data), and_)
    return _list_any_all(list(data), ignore_nodata, want_any=False)
