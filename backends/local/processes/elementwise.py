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

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from hybrid.backends.local.stored_integers import bits_of, wrapped
from hybrid.errors import ProcessParameterInvalid


def add(x: Any, y: Any) -> Any:
    return _numbers(x) + _numbers(y)


def subtract(x: Any, y: Any) -> Any:
    return _numbers(x) - _numbers(y)


def multiply(x: Any, y: Any) -> Any:
    return x * y  # numpy's product of booleans is already that of 0/1


def _numbers(value: Any) -> Any:
    """A comparison's bits as the numbers 0/1 before adding or subtracting, as Copernicus
    converts bit tiles to int8 there (OpenEOProcessScriptBuilder.scala ``xyFunction``
    ``convertBitCells`` L905-911): true + true is 2 (numpy's or gave true), true - false
    1 (numpy refuses to subtract booleans). float32 holds them exactly and keeps a large
    constant from overflowing an int8; a callback whose type stays bits keeps the lowest
    bit (``stored_integers.lowest_bit``)."""
    if np.ndim(value) > 0 and np.dtype(getattr(value, "dtype", float)) == np.bool_:
        return value.astype(np.float32)
    return value


def exp(p: Any) -> Any:
    return rounded_once(np.exp, p)


def rounded_once(func: Callable[[Any], Any], x: Any) -> Any:
    """``func`` of ``x``; on a float32 array computed in doubles and rounded to float32
    once, as Copernicus computes the math of a float32 tile (geotrellis ``Log``, ``Sin``,
    ``Exp``, ...: ``mapDouble`` of each value as a double, stored back with
    ``updateDouble``; locationtech/geotrellis 72e24891 ArrayTile.scala L152-161).
    numpy's float32 functions are a float32 step off for a few to a third of the values."""
    if float32_array(x):
        return func(x.astype(np.float64)).astype(np.float32)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return func(x)  # ln(0) is -inf as numpy gives it on Copernicus, not a warning


def float32_array(value: Any) -> bool:
    """Whether ``value`` is a float32 array (a float tile on Copernicus), not a number."""
    return getattr(value, "dtype", None) == np.float32 and np.ndim(value) > 0


def round_(x: Any, p: int = 0) -> Any:
    """A number: half to even to ``p`` decimals, as the spec asks (Copernicus computes
    plain values with openeo-processes-python, openeo-python-driver
    ``processgraph/registry.py`` L76-86). A cube's array: as Copernicus's callbacks,
    geotrellis ``Round`` (Java ``Math.round``: to the integer, halves up), ``p`` unread
    (openeo-geotrellis-extensions OpenEOProcessScriptBuilder.scala L1183 maps ``x``
    alone): -2.5 gives -2, 2.5 gives 3, ``round(2.567, 2)`` 3."""
    if np.ndim(x) == 0:
        return np.around(x, decimals=p)
    dtype = np.dtype(x.dtype)
    if dtype.kind != "f":
        return x
    return np.floor(x.astype(np.float64) + 0.5).astype(dtype)


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
    output range. On arrays as Copernicus's callbacks compute it: the mapping in double
    (geotrellis ``Tile.normalize``), rounded to the array's float type, then clipped to
    the output range; an integer output range leaves the integer part of each value
    (:func:`integer_output`)."""
    if np.ndim(x) == 0:  # a single value
        low, high = sorted((inputMin, inputMax))
        clipped = np.clip(x, low, high)
        return ((clipped - inputMin) / (inputMax - inputMin)) * (outputMax - outputMin) + outputMin
    kind = np.dtype(x.dtype) if np.dtype(x.dtype).kind == "f" else np.dtype("float32")
    span = outputMax - outputMin
    mapped = ((x.astype("float64") - inputMin) * span) / (inputMax - inputMin) + outputMin
    clipped = np.clip(mapped.astype(kind), *sorted((outputMin, outputMax)))
    return integer_output(clipped, outputMin, outputMax)


#: (output range below, lowest output at least, cell type, its nodata): the integer cell
#: types a callback's linear_scale_range converts to, in the order it tries them
_INTEGER_OUTPUTS = ((254, 0, "uint8", 255), (65535, 0, "uint16", 65535))


def integer_cell_type(outputMin: Any, outputMax: Any) -> tuple[str, int] | None:
    """The integer cell type (numpy dtype name, nodata) Copernicus converts a callback's
    linear_scale_range to (see :func:`integer_output`), or None: it stays float32."""
    integers = all(
        isinstance(v, int | np.integer) and not isinstance(v, bool) for v in (outputMin, outputMax)
    )
    if not integers or outputMax - outputMin <= 1:
        return None
    for below, lowest, dtype, nodata in _INTEGER_OUTPUTS:
        if outputMax - outputMin < below and outputMin >= lowest:
            return dtype, nodata
    if outputMax <= 32767 and outputMin >= -32767:
        return "int16", -32768
    return None


def integer_output(values: Any, outputMin: Any, outputMax: Any) -> Any:
    """``values`` as Copernicus leaves them when ``outputMin`` and ``outputMax`` are both
    integers (a JSON ``0``, not ``0.0``; the defaults are floats) more than 1 apart:
    the tile is converted to an integer cell type (:func:`integer_cell_type`: uint8,
    nodata 255, for a range below 254 from 0 up; uint16, nodata 65535, below 65535 from
    0 up; else int16 if the range fits), which keeps the integer part of each value
    (towards zero), wraps an unsigned type's overflow and turns its nodata value into
    nodata. Kept as floats here, NaN for nodata; a GeoTIFF of the result is written in
    that type (:mod:`hybrid.backends.local.cell_types`) [openeo-geotrellis-extensions
    OpenEOProcessScriptBuilder.scala ``linearScaleRangeFunction`` L1271-1322
    (``doTypeCast``, ``safeConvert``), commit 2a25a26e; TestOpenEOProcessScriptBuilder.java
    ``testLinearScaleRange`` L1453-1476]. The deprecated top-level form
    (openeo-geopyspark-driver geopysparkdatacube.py ``linear_scale_range`` L1712-1727)
    casts the same values; it does not clip."""
    cell_type = integer_cell_type(outputMin, outputMax)
    if cell_type is None:
        return values
    whole = np.trunc(values)
    dtype, nodata = cell_type
    if dtype == "int16":
        return whole
    return _nodata_where(wrapped(whole, bits_of(dtype), signed=False), nodata)


def _nodata_where(values: Any, nodata: int) -> Any:
    """``values`` with NaN where they equal ``nodata``; a DataArray stays one."""
    if hasattr(values, "dims"):
        return values.where(values != nodata)
    return np.where(values == nodata, np.nan, values)  # dask stays lazy


def pi() -> float:
    return float(np.pi)


def e() -> float:
    """Euler's number (``math.e``, the same double as numpy's; mypy misreads ``np.e``
    here as a deleted name once this module imports stored_integers)."""
    return math.e


def constant(x: Any) -> Any:
    return x


#: the functions whose float32 result is exact already (no double detour needed)
_EXACT_IN_FLOAT32 = frozenset({"absolute", "sgn", "sqrt", "floor", "ceil"})


def _of_x(name: str, func: Callable[[Any], Any]) -> Callable[[Any], Any]:
    exact = name in _EXACT_IN_FLOAT32

    def process(x: Any) -> Any:
        return func(x) if exact else rounded_once(func, x)

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
