"""What the engine advertises and the record of which test covers which process
(``@covers``, read by tests/engine/test_advertised_processes.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import xarray as xr

#: process -> the test of test_advertised_cube_cases.py that runs it (filled by @covers)
HERE: dict[str, str] = {}


def covers(*pids: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def mark(test: Callable[..., Any]) -> Callable[..., Any]:
        for pid in pids:
            HERE.setdefault(pid, test.__name__)
        return test

    return mark


def _plain(value: Any) -> Any:
    """A result as JSON-like Python; NaN is the engine's nodata in numbers, written as
    null by the API (hybrid.io.json_text.jsonable), so it is None here."""
    if isinstance(value, xr.DataArray | np.ndarray):
        return _plain(np.asarray(value).tolist())
    if isinstance(value, np.generic):
        return _plain(value.item())
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
