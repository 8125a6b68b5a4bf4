"""``run_udf`` callbacks in a flat process graph: checked, and marked for the engine.

Copernicus runs a UDF only when it is the single process of the callback of ``apply``,
``apply_dimension``, ``reduce_dimension`` or ``apply_neighborhood``
(``SingleNodeUDFProcessGraphVisitor`` in openeo-geopyspark-driver
``openeogeotrellis/geopysparkdatacube.py`` ``apply``/``apply_dimension``/
``reduce_dimension``/``apply_neighborhood``). The UDF's ``context`` is run_udf's own
``context`` argument (``{}`` when absent), where ``{"from_parameter": "context"}``
stands for the parent's ``context`` (``_extract_udf_code_and_context``).

A ``run_udf`` node of the graph itself (not in a callback) runs on its own, on an
aggregate_spatial time series (:mod:`hybrid.backends.local.processes.vector_udf`); it is
checked here like a callback.

Before the graph is parsed, each such callback is replaced by a marker object
(:data:`MARKER`) that the engine's overrides of those four processes recognise.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from hybrid.errors import ProcessParameterInvalid, ProcessUnsupported

#: process id -> the argument that holds its callback
UDF_PARENTS = {
    "apply": "process",
    "apply_dimension": "process",
    "reduce_dimension": "reducer",
    "apply_neighborhood": "process",
    "apply_polygon": "process",
}
#: key of the object that replaces a UDF callback in the parsed graph
MARKER = "hybrid_run_udf"


@dataclass(frozen=True)
class UdfCallback:
    """One run_udf callback: its code, runtime and (unresolved) context."""

    code: str
    runtime: str
    version: str | None
    context: Any


def _single_run_udf(value: Any) -> Mapping[str, Any] | None:
    if not isinstance(value, Mapping) or not isinstance(value.get("process_graph"), Mapping):
        return None
    nodes = list(value["process_graph"].values())
    if len(nodes) != 1 or not isinstance(nodes[0], Mapping):
        return None
    return nodes[0] if nodes[0].get("process_id") == "run_udf" else None


def _callback(node_id: str, run_udf: Mapping[str, Any]) -> UdfCallback:
    from hybrid.backends.local.udf.runtimes import check_runtime

    args = run_udf.get("arguments") or {}
    code = args.get("udf")
    if not isinstance(code, str) or not code.strip():
        raise ProcessParameterInvalid(
            "run_udf: 'udf' must be the UDF's source code (a non-empty string)", node=node_id
        )
    check_runtime(args.get("runtime"), args.get("version"), node=node_id)
    return UdfCallback(
        code=code,
        runtime=str(args.get("runtime")),
        version=None if args.get("version") is None else str(args["version"]),
        context=args.get("context", {}),
    )


def _levels(graph: Mapping[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """(node path, node) of every node, descending into callbacks; nodes are mutable."""
    for node_id, node in graph.items():
        if not isinstance(node, dict):
            continue
        yield f"{path}{node_id}", node
        for value in (node.get("arguments") or {}).values():
            if isinstance(value, Mapping) and isinstance(value.get("process_graph"), Mapping):
                yield from _levels(value["process_graph"], f"{path}{node_id}/")


def mark_udf_callbacks(graph: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``graph`` with every UDF callback replaced by a :data:`MARKER` object.

    Raises when a run_udf is anywhere else, or names a runtime not offered here.
    """
    marked: dict[str, Any] = copy.deepcopy(dict(graph))
    allowed: set[int] = set()
    for node_id, node in list(_levels(marked)):
        pid = node.get("process_id")
        arg = UDF_PARENTS.get(str(pid))
        args = node.get("arguments")
        if arg is None or not isinstance(args, dict):
            continue
        run_udf = _single_run_udf(args.get(arg))
        if run_udf is not None:
            callback = _callback(node_id, run_udf)
            args[arg] = {MARKER: callback.__dict__}
            allowed.add(id(run_udf))
    for node_id, node in _levels(marked):
        if node.get("process_id") != "run_udf" or id(node) in allowed:
            continue
        if "/" not in node_id:  # on its own (processes/vector_udf.py)
            _callback(node_id, node)
        else:
            raise ProcessUnsupported(
                "run_udf in a callback runs only as its single process, in the callback "
                "of apply, apply_dimension, reduce_dimension, apply_neighborhood or "
                "apply_polygon (as on Copernicus)",
                node=node_id,
            )
    return marked


def udf_callback(value: Any) -> UdfCallback | None:
    """The UDF a marked callback argument holds, or None for an ordinary callback."""
    if isinstance(value, Mapping) and isinstance(value.get(MARKER), Mapping):
        return UdfCallback(**value[MARKER])
    return None


def resolve_context(value: Any, parent_context: Any) -> Any:
    """run_udf's context with references to the parent's ``context`` filled in."""
    name = getattr(value, "from_parameter", None)
    if name is None and isinstance(value, Mapping) and set(value) == {"from_parameter"}:
        name = value["from_parameter"]
    if name is not None:
        if name != "context":
            raise ProcessParameterInvalid(
                f"run_udf: context refers to parameter '{name}'; only 'context' (the "
                "parent process's context) can be passed to a UDF"
            )
        return parent_context if parent_context is not None else {}
    if isinstance(value, Mapping):
        return {k: resolve_context(v, parent_context) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [resolve_context(v, parent_context) for v in value]
    return value
