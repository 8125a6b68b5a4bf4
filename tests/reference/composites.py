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
  stays nodata (``multibandReduce`` L223-242);
- ``mean``, ``sd``, ``variance`` convert the tiles to float32 first (``reduceListFunction``
  with ``forceFloat = true``, L689-710, L1162-1166): float32, nodata where no date has a
  value, ``sd``/``variance`` the sample statistic (nodata for one value);
- ``count`` writes its counts into the first date's tile too (``countValid`` L403-405
  through ``multibandReduce``), so a pixel without a value stays nodata, not 0; ``sum``
  folds the tiles with ``AddIgnoreNodata`` (L1141-1142) in their own type (int16 wraps
  around), nodata where no date has a value;
- the file has the result tile's cell type, not the builder's ``resultingDataType``
  (int32 for count, float32 for sum, which only the cube's metadata gets: OpenEOProcesses.scala
  ``applyTimeDimension`` L134-147 and ``aggregateTemporal`` L494-548 convert no tile,
  ``timeseriesForBand`` L48-57 gives the callback the cube's own type; the writers take
  the tiles' type: NetCDFRDDWriter.scala L158-160, geotiff/package.scala L444, L480-485):
  the input's type but for ``mean``, ``sd``, ``variance`` (float32).
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


#: the reducers over ``t`` whose result is float32 whatever the cube's cell type
FLOAT_RESULT = ("mean", "sd", "variance")
#: every reducer over ``t`` :func:`reduce_time` knows
TIME_REDUCERS = ("max", "min", "median", "first", "last", "sum", "count", *FLOAT_RESULT)


def time_reducer_dtype(reducer: str, *, integer: bool) -> str:
    """The cell type of ``reduce_dimension(t, reducer)`` of an int16 (``integer``) or
    float32 cube as written (module docstring)."""
    if reducer not in TIME_REDUCERS:
        raise ValueError(f"unknown reducer {reducer!r}; use one of {', '.join(TIME_REDUCERS)}")
    return "int16" if integer and reducer not in FLOAT_RESULT else "float32"


def reduce_time(stack: np.ndarray, reducer: str, *, integer: bool = False) -> np.ndarray:
    """(t, y, x) -> (y, x) float64, NaN nodata. ``integer``: the cube is int16, so the
    median keeps its integer part (truncated towards zero) and the sum wraps around."""
    values = np.asarray(stack, dtype=np.float64)
    if reducer in ("first", "last"):
        order = values if reducer == "first" else values[::-1]
        index = np.argmax(~np.isnan(order), axis=0)
        return np.take_along_axis(order, index[None], axis=0)[0]
    if reducer == "sum":
        return _sum(values, integer=integer)
    if reducer == "variance":
        sd = reduce_stack(values, "sd").astype(np.float64)
        return np.where(np.isnan(sd), np.nan, _variance(values))
    if reducer not in TIME_REDUCERS:
        raise ValueError(f"unknown reducer {reducer!r}; use one of {', '.join(TIME_REDUCERS)}")
    out = reduce_stack(values, reducer).astype(np.float64)
    return np.trunc(out) if integer and reducer == "median" else out


def _sum(values: np.ndarray, *, integer: bool) -> np.ndarray:
    """AddIgnoreNodata over the dates: nodata + x = x; int16 tiles wrap around."""
    valid = ~np.isnan(values)
    total = np.where(valid, values, 0.0).sum(axis=0)
    if integer:
        total = ((total.astype(np.int64) + 2**15) % 2**16 - 2**15).astype(np.float64)
    return np.where(valid.any(axis=0), total, np.nan)


def _variance(values: np.ndarray) -> np.ndarray:
    """The sample variance of the valid values in float32 (NaN where fewer than two)."""
    f32 = values.astype(np.float32).astype(np.float64)
    valid = ~np.isnan(f32)
    count = valid.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(valid, f32, 0.0).sum(axis=0) / count
        squares = np.where(valid, (f32 - mean) ** 2, 0.0).sum(axis=0)
        out = squares / (count - 1)
    out[count < 2] = np.nan
    return out.astype(np.float32).astype(np.float64)
