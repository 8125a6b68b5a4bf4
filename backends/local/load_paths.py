"""The paths from a node back to the loads it reads, as Copernicus's dry run traces them,
and a copy of a node moved to right after a load on such a path.

Copernicus's dry run hands some processes to the load they follow (openeo-python-driver
9e5b49b2 ``dry_run.py`` L124-175, the propagation rules, and ``get_source_constraints``
L509-551): the load is then read with that constraint, and only for the path of that
node, as Copernicus evaluates a load once per reader, each with the constraints of its
path (evaluator.py L173-176 does not cache load_collection, ``load_params.py`` L215-216
takes the next constraints). :mod:`hybrid.backends.local.resample_pushdown` and
:mod:`hybrid.backends.local.label_pushdown` emulate two of those rules with these paths
(:mod:`hybrid.backends.local.data_masks` the evaluator's mask push-down).
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Mapping
from typing import Any

#: the argument a process gets (True) when Copernicus does it in the load it follows
#: (:mod:`hybrid.backends.local.label_pushdown`, :mod:`.resample_pushdown`,
#: :mod:`.data_masks`); each process says what that changes
IN_LOAD = "in_load"


def upstream(
    graph: Mapping[str, Any],
    node_id: str,
    blockers: Collection[str] = (),
    sources: Collection[str] = ("load_collection",),
) -> tuple[list[str], set[str]]:
    """The load nodes (``sources``) ``node_id`` reads from and the nodes between them
    (``node_id`` included), when no path to them passes one of ``blockers`` or a node
    that is no process (else none)."""
    seen: set[str] = set()
    pending = list(inputs(graph, node_id))
    loads: list[str] = []
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        node = graph.get(current)
        process = node.get("process_id") if isinstance(node, Mapping) else None
        if process in sources:
            loads.append(current)
        elif process in blockers or process is None:
            return [], set()
        else:
            pending.extend(inputs(graph, current))
    return loads, (seen - set(loads)) | {node_id}


def copy_after_load(
    graph: Mapping[str, Any],
    out: dict[str, Any],
    load: str,
    node_id: str,
    path: set[str],
    name: str,
) -> str:
    """Add to ``out`` a copy of node ``node_id`` that reads ``load``, id
    ``<load>_read_<name>`` (returned), and rewire the readers of ``load`` on ``path``
    (nodes of ``graph``) to it."""
    read = f"{load}_read_{name}"
    while read in graph or read in out:
        read += "_"
    for reader in path:
        arguments = out[reader].get("arguments")
        if load in inputs(graph, reader) and isinstance(arguments, dict):
            out[reader]["arguments"] = _rewired(arguments, load, read)
    copied = copy.deepcopy(dict(out[node_id]))
    copied.pop("result", None)
    copied["arguments"] = {**copied.get("arguments", {}), "data": {"from_node": load}}
    out[read] = copied
    return read


def _rewired(value: Any, old: str, new: str) -> Any:
    """``value`` (arguments) with references to node ``old`` made to ``new``; callbacks
    (their own graphs) untouched."""
    if isinstance(value, dict):
        if value.get("from_node") == old and len(value) == 1:
            return {"from_node": new}
        if "process_graph" in value:
            return value
        return {k: _rewired(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_rewired(v, old, new) for v in value]
    return value


def inputs(graph: Mapping[str, Any], node_id: str) -> list[str]:
    """The nodes of ``graph`` whose cubes flow into ``node_id`` (the dry run's tracing)."""
    from hybrid.backends.local.extents import cube_sources

    node = graph.get(node_id)
    if not isinstance(node, Mapping):
        return []
    return list(dict.fromkeys(s for s in cube_sources(node) if s in graph))
