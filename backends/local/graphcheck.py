"""Static checks of a flat process graph, and the facts the run needs from it.

Everything a graph can be refused for without data is checked here, so that the
emulator answers POST /validation, POST /result and POST /jobs with the error at once
instead of after minutes of work: unknown processes and collections, missing
arguments, unsuitable output formats, loads nothing bounds (backends.local.extents),
and, for batch jobs, a graph without save_result (:func:`check_batch_job`).

Like the Copernicus dry run, the load learns from the whole graph: its extents, the
pixel buffer a later apply_kernel needs, and the cloud-cover property filter.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from backends.local.extents import LoadExtent, infer_loads, references, require_bounded
from hybrid.errors import (
    CollectionNotFound,
    FormatUnsuitable,
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
    #: load_collection node id -> what it loads (inferred like the Copernicus dry run)
    loads: Mapping[str, LoadExtent] = field(default_factory=dict)


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
        for target in references(arguments):
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
        if pid == "save_result":
            _check_format(node_id, args.get("format"))
    _check_outputs(graph)
    loads = infer_loads(graph)
    require_bounded(loads)
    buffer = max([buffer, *(load.buffer for load in loads.values())])
    return GraphFacts(buffer=buffer, max_cloud_cover=cloud, loads=loads)


def _check_format(node_id: str, name: Any) -> None:
    """An output format save_result cannot write (raster or vector) is refused before
    the run."""
    if not isinstance(name, str):
        return  # a parameter reference: checked when it runs
    from backends.local.run import output_format

    try:
        output_format(name)
    except FormatUnsuitable as exc:
        raise FormatUnsuitable(exc.message, node=node_id) from None


def _output_key(name: str, options: Any) -> tuple[str, str] | None:
    """What a save_result writes, to tell two writers of the same files apart; None for
    an unknown format."""
    from hybrid.io.format import filename_prefix
    from hybrid.io.registry import find_format

    fmt = find_format(name)
    if fmt is None:
        return None
    if "raster" not in fmt.kinds:  # vector/value writers have fixed names
        return fmt.name, "vector"
    return fmt.name, filename_prefix(dict(options or {}))


def _check_outputs(graph: Mapping[str, Any]) -> None:
    """Several save_result nodes must not write the same file names."""
    writers: dict[tuple[str, str], str] = {}
    for node_id in save_result_nodes(graph):
        args = graph[node_id].get("arguments") or {}
        if not isinstance(args.get("format"), str):
            continue
        try:
            key = _output_key(args["format"], args.get("options"))
        except ProcessParameterInvalid as exc:
            raise ProcessParameterInvalid(exc.message, node=node_id) from None
        if key is None:
            continue
        if key in writers:
            fix = (
                "save one of them in another format"
                if key[1] == "vector"
                else "give one of them another options.filename_prefix"
            )
            raise ProcessParameterInvalid(
                f"save_result nodes '{writers[key]}' and '{node_id}' would both write the "
                f"same {args['format']} files: {fix}",
                node=node_id,
            )
        writers[key] = node_id


def save_result_nodes(graph: Mapping[str, Any]) -> list[str]:
    """The top-level save_result nodes of a flat graph, in graph order."""
    return [
        nid
        for nid, node in graph.items()
        if isinstance(node, Mapping) and node.get("process_id") == "save_result"
    ]


def check_batch_job(graph: Mapping[str, Any]) -> None:
    """What a batch job needs beyond a valid graph: at least one save_result.

    (Copernicus writes a cube without save_result as GTiff, anything else as JSON,
    openeo-geopyspark-driver ``openeogeotrellis/deploy/batch_job.py:364-379``; here the
    graph is refused when the job is created, so that nothing runs for minutes and then
    writes nothing.)
    """
    if not save_result_nodes(graph):
        raise ProcessGraphInvalid(
            "a batch job needs a save_result node: add save_result(format='GTiff' or "
            "'netCDF') at the end of the process graph (Copernicus would write GTiff)"
        )
