"""Band maths and reductions over ``t`` as Copernicus computes them.

Written from the driver code, sharing nothing with ``hybrid``:

- a band reduction works on the cube converted to float32 (geopyspark-driver
  geopysparkdatacube.py ``_apply_bands_dimension`` L407-408); each process of the
  callback is one geotrellis local operation whose result is a float32 tile, the
  constants float32 (geotrellis-extensions OpenEOProcessScriptBuilder.scala
  ``constantArgument``), x / 0 nodata (geotrellis ``Divide``): numpy float32, op by op,
  in the graph's order;
- ``max``/``min``/``median``/``first``/``last`` over ``t`` keep the cube's cell type
  (OpenEOProcessScriptBuilder.scala L1157-1168, ``PRESERVE_DATATYPE_MODE``): the
  median is computed in double (``medianOfDoubles``, the mean of the two middle values)
  and stored into the first date's tile, so an int16 cube keeps its integer part
  (``setDouble`` on a short tile truncates towards zero); a pixel without a valid value
  stays nodata (``multibandReduce`` L223-242).
"""

from __future__ import annotations

import numpy as np

from tests.reference.temporal import reduce_stack

F32 = np.float32


def _f32(values: np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype=F32)


def _divide(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = _f32(x) / _f32(y)
    out[_f32(y) == 0] = np.nan
    return out


def normalized_difference(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(x - y) / (x + y) in float32."""
    return _divide(_f32(x) - _f32(y), _f32(x) + _f32(y))


def evi(blue: np.ndarray, red: np.ndarray, nir: np.ndarray) -> np.ndarray:
    """2.5 * (B08 - B04) / (B08 + 6 * B04 - 7.5 * B02 + 1), float32 op by op, in this order."""
    b, r, n = _f32(blue), _f32(red), _f32(nir)
    top = F32(2.5) * (n - r)
    bottom = ((n + F32(6.0) * r) - F32(7.5) * b) + F32(1.0)
    return _divide(top, bottom)


def reduce_time(stack: np.ndarray, reducer: str, *, integer: bool = False) -> np.ndarray:
    """(t, y, x) -> (y, x) float64, NaN nodata. ``integer``: the cube is int16, so the
    median keeps its integer part (truncated towards zero)."""
    values = np.asarray(stack, dtype=np.float64)
    if reducer in ("first", "last"):
        order = values if reducer == "first" else values[::-1]
        index = np.argmax(~np.isnan(order), axis=0)
        return np.take_along_axis(order, index[None], axis=0)[0]
    if reducer not in ("max", "min", "median"):
        raise ValueError(f"unknown reducer {reducer!r}")
    out = reduce_stack(values, reducer).astype(np.float64)
    return np.trunc(out) if integer else out
