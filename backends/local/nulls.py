"""``null`` in, ``null`` out for single values, as the openEO 1.2 process specs say.

Math processes on single values (``sqrt``, ``add``, ``clip``, ``linear_scale_range``,
...) pass the no-data value ``null`` through ("The no-data value null is passed through
and therefore gets propagated", e.g. absolute.json). openeo-processes-dask calls numpy or
Python operators on ``None`` instead and fails with a TypeError. The parameters where
this applies are read from each process's spec (:func:`null_passing_parameters`): the
required ones whose schema allows both a number and ``null``, in a process that may
return ``null``. On cubes and arrays nodata is NaN and numpy propagates it already.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from typing import Any


def _types(schema: Any) -> set[str]:
    found: set[str] = set()
    for item in schema if isinstance(schema, list) else [schema]:
        if not isinstance(item, Mapping):
            continue
        kind = item.get("type")
        if isinstance(kind, list):
            found |= set(kind)
        elif isinstance(kind, str):
            found.add(kind)
        if "anyOf" in item:
            found |= _types(item["anyOf"])
    return found


def null_passing_parameters(spec: Mapping[str, Any]) -> frozenset[str]:
    """The parameters of a process whose ``null`` makes the result ``null``."""
    if "null" not in _types((spec.get("returns") or {}).get("schema", {})):
        return frozenset()
    return frozenset(
        p["name"]
        for p in spec.get("parameters", [])
        if not p.get("optional")
        and "default" not in p
        and {"number", "null"} <= _types(p.get("schema", {}))
    )


def nulls_pass_through(
    names: frozenset[str], implementation: Callable[..., Any]
) -> Callable[..., Any]:
    """``implementation``, answering ``None`` when one of ``names`` is given ``None``."""
    if not names:
        return implementation

    @functools.wraps(implementation)
    def run(*args: Any, **kwargs: Any) -> Any:
        if any(kwargs.get(name, ...) is None for name in names):
            return None
        return implementation(*args, **kwargs)

    return run


def nodata_list_parameters(spec: Mapping[str, Any]) -> frozenset[str]:
    """The parameters of a process that take an array of numbers with no-data values."""
    names = set()
    for p in spec.get("parameters", []):
        schema = p.get("schema", {})
        for item in schema if isinstance(schema, list) else [schema]:
            if not isinstance(item, Mapping) or item.get("type") != "array":
                continue
            kinds = _types(item.get("items", {}))
            if {"number", "null"} <= kinds and "boolean" not in kinds:
                names.add(p["name"])
    return frozenset(names)


def _number_or_null(value: Any) -> bool:
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))


def nodata_lists_as_nan(
    names: frozenset[str], implementation: Callable[..., Any]
) -> Callable[..., Any]:
    """``implementation``, with ``null`` in a list of numbers given as NaN (the engine's
    nodata in numbers, which openeo-processes-dask's reducers skip or propagate as the
    ``ignore_nodata`` flag says; numpy cannot take ``None``)."""
    if not names:
        return implementation

    @functools.wraps(implementation)
    def run(*args: Any, **kwargs: Any) -> Any:
        for name in names:
            value = kwargs.get(name)
            # numbers first: ``None in`` compares every member with ``==``, which an
            # array answers element-wise (a band reducer's ``sum([1, nir])``)
            if isinstance(value, list) and all(map(_number_or_null, value)) and None in value:
                kwargs[name] = [math.nan if v is None else v for v in value]
        return implementation(*args, **kwargs)

    return run
