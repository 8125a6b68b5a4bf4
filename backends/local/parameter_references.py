"""The values of a callback's parameters, handed to the processes inside it.

openeo-pg-parser-networkx calls a process with its arguments as the graph writes them:
``{"from_parameter": "x"}`` arrives as a ``ParameterReference``. A process that runs a
callback (apply, reduce_dimension, ...) passes the values of the callback's parameters
along as ``named_parameters`` (name -> value) and ``positional_parameters`` (name ->
position of one of the call's positional arguments, such as the array xarray hands a
reducer). :func:`resolving` wraps an implementation so that it gets the values instead
of the references.

This is the calling convention of openeo-processes-dask's ``process`` decorator, which
its implementations expect, written here so that a graph of this project's own
processes runs without importing openeo-processes-dask's implementations (about a
second of a ``hybrid run``: dask.dataframe, dask-geopandas and distributed come with
them).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any

from hybrid.errors import ProcessParameterInvalid

#: keyword arguments the callback machinery adds (xarray's reduce, the parent process);
#: dropped for an implementation that does not take them
MACHINERY = ("axis", "keepdims", "source_transposed_axis", "context", "dim_labels")


def resolving(implementation: Callable[..., Any]) -> Callable[..., Any]:
    """``implementation`` called with its references resolved: a positional argument
    that is a reference becomes the referenced value (any other positional argument
    only feeds ``positional_parameters``), and so does a keyword argument or a
    reference inside a keyword argument's list. A process whose ``data`` is an array an
    array_create in the callback built works over that array's values
    (:func:`~hybrid.backends.local.processes.array_members.along_values`)."""
    from openeo_pg_parser_networkx.pg_schema import ParameterReference

    from hybrid.backends.local.processes.array_members import along_values

    dropped = _dropped(implementation)

    @functools.wraps(implementation)
    def call(
        *args: Any,
        positional_parameters: Mapping[str, int] | None = None,
        named_parameters: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        values = dict(named_parameters or {})
        for name, position in (positional_parameters or {}).items():
            values[name] = args[position]
        refs = [
            _value(arg, values, implementation)
            for arg in args
            if isinstance(arg, ParameterReference)
        ]
        resolved = {
            key: _resolved(arg, values, implementation)
            for key, arg in kwargs.items()
            if key not in dropped
        }
        return implementation(*refs, **along_values(resolved))

    return call


def _resolved(arg: Any, values: Mapping[str, Any], implementation: Callable[..., Any]) -> Any:
    """``arg`` with its references resolved, also those inside a list: the openeo client
    writes ``merge_cubes(overlap_resolver="max")`` as ``max(data=[x, y])``."""
    from openeo_pg_parser_networkx.pg_schema import ParameterReference

    if isinstance(arg, ParameterReference):
        return _value(arg, values, implementation)
    if isinstance(arg, list) and any(isinstance(item, ParameterReference | list) for item in arg):
        return [_resolved(item, values, implementation) for item in arg]
    return arg


def _dropped(implementation: Callable[..., Any]) -> frozenset[str]:
    try:
        accepted = inspect.signature(implementation).parameters
    except (TypeError, ValueError):  # no signature (a builtin): pass everything on
        return frozenset()
    return frozenset(name for name in MACHINERY if name not in accepted)


def _value(reference: Any, values: Mapping[str, Any], implementation: Callable[..., Any]) -> Any:
    name = reference.from_parameter
    if name not in values:
        process = getattr(implementation, "__name__", "the process").lstrip("_")
        raise ProcessParameterInvalid(
            f"{process}: the parameter '{name}' it refers to has no value here: "
            "'from_parameter' can only name a parameter of the enclosing callback or process"
        )
    return values[name]
