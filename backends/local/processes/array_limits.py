"""What array_create may be asked to build.

Copernicus refuses a ``repeat`` below 1 (or not an integer) with
``ProcessParameterInvalid`` (openeo-python-driver
``processgraph/process_implementations/array.py`` ``array_create`` L36-46); above it,
``list(data) * repeat`` is built whatever its size, in the web app's memory. Here the
engine runs inside the emulator: ``array_create([1], repeat=10**9)`` took minutes and
the next such request had the kernel kill the server for its memory (23 GB). An array of
more than :data:`MAX_ELEMENTS` values is refused instead, in one line.
"""

from __future__ import annotations

import numbers
from typing import Any

from hybrid.errors import ProcessParameterInvalid

#: the most values one array_create may give (per pixel in a callback): 80 MB of float64
MAX_ELEMENTS = 10**7


def check_repeat(data: Any, repeat: Any) -> None:
    """Refuse ``repeat`` as Copernicus does, and a result beyond :data:`MAX_ELEMENTS`."""
    if not isinstance(repeat, numbers.Integral) or repeat < 1:
        raise ProcessParameterInvalid(
            "The value passed for parameter 'repeat' in process 'array_create' is invalid: "
            "The `repeat` parameter should be an integer of at least value 1."
        )
    size = _values(data)
    if size * int(repeat) > MAX_ELEMENTS:
        raise ProcessParameterInvalid(
            f"array_create: {size} values repeated {repeat} times make {size * repeat} "
            f"values; at most {MAX_ELEMENTS} are computed here (Copernicus builds them in "
            "its memory, whatever their number)"
        )


def _values(data: Any) -> int:
    """How many values ``data`` gives the array: a list's or an array's length along its
    first axis (an ndarray of 10**6 is 10**6, not one), 1 for a single value."""
    if isinstance(data, list | tuple):
        return len(data)
    shape = getattr(data, "shape", ())
    return int(shape[0]) if shape else 1
