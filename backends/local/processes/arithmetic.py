"""Arithmetic on single values with openEO 1.2's rules (null in -> null out).

openeo-processes-dask computes ``base ** p`` directly, so ``power(1, null)`` raises a
TypeError, and ``mod`` is numpy's (``mod(2, 0)`` is 0, not infinity). On arrays (cubes)
numpy's semantics are kept.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from hybrid.backends.local.processes.comparison import is_array, is_nan_value, null_of
from hybrid.backends.local.processes.elementwise import float32_array, rounded_once
from hybrid.errors import DivisionByZero


def power(base: Any, p: Any) -> Any:
    """``base ** p``; of a float32 cube in doubles, rounded to float32 once, as geotrellis
    ``Pow`` (``math.pow``) on a float tile, with ``p`` as the builder holds it (float32 up
    to 7 digits; a float64 one leaves a float64 result,
    :mod:`hybrid.backends.local.double_constants`)."""
    if not (is_array(base) or is_array(p)):
        if base is None or p is None:
            return null_of(base, p)
        if is_nan_value(base) or is_nan_value(p):
            return null_of(base, p)
    if float32_array(base) and not is_array(p) and not isinstance(p, np.floating):
        held = p if isinstance(p, int) else float(np.float32(p))
        return rounded_once(lambda doubles: doubles**held, base)
    return base**p


def _single_mod(x: Any, y: Any) -> Any:
    if x is None or y is None or is_nan_value(x) or is_nan_value(y):
        return null_of(x, y)
    if y == 0:  # Copernicus: openeo_processes 0.0.4 math.py Mod.exec_num L1765 ``x % y``
        raise DivisionByZero(f"mod: {x} mod 0 of two numbers (Copernicus computes it in Python)")
    if math.isinf(y) and not math.isinf(x):
        return x
    return x % y  # Python's % takes the sign of the divisor, as the spec asks


def mod(x: Any, y: Any) -> Any:
    """Remainder with the sign of the divisor; on arrays numpy's ``mod``."""
    if is_array(x) or is_array(y):
        return np.mod(x, y)
    return _single_mod(x, y)


def log(x: Any, base: Any) -> Any:
    """Logarithm to ``base``; a float32 cube stays float32, computed as Copernicus does:
    ``ln(x) / ln(base)`` in doubles, rounded once (openeo-geotrellis-extensions
    ``mapalgebra/LogBase.scala``), with ``base`` as the builder holds it (float32 up to 7
    digits, :mod:`hybrid.backends.local.double_constants`)."""
    if float32_array(x) and not is_array(base):
        held = float(base) if isinstance(base, np.floating) else float(np.float32(base))
        return rounded_once(lambda doubles: np.log(doubles) / math.log(held), x)
    return np.log(x) / np.log(base)
