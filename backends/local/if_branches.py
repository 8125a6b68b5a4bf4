"""A top-level ``if`` runs one branch only, as on Copernicus.

Copernicus evaluates an ``if`` node's ``value`` first and then only the branch it picks
(``accept`` when the value is truthy, else ``reject``): the other branch is never
computed, so it may hold what would fail, such as an ``aggregate_temporal_period`` with
a null ``period`` (openeo-python-driver openeo_driver/processgraph/evaluator.py
``apply_process`` L329-334). The APEx ``timeseries_statistics`` UDP picks per-period or
whole-extent statistics this way.

Here the graph is rewritten before it runs: an ``if`` whose ``value`` is a constant, or
the result of nodes that load no data, is decided; it keeps the picked branch only, and
the nodes only the other branch used are dropped. Anything else (a value computed from
data, an ``if`` in a callback) is left to the ``if`` process, pixel by pixel.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hybrid.graph_structure import from_nodes

#: processes whose result depends on more than their arguments
_NOT_CONSTANT = ("load_", "save_", "run_udf", "import_", "export_")


def chosen_branches(graph: Mapping[str, Any]) -> dict[str, Any]:
    """``graph`` with each decidable top-level ``if`` reduced to the branch it takes."""
    out = dict(graph)
    ends = _end_nodes(out)
    for node_id, node in graph.items():
        if not isinstance(node, Mapping) or node.get("process_id") != "if":
            continue
        args = node.get("arguments") or {}
        decided, value = _decided(out, args.get("value"))
        if decided:
            branch = "accept" if value else "reject"
            out[node_id] = {**node, "arguments": {"value": True, "accept": args.get(branch)}}
    return _without_orphans(out, ends)


def _decided(graph: Mapping[str, Any], value: Any) -> tuple[bool, Any]:
    """(True, value) when ``value`` is known without loading data, else (False, None)."""
    if not isinstance(value, Mapping | list):
        return True, value
    if not isinstance(value, Mapping) or set(value) != {"from_node"}:
        return False, None
    inputs = _inputs(graph, str(value["from_node"]))
    if inputs is None:
        return False, None
    try:
        return True, _run(inputs, str(value["from_node"]))
    except Exception:  # left to the run, which reports it on its node
        return False, None


def _inputs(graph: Mapping[str, Any], node_id: str) -> dict[str, Any] | None:
    """The nodes ``node_id`` is computed from (itself included), or None when one of
    them loads data, reads a parameter or is missing."""
    found: dict[str, Any] = {}
    todo = [node_id]
    while todo:
        nid = todo.pop()
        node = graph.get(nid)
        if not isinstance(node, Mapping) or str(node.get("process_id")).startswith(_NOT_CONSTANT):
            return None
        if _reads_parameter(node.get("arguments")):
            return None
        found[nid] = node
        todo.extend(r for r in from_nodes(node.get("arguments") or {}) if r not in found)
    return found


def _reads_parameter(value: Any) -> bool:
    """Whether an argument value reads a parameter (child graphs not included)."""
    if isinstance(value, Mapping):
        if "process_graph" in value:
            return False
        return "from_parameter" in value or any(map(_reads_parameter, value.values()))
    return isinstance(value, list) and any(map(_reads_parameter, value))


def _run(nodes: Mapping[str, Any], result: str) -> Any:
    from hybrid.backends.local.graph_parsing import parse_graph
    from hybrid.backends.local.registry import registry_for_run

    flat = {nid: {**node, "result": nid == result} for nid, node in nodes.items()}
    process_ids = {str(node.get("process_id")) for node in nodes.values()}
    registry = registry_for_run({}, process_ids=process_ids)
    return parse_graph(flat).to_callable(process_registry=registry)()


def _end_nodes(graph: Mapping[str, Any]) -> set[str]:
    used = {r for node in graph.values() for r in from_nodes(node.get("arguments") or {})}
    return set(graph) - used


def _without_orphans(graph: dict[str, Any], ends: set[str]) -> dict[str, Any]:
    """Drop the nodes no longer used that were used before (an untaken branch)."""
    while orphans := _end_nodes(graph) - ends:
        for node_id in orphans:
            del graph[node_id]
    return graph
