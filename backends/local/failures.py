"""A process that fails on its arguments becomes a 4xx openEO error naming the node.

Every implementation of a run's registry is wrapped (:func:`reporting`): an error a
process raises while running on the arguments it got (TypeError, ValueError, ...,
openeo-processes-dask's own exceptions) becomes ``ProcessParameterInvalid`` (HTTP 400)
with the process id, the exception and the parameters with their types; a HybridError
keeps its message and learns which process raised it. The innermost failing process wins
(a ``gt`` inside ``apply`` is named, not ``apply``). :func:`name_node` then finds the node
id(s) of that process in the graph for the message.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from hybrid.errors import HybridError, ProcessParameterInvalid

#: exceptions a process raises because of the values it was given
ARGUMENT_ERRORS = (
    TypeError,
    ValueError,
    KeyError,
    IndexError,
    AttributeError,
    ZeroDivisionError,
    OverflowError,  # date_shift by 10**12 years, a number too large for its type
    NotImplementedError,
)
#: keyword arguments the graph machinery adds, not process parameters
_MACHINERY = {"named_parameters", "positional_parameters", "axis", "keepdims", "dim_labels"}


def _type_name(value: Any) -> str:
    if hasattr(value, "dims") and hasattr(value, "dtype"):
        return f"data cube {tuple(str(d) for d in value.dims)} {value.dtype}"
    return "null" if value is None else type(value).__name__


def describe_arguments(kwargs: Mapping[str, Any]) -> str:
    """``x: str, y: int``: the parameters a process got, with their types."""
    return ", ".join(f"{k}: {_type_name(v)}" for k, v in kwargs.items() if k not in _MACHINERY)


_THIRD_PARTY = ("openeo_processes_dask", "openeo_pg_parser_networkx")


def _is_argument_error(exc: BaseException) -> bool:
    if isinstance(exc, ARGUMENT_ERRORS):
        return True
    if type(exc).__module__.startswith(_THIRD_PARTY):
        return True
    # openeo-processes-dask also raises a bare Exception for wrong arguments (e.g.
    # "Could not apply process as it is not callable."): judge it by where it was raised
    return type(exc) is Exception and _raised_in(exc, _THIRD_PARTY)


def _raised_in(exc: BaseException, prefixes: tuple[str, ...]) -> bool:
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and str(tb.tb_frame.f_globals.get("__name__", "")).startswith(prefixes)


def reporting(pid: str, implementation: Callable[..., Any]) -> Callable[..., Any]:
    """``implementation`` with its failures reported as errors of process ``pid``."""

    @functools.wraps(implementation)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return implementation(*args, **kwargs)
        except HybridError as exc:
            if getattr(exc, "process_id", None) is None:
                exc.process_id = pid  # type: ignore[attr-defined]
            raise
        except Exception as exc:
            if not _is_argument_error(exc):
                raise
            error = ProcessParameterInvalid(
                f"{pid}: {type(exc).__name__}: {exc} (arguments: {describe_arguments(kwargs)})"
            )
            error.process_id = pid  # type: ignore[attr-defined]
            raise error from exc

    return run


def name_node(error: HybridError, graph: Mapping[str, Any]) -> HybridError:
    """``error`` with ``node`` set to the id of the node that ran the failing process
    (``parent/child`` inside callbacks; several ids when the process occurs more often)."""
    from hybrid.backends.local.graphcheck import _nodes as walk_nodes

    pid = getattr(error, "process_id", None)
    if error.node is not None or pid is None:
        return error
    try:
        ids = [node_id for node_id, node in walk_nodes(graph) if node.get("process_id") == pid]
    except HybridError:
        return error
    if ids:
        error.node = ids[0] if len(ids) == 1 else " or ".join(ids)
    return error
