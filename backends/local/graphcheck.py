"""Static checks of a flat process graph, and the facts the run needs from it.

Everything a graph can be refused for without data is checked here, so that the
emulator answers POST /validation, POST /result and POST /jobs with the error at once
instead of after minutes of work: unknown processes and collections, missing
arguments, unsuitable output formats, loads nothing bounds (hybrid.backends.local.extents).

One exception, as on Copernicus: a batch job that loads an unknown collection is created
(``known_collections=False``) and fails when it runs, with ``CollectionNotFound`` in its
status and log. Copernicus's POST /jobs stores any process graph unchecked
(openeo-python-driver ``openeo_driver/views.py`` L909-951 ``create_job``;
openeo-geopyspark-driver ``openeogeotrellis/backend.py`` L1566-1598
``GpsBatchJobs.create_job``); its /result evaluates the graph and /validation dry-runs it
(``processgraph/registry.py`` L264-296, errors as a list), and both meet load_collection's
catalog lookup, which raises ``CollectionNotFound`` (``process_implementations/io.py``
L122, ``backend.py`` L336-344). The other refusals at creation are the
emulator's own: Copernicus creates those jobs too and fails them when they run (unknown
process, unsuitable format, MissingSpatialFilter: geopyspark-driver
``layercatalog.py`` L147-151). A job without save_result gets one from the server, as
Copernicus writes GTiff or JSON then (``hybrid.server.routes.batch_jobs``).

Like the Copernicus dry run, the load learns from the whole graph: its extents, the
pixel buffer a later apply_kernel needs, and the cloud-cover property filter.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from hybrid.backends.local.callback_support import COMPILED_CALLBACKS, REFUSED_IN_CALLBACKS
from hybrid.backends.local.extents import LoadExtent, infer_loads, require_bounded
from hybrid.backends.local.property_filters import (
    property_conditions,
    stac_property_conditions,
)
from hybrid.backends.local.resample_pushdown import cube_resample_margin, resample_margin
from hybrid.backends.local.scl_mask_loads import load_masks
from hybrid.backends.local.spatial_reducers import check_reducer
from hybrid.backends.local.temporal_literals import check_interval
from hybrid.collection import check_bands
from hybrid.errors import (
    CollectionNotFound,
    FormatUnsuitable,
    ProcessGraphInvalid,
    ProcessParameterInvalid,
    ProcessUnsupported,
)
from hybrid.graph_structure import from_nodes
from hybrid.params import COLLECTION_ID
from hybrid.stac.query import Condition

#: the overlap resolvers Copernicus merges tiles with (OpenEOProcesses.scala L103-115)
_RESOLVERS = frozenset(
    {"or", "and", "divide", "max", "min", "multiply", "product", "add", "sum", "subtract", "xor"}
)


@dataclass(frozen=True)
class GraphFacts:
    #: pixels to load around the extent: the largest of the loads' (each the first
    #: kernel's on its paths, as Copernicus's dry run: extents.LoadExtent.buffer)
    buffer: int = 0
    #: eo:cloud_cover <= this, when that is load_collection's only property condition
    max_cloud_cover: float | None = None
    #: load_collection node id -> what it loads (inferred like the Copernicus dry run)
    loads: Mapping[str, LoadExtent] = field(default_factory=dict)
    #: every property condition of load_collection (``max_cloud_cover`` included), when
    #: all loads share them
    conditions: tuple[Condition, ...] = ()
    #: load_collection node id -> its own property conditions (each load filters its
    #: own scenes, as on Copernicus: the bands of one load, the SCL of another)
    load_conditions: Mapping[str, tuple[Condition, ...]] = field(default_factory=dict)
    #: load_stac node id -> its property conditions (a STAC API's items only)
    stac_conditions: Mapping[str, tuple[Condition, ...]] = field(default_factory=dict)
    #: the ids of the processes the graph calls, in its callbacks too
    process_ids: frozenset[str] = frozenset()
    #: pixels read beyond ``buffer`` for a resample_spatial (this engine only: Copernicus
    #: reads whole 256-px load tiles, so a coarser pixel at the edge has real data)
    margin: int = 0
    #: load node id -> the mask_scl_dilation arguments it applies while loading
    #: (hybrid.backends.local.scl_mask_loads)
    scl_masks: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


def process_ids(graph: Mapping[str, Any]) -> set[str]:
    """The ids of the processes ``graph`` calls, in its callbacks too (an invalid graph
    gives those of its valid nodes: the checks that name the error come later)."""
    found: set[str] = set()
    try:
        for _node_id, node in _nodes(graph):
            found.add(str(node["process_id"]))
    except (ProcessGraphInvalid, AttributeError, TypeError):
        pass
    return found


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
        for target in from_nodes(arguments):
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
    known_collections: bool = True,
) -> GraphFacts:
    """Check ``graph``; ``required`` maps process ids to their required parameters.

    ``known_collections=False`` (batch-job creation) leaves loads of unknown collections
    to the run, which fails with ``CollectionNotFound``, as Copernicus does."""
    _check_nodes_are_objects(graph)
    _check_level(graph, "")
    margin = 0
    per_load: dict[str, tuple[Condition, ...]] = {}
    per_stac: dict[str, tuple[Condition, ...]] = {}
    ids: set[str] = set()
    for node_id, node in _nodes(graph):
        pid = node["process_id"]
        ids.add(str(pid))
        args = node.get("arguments") or {}
        _check_node(graph, node_id, node, supported, required)
        if pid == "load_collection" and (known_collections or args.get("id") == COLLECTION_ID):
            per_load[node_id] = _load_conditions(node_id, args)
            if known_collections:  # a job is created, and fails when it runs
                check_bands(args.get("bands"), node=node_id)
        if pid == "load_stac" and args.get("properties"):
            per_stac[node_id] = stac_property_conditions(node_id, args["properties"])
        margin = max(margin, _resample_margin(graph, pid, args))
    _check_outputs(graph)
    loads = infer_loads(graph)
    require_bounded(loads)
    buffer = max([0, *(load.buffer for load in loads.values())])
    shared = set(per_load.values())
    conditions = shared.pop() if len(shared) == 1 else ()
    return GraphFacts(
        buffer=buffer,
        max_cloud_cover=lone_cloud_limit(conditions),
        loads=loads,
        conditions=conditions,
        load_conditions=per_load,
        stac_conditions=per_stac,
        process_ids=frozenset(ids),
        margin=margin,
        scl_masks=load_masks(graph),
    )


def _check_node(
    graph: Mapping[str, Any],
    node_id: str,
    node: Mapping[str, Any],
    supported: set[str],
    required: Mapping[str, set[str]] | None,
) -> None:
    """The checks of one node that read no other node's facts: its process is supported
    with its required arguments, its callbacks, its interval, and what its process asks of
    its arguments (overlap resolver, reducer, kernel, format)."""
    pid = node["process_id"]
    args = node.get("arguments") or {}
    _check_supported(node_id, node, args, supported, required)
    _check_callback_process(graph, node_id, pid)
    check_interval(node_id, pid, args)
    if pid == "merge_cubes":
        _check_overlap_resolver(node_id, args.get("overlap_resolver"))
    if pid == "aggregate_spatial":
        check_reducer(node_id, args.get("reducer"))
    if pid == "apply_kernel":
        _check_kernel_edges(node_id, args)
    if pid == "save_result":
        _check_format(node_id, args.get("format"))


def _resample_margin(graph: Mapping[str, Any], pid: str, args: Mapping[str, Any]) -> int:
    """The pixels a resampling node reads beyond its output (0 for other nodes)."""
    if pid == "resample_spatial" and args.get("projection") is None:
        return resample_margin(args.get("resolution"), args.get("method"))
    if pid == "resample_cube_spatial" and args.get("method", "near") != "near":
        return cube_resample_margin(graph, args)
    return 0


def lone_cloud_limit(conditions: tuple[Condition, ...]) -> float | None:
    """x when ``eo:cloud_cover <= x`` is the only condition (it travels as max_cloud_cover)."""
    if len(conditions) != 1 or conditions[0].name != "eo:cloud_cover":
        return None
    value = conditions[0].value
    return float(value) if conditions[0].op == "<=" and isinstance(value, float) else None


def _check_nodes_are_objects(graph: Mapping[str, Any]) -> None:
    """A graph is a non-empty object of nodes, each with a process_id."""
    if not isinstance(graph, Mapping) or not graph:
        raise ProcessGraphInvalid("the process graph is empty or not an object of nodes")
    for node_id, node in graph.items():
        if not isinstance(node, Mapping) or "process_id" not in node:
            raise ProcessGraphInvalid(
                f"process graph node '{node_id}' is not an object with a 'process_id'"
            )


def _check_supported(
    node_id: str,
    node: Mapping[str, Any],
    args: Mapping[str, Any],
    supported: set[str],
    required: Mapping[str, set[str]] | None,
) -> None:
    """The process exists here and has its required arguments; a missing one in
    Copernicus's words, with the namespace it was looked for in (python-driver errors.py
    ``ProcessUnsupportedException``: a file URL or a provider's name is no namespace
    either there)."""
    pid = str(node["process_id"])
    if pid not in supported:
        namespace = node.get("namespace") or "backend"
        raise ProcessUnsupported(
            f"Process with identifier '{pid}' is not available in namespace '{namespace}'.",
            node=node_id,
        )
    missing = sorted((required or {}).get(pid, set()) - set(args))
    if missing:
        raise ProcessParameterInvalid(
            f"process '{pid}' is missing its required argument(s) {', '.join(missing)}",
            node=node_id,
        )


def _check_callback_process(graph: Mapping[str, Any], node_id: str, pid: str) -> None:
    """``sort``, ``order`` or ``rearrange`` in a callback of apply_dimension (etc.): one
    400, as Copernicus refuses it."""
    top = graph.get(node_id.split("/", 1)[0]) if "/" in node_id else None
    if pid in REFUSED_IN_CALLBACKS and isinstance(top, Mapping):
        parent = top.get("process_id")
        if parent in COMPILED_CALLBACKS:
            raise ProcessUnsupported(
                f"process '{pid}' cannot be used in the callback of {parent}: the Copernicus "
                f"backend refuses it there (Unsupported operation: {pid}); {pid} the values "
                "in a UDF (run_udf) or outside the data cube",
                node=node_id,
            )


def _check_overlap_resolver(node_id: str, resolver: Any) -> None:
    """A merge_cubes resolver is one process of those Copernicus merges tiles with
    (openeo-python-driver process_implementations/cubes.py L239-250;
    openeo-geotrellis-extensions OpenEOProcesses.scala ``tileBinaryOp`` L103-115, L982)."""
    graph = resolver.get("process_graph") if isinstance(resolver, Mapping) else None
    if not isinstance(graph, Mapping):
        return
    if len(graph) != 1:
        raise ProcessParameterInvalid(
            "merge_cubes: the overlap_resolver has "
            f"{len(graph)} processes; Copernicus only supports overlap resolvers with "
            "exactly one process (e.g. max, min, sum, subtract, or, and)",
            node=node_id,
        )
    (only,) = graph.values()
    operator = only.get("process_id") if isinstance(only, Mapping) else None
    if operator not in _RESOLVERS:
        raise ProcessParameterInvalid(
            f"merge_cubes: the operator {operator!r} is not supported when merging cubes "
            f"(as on Copernicus); use one of {', '.join(sorted(_RESOLVERS))}",
            node=node_id,
        )


def _load_conditions(node_id: str, args: Mapping[str, Any]) -> tuple[Condition, ...]:
    """A load_collection's property filters (of the one collection); each load keeps its
    own, as on Copernicus (a notebook filters the SCL load by cloud cover, not the bands)."""
    cid = args.get("id")
    if cid != COLLECTION_ID:
        raise CollectionNotFound(
            f"collection '{cid}' does not exist here; the only collection is {COLLECTION_ID}",
            node=node_id,
        )
    return property_conditions(node_id, args.get("properties"))


def _check_kernel_edges(node_id: str, args: Mapping[str, Any]) -> None:
    """Only border=0 and replace_invalid=0, as on Copernicus."""
    for name in ("border", "replace_invalid"):
        if args.get(name, 0) != 0:
            raise ProcessParameterInvalid(
                f"apply_kernel: {name}={args[name]!r} is not supported by the Copernicus "
                f"backend (only {name}=0; openeo-geopyspark-driver #1235); use 0",
                node=node_id,
            )


def _check_format(node_id: str, name: Any) -> None:
    """An output format save_result cannot write (raster or vector) is refused before
    the run."""
    if not isinstance(name, str):
        return  # a parameter reference: checked when it runs
    from hybrid.io.registry import require_format

    try:
        require_format(name)
    except FormatUnsuitable as exc:
        raise FormatUnsuitable(exc.message, node=node_id) from None


def _check_outputs(graph: Mapping[str, Any]) -> None:
    """The options of every save_result are ones its format takes. Several writing the
    same file names are not refused: Copernicus writes each result's files into the job
    folder in evaluation order, a later one replacing an earlier one's file of the same
    name (geopyspark-driver deploy/batch_job.py L438-515; the APEx worldcover_statistics
    notebook saves its UDP's CSV result again as CSV); the run warns when it happens."""
    from hybrid.io.format import filename_prefix
    from hybrid.io.registry import check_options, find_format

    for node_id in save_result_nodes(graph):
        args = graph[node_id].get("arguments") or {}
        fmt = find_format(args["format"]) if isinstance(args.get("format"), str) else None
        options = args.get("options")
        if fmt is None:
            continue
        if options is not None and not isinstance(options, Mapping):
            raise ProcessParameterInvalid(
                f"save_result: options must be an object, not {options!r}", node=node_id
            )
        try:
            check_options(fmt, dict(options or {}))
            filename_prefix(dict(options or {}))
        except ProcessParameterInvalid as exc:
            raise ProcessParameterInvalid(exc.message, node=node_id) from None


def save_result_nodes(graph: Mapping[str, Any]) -> list[str]:
    """The top-level save_result nodes of a flat graph, in graph order."""
    return [
        nid
        for nid, node in graph.items()
        if isinstance(node, Mapping) and node.get("process_id") == "save_result"
    ]
