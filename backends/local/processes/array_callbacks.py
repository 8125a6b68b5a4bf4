"""array_apply and array_filter: a child process run on every element of an array.

openeo-processes-dask (2026.9.1, ``process_implementations/arrays.py``) wraps the child
process in ``np.vectorize`` but passes the whole array as its ``x``, and
openeo-pg-parser-networkx caches a child process's node results after the first call:
``array_apply([1, null, 3], x * 2)`` gave ``[2, 2, 2]`` and ``array_filter([1, null, 5,
3], x > 2)`` gave ``[]``. Here a list runs the child process once per element (with
``x``, ``index``, ``label`` and ``context`` as the spec names them), forgetting the cached
results between calls; an array a cube gives (numpy, dask) runs it once on the whole
array, which is the same for the element-wise processes such callbacks hold.

array_apply also hands its child process ``data``, the whole array, as Copernicus does
(openeo-geotrellis-extensions ``OpenEOProcessScriptBuilder.scala`` ``arrayApplyFunction``,
L1401-1415: ``"data" -> data``): the openeo client writes ``x != max(x_array)`` that
way, ``max`` in the child process reading the enclosing ``data`` (RankComposites
notebooks). On a cube's array a reducer there reduces along the array's axis and keeps
it (one value per array, compared with each element).

On a cube's array whose labels are known (apply_dimension, apply_neighborhood per
period) array_apply runs its child once per label, with ``x`` the values at that label,
``index`` and ``label`` (dates as RFC 3339 text), as Copernicus evaluates it per label
(``arrayApplyFunction`` puts ``"label"`` in the context): the BAP notebook computes
each date's day of month with ``date_difference(date_replace_component(label, 15,
"day"), label, "day")``, one number per date for every pixel.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from hybrid.backends.local.processes.comparison import is_nan_value
from hybrid.backends.local.processes.labels import callback_cache_entries, forget_results


def call_each(
    callback: Callable[..., Any],
    parameter_sets: Iterable[dict[str, Any]],
    **machinery: Any,
) -> list[Any]:
    """``callback`` run once per set of named parameters, each time from scratch
    (``machinery``: keyword arguments for a parsed callback's processes, such as axis)."""
    entries = callback_cache_entries(callback)
    parsed = isinstance(callback, functools.partial)  # a parser callback; else plain Python
    results = []
    for named in parameter_sets:
        forget_results(entries)
        if parsed:
            results.append(callback(positional_parameters={}, named_parameters=named, **machinery))
        else:
            results.append(callback(**named))
    forget_results(entries)
    return results


def _labels(data: Any) -> list[Any] | None:
    """The labels of a labeled array (a 1-D DataArray with coordinates), else None."""
    dims: tuple[Any, ...] = tuple(getattr(data, "dims", ()))
    if len(dims) == 1 and dims[0] in getattr(data, "coords", {}):
        return list(np.asarray(data[dims[0]].values))
    return None


def _elements(data: Any) -> list[Any]:
    """The elements; nodata in numbers as NaN (how the engine carries it in numbers, so
    that math in the child process passes it through; the API writes it as null)."""
    values = data if isinstance(data, list) else list(np.asarray(data).tolist())
    if all(v is None or (isinstance(v, int | float) and not isinstance(v, bool)) for v in values):
        return [np.nan if v is None else v for v in values]
    return values


def _each_element(
    callback: Callable[..., Any], data: Any, context: Any, *, with_data: bool = False
) -> tuple[list[Any], list[Any] | None, list[Any]]:
    """(elements, labels, results of ``callback`` on each element with its ``x``, ``index``,
    ``label`` and ``context``; ``with_data``: and the whole array as ``data``)."""
    labels = _labels(data)
    values = _elements(data)
    named = (
        {"x": v, "index": i, "label": None if labels is None else labels[i], "context": context}
        | ({"data": values} if with_data else {})
        for i, v in enumerate(values)
    )
    return values, labels, call_each(callback, named)


def _whole(
    callback: Callable[..., Any],
    data: Any,
    context: Any,
    *,
    axis: Any = None,
    with_data: bool = False,
) -> Any:
    named = {"x": data, "context": context} | ({"data": data} if with_data else {})
    machinery = {"axis": axis, "keepdims": True} if with_data and axis is not None else {}
    return call_each(callback, [named], **machinery)[0]


def _per_element(data: Any) -> bool:
    return isinstance(data, list) or _labels(data) is not None or np.ndim(data) == 0


def _each_label(
    callback: Callable[..., Any], data: Any, context: Any, axis: int, labels: Any
) -> Any:
    """The child run once per label on that label's values (kept as an axis of length 1,
    so that a reducer of ``data`` in it lines up), results stacked along ``axis``."""
    import dask.array as da

    from hybrid.backends.local.processes.labels import label_text

    xp: Any = da if isinstance(data, da.Array) else np
    named = (
        {"x": xp.take(data, [i], axis=axis), "index": i, "label": label_text(label),
         "context": context, "data": data}
        for i, label in enumerate(labels)
    )  # fmt: skip
    results = call_each(callback, named, axis=axis, keepdims=True)
    shape = list(np.shape(data))
    shape[axis] = 1
    parts = [xp.broadcast_to(xp.asarray(r), tuple(shape)) for r in results]
    return xp.concatenate(parts, axis=axis)


def array_apply(
    data: Any,
    process: Callable[..., Any],
    context: Any = None,
    axis: Any = None,
    dim_labels: Any = None,
    **_: Any,
) -> Any:
    """``process`` applied to every element; the array keeps its length (and labels)."""
    if not _per_element(data):
        if axis is not None and dim_labels is not None and len(dim_labels) == np.shape(data)[axis]:
            return _each_label(process, data, context, axis, dim_labels)
        return _whole(process, data, context, axis=axis, with_data=True)
    _values, labels, results = _each_element(process, data, context, with_data=True)
    results = [r.item() if isinstance(r, np.generic) else r for r in results]
    if labels is None:
        return results
    import xarray as xr

    return xr.DataArray(results, dims=data.dims, coords={data.dims[0]: labels})


def _kept(verdict: Any) -> bool:
    if isinstance(verdict, np.ndarray) and verdict.ndim == 0:
        verdict = verdict.item()
    return verdict is not None and not is_nan_value(verdict) and bool(verdict)


def array_filter(
    data: Any, condition: Callable[..., Any], context: Any = None, axis: Any = None, **_: Any
) -> Any:
    """The elements for which ``condition`` is true (null counts as false), in order.

    On a cube's array (a callback's ``data``, ``axis`` given) each pixel keeps its own
    elements: the others become nodata in place, so a reducer after it (``mean``,
    ``count``, ``max`` ... skip nodata) gets the kept values of that pixel, and the
    array keeps its length and labels (a cube cannot hold arrays of different lengths).
    Copernicus's callback builder has no case for array_filter (the run warns)."""
    if not _per_element(data) and axis is not None:
        import dask.array as da

        hits = _whole(condition, data, context)
        xp: Any = da if isinstance(data, da.Array) or isinstance(hits, da.Array) else np
        kept = xp.where(xp.isnan(hits), False, hits).astype(bool)
        return xp.where(kept, data, np.nan)
    values, labels, verdicts = _each_element(condition, data, context)
    keep = [i for i, verdict in enumerate(verdicts) if _kept(verdict)]
    if labels is None:
        return [values[i] for i in keep]
    return data.isel({data.dims[0]: keep})
