"""The members of an array_create in a callback, flattened as Copernicus flattens them.

Copernicus compiles a callback per pixel: every member of an array argument evaluates to
a sequence of tiles, and the array is their concatenation, a number being one constant
tile (openeo-geotrellis-extensions ``OpenEOProcessScriptBuilder.scala`` ``arrayEnd``
L1038-1075: ``results = results ++ tileFunction(context)(tiles)``, ``constantArrayElement``
L1030-1036; ``arrayCreateFunction`` L1435-1446 repeats that sequence). So
``array_create([array_create([x, 1]), 2])`` is the three values x, 1 and 2, and
``array_create([mean(x), quantiles(x, [0.05])])`` two.

Here an array built in a callback holds its values along a new first axis
(:func:`~hybrid.backends.local.processes.dimensions.stacked`). Which arrays array_create
built is remembered (by identity, weakly), since a number beside one cannot tell the
array's values from one value per pixel by their shapes.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

#: id -> weak reference of every array an array_create in a callback returned
_CREATED: dict[int, weakref.ref[Any]] = {}


def remember(array: Any) -> Any:
    """``array`` (values along its first axis), remembered as one array_create built."""
    key = id(array)
    _CREATED[key] = weakref.ref(array, lambda _ref: _CREATED.pop(key, None))
    return array


def along_values(arguments: dict[str, Any]) -> dict[str, Any]:
    """The keyword ``arguments`` of a process in a callback, over the values of its
    ``data`` when that is an array an array_create built: ``axis`` 0 and no kept
    dimension, whatever the callback's own ``axis`` (in apply_dimension the last, in
    reduce_dimension the reduced dimension's). Copernicus applies a process to an array
    over the tiles it evaluates to (OpenEOProcessScriptBuilder.scala ``reduceFunction``
    L573-585 reduces ``tiles``, which ``arrayCreateFunction`` L1435-1446 made one per
    member; ``arrayElementFunction`` L1608-1650 indexes them); the members of such an
    array already have the callback's pixel shape, so ``max(array_create([a, b]))`` is
    one value per pixel, as ``a`` is, and ``array_element(array_create([a, b]), 1)`` is
    ``b``."""
    if "axis" not in arguments or not created(arguments.get("data")):
        return arguments
    out = {**arguments, "axis": 0}
    if "keepdims" in out:
        out["keepdims"] = False
    return out


def created(value: Any) -> bool:
    """Whether ``value`` is an array an array_create (or array_concat of such) built."""
    ref = _CREATED.get(id(value))
    return ref is not None and ref() is value


def flattened(items: list[Any], axis: int) -> list[Any]:
    """The values of ``items``: an array an array_create built gives its values in turn,
    and so does a member with one dimension more than the other arrays (an array along
    the callback's ``axis``, as ``quantiles(x, [0.05])`` in apply_dimension)."""
    out: list[Any] = []
    for value in items:
        out.extend(list(value) if created(value) else [value])
    ndims = [np.ndim(v) for v in out if np.ndim(v) > 0]
    if not ndims or max(ndims) != min(ndims) + 1:
        return out
    low = min(ndims)
    split: list[Any] = []
    for value in out:
        split.extend(list(np.moveaxis(value, axis, 0)) if np.ndim(value) > low else [value])
    return split
