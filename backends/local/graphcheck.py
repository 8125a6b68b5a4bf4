"""Static checks of a flat process graph, and the facts the run needs from it.

Like the Copernicus dry run, the load learns from the whole graph: the pixel buffer a
later apply_kernel needs, and the cloud-cover property filter.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from hybrid.errors import (
    CollectionNotFound,
    ProcessGraphInvalid,
    ProcessParameterInvalid,
    ProcessUnsupported,
)
from hybrid.grid import kernel_buffer
from hybrid.params import COLLECTION_ID

#: property filter operators load_collection understands (max_cloud_cover gives lte)
_OPERATORS = ("lte",)


@dataclass(frozen=True)
class GraphFacts:
    #: pixels to load around the extent: ceil(k/2) for the largest kernel
    buffer: int = 0
    #: eo:cloud_cover <= this, from load_collection's properties
    max_cloud_cover: float | None = None


def _nodes(graph: Mapping[str, Any], path: str = "") -> Iterator[tuple[str, Mapping[str, Any]]]:
    for node_id, node in graph.items():
        if not isinstance(node, Mapping) or "process_id" not in node:
            raise ProcessGraphInvalid(
                f"process graph node '{path}{node_id}' is not an object with a 'process_id'"
            )
        yield f"{path}{node_id}", node
        for value in (node.get("arguments") or {}).values():
            yield from _child_graphs(value, f"{path}{node_id}/")


def _child_graphs(value: Any, path: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    if isinstance(value, Mapping):
        if "process_graph" in value and isinstance(value["process_graph"], Mapping):
            yield from _nodes(value["process_graph"], path)
        else:
            for v in value.values():
                yield from _child_graphs(v, path)
    elif isinstance(value, list):
        for v in value:
            yield from _child_graphs(v, path)


def _cloud_filter(node_id: str, properties: Any) -> float | None:
    if not properties:
        return None
    if not isinstance(properties, Mapping):
        raise ProcessParameterInvalid("load_collection: properties must be an object", node=node_id)
    unknown = [p for p in properties if p != "eo:cloud_cover"]
    if unknown:
        raise ProcessParameterInvalid(
            f"load_collection: property filter on {', '.join(unknown)} is not supported; "
            "only eo:cloud_cover is",
            node=node_id,
        )
    sub = (properties.get("eo:cloud_cover") or {}).get("process_graph") or {}
    if len(sub) != 1:
        raise ProcessParameterInvalid(
            "load_collection: the eo:cloud_cover filter must be one comparison (e.g. lte)",
            node=node_id,
        )
    (cmp,) = sub.values()
    op = cmp.get("process_id")
    args = cmp.get("arguments") or {}
    limit = args.get("y")
    if op not in _OPERATORS or not isinstance(limit, int | float):
        raise ProcessParameterInvalid(
            f"load_collection: eo:cloud_cover filter '{op}' with limit {limit!r} is not "
            "supported; use lte with a number (load_collection(max_cloud_cover=20))",
            node=node_id,
        )
    return float(limit)


def _references(value: Any) -> Iterator[str]:
    """``from_node`` targets in an argument value, not descending into child graphs."""
    if isinstance(value, Mapping):
        if "from_node" in value:
            yield str(value["from_node"])
        elif "process_graph" not in value:
            for v in value.values():
                yield from _references(v)
    elif isinstance(value, list):
        for v in value:
            yield from _references(v)


def _check_level(graph: Mapping[str, Any], path: str) -> None:
    """One graph level: a single result node, and every from_node pointing inside it."""
    if not isinstance(graph, Mapping) or not graph:
        raise ProcessGraphInvalid(
            f"the process graph {path or ''}is empty or not an object of nodes"
        )
    results = [
        nid for nid, node in graph.items() if isinstance(node, Mapping) and node.get("result")
    ]
    if len(results) != 1:
        raise ProcessGraphInvalid(
            f"the process graph {path}must have exactly one result node, found {len(results)}"
        )
    for node_id, node in graph.items():
        if not isinstance(node, Mapping):
            continue
        arguments = node.get("arguments") or {}
        if not isinstance(arguments, Mapping):
            raise ProcessGraphInvalid(f"node '{path}{node_id}': arguments must be an object")
        for target in _references(arguments):
            if target not in graph:
                raise ProcessGraphInvalid(
                    f"node '{path}{node_id}' refers to node '{target}', which does not exist"
                )
        for value in arguments.values():
            if isinstance(value, Mapping) and isinstance(value.get("process_graph"), Mapping):
                _check_level(value["process_graph"], f"{path}{node_id}/")


def inspect_graph(
    graph: Mapping[str, Any],
    *,
    supported: set[str],
    required: Mapping[str, set[str]] | None = None,
) -> GraphFacts:
    """Check ``graph``; ``required`` maps process ids to their required parameters."""
    if not isinstance(graph, Mapping) or not graph:
        raise ProcessGraphInvalid("the process graph is empty or not an object of nodes")
    for node_id, node in graph.items():
        if not isinstance(node, Mapping) or "process_id" not in node:
            raise ProcessGraphInvalid(
                f"process graph node '{node_id}' is not an object with a 'process_id'"
            )
    _check_level(graph, "")
    buffer = 0
    cloud: float | None = None
    for node_id, node in _nodes(graph):
        pid = node["process_id"]
        if pid not in supported:
            raise ProcessUnsupported(
                f"process '{pid}' is not supported by the local backend", node=node_id
            )
        args = node.get("arguments") or {}
        missing = sorted((required or {}).get(pid, set()) - set(args))
        if missing:
            raise ProcessParameterInvalid(
                f"process '{pid}' is missing its required argument(s) {', '.join(missing)}",
                node=node_id,
            )
        if pid == "load_collection":
            cid = args.get("id")
            if cid != COLLECTION_ID:
                raise CollectionNotFound(
                    f"collection '{cid}' does not exist here; the only collection is "
                    f"{COLLECTION_ID}",
                    node=node_id,
                )
            found = _cloud_filter(node_id, args.get("properties"))
            if cloud is not None and found != cloud:
                raise ProcessParameterInvalid(
                    "several load_collection nodes with different cloud filters are not supported",
                    node=node_id,
                )
            cloud = found
        if pid == "apply_kernel":
            for name in ("border", "replace_invalid"):
                if args.get(name, 0) != 0:
                    raise ProcessParameterInvalid(
                        f"apply_kernel: {name}={args[name]!r} is not supported by the Copernicus "
                        f"backend (only {name}=0; openeo-geopyspark-driver #1235); use 0",
                        node=node_id,
                    )
            kernel = args.get("kernel")
            if isinstance(kernel, list) and kernel and isinstance(kernel[0], list):
                buffer = max(buffer, kernel_buffer((len(kernel), len(kernel[0]))))
    return GraphFacts(buffer=buffer, max_cloud_cover=cloud)
