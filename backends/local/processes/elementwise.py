"""openEO's element-wise math on numbers and (lazy) arrays: numpy's functions, applied as
openeo-processes-dask applies them (the same function and arguments, so the same
values), kept here so that a graph computing an index such as EVI or a rescaling runs on
the own registry without importing openeo-processes-dask's implementations
(:func:`hybrid.backends.local.registry.covering`).

The parameter names are the specs' (the registry passes arguments by name): ``exp``
takes ``p``, ``arctan2`` ``y`` and ``x``. Nulls are handled around every process by
the run registry (:mod:`hybrid.backends.local.nulls`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from hybrid.errors import ProcessParameterInvalid


def add(x: Any, y: Any) -> Any:
    return x + y


def subtract(x: Any, y: Any) -> Any:
    return x - y


def multiply(x: Any, y: Any) -> Any:
    return x * y


def exp(p: Any) -> Any:
    return np.exp(p)


def round_(x: Any, p: int = 0) -> Any:
    """Half to even, as the spec asks (numpy's rounding)."""
    return np.around(x, decimals=p)


def int_(x: Any) -> Any:
    """The integer part (towards zero)."""
    return np.trunc(x)


def arctan2(y: Any, x: Any) -> Any:
    return np.arctan2(y, x)


def clip(x: Any, min: Any, max: Any) -> Any:
    if min > max:
        raise ProcessParameterInvalid(f"clip: MinMaxSwapped: min {min} is greater than max {max}")
    return np.clip(x, min, max)


def linear_scale_range(
    x: Any,
    inputMin: Any,
    inputMax: Any,
    outputMin: Any = 0.0,
    outputMax: Any = 1.0,
) -> Any:
    """``x`` clipped to the input range (either order) and mapped linearly onto the
    output range."""
    low, high = sorted((inputMin, inputMax))
    clipped = np.clip(x, low, high)
    return ((clipped - inputMin) / (inputMax - inputMin)) * (outputMax - outputMin) + outputMin


def pi() -> float:
    return float(np.pi)


def e() -> float:
    """Euler's number."""
    return float(np.e)


def constant(x: Any) -> Any:
    return x


def _of_x(name: str, func: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def process(x: Any) -> Any:
        return func(x)

    process.__name__ = process.__qualname__ = name
    return process


#: process id -> numpy's function of one parameter ``x``
_UNARY = {
    "absolute": np.abs,
    "sgn": np.sign,
    "sqrt": np.sqrt,
    "ln": np.log,
    "floor": np.floor,
    "ceil": np.ceil,
    "cos": np.cos,
    "sin": np.sin,
    "tan": np.tan,
    "arccos": np.arccos,
    "arcsin": np.arcsin,
    "arctan": np.arctan,
    "cosh": np.cosh,
    "sinh": np.sinh,
    "tanh": np.tanh,
    "arcosh": np.arccosh,
    "arsinh": np.arcsinh,
    "artanh": np.arctanh,
}


def processes() -> dict[str, Callable[..., Any]]:
    """process id -> implementation, for the registry."""
    return {
        "add": add,
        "subtract": subtract,
        "multiply": multiply,
        "exp": exp,
        "round": round_,
        "int": int_,
        "arctan2": arctan2,
        "clip": clip,
        "linear_scale_range": linear_scale_range,
        "pi": pi,
        "e": e,
        "constant": constant,
        **{pid: _of_x(pid, func) for pid, func in _UNARY.items()},
    }
