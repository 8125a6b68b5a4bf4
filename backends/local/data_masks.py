"""The masks Copernicus applies while loading (its "data mask optimization").

openeo-python-driver evaluates a ``mask`` without ``replacement`` whose ``data`` is a
load_collection reached only through ``drop_dimension``, ``filter_bands``,
``filter_bbox``, ``filter_spatial``, ``filter_temporal``, ``resample_spatial`` (the
node ids of its inputs disjoint from the mask's) by loading the data with the mask
(processgraph/evaluator.py ``check_subgraph_for_data_mask_optimization`` L278-303,
``apply_process`` L315-326; on unless the job option ``data_mask_optimization`` is
false). The load keeps only the (tile, date) keys the mask has, an inner join
(openeo-geotrellis-extensions FileLayerProvider.scala ``applySpaceTimeMask`` L406-428,
DatacubeSupport.scala ``applyDataMask`` L262-265), where the ``mask`` process keeps
the data's dates the mask lacks unmasked (``rasterMaskGeneric``, a left outer join).

So such a mask drops the data's dates the mask lacks (an SCL load with
``max_cloud_cover=95`` masking a load without it removes the cloudier dates), and the
inner join also drops the tiles where the mask's first band has no zero (``prepareMask``
L288-293): a date the mask masks all over is gone, not an all-NaN date. Here that test
is made over the load's grid; Copernicus makes it per 256-px layout tile, which reaches
past the extent, so a date masked all over the extent but clear in its tiles' margin
stays there (all no-data), and a tile masked all over while others are not leaves the
date to its other tiles there as here (a UDF over ``t`` there sees per tile only the
dates its tile kept).

A user-defined process is no node of the graph Copernicus checks: it evaluates a call as
a node whose process id is the process's (``apply_process`` L361-368, ``evaluate_udp``
L391-395), so a mask whose data reaches a load only through such a call is no mask of a
load there (that id is not among the processes passed), and the process's own graph
with the same ``apply_process`` (``_evaluate_process_graph_process`` L373-388), where a
parameter is no node either. hybrid inlines the processes before the engine runs
(:mod:`hybrid.server.udp_expansion`), so the expansion marks the masks of each graph
with :func:`decide` as Copernicus checks that graph, before inlining it, and the engine
keeps those marks (:func:`masks_in_load` decides the masks left unmarked: a graph run
without an expansion).
Two masks inside a process Copernicus gets wrong are computed here as openEO defines
them (pixel by pixel), with a note: one whose ``data`` is a parameter of the process, or
whose ``mask`` is one and whose data passes, fails the job there (a parameter has no
``node``: KeyError in ``flatten_children_node_types`` L248, ``flatten_children_node_names``
L265); one whose data passes to a parameter without a load between is returned unmasked
there (the mask goes into the environment, L322-326, and no load reads it: the process's
arguments were evaluated before its graph, L336).

Not emulated: the job option (the optimization is always on here).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# IN_LOAD: hybrid.backends.local.processes.masking.mask then drops the data's dates the
# mask lacks or masks everywhere
from hybrid.backends.local.load_paths import IN_LOAD

#: the processes allowed between the load and such a mask (evaluator.py L282-290)
_PASSING = frozenset(
    {
        "drop_dimension", "filter_bands", "filter_bbox", "filter_spatial",
        "filter_temporal", "load_collection", "resample_spatial",
    }
)  # fmt: skip


#: what Copernicus's evaluator does with a mask (:func:`_outcome`): applies it in the
#: load, computes it pixel by pixel, fails, or returns its data unmasked
_LOAD, _PLAIN, _FAILS, _UNMASKED = "load", "plain", "fails", "unmasked"
#: the notes on what Copernicus gets wrong, computed as openEO defines it here
_NOTES = {
    _FAILS: "reads a parameter of the process as its data or mask: Copernicus's data "
    "mask optimization fails the job on it (KeyError in openeo-python-driver "
    "evaluator.py L248/L265); computed here as a plain mask",
    _UNMASKED: "reads a parameter of the process through filters only: Copernicus hands "
    "the mask to a load that is not read and returns the data unmasked; masked here",
}


def masks_in_load(graph: Mapping[str, Any]) -> set[str]:
    """The ids of the ``mask`` nodes of the flat ``graph`` Copernicus applies while
    loading, but for those :func:`decide` decided before (they keep that decision)."""
    return {
        node_id
        for node_id, arguments in _masks(graph)
        if IN_LOAD not in arguments and _outcome(graph, arguments) == _LOAD
    }


def decide(graph: Mapping[str, Any], process: str | None) -> tuple[dict[str, Any], list[str]]:
    """``graph`` with every ``mask`` node marked applied in the load or not (:data:`IN_LOAD`
    true or false) as Copernicus evaluates this graph on its own - a job's graph, or the
    graph of user-defined process ``process`` before it is inlined into the caller's -
    and a note for each mask Copernicus fails on or returns unmasked (module docstring)."""
    out = dict(graph)
    notes = []
    for node_id, arguments in _masks(graph):
        outcome = _outcome(graph, arguments)
        out[node_id] = {**graph[node_id], "arguments": {**arguments, IN_LOAD: outcome == _LOAD}}
        if outcome in _NOTES:
            where = f" in user-defined process '{process}'" if process else ""
            notes.append(f"the mask '{node_id}'{where} {_NOTES[outcome]}")
    return out, notes


def mark(graph: dict[str, Any], node_ids: set[str]) -> None:
    """Mark the ``mask`` nodes ``node_ids`` of ``graph`` (the run's copy) as applied in
    the load."""
    for node_id in node_ids:
        node = graph.get(node_id)
        if isinstance(node, dict) and node.get("process_id") == "mask":
            node.setdefault("arguments", {})[IN_LOAD] = True


def _masks(graph: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """The ``mask`` nodes of ``graph`` with their arguments."""
    return [
        (node_id, node.get("arguments") or {})
        for node_id, node in graph.items()
        if isinstance(node, Mapping) and node.get("process_id") == "mask"
    ]


def _outcome(graph: Mapping[str, Any], arguments: Mapping[str, Any]) -> str:
    """What Copernicus's evaluator does with a mask of ``graph``, its checks in its order
    (evaluator.py L293-303): :data:`_LOAD`, :data:`_PLAIN`, or one of :data:`_NOTES`."""
    if arguments.get("replacement") is not None:
        return _PLAIN
    if _is_parameter(arguments.get("data")):
        return _FAILS
    data = _inputs(graph, arguments.get("data"))
    if data is None:
        return _PLAIN
    processes = {graph[n].get("process_id") for n in data}
    if not processes <= _PASSING:
        return _PLAIN
    if _is_parameter(arguments.get("mask")):
        return _FAILS
    mask = _inputs(graph, arguments.get("mask"))
    if mask is None or data & mask:
        return _PLAIN
    return _LOAD if "load_collection" in processes else _UNMASKED


def _is_parameter(reference: Any) -> bool:
    return isinstance(reference, Mapping) and "from_parameter" in reference


def _inputs(graph: Mapping[str, Any], reference: Any) -> set[str] | None:
    """The node ``reference`` names and the nodes its arguments name, recursively
    (arguments that are a reference themselves, as the driver walks them); None when
    ``reference`` is no node of the graph."""
    if not isinstance(reference, Mapping) or reference.get("from_node") not in graph:
        return None
    seen: set[str] = set()
    todo = [str(reference["from_node"])]
    while todo:
        node_id = todo.pop()
        if node_id in seen or not isinstance(graph.get(node_id), Mapping):
            continue
        seen.add(node_id)
        for value in (graph[node_id].get("arguments") or {}).values():
            if isinstance(value, Mapping) and value.get("from_node") in graph:
                todo.append(str(value["from_node"]))
    return seen
