"""Which loads apply a mask_scl_dilation, as Copernicus's dry run hands it to them.

The dry run records ``mask_scl_dilation`` as a ``custom_cloud_mask`` constraint with
its arguments (openeo-python-driver ``dry_run.py`` L956-957) and propagates it, with no
blocker, to the loads it comes from (``PROPAGATION_RULES`` L146); each such load masks
its cube while loading (``processgraph/load_params.py`` L233, geopyspark-driver
``datacube_parameters.py`` L29, geotrellis-extensions ``FileLayerProvider.scala``
L1039-1049), and the node itself passes its cube on unchanged
(:func:`hybrid.backends.local.processes.scl_dilation.mask_scl_dilation`). So the mask
applies to the load's cube before anything between them (a band maths, a
``resample_spatial``, a ``rename_labels``), whatever the node's position.

Where several mask_scl_dilation nodes reach one load, the first in the graph's order
gives it its arguments here (the dry run keeps one ``custom_cloud_mask`` per load).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hybrid.backends.local.extents import LOADS, cube_sources


def load_masks(graph: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """load node id -> the arguments (without ``data``) of the mask_scl_dilation it
    applies, for the top-level nodes of a flat graph."""
    found: dict[str, dict[str, Any]] = {}
    for node_id, node in graph.items():
        if not isinstance(node, Mapping) or node.get("process_id") != "mask_scl_dilation":
            continue
        arguments = {k: v for k, v in (node.get("arguments") or {}).items() if k != "data"}
        for load in _source_loads(graph, str(node_id)):
            found.setdefault(load, arguments)
    return found


def _source_loads(graph: Mapping[str, Any], node_id: str) -> list[str]:
    """The loads whose cubes flow into ``node_id``."""
    seen: set[str] = set()
    pending, loads = [node_id], []
    while pending:
        current = pending.pop()
        node = graph.get(current)
        if current in seen or not isinstance(node, Mapping):
            continue
        seen.add(current)
        if node.get("process_id") in LOADS:
            loads.append(current)
        else:
            pending.extend(cube_sources(node))
    return loads
