"""Array processes on plain JSON arrays (lists), with openEO 1.2's null rules.

On arrays a reducer or callback gets from a cube (numpy/dask, ``axis`` set) these
delegate to openeo-processes-dask. On lists they follow the spec where the stock
versions do not: they convert the list to a numpy array first, so ``None`` breaks
arithmetic, text turns NaN into the string 'nan', an empty list raises "zero-size array
to reduction operation", and ``array_find`` answers 999999 when nothing matches.

Nodata in a list is ``None`` or NaN: NaN is how the engine carries nodata in numbers, and
a nodata value these processes create (an empty list's minimum, a missing element with
``return_nodata``) is NaN, as in openeo-processes-dask; the API writes it as ``null``.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from hybrid.backends.local.processes.comparison import (
    eq,
    is_array,
    is_nan_value,
    is_number,
    null_of,
)
from hybrid.backends.local.stock import stock_process
from hybrid.errors import ProcessParameterInvalid


def _null(value: Any) -> bool:
    return value is None or is_nan_value(value)


#: what openeo-processes-dask's array_find answers on arrays where nothing matches
_STOCK_NOT_FOUND = 999999


def array_find(data: Any, value: Any, reverse: bool = False, axis: Any = None) -> Any:
    """Index of the first (last) element equal to ``value`` by ``eq``; null if none."""
    if is_array(data):
        # openeo-processes-dask answers 999999 where nothing matches; Copernicus leaves
        # those pixels nodata (an empty ShortConstantNoData tile, set only where found:
        # openeo-geotrellis-extensions OpenEOProcessScriptBuilder.scala arrayFind L637-670)
        found = stock_process("array_find")(data, value, reverse=reverse, axis=axis)
        return np.where(found == _STOCK_NOT_FOUND, np.nan, found)
    if _null(value):
        return null_of(value)
    if isinstance(value, list | dict):
        return None  # the spec: arrays and objects are never found
    indices = range(len(data) - 1, -1, -1) if reverse else range(len(data))
    for i in indices:
        item = data[i]
        if not isinstance(item, list | dict) and not _null(item) and eq(item, value) is True:
            return i
    return None


def array_element(
    data: Any,
    index: int | None = None,
    label: Any = None,
    return_nodata: bool = False,
    axis: Any = None,
    context: Any = None,
    dim_labels: Any = None,
    keepdims: bool = False,
) -> Any:
    if index is None and label is None:
        raise ProcessParameterInvalid(
            "array_element: ArrayElementParameterMissing: set 'index' or 'label'"
        )
    if index is not None and label is not None:
        raise ProcessParameterInvalid(
            "array_element: ArrayElementParameterConflict: set 'index' or 'label', not both"
        )
    if index is not None and index < 0:
        raise ProcessParameterInvalid(
            f"array_element: ArrayElementNotAvailable: index {index} is negative"
        )
    if not isinstance(data, list) or label is not None:
        label = _label_as_time(label, data, axis, dim_labels)
        element = _element_of_array(data, index, label, axis, dim_labels)
        if element is not None:  # keepdims (apply_dimension): x - x[0] as Copernicus
            return np.expand_dims(element, axis) if keepdims else element
        _refuse_missing_on_a_cube(data, index, label, axis, dim_labels)
        return stock_process("array_element")(
            data, index, label, return_nodata, axis=axis, context=context, dim_labels=dim_labels
        )
    assert index is not None
    if index < len(data):
        return data[index]
    if return_nodata:
        return math.nan
    raise ProcessParameterInvalid(
        f"array_element: ArrayElementNotAvailable: no index {index} in an array of {len(data)}"
    )


def _element_of_array(data: Any, index: Any, label: Any, axis: Any, dim_labels: Any) -> Any:
    """The element of a numpy or dask array a cube hands its callback (``axis`` set), by
    index or by one of ``dim_labels`` (a band's name, a date), as the stock implementation
    takes it; None when the stock implementation must decide (other inputs, no such
    element)."""
    plain = hasattr(data, "shape") and not hasattr(data, "dims")
    if not plain or isinstance(axis, bool) or not isinstance(axis, int | np.integer):
        return None
    if label is not None:
        labels = None if dim_labels is None else np.asarray(dim_labels)
        kinds = {str: "UO", np.datetime64: "M"}.get(type(label), "")
        if labels is None or labels.dtype.kind not in kinds:
            return None
        found = np.flatnonzero(labels == label)
        index = int(found[0]) if found.size else None
    if index is None or not 0 <= index < data.shape[axis]:
        return None
    return np.take(data, index, axis=axis)


def _refuse_missing_on_a_cube(
    data: Any, index: Any, label: Any, axis: Any, dim_labels: Any
) -> None:
    """Fail for an element the array a cube hands its callback lacks, ``return_nodata`` or
    not: Copernicus's script builder never reads ``return_nodata`` and throws "Could not
    find label" or "Invalid band index" (openeo-geotrellis-extensions
    OpenEOProcessScriptBuilder.scala ``arrayElementFunction`` L1608-1653, L1644-1650)."""
    if not hasattr(data, "shape") or isinstance(axis, bool):
        return
    if not isinstance(axis, int | np.integer):
        return
    if label is None:
        if index >= data.shape[axis]:
            raise ProcessParameterInvalid(
                f"array_element: Invalid band index {index}, only {data.shape[axis]} "
                "bands available"
            )
        return
    if dim_labels is None and hasattr(data, "dims"):
        dim_labels = data[data.dims[axis]].values
    if dim_labels is None:
        return  # not labelled: the stock implementation's ArrayNotLabeled
    labels = np.asarray(dim_labels)
    if not np.any(labels == label):
        raise ProcessParameterInvalid(
            f"array_element: Could not find label {label}, these labels are available: "
            f"{[str(v) for v in labels.tolist()]}"
        )


def _label_as_time(label: Any, data: Any, axis: Any, dim_labels: Any) -> Any:
    """A text label as the ``datetime64`` it names when the labels are times (``t``);
    any other label unchanged. Copernicus's script builder finds a date by its text as
    Java's ``ISO_INSTANT`` writes the dates (``2023-06-02T00:00:00Z``), nothing else
    (``2023-06-02`` is not found: OpenEOProcesses.scala L69, L238, L498;
    OpenEOProcessScriptBuilder.scala ``arrayElementFunction`` L1632-1647)."""
    if not isinstance(label, str):
        return label
    if dim_labels is None and hasattr(data, "dims") and axis is not None:
        dim_labels = data[data.dims[axis]].values
    if dim_labels is None or np.asarray(dim_labels).dtype.kind != "M":
        return label
    times = np.asarray(dim_labels).astype("datetime64[ns]")
    texts = [iso_instant(t) for t in times]
    if label not in texts:
        raise ProcessParameterInvalid(
            f"array_element: Could not find label {label}, these labels are available: "
            f"{texts} (Copernicus writes a date as 2023-06-02T00:00:00Z)"
        )
    return times[texts.index(label)]


def iso_instant(time: np.datetime64) -> str:
    """A time as Java's ``DateTimeFormatter.ISO_INSTANT`` writes it: seconds always,
    a fraction only when there is one, in 3, 6 or 9 digits."""
    nanos = int(np.asarray(time).astype("datetime64[ns]").astype(np.int64))
    seconds, fraction = divmod(nanos, 10**9)
    text = str(np.datetime_as_string(np.asarray(seconds).astype("datetime64[s]"), unit="s"))
    if fraction:
        digits = f"{fraction:09d}"
        text += "." + digits[: 3 if fraction % 10**6 == 0 else 6 if fraction % 1000 == 0 else 9]
    return text + "Z"


def _first_valid(data: list[Any], ignore_nodata: bool) -> Any:
    if not data:
        return math.nan
    if not ignore_nodata:
        return data[0]
    return next((v for v in data if not _null(v)), null_of(*data))


def first(data: Any, ignore_nodata: bool = True, axis: Any = None) -> Any:
    if is_array(data):
        return stock_process("first")(data, ignore_nodata=ignore_nodata, axis=axis)
    return _first_valid(list(data), ignore_nodata)


def last(data: Any, ignore_nodata: bool = True, axis: Any = None) -> Any:
    if is_array(data):
        return stock_process("last")(data, ignore_nodata=ignore_nodata, axis=axis)
    return _first_valid(list(data)[::-1], ignore_nodata)


def order(data: Any, asc: bool = True, nodata: bool | None = None, axis: Any = None) -> Any:
    """Stable permutation (ties keep their order); nodata first, last or dropped.

    On a cube (``apply_dimension``) the dropped nodata of ``nodata: null`` cannot leave
    a hole in the array: the indices of the valid values come first, nodata fills the
    rest (openeo-processes-dask refuses, "sparse multi-dimensional arrays")."""
    if is_array(data) and nodata is None and getattr(data, "ndim", 1) > 1:
        ordered = stock_process("order")(data, asc=asc, nodata=True, axis=axis)
        valid = (~np.isnan(data)).sum(axis=axis, keepdims=True)
        position = np.arange(data.shape[axis]).reshape(
            [-1 if i == (axis % data.ndim) else 1 for i in range(data.ndim)]
        )
        return np.where(position < valid, ordered, np.nan)
    if is_array(data):
        return stock_process("order")(data, asc=asc, nodata=nodata, axis=axis)
    values = list(data)
    present = [i for i, v in enumerate(values) if not _null(v)]
    missing = [i for i, v in enumerate(values) if _null(v)]
    present.sort(key=lambda i: values[i], reverse=not asc)
    if nodata is None:
        return present
    return present + missing if nodata else missing + present


def count(
    data: Any,
    condition: Any = None,
    context: Any = None,
    axis: Any = None,
    keepdims: bool = False,
    spark_count: bool = False,
) -> Any:
    """Valid elements by default; all with ``condition: true``; else where it holds.

    Over a cube's pixels, a pixel without a valid value has no count (nodata), not 0:
    Copernicus's ``countValid`` reduces with ``multibandReduce``, which leaves such a
    pixel as its first tile has it, nodata (OpenEOProcessScriptBuilder.scala L403-405,
    L223-238, ``if(!bandValues.isEmpty)``); a condition counts every pixel
    (``ignoreNoData = false``). aggregate_spatial's Spark ``count`` gives 0
    (``spark_count``, set by :mod:`hybrid.backends.local.spatial_reducers`)."""
    if is_array(data) or not isinstance(data, list):
        found = stock_process("count")(
            data, condition, context=context, axis=axis, keepdims=keepdims
        )
        if condition is None and not spark_count and is_array(data) and np.ndim(found) > 0:
            return np.where(found == 0, np.nan, found).astype(np.float32)
        return found
    if condition is True:
        return len(data)
    if condition is None:
        return sum(1 for v in data if not _null(v) and not (is_number(v) and math.isinf(v)))
    if callable(condition):
        from hybrid.backends.local.processes.array_callbacks import call_each

        hits = call_each(condition, ({"x": v, "context": context} for v in data))
        return sum(1 for hit in hits if hit is True or (not _null(hit) and bool(hit)))
    raise ProcessParameterInvalid("count: 'condition' must be null, true or a child process")


def array_concat(array1: Any, array2: Any, axis: Any = None) -> Any:
    if isinstance(array1, list) and isinstance(array2, list):
        return array1 + array2
    members = _values_first_members(array1, array2) if axis is not None else None
    if members is not None:  # array_create([...]) and a list of values, in a callback
        from hybrid.backends.local.processes.array_members import remember
        from hybrid.backends.local.processes.dimensions import stacked

        return remember(stacked(members))
    if axis is not None and is_array(array1) and getattr(array1, "ndim", 0) > 1:
        from hybrid.backends.local.processes.dimensions import array_modify_along

        return array_modify_along(array1, array2, array1.shape[axis], 0, axis)
    return stock_process("array_concat")(array1, array2, axis=axis)


def _values_first_members(array1: Any, array2: Any) -> list[Any] | None:
    """The values of ``array_concat`` in a callback when one side is an
    :func:`~hybrid.backends.local.processes.dimensions.array_create` of per-pixel
    arrays (the values first, shape (k, *pixels)) and the other a list of such arrays or
    another array_create: all the values in order; None for anything else (the
    callback's own array, whose values lie along its ``axis``, as in
    ``array_concat(data, data)``)."""
    from hybrid.backends.local.processes.array_members import created

    def members(side: Any, pixels: tuple[int, ...] | None) -> list[Any] | None:
        if isinstance(side, list | tuple):
            return list(side)
        if not created(side):
            return None
        shape = tuple(getattr(side, "shape", ()))
        if pixels is not None and len(shape) == len(pixels) + 1 and shape[1:] == pixels:
            return [side[i] for i in range(shape[0])]
        return None

    for stack, other in ((array1, array2), (array2, array1)):
        if not created(stack) or getattr(stack, "ndim", 0) < 2:
            continue
        pixels = tuple(stack.shape[1:])
        theirs = members(other, pixels)
        if theirs is None:
            continue
        shapes = [np.shape(v) for v in theirs]
        if pixels in shapes and all(shape in (pixels, ()) for shape in shapes):
            ours = members(stack, pixels) or []
            return ours + theirs if stack is array1 else theirs + ours
    return None


def array_append(
    data: Any, value: Any, label: Any = None, dim_labels: Any = None, axis: Any = None
) -> Any:
    if isinstance(data, list) and not axis:
        if label is not None:
            raise ProcessParameterInvalid(
                "array_append: ArrayNotLabeled: 'label' is only allowed on a labeled array"
            )
        return [*data, value]
    if axis is not None and getattr(data, "ndim", 0) > 1:
        # Copernicus appends the value's tiles and ignores a label (geotrellis-extensions
        # OpenEOProcessScriptBuilder.scala ``arrayAppendFunction`` L1387-1399)
        return array_concat(data, [value], axis=axis)
    return stock_process("array_append")(data, value, label=label, dim_labels=dim_labels, axis=axis)


def array_labels(data: Any, axis: Any = None, dim_labels: Any = None) -> Any:
    """In a callback, the labels of its dimension (dates as RFC 3339 texts): the stock
    implementation asks ``if dim_labels:`` of the array of them and fails ("The truth
    value of an array ... is ambiguous"). Copernicus's callback builder has no case for
    it (the run warns, :mod:`hybrid.backends.local.callback_support`)."""
    if axis is not None and dim_labels is not None:
        from hybrid.backends.local.processes.labels import label_text

        return [label_text(label) for label in np.asarray(dim_labels)]
    return stock_process("array_labels")(data, axis=axis, dim_labels=dim_labels)


def array_modify(data: Any, values: Any, index: int, length: int = 0, axis: Any = None) -> Any:
    """Replace ``length`` elements from ``index`` by ``values``; by default (length 0)
    insert them. Copernicus inserts when no length is given and supports nothing else
    (openeo-geotrellis-extensions OpenEOProcessScriptBuilder.scala ``arrayModifyFunction``,
    L1358-1384), as openeo-processes 2.0.0-rc.1 (default 0) describes it; openeo-processes-dask
    replaces one element by default and makes a numpy array of a list, so numbers put into
    a list of texts become texts."""
    if isinstance(data, list) and isinstance(values, list) and not axis:
        if not 0 <= index <= len(data):
            raise ProcessParameterInvalid(
                f"array_modify: ArrayElementNotAvailable: index {index} is outside the array "
                f"of {len(data)} elements"
            )
        return [*data[:index], *values, *data[index + max(length, 0) :]]
    if axis is not None and is_array(data) and getattr(data, "ndim", 0) > 1:
        from hybrid.backends.local.processes.dimensions import array_modify_along

        return array_modify_along(data, values, index, length, axis)
    return stock_process("array_modify")(data, values, index, length=length, axis=axis)


def if_(value: Any, accept: Any, reject: Any = None) -> Any:
    """``accept`` if ``value`` is true, else ``reject`` (default null); pixel by pixel
    when ``value`` is an array. A single value picks one branch whole, cubes included
    (Copernicus's ``if`` node, openeo-python-driver processgraph/evaluator.py L329-334;
    APEx timeseries_statistics picks per-period or whole-extent statistics so)."""
    if is_array(value):
        return np.where(value, accept, np.nan if reject is None else reject)
    return accept if value is True or value is np.True_ else reject


def array_interpolate_linear(
    data: Any,
    axis: Any = None,
    dim_labels: Any = None,
    context: Any = None,
    input_cell_type: str | None = None,
) -> Any:
    """Linear interpolation of the no-data values (null/NaN) between valid ones; leading
    and trailing no-data stay, infinities are values (openEO 1.2 proposal
    array_interpolate_linear). On lists the index is x; ``(1 - t) * a + t * b`` keeps
    ``-inf``/``inf`` neighbours infinite. Arrays from cubes are filled by position along
    ``axis``, as Copernicus does (:mod:`hybrid.backends.local.processes.interpolation`)."""
    if not isinstance(data, list) or axis is not None:
        from hybrid.backends.local.cell_types import integer_type
        from hybrid.backends.local.processes.interpolation import fill_along_axis

        return fill_along_axis(data, axis=axis, integer=integer_type(input_cell_type))
    valid = [i for i, v in enumerate(data) if not _null(v)]
    out: list[Any] = [math.nan if _null(v) else v for v in data]
    for left, right in itertools.pairwise(valid):
        a, b = data[left], data[right]
        for i in range(left + 1, right):
            t = (i - left) / (right - left)
            out[i] = (1 - t) * a + t * b
    return out
