"""The processes the local engine runs that Copernicus's process registry lacks.

Copernicus evaluates every node outside a callback through its process registry:
openeo-python-driver's implementations (read at 510c6827, ``ProcessGraphDeserializer.py``
before the package refactor of 9e5b49b2, whose snapshot lacks ``temporal.py``; the
openeo-processes-python whitelist ``_OPENEO_PROCESSES_PYTHON_WHITELIST``) and
openeo-geopyspark-driver's additions (9baf2e10), and a fallback for every openEO process
whose description carries a process graph
(``_register_fallback_implementations_by_process_graph``, L279-288:
``normalized_difference`` among the 2.x descriptions the python-driver pins,
openeo-processes 965bbaeb). None of them registers the ids below
(each checked by searching both trees and those descriptions), so a graph node with one
of them fails the job there with ``ProcessUnsupported``. Inside the callbacks Copernicus
compiles, its script builder decides instead (:mod:`hybrid.backends.local.callback_support`):
it has cases for ``array_modify``, ``date_difference`` and ``date_replace_component``,
not for the others.

hybrid runs them (the emulator is a complete openEO backend, and the conformance suite
uses them) and says once per process, in the run's warnings (a job's log in the
emulator), that the same graph fails on Copernicus.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

NOT_ON_COPERNICUS = frozenset(
    {
        "array_create_labeled", "array_find_label", "array_modify", "cummax", "cummin",
        "cumproduct", "cumsum", "date_difference", "date_replace_component", "is_infinite",
        "nan", "reduce_spatial", "resample_cube_temporal", "trim_cube",
    }
)  # fmt: skip


def warn_not_on_copernicus(graph: Mapping[str, Any]) -> None:
    """One warning per process id of ``graph``'s own nodes (flat; callbacks are the
    builder's) that Copernicus's registry lacks."""
    from hybrid.run_warnings import warn

    ids = {str(node.get("process_id")) for node in graph.values() if isinstance(node, Mapping)}
    for pid in sorted(ids & NOT_ON_COPERNICUS):
        warn(
            f"process '{pid}' is not offered by Copernicus (its process registry has no "
            f"such process): the same graph fails there with ProcessUnsupported; compute "
            "it in a UDF (run_udf) or with other processes to run it on both"
        )


#: the processes Copernicus computes outside callbacks with openeo-processes 0.0.4, called
#: with the arguments as keywords (``process(**args.as_dict())``): an argument that is no
#: parameter fails there (TypeError); openeo-python-driver processgraph/registry.py L52-58,
#: L76-86
KEYWORD_CALLED = frozenset(
    {
        "array_contains", "array_element", "array_filter", "array_find", "array_labels",
        "count", "first", "last", "order", "rearrange", "sort", "between", "eq", "gt", "gte",
        "is_nan", "is_nodata", "is_valid", "lt", "lte", "neq", "all", "and", "any", "not",
        "or", "xor", "absolute", "add", "clip", "divide", "extrema", "int", "max", "mean",
        "median", "min", "mod", "multiply", "power", "product", "quantiles", "sd", "sgn",
        "sqrt", "subtract", "sum", "variance", "e", "pi", "exp", "ln", "log", "ceil", "floor",
        "round", "arccos", "arcosh", "arcsin", "arctan", "arctan2", "arsinh", "artanh", "cos",
        "cosh", "sin", "sinh", "tan", "tanh",
    }
)  # fmt: skip


#: arguments Copernicus reads that its process's description (as served here) lacks:
#: mask_scl_dilation's masking settings (CloudFilterStrategy.scala L56-69, handed on by
#: python-driver sar.py L112-122), vector_buffer's ``geometry`` and ``unit``
#: (process_implementations/geometry.py L37-121), apply_polygon's older ``polygons``
#: (cubes.py L140-150), filter_bands' ``wavelengths`` (refused with its own message,
#: :func:`hybrid.backends.local.processes.labels.filter_bands`) and the loads'
#: ``featureflags`` (python-driver 9e5b49b2 process_implementations/io.py L118-119,
#: L312-313: load settings of its own, of which only ``allow_empty_cube`` is read here)
READ_BEYOND_DESCRIPTION: dict[str, frozenset[str]] = {
    "load_collection": frozenset({"featureflags"}),
    "load_stac": frozenset({"featureflags"}),
    "mask_scl_dilation": frozenset(
        {"kernel1_size", "kernel2_size", "mask1_values", "mask2_values", "erosion_kernel_size"}
    ),
    "vector_buffer": frozenset({"geometry", "unit"}),
    "apply_polygon": frozenset({"polygons"}),
    "filter_bands": frozenset({"wavelengths"}),
}


def without_unread_arguments(
    graph: Mapping[str, Any],
    parameters: Mapping[str, frozenset[str]],
    *,
    _path: str = "",
) -> dict[str, Any]:
    """``graph`` (flat) without the arguments Copernicus never reads, each named once in
    the run's warnings: the processes its driver implements take their arguments by name
    (``ProcessArgs``: process_implementations/cubes.py ``reduce_dimension`` L228-235
    reads data, reducer, dimension, context), so one that is no parameter of the process
    (``target_dimension`` of a reduce_dimension written for openEO 0.4) is ignored there;
    so does its script builder inside callbacks, which reads each process's arguments by
    name and never checks the others (geopyspark-driver processgraphvisiting.py
    ``GeotrellisTileProcessGraphVisitor`` L11-77; geotrellis-extensions
    OpenEOProcessScriptBuilder.scala ``expressionEnd`` L1086-1214), even for the math
    processes that fail outside callbacks (:data:`KEYWORD_CALLED`). ``parameters``:
    process id -> its parameter names: its description's and
    :data:`READ_BEYOND_DESCRIPTION`, never the keywords of the Python function that
    implements it here (``axis``, ``keepdims`` of openeo-processes-dask, the engine's own
    markers such as ``in_load``), which no openEO graph can set."""
    kept: dict[str, Any] = {}
    for node_id, node in graph.items():
        pid = node.get("process_id") if isinstance(node, Mapping) else None
        known = parameters.get(str(pid))
        arguments = node.get("arguments") if isinstance(node, Mapping) else None
        if not isinstance(arguments, Mapping) or (pid in KEYWORD_CALLED and not _path):
            kept[node_id] = node  # outside callbacks openeo-processes fails on them
            continue
        inner = f"{_path}{node_id}/"
        arguments = {k: _in_callbacks(v, parameters, inner) for k, v in arguments.items()}
        if known is not None:
            arguments = _read_only(str(pid), f"{_path}{node_id}", arguments, known)
        kept[node_id] = {**node, "arguments": arguments}
    return kept


def _in_callbacks(value: Any, parameters: Mapping[str, frozenset[str]], path: str) -> Any:
    """An argument with the unread arguments of its callbacks taken out."""
    graph = value.get("process_graph") if isinstance(value, Mapping) else None
    if isinstance(graph, Mapping):
        inner = without_unread_arguments(graph, parameters, _path=path)
        return {**value, "process_graph": inner}
    if isinstance(value, list):
        return [_in_callbacks(item, parameters, path) for item in value]
    return value


def _read_only(
    pid: str, node: str, arguments: Mapping[str, Any], known: frozenset[str]
) -> dict[str, Any]:
    from hybrid.run_warnings import warn

    unread = sorted(set(arguments) - known)
    for name in unread:
        warn(
            f"{pid}: argument '{name}' is no parameter of the process and is ignored, "
            f"as Copernicus ignores it (node {node!r})"
        )
    return {k: v for k, v in arguments.items() if k not in unread}
