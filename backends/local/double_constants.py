"""Number constants of a callback in the precision Copernicus computes with them.

Copernicus's script builder makes a constant tile of every number in a callback: an
integer that fits an Integer tile, any other number a float32 tile when it has at most
7 significant digits as Java writes it (``value.floatValue()``), else a float64 tile
(openeo-geotrellis-extensions OpenEOProcessScriptBuilder.scala ``constantArgument``
L934-955, ``createConstantTileFunction`` L492-509). An operation on two tiles first
converts both to the union of their cell types (``xyFunction`` L883-930: add,
subtract, multiply, divide, power, log, normalized_difference and the comparisons), so
on the float32 cube ``x * 0.30000000000000004`` is computed in doubles while ``x * 0.3``
multiplies float32 values. The result is then converted to the type the builder
declares for the callback (float32 in an ``apply``, float64 for ``B08 * 0.3333333333``
in a band reduction: :mod:`hybrid.backends.local.cell_types`).

numpy does the second by itself (NEP 50: a Python float meeting a float32 array is cast
to float32). :func:`in_doubles` gives the first: such a constant reaches the process as
a numpy float64, which makes numpy compute that operation in float64.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

#: the processes the builder computes with ``xyFunction``, and their two operands
_OPERANDS = {
    **dict.fromkeys(("add", "subtract", "multiply", "divide", "normalized_difference"), ("x", "y")),
    **dict.fromkeys(("eq", "neq", "gt", "gte", "lt", "lte"), ("x", "y")),
    "power": ("base", "p"),
    "log": ("x", "base"),
}


def in_doubles(process: str, implementation: Callable[..., Any]) -> Callable[..., Any]:
    """``implementation`` of ``process`` getting, beside an array operand, a constant
    operand Copernicus holds as float64 as a numpy float64 (others unchanged)."""
    operands = _OPERANDS.get(process)
    if operands is None:
        return implementation

    from hybrid.backends.local.processes.comparison import is_array

    @functools.wraps(implementation)
    def run(*args: Any, **kwargs: Any) -> Any:
        if any(is_array(kwargs.get(name)) for name in operands):
            for name in operands:
                if _is_double_constant(kwargs.get(name)):
                    kwargs[name] = _double(kwargs[name])
        return implementation(*args, **kwargs)

    return run


def _is_double_constant(value: Any) -> bool:
    from hybrid.backends.local.callback_types import constant_type

    return type(value) in (int, float) and constant_type(value) == "float64"


def _double(value: float) -> Any:
    import numpy as np

    return np.float64(value)
