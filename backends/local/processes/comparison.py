"""Comparisons (eq, neq, gt, gte, lt, lte, between) and the is_* checks.

Two regimes, told apart by the operand:

- Single values (Python scalars, ``None``, strings, lists): openEO 1.2. ``null`` in gives
  ``null`` out (``None``, or NaN where the null came in as NaN); ordering operators
  return ``false`` for anything that is not a number (booleans and strings included);
  ``NaN`` compares false; the result is a Python ``bool``.
- Arrays (raster cubes, the arrays a callback gets): as Copernicus computes them on
  tiles. The result is a boolean array WITHOUT nodata: ``gt(NaN, 0.1)`` and ``SCL == 8`` on
  nodata are false, while ``eq`` of two nodata cells is true and ``neq`` false (geotrellis
  ``Greater``/``Equal``/``Unequal.compare(Double, Double)``, raster/.../mapalgebra/local;
  the builder marks these results ``BitCellType``: Open-EO/openeo-geotrellis-extensions
  openeo-geotrellis/src/main/scala/org/openeo/geotrellis/OpenEOProcessScriptBuilder.scala
  L1122-1128 and L1222, commit 2a25a26e). A float constant with at most 7 significant
  digits becomes a float32 (``0.1`` -> 0.10000000149) before the comparison
  (``constantArgument``, same file L934-954); ``between`` compares with the bounds as
  doubles (``betweenFunction`` L1657-1680).

openeo-processes-dask returns 1.0/0.0/NaN floats for all of these and raises TypeError
on mixed types ('2' > 1).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from hybrid.backends.local.callback_types import constant_type


def is_array(value: Any) -> bool:
    """A cube or an array (numpy, dask, xarray), not a single value or a list."""
    if isinstance(value, np.generic):
        return False
    if isinstance(value, np.ndarray):
        return value.ndim > 0
    return hasattr(value, "shape") and hasattr(value, "dtype")


def is_number(value: Any) -> bool:
    """A single integer or floating-point number (booleans are not numbers in openEO)."""
    if isinstance(value, bool | np.bool_):
        return False
    return isinstance(value, int | float | np.integer | np.floating)


def is_nan_value(value: Any) -> bool:
    return isinstance(value, float | np.floating) and math.isnan(value)


def null_of(*values: Any) -> Any:
    """The null to return for single values: NaN if a null came in as NaN, else None."""
    return math.nan if any(is_nan_value(v) for v in values) else None


def _numeric(value: Any) -> bool:
    kind = np.dtype(value.dtype).kind if is_array(value) else None
    return kind in ("b", "i", "u", "f") if kind else is_number(value) or value is None


def array_operand(value: Any) -> Any:
    """An operand of an array comparison: float constants as Copernicus types them."""
    if value is None:
        return np.float32(np.nan)
    if isinstance(value, float) and math.isfinite(value) and constant_type(value) == "float32":
        return np.float32(value)
    return value


def _nodata(value: Any) -> Any:
    """Where an array operand is nodata (NaN), or None when it cannot be."""
    if is_array(value):
        return np.isnan(value) if np.dtype(value.dtype).kind == "f" else None
    return np.True_ if value is None or is_nan_value(value) else None


def _false_like(x: Any, y: Any) -> Any:
    """An all-false boolean array shaped like the array operand."""
    import xarray as xr

    shape_of = x if is_array(x) else y
    if isinstance(shape_of, xr.DataArray):
        return xr.zeros_like(shape_of, dtype=bool)
    return np.zeros_like(shape_of, dtype=bool)  # numpy, or dask through __array_function__


def _order(name: str, op: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def compare(x: Any, y: Any) -> Any:
        if is_array(x) or is_array(y):
            if not (_numeric(x) and _numeric(y)):
                return _false_like(x, y)
            return op(array_operand(x), array_operand(y))
        if x is None or y is None:
            return None
        if not (is_number(x) and is_number(y)):
            return False
        return bool(op(x, y))

    compare.__name__ = compare.__qualname__ = name
    return compare


gt = _order("gt", operator.gt)
gte = _order("gte", operator.ge)
lt = _order("lt", operator.lt)
lte = _order("lte", operator.le)


def _scalar_eq(x: Any, y: Any, delta: float | None, case_sensitive: bool) -> bool:
    if is_number(x) and is_number(y):
        if delta is not None:
            return bool(abs(x - y) <= delta)
        return bool(x == y)
    if isinstance(x, bool | np.bool_) and isinstance(y, bool | np.bool_):
        return bool(x == y)
    if isinstance(x, str) and isinstance(y, str):
        return x == y if case_sensitive else x.casefold() == y.casefold()
    return False


def _array_eq(x: Any, y: Any, delta: float | None, case_sensitive: bool) -> Any:
    if not (_numeric(x) and _numeric(y)):
        if not case_sensitive:
            x = np.char.lower(x) if is_array(x) and np.dtype(x.dtype).kind == "U" else x
            y = np.char.lower(y) if is_array(y) and np.dtype(y.dtype).kind == "U" else y
        if isinstance(x, str) or isinstance(y, str) or not (_numeric(x) or _numeric(y)):
            return np.equal(x, y) if is_array(x) and is_array(y) else x == y
        return _false_like(x, y)
    a, b = array_operand(x), array_operand(y)
    same = abs(a - b) <= delta if delta is not None else a == b
    x_nodata, y_nodata = _nodata(x), _nodata(y)
    if x_nodata is not None and y_nodata is not None:
        same = same | (x_nodata & y_nodata)
    return same


def eq(x: Any, y: Any, delta: float | None = None, case_sensitive: bool = True) -> Any:
    if is_array(x) or is_array(y):
        return _array_eq(x, y, delta, case_sensitive)
    if x is None or y is None:
        return None
    return _scalar_eq(x, y, delta, case_sensitive)


def neq(x: Any, y: Any, delta: float | None = None, case_sensitive: bool = True) -> Any:
    same = eq(x, y, delta=delta, case_sensitive=case_sensitive)
    if same is None:
        return None
    return ~same if is_array(same) else not same


def between(x: Any, min: Any, max: Any, exclude_max: bool = False) -> Any:
    if is_array(x):
        if min is None or max is None or not _numeric(x):
            return _false_like(x, None)
        low, high = np.float64(min), np.float64(max)
        upper = x < high if exclude_max else x <= high
        return (x >= low) & upper & (low <= high)
    if x is None:
        return None
    if not (is_number(x) and is_number(min) and is_number(max)):
        return False
    if min > max:
        return False
    return bool(min <= x and (x < max if exclude_max else x <= max))


def is_nan(x: Any) -> Any:
    """openEO 1.2: true for NaN and for anything that is not a number (null included),
    except booleans, which are false as on Copernicus.

    On arrays Copernicus maps is_nan to geotrellis ``Undefined``: true where nodata
    (OpenEOProcessScriptBuilder.scala L1200), so a boolean (bit) cube is all false. Single
    values go through openeo_processes 0.0.4 (openeo-python-driver registry.py L76-95),
    whose ``IsNan.exec_num`` (comparison.py L147) takes a bool for an int: is_nan(true)
    is false there too, as in openeo-processes 2.0.0-rc.2.
    """
    if is_array(x):
        return np.isnan(x) if np.dtype(x.dtype).kind == "f" else _false_like(x, None)
    if isinstance(x, bool | np.bool_):
        return False
    if not is_number(x):
        return True
    return bool(math.isnan(x))


def is_nodata(x: Any) -> Any:
    """true for null and for NaN, the engine's nodata value in numbers (the spec counts NaN
    as nodata where the metadata says so); on arrays as geotrellis ``Undefined``."""
    if is_array(x):
        return np.isnan(x) if np.dtype(x.dtype).kind == "f" else _false_like(x, None)
    return x is None or is_nan_value(x)


def is_valid(x: Any) -> Any:
    """false for null, NaN and infinities; every other value (strings, lists) is valid."""
    if is_array(x):
        return np.isfinite(x) if np.dtype(x.dtype).kind in "iuf" else ~_false_like(x, None)
    if x is None:
        return False
    if is_number(x):
        return bool(math.isfinite(x))
    return True


def is_infinite(x: Any) -> Any:
    """true for +-infinity only; null, text and other values are false (openEO 1.2). A
    Python ``bool`` for single values (openeo-processes-dask answers ``numpy.bool_``)."""
    if is_array(x):
        return np.isinf(x) if np.dtype(x.dtype).kind == "f" else _false_like(x, None)
    return bool(is_number(x) and math.isinf(x))
