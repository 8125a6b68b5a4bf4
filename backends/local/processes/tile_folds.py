"""``sum`` and ``product`` over time of an integer or boolean cube, as Copernicus folds
the tiles.

Over time Copernicus does not convert the cube to float32 (it does before ``apply`` and
a band reduction): openeo-geotrellis-extensions OpenEOProcesses.scala
``createTemporalCallback`` L64-94 converts each date's tile to the cube's own cell type
only, and the builder's ``sum``/``product`` fold the dates' tiles two by two
(``reduceFunction``, ``tiles.reduce(AddIgnoreNodata | Multiply)``, OpenEOProcessScriptBuilder.scala
L573-585, L1140-1148). geotrellis combines two integer tiles into a tile of their type
(``ArrayTile.combine`` allocates ``cellType.union(other.cellType)``, ArrayTile.scala
L205-218 at locationtech/geotrellis 72e24891) and stores each value with ``i2s`` in an
int16 tile (ShortArrayTile.scala L131: the low 16 bits; -32768 is then nodata) and
``z & 1`` in a bit tile (BitArrayTile.scala L158-166). So:

- int16: the sum of 20000 and 15000 is -30536, and every step wraps again;
  ``AddIgnoreNodata`` keeps the other value where one is nodata (AddIgnoreNodata.scala
  L11-21), ``Multiply`` gives nodata;
- booleans (comparisons): the sum keeps the lowest bit - whether the number of true
  dates is odd - and the product is true only where every date is.

The engine holds such a cube as floats with NaN (or booleans); :func:`fold` gives the
values Copernicus's tiles hold. The result is written in the input's type
(:mod:`hybrid.backends.local.cell_types`).
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from hybrid.backends.local.stored_integers import bits_of, wrapped


def fold(data: Any, axis: int, process: str, cell_type: str) -> Any:
    """``process`` ("sum" or "product") of ``data`` along ``axis`` (numpy or dask) as
    Copernicus folds tiles of ``cell_type`` ("int16", "int32" or "bool")."""
    import dask.array as da

    block = functools.partial(_fold_block, process=process, cell_type=cell_type)
    if isinstance(data, da.Array):
        whole = data.rechunk({axis: -1})
        dtype = bool if cell_type == "bool" else data.dtype
        return whole.map_blocks(block, axis=axis, drop_axis=axis, dtype=dtype)
    return block(np.asarray(data), axis=axis)


def _fold_block(values: np.ndarray, axis: int, process: str, cell_type: str) -> np.ndarray:
    steps = np.moveaxis(values, axis, 0)
    if cell_type == "bool":
        flags = steps.astype(bool)
        if process == "sum":
            return np.logical_xor.reduce(flags, axis=0)
        return np.logical_and.reduce(flags, axis=0)
    return _integer_fold(steps, process, bits_of(cell_type)).astype(values.dtype)


def _integer_fold(steps: np.ndarray, process: str, bits: int) -> np.ndarray:
    """The dates (first axis) folded in ``bits``-bit two's complement, NaN for nodata."""
    lowest = -(2 ** (bits - 1))
    valid = ~np.isnan(steps)
    ints = np.where(valid, steps, 0).astype(np.int64)
    total, has = ints[0], valid[0]
    for value, ok in zip(ints[1:], valid[1:], strict=True):
        if process == "sum":
            raw = np.where(has & ok, total + value, np.where(has, total, value))
            has = has | ok
        else:
            raw = total * value
            has = has & ok
        total = wrapped(raw, bits)
        has = has & (total != lowest)
    return np.where(has, total, np.nan)
