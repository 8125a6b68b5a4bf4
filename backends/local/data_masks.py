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


def masks_in_load(graph: Mapping[str, Any]) -> set[str]:
    """The ids of the ``mask`` nodes of the flat ``graph`` Copernicus applies while
    loading."""
    found = set()
    for node_id, node in graph.items():
        if not isinstance(node, Mapping) or node.get("process_id") != "mask":
            continue
        arguments = node.get("arguments") or {}
        if arguments.get("replacement") is not None:
            continue
        data = _inputs(graph, arguments.get("data"))
        mask = _inputs(graph, arguments.get("mask"))
        if data is None or mask is None or data & mask:
            continue
        processes = {graph[n].get("process_id") for n in data}
        if processes <= _PASSING:
            found.add(node_id)
    return found


def mark(graph: dict[str, Any], node_ids: set[str]) -> None:
    """Mark the ``mask`` nodes ``node_ids`` of ``graph`` (the run's copy) as applied in
    the load."""
    for node_id in node_ids:
        node = graph.get(node_id)
        if isinstance(node, dict) and node.get("process_id") == "mask":
            node.setdefault("arguments", {})[IN_LOAD] = True


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
