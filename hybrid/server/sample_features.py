"""A batch job's save_result with ``sample_by_feature`` gets the geometries to sample by.

Copernicus adds the geometries of the graph's last filter_spatial to the options of every
save_result asking for ``sample_by_feature`` when it runs a batch job, and only then
(openeo-geopyspark-driver ``deploy/batch_job.py`` L417-426): a synchronous request
writes one file. The option ``geometries`` tells the engine it runs a batch job; None
when the graph has no filter_spatial (the engine refuses that with one clear error, where
Copernicus fails on the missing key). The writing: :mod:`hybrid.backends.local.samples`.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any


def _asks(node: Any) -> bool:
    if not isinstance(node, Mapping) or node.get("process_id") != "save_result":
        return False
    options = (node.get("arguments") or {}).get("options")
    return isinstance(options, Mapping) and bool(options.get("sample_by_feature"))


def with_sample_geometries(graph: Mapping[str, Any]) -> dict[str, Any]:
    """``graph`` (flat) with the last top-level filter_spatial's geometries in the options
    of each save_result asking for ``sample_by_feature``."""
    out = dict(graph)
    asking = [node_id for node_id, node in graph.items() if _asks(node)]
    if not asking:
        return out
    geometries = None
    for node in graph.values():
        if isinstance(node, Mapping) and node.get("process_id") == "filter_spatial":
            geometries = (node.get("arguments") or {}).get("geometries")
    for node_id in asking:
        node = copy.deepcopy(dict(graph[node_id]))
        node["arguments"]["options"]["geometries"] = copy.deepcopy(geometries)
        out[node_id] = node
    return out
