"""apply_dimension with the labels the openEO spec gives, a lazy array_create and an
array_modify that inserts one label per value.

openeo-processes-dask's apply_dimension loses the labels it should keep (a typo,
``reordered_result[dimension] == ...`` instead of ``=``, cubes/apply.py) and fails when
the callback returns a different number of values built with ``array_create`` (its
``np.tile`` puts the new values first, apply_ufunc expects them last).

Labels as on Copernicus: kept when the callback returns as many values as it got;
otherwise integers from 0 (on a temporal dimension the first dates,
openeo-geotrellis-extensions ``OpenEOProcesses.scala`` ``labels.zip(resultTiles)``).
``target_dimension`` renames the dimension afterwards, labels and all, where the spec
gives a new dimension integer labels: openeo-python-driver computes in place and then
``rename_dimension`` (``process_implementations/cubes.py`` L111-125), and
geopysparkdatacube.py ``_apply_bands_dimension`` keeps the band metadata. A
``target_dimension`` the cube already has is ignored (no rename there), except the band
dimension for a callback over time, which puts each band's values in turn into the
bands (``applyTimeDimensionTargetBands``).

The callback is called ONCE with the whole (lazy) array, the dimension last
(``axis=-1``), as openeo-processes-dask calls it, so openeo-pg-parser-networkx's cache
of callback results does no harm and the result stays lazy. Reducers inside keep the
dimension (``keepdims``) so that one value per pixel meets the whole array, as in
``x - mean(x)``: Copernicus applies the operator to every value then
(openeo-geotrellis-extensions ``OpenEOProcessScriptBuilder.scala`` ``xyFunction``
L919-925, "one of them should be 1").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from hybrid.backends.local.processes.cube_dimensions import (
    band_dimension,
    require_dimension,
)
from hybrid.backends.local.processes.labels import callback_cache_entries, forget_results
from hybrid.errors import ProcessParameterInvalid


def _values_last(raw: Any, base: tuple[int, ...]) -> Any:
    """The callback's result as (*base, k)."""
    import dask.array as da

    result = raw.data if hasattr(raw, "dims") else raw
    if not hasattr(result, "shape"):
        result = np.asarray(result)
    shape = tuple(result.shape)
    if shape == base:
        return result[..., None]
    if len(shape) == len(base) + 1 and shape[:-1] == base:
        return result
    if len(shape) == len(base) + 1 and shape[1:] == base:
        return (
            da.moveaxis(result, 0, -1)
            if isinstance(result, da.Array)
            else np.moveaxis(result, 0, -1)
        )
    if len(shape) == len(base) + 2 and shape[:-2] == base and shape[-2] == 1:
        return result[..., 0, :]  # quantiles, kept dimension first
    if len(shape) == len(base) + 2 and shape[1:-1] == base and shape[-1] == 1:
        squeezed = result[..., 0]
        return (
            da.moveaxis(squeezed, 0, -1)
            if isinstance(squeezed, da.Array)
            else np.moveaxis(squeezed, 0, -1)
        )
    raise ProcessParameterInvalid(
        f"apply_dimension: the process returned values of shape {shape} for input of shape "
        f"{(*base, '...')}: it must return one array of values per pixel"
    )


def apply_dimension(
    data: Any,
    process: Callable[..., Any],
    dimension: str,
    target_dimension: str | None = None,
    context: Any = None,
) -> Any:
    import xarray as xr

    require_dimension(data, dimension, "apply_dimension")
    moved = data.transpose(..., dimension)
    others = [str(d) for d in moved.dims[:-1]]
    base = tuple(moved.shape[:-1])
    entries = callback_cache_entries(process)
    forget_results(entries)
    with np.errstate(all="ignore"):
        raw = process(
            moved.data,
            positional_parameters={"data": 0},
            named_parameters={"context": context},
            axis=-1,
            keepdims=True,
            context=context,
            dim_labels=moved[dimension].values if dimension in moved.coords else None,
        )
    forget_results(entries)
    values = _values_last(raw, base)
    count = int(values.shape[-1])
    coords = {d: moved[d].values for d in others if d in moved.coords}
    timed = dimension in moved.coords and moved[dimension].dtype.kind == "M"
    if timed and target_dimension is not None and target_dimension == band_dimension(data):
        return _into_existing(data, values, others, coords, target_dimension)
    keep = count == moved.sizes[dimension] and dimension in moved.coords
    coords[dimension] = moved[dimension].values if keep else np.arange(count)
    if not keep and timed:
        values, coords[dimension] = _on_first_dates(values, moved[dimension].values)
    out = xr.DataArray(values, dims=[*others, dimension], coords=coords)
    out.attrs = dict(data.attrs)
    out = out.transpose(*data.dims)
    if target_dimension is None or target_dimension in others:
        return out
    return out.rename({dimension: target_dimension})


def _on_first_dates(values: Any, dates: Any) -> tuple[Any, Any]:
    """Values along time, as many as there are or fewer, labelled as Copernicus labels
    them: the cube's (ascending) dates, one per value, values beyond the last date dropped
    (openeo-geotrellis-extensions ``OpenEOProcesses.scala`` ``createTemporalCallback``,
    ``labels.zip(resultTiles)``). The spec's integer labels would not be dates, which
    netCDF and GTiff need."""
    count = min(int(values.shape[-1]), len(dates))
    return values[..., :count], dates[:count]


def _into_existing(
    data: Any, values: Any, others: list[str], coords: dict[str, Any], target: str
) -> Any:
    """The values of every label of an existing ``target`` dimension, one after another.

    Copernicus's apply_dimension from t into ``bands`` (geopysparkdatacube.py
    ``apply_dimension``, ``applyTimeDimensionTargetBands``) gives each band its values
    in turn; one value per band keeps the band labels, several get integers 0, 1, ...
    """
    import dask.array as da
    import xarray as xr

    axis = others.index(target)
    count = int(values.shape[-1])
    move = da.moveaxis if isinstance(values, da.Array) else np.moveaxis
    values = move(values, axis, -2)
    values = values.reshape(*values.shape[:-2], -1)
    rest = [d for d in others if d != target]
    labels = coords.pop(target, None)
    coords[target] = labels if count == 1 and labels is not None else np.arange(values.shape[-1])
    out = xr.DataArray(values, dims=[*rest, target], coords=coords)
    out.attrs = dict(data.attrs)
    return out.transpose(*[str(d) for d in data.dims if d in out.dims])


def array_create(data: Any = None, repeat: int = 1, axis: Any = None) -> Any:
    """array_create that keeps lazy (dask) members lazy: the new values come first.

    openeo-processes-dask's ``np.tile(data, repeat)`` turns a list of dask arrays into
    one computed numpy array (and repeats n-dimensional members along their last axis).
    In a callback (``axis`` given) the members are flattened as Copernicus flattens them
    (:mod:`~hybrid.backends.local.processes.array_members`): an array among them, built
    by array_create or ``quantiles(x, [0.05])``, gives its values in turn, a number is
    one value for every pixel.
    """
    import dask.array as da

    from hybrid.backends.local.processes.array_members import flattened, remember
    from hybrid.limits import check_array_repeat

    check_array_repeat(data, repeat)
    if data is None:
        return np.array([])
    items = list(data) if isinstance(data, list | tuple) else None
    if items and axis is not None:
        items = flattened(items, axis)
        if any(np.ndim(v) > 0 for v in items):  # values per pixel
            return remember(_repeated(stacked(items), repeat))
    if items and any(isinstance(v, da.Array) for v in items):
        return _repeated(stacked(items), repeat)
    return np.tile(np.asarray(data) if items is None else data, reps=repeat)


def _repeated(members: Any, repeat: int) -> Any:
    """``members`` (values along the first axis) ``repeat`` times, one after the other."""
    import dask.array as da

    lib: Any = da if isinstance(members, da.Array) else np
    return lib.concatenate([members] * int(repeat), axis=0) if repeat > 1 else members


def stacked(items: list[Any]) -> Any:
    """``items`` (arrays or numbers) broadcast to one shape and stacked along a new first
    axis; a dask array when any of them is one."""
    import dask.array as da

    lib: Any = da if any(isinstance(v, da.Array) for v in items) else np
    return lib.stack(lib.broadcast_arrays(*[lib.asarray(v) for v in items]))


def array_modify_along(data: Any, values: Any, index: int, length: int, axis: int) -> Any:
    """array_modify on the array a callback of apply_dimension gets (the dimension at
    ``axis``): ``length`` labels from ``index`` replaced by ``values``, inserted by default.

    Each of ``values`` is one value per pixel: a number, or an array shaped as ``data``
    without ``axis`` (the openeo client's ``append_indices`` passes one per index);
    ``array_concat`` puts them at the end.
    openeo-processes-dask's ``np.apply_along_axis`` appends every element of those arrays
    to every pixel instead. Copernicus: arrayModifyFunction of openeo-geotrellis-extensions
    (OpenEOProcessScriptBuilder.scala) inserts one band per value.
    """
    import dask.array as da

    axis = axis % data.ndim
    if not 0 <= index <= data.shape[axis]:
        raise ProcessParameterInvalid(
            f"array_modify: ArrayElementNotAvailable: index {index} is outside the array "
            f"of {data.shape[axis]} elements"
        )
    base = data.shape[:axis] + data.shape[axis + 1 :]
    items = _per_value(values, base, axis)
    lazy = isinstance(data, da.Array) or any(isinstance(v, da.Array) for v in items)
    lib: Any = da if lazy else np
    head = data[(slice(None),) * axis + (slice(None, index),)]
    tail = data[(slice(None),) * axis + (slice(index + max(length, 0), None),)]
    if not items:
        return lib.concatenate([head, tail], axis=axis)
    block = lib.stack([lib.broadcast_to(lib.asarray(v), base) for v in items], axis=axis)
    return lib.concatenate(
        [head, block.astype(np.result_type(data.dtype, block.dtype)), tail], axis=axis
    )


def _per_value(values: Any, base: tuple[int, ...], axis: int) -> list[Any]:
    """The values to put along ``axis``, one array (or number) each: a list as it is;
    an :func:`array_create` of them (the values first); an array with ``axis``."""
    kept = (*base[:axis], 1, *base[axis:])  # one value per pixel, its axis kept
    if isinstance(values, list | tuple):
        return [_unkept(v, kept, axis) for v in values]
    shape = tuple(getattr(values, "shape", ()))
    if shape == base:
        return [values]
    if shape == kept:
        return [_unkept(values, kept, axis)]
    if len(shape) == len(base) + 2 and shape[1:] == kept:
        return [values[(i, *(slice(None),) * axis, 0)] for i in range(shape[0])]
    if len(shape) == len(base) + 1 and shape[1:] == base:
        return [values[i] for i in range(shape[0])]
    if len(shape) == len(base) + 1 and shape[:axis] + shape[axis + 1 :] == base:
        return [values[(slice(None),) * axis + (i,)] for i in range(shape[axis])]
    if len(shape) == 1:
        return [values[i] for i in range(shape[0])]
    return [values]


def _unkept(value: Any, kept: tuple[int, ...], axis: int) -> Any:
    """A value per pixel that kept the callback's axis (``keepdims``), without it."""
    if tuple(getattr(value, "shape", ())) == kept:
        return value[(slice(None),) * axis + (0,)]
    return value


def _as_time(value: Any) -> Any:
    import datetime as dt

    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return np.datetime64(value.replace(tzinfo=None), "ns")
    if isinstance(value, dt.date):
        return np.datetime64(value, "ns")
    try:
        return np.datetime64(str(value).strip().rstrip("Z"), "ns")
    except ValueError:
        return None


def add_dimension(data: Any, name: str, label: Any, type: str = "other") -> Any:
    """A new dimension with one label; a ``temporal`` one gets its label as a time
    (``datetime64``), like every other temporal dimension, so time processes find it
    (openeo-processes-dask keeps the text)."""
    from hybrid.backends.local.stock import stock_implementations

    general = stock_implementations().cubes.general

    if type == "temporal" and isinstance(label, str):
        label = _as_time(label)
        if label is None:
            raise ProcessParameterInvalid(
                "add_dimension: the label of a temporal dimension must be an RFC 3339 "
                "date or date-time"
            )
    return general.add_dimension(data, name=name, label=label, type=type)
