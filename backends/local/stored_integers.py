"""Cells as Copernicus stores computed values into a signed integer tile.

Copernicus converts a band reduction's float32 result to the cell type the callback
works out (openeo-geopyspark-driver geopysparkdatacube.py ``_apply_bands_dimension``
L403-434, ``_convert_celltype``): geotrellis ``ShortArrayTile``/``IntArrayTile``
``setDouble`` store ``d.toShort``/``d.toInt``, Java's narrowing: the integer part
(towards zero), saturated to int32, then the low 16 bits for int16 (it wraps around);
the type's nodata value (-32768, -2**31) reads as nodata afterwards. The engine keeps
the values as floats with NaN; :func:`stored_as` gives them those values.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

#: the signed integer cell types and their nodata (geotrellis ``*ConstantNoDataCellType``)
SIGNED_NODATA = {"int16": -(2**15), "int32": -(2**31)}


def bits_of(dtype: str) -> int:
    """The bits of an integer cell type (int16: 16)."""
    return 8 * np.dtype(dtype).itemsize


def wrapped(values: Any, bits: int, signed: bool = True) -> Any:
    """Whole numbers (int64 or float64, numpy or dask) reduced to their low ``bits``
    bits, as Java's narrowing stores them: two's complement when ``signed``."""
    lowest = -(2 ** (bits - 1)) if signed else 0
    return (values - lowest) % (2**bits) + lowest


def stored_as(values: Any, dtype: str) -> Any:
    """The DataArray ``values`` as an int16, int32 or bit tile holds them (other types:
    as they are); lazy values stay lazy."""
    if dtype == "bool":
        return lowest_bit(values)
    if dtype not in SIGNED_NODATA:
        return values
    import dask.array as da

    block = functools.partial(_stored_block, bits=bits_of(dtype))
    if isinstance(values.data, da.Array):
        return values.copy(data=da.map_blocks(block, values.data, dtype=values.dtype))
    return values.copy(data=block(np.asarray(values.data)))


def lowest_bit(values: Any) -> Any:
    """Numbers stored into a bit tile: geotrellis ``BitArrayTile.update`` keeps the lowest
    bit of each (``z & 1``: 2 is false, -1 true; nodata false), so the sum of two
    comparisons is their exclusive or; booleans as they are."""
    if np.dtype(values.dtype) == np.bool_:
        return values
    with np.errstate(invalid="ignore"):
        return (values.fillna(0) % 2) != 0


def _stored_block(values: np.ndarray, bits: int) -> np.ndarray:
    """Java's ``(short) d`` / ``(int) d`` on a float block, NaN for nodata."""
    lowest = -(2 ** (bits - 1))
    with np.errstate(invalid="ignore"):
        whole = np.trunc(values)
        outside = (whole <= lowest) | (whole >= -lowest)  # NaN: neither
    if not outside.any():
        return whole
    saturated = np.clip(whole.astype(np.float64), -(2**31), 2**31 - 1)
    out = np.where(outside, wrapped(saturated, bits), whole)
    return np.where(out == lowest, np.nan, out).astype(values.dtype, copy=False)


def stored_value(value: float, dtype: str | None) -> float:
    """One number as a tile of ``dtype`` (None: float) stores Java's ``intValue`` of it:
    the integer part for an integer type, wrapped into int16, NaN where that is the
    type's nodata; a float type keeps it."""
    if dtype is None or np.dtype(dtype).kind not in "iu":
        return float(value)
    whole = float(np.trunc(value)) if np.isfinite(value) else 0.0  # (int) NaN is 0
    if dtype not in SIGNED_NODATA:
        return whole
    block = _stored_block(np.array([whole], np.float64), bits=bits_of(dtype))
    return float(block[0])
