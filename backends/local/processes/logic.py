"""``or`` with openEO's three-valued logic in a few vectorised passes.

openeo-processes-dask's version takes ~10 numpy passes through pandas-style null
checks; on the cloud mask (SCL == 8 | SCL == 9) it was the largest single cost of the
whole workflow (0.2 s per 2048 x 2048 slice). Semantics are the spec's: true if either
side is true, else null if either side is null, else false.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def _null(value: Any) -> Any:
    """Where ``value`` is null (NaN for floats; None for scalars)."""
    if value is None:
        return True
    dtype = getattr(value, "dtype", None)
    if dtype is not None:
        return np.isnan(value) if np.dtype(dtype).kind == "f" else np.zeros_like(value, bool)
    return isinstance(value, float) and math.isnan(value)


def _true(value: Any, null: Any) -> Any:
    if value is None:
        return False
    return np.logical_and(np.not_equal(value, 0), np.logical_not(null))


def or_(x: Any, y: Any) -> Any:
    x_null, y_null = _null(x), _null(y)
    either = np.logical_or(_true(x, x_null), _true(y, y_null))
    unknown = np.logical_and(np.logical_or(x_null, y_null), np.logical_not(either))
    if np.ndim(either) == 0 and np.ndim(unknown) == 0:
        return None if bool(unknown) else bool(either)
    return np.where(unknown, np.float32(np.nan), either.astype(np.float32))
