"""apply and reduce_dimension with a callback of openEO processes (no UDF).

The callback is openeo-pg-parser-networkx's callable of the child graph. It is called
as openeo-processes-dask calls it, so that the processes inside it get what they expect
(:mod:`hybrid.backends.local.parameter_references`): apply calls it ONCE with the whole
(lazy) cube as ``x``; reduce_dimension hands it to xarray's ``reduce``, which calls it
once with the whole array as ``data`` and the ``axis`` of the dimension, the dimension's
labels as ``dim_labels`` (array_element by label) and the ``context``. The result stays
lazy, and the cube keeps its attributes.
"""

from __future__ import annotations

import functools
from typing import Any

from hybrid.backends.local.processes.cube_dimensions import require_dimension
from hybrid.errors import ProcessParameterInvalid


def apply_values(data: Any, process: Any, context: Any = None) -> Any:
    """openEO apply: ``process`` on every value of ``data``.

    An array the callback builds (``any(array_create([x == 3, x == 8]))``) is one array
    per pixel: its elements are stacked along a new first axis, and the callback's
    processes with an ``axis`` reduce that one (``axis=0``), not the whole cube.
    Copernicus compiles the callback per pixel: array_create makes one tile per element
    and any/sum/max/... reduce those tiles (openeo-geotrellis-extensions
    OpenEOProcessScriptBuilder.scala ``arrayCreateFunction`` L1435-1446,
    ``reduceFunction`` L573-585 for any/all L1134-1137)."""
    import xarray as xr

    return xr.apply_ufunc(
        process,
        data,
        dask="allowed",
        keep_attrs=True,
        kwargs={
            "positional_parameters": {"x": 0},
            "named_parameters": {"context": context},
            "axis": 0,
        },
    )


def reduce_along(data: Any, reducer: Any, dimension: str, context: Any = None) -> Any:
    """openEO reduce_dimension: ``reducer`` over ``dimension``, which the result lacks."""
    require_dimension(data, dimension, "reduce_dimension")
    return data.reduce(
        single_valued(reducer, "reduce_dimension", dimension),
        dim=dimension,
        keep_attrs=True,
        positional_parameters={"data": 0},
        named_parameters={"context": context},
        context=context,
        dim_labels=data[dimension].values,
    )


def single_valued(reducer: Any, process: str, dimension: str) -> Any:
    """``reducer`` as xarray's ``reduce`` calls it, its result without the reduced axis.

    A reducer that returns an array of one element per pixel (``quantiles`` with one
    probability) gives that element, as on Copernicus, which maps the callback's results
    onto the dates in order and keeps one per pixel (openeo-geotrellis-extensions
    OpenEOProcesses.scala ``createTemporalCallback`` L64-94, then geopyspark-driver
    geopysparkdatacube.py ``reduce_dimension`` L814-827, ``to_spatial_layer``); more
    than one is refused."""
    return functools.partial(_one_value, reducer, process, dimension)


def _one_value(
    reducer: Any, process: str, dimension: str, data: Any, *, axis: int, **kwargs: Any
) -> Any:
    result = reducer(data, axis=axis, **kwargs)
    if isinstance(result, str):
        raise ProcessParameterInvalid(
            f"{process}: the reducer over '{dimension}' returns the text {result!r}; it "
            "must return a number per pixel"
        )
    single = isinstance(result, int | float | bool) or getattr(result, "ndim", None) == 0
    if single and getattr(data, "ndim", 0) > 1:
        return _filled(data, axis, result)
    if getattr(result, "ndim", 0) < getattr(data, "ndim", 0):
        return result
    count = result.shape[axis]
    if count != 1:
        raise ProcessParameterInvalid(
            f"{process}: the reducer returns {count} values per pixel over "
            f"'{dimension}', a reducer must return one (quantiles with one probability); "
            "for several, use apply_dimension with a target_dimension"
        )
    return result.squeeze(axis=axis)


def _filled(data: Any, axis: int, value: Any) -> Any:
    """One value for every pixel (a reducer that returns a constant, or a count of the
    labels): the shape of ``data`` without ``axis``, in its chunks when lazy."""
    import dask.array as da
    import numpy as np

    shape = data.shape[:axis] + data.shape[axis + 1 :]
    if isinstance(value, da.Array):
        value = value.compute()
    value = np.asarray(value).item()
    if isinstance(data, da.Array):
        return da.full(shape, value, chunks=data.chunks[:axis] + data.chunks[axis + 1 :])
    return np.full(shape, value)
