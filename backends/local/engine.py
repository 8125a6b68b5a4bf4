"""The local backend: runs a flat openEO process graph with openeo-pg-parser-networkx
and openeo-processes-dask, on Sentinel-2 COGs described by STAC."""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hybrid.backends.base import ExecutionResult
from hybrid.backends.local.graphcheck import (
    GraphFacts,
    inspect_graph,
    process_ids,
)
from hybrid.backends.local.udf.isolated import UdfSettings
from hybrid.errors import (
    HybridError,
    NoDataAvailable,
    ProcessGraphInvalid,
    ProcessParameterInvalid,
)

if TYPE_CHECKING:
    from hybrid.backends.local.run import Run


@dataclass(frozen=True)
class LocalSettings:
    """How the local backend finds data and computes."""

    #: static catalog path, STAC API URL or provider name; None = the embedded sample
    stac: str | None = None
    #: None = dask's threaded scheduler; "synchronous"; or a dask.distributed address
    scheduler: str | None = None
    #: start a LocalCluster with this many workers (overrides ``scheduler``)
    workers: int | None = None
    #: memory limit of each LocalCluster worker ("2GiB"; dask spills to disk at 60 %,
    #: pauses at 80 %, restarts the worker at 95 %); None = dask's share of the RAM
    memory_limit: str | None = None
    #: show progress bars on stderr
    progress: bool = False
    #: seconds a dask.distributed run waits for a worker before it gives up
    worker_timeout: float = 60.0
    #: limits of UDF workers and the folders they must not read
    udf: UdfSettings = field(default_factory=UdfSettings)


class LocalBackend:
    """Executes graphs in this process (see :mod:`hybrid.backends.base`)."""

    name = "local"

    def __init__(self, settings: LocalSettings | None = None) -> None:
        self.settings = settings or LocalSettings()

    def availability(self) -> str | None:
        return None

    def process_specs(self) -> list[dict[str, Any]]:
        """openEO descriptions of every process this backend runs (GET /processes)."""
        from hybrid.backends.local.process_descriptions import described
        from hybrid.backends.local.registry import base_registry

        store = base_registry().store["predefined"]
        return [described(store[pid].spec) for pid in sorted(store)]

    def validate(self, graph: Mapping[str, Any], *, job: bool = False) -> GraphFacts:
        """Check a flat graph without running it; raise a HybridError if invalid.

        ``job=True`` (a batch job being created): loads of unknown collections are left
        to the run, which fails the job with
        ``CollectionNotFound``, as on Copernicus (see :mod:`~hybrid.backends.local.graphcheck`),
        and so are load_url's URLs, read when the job runs
        (:func:`~hybrid.backends.local.processes.url_load.unread`).
        """
        from hybrid.backends.local.processes.url_load import unread
        from hybrid.backends.local.registry import covering, required_parameters
        from hybrid.backends.local.udf.callbacks import mark_udf_callbacks

        _check_shape(graph)
        registry = covering(process_ids(graph))
        with unread() if job else contextlib.nullcontext():
            facts = inspect_graph(
                graph,
                supported=set(registry.store["predefined"]),
                required=required_parameters(registry),
                known_collections=not job,
            )
        mark_udf_callbacks(graph)  # run_udf placement and runtime
        return facts

    def udf_runtimes(self) -> dict[str, Any]:
        """The UDF runtimes offered (GET /udf_runtimes)."""
        from hybrid.backends.local.udf.runtimes import udf_runtimes

        return udf_runtimes()

    def execute(self, graph: Mapping[str, Any], *, out_dir: Path) -> ExecutionResult:
        from hybrid.backends.local.processes.url_load import read_once

        with read_once():  # load_url: its check and its run read the URL once
            return self._execute(graph, out_dir=out_dir)

    def _execute(self, graph: Mapping[str, Any], *, out_dir: Path) -> ExecutionResult:
        _strict_nested_references()

        from hybrid.backends.local.callback_support import warn_outside_builder
        from hybrid.backends.local.copernicus_registry import (
            warn_not_on_copernicus,
            without_unread_arguments,
        )
        from hybrid.backends.local.failures import name_node
        from hybrid.backends.local.if_branches import chosen_branches
        from hybrid.backends.local.inline_graphs import inline_element_graphs
        from hybrid.backends.local.load_size import check_load_sizes
        from hybrid.backends.local.registry import covering
        from hybrid.backends.local.run import Run

        _check_shape(graph)  # the branches of `if` are read before the graph's check
        graph = inline_element_graphs(chosen_branches(graph))
        graph = without_unread_arguments(graph, _parameter_names(covering(process_ids(graph))))
        facts = self.validate(graph)
        check_load_sizes(facts.loads)  # Copernicus's, in the kind of request run
        warn_outside_builder(graph)
        warn_not_on_copernicus(graph)
        started = time.monotonic()
        run = Run(settings=self.settings, facts=facts, out_dir=Path(out_dir))
        call = _callable(graph, facts, run, self.settings)
        try:
            with _task_rechunks():
                call()
        except HybridError as exc:
            name_node(exc, graph)
            raise
        except Exception as exc:
            error = _as_hybrid_error(exc)
            if error is None:
                raise
            raise error from exc
        _check_written(run)
        provenance = dict(run.provenance)
        provenance["seconds"] = round(time.monotonic() - started, 3)
        return ExecutionResult(files=tuple(run.files), provenance=provenance, assets=run.assets)


def _callable(
    graph: Mapping[str, Any], facts: GraphFacts, run: Run, settings: LocalSettings
) -> Any:
    """The run's graph parsed into a callable over the engine's registry, with ``run``'s
    loads and writers and the UDF processes in it."""
    from hybrid.backends.local.graph_parsing import parse_graph
    from hybrid.backends.local.registry import registry_for_run
    from hybrid.backends.local.udf.callbacks import mark_udf_callbacks
    from hybrid.geometries import crs_members_as_text

    implementations = {
        "load_collection": run.load_collection,
        "load_stac": run.load_stac,
        "save_result": run.save_result,
        "discard_result": run.discard_result,
        "save_ml_model": run.save_ml_model,
        **_udf_processes(settings.udf),
    }
    registry = registry_for_run(
        implementations,
        collect=COLLECT,
        process_ids=facts.process_ids - implementations.keys(),
    )
    runnable = collect_end_nodes(_run_copy(graph, facts, run))
    try:
        marked = mark_udf_callbacks(runnable)
        pg = parse_graph(crs_members_as_text(marked))
        return pg.to_callable(process_registry=registry)
    except (KeyError, ValueError, TypeError) as exc:
        raise ProcessGraphInvalid(f"invalid process graph: {exc}") from exc


def _check_written(run: Run) -> None:
    """A run that saved nothing: one clear reason."""
    if not run.files and run.saves:
        raise NoDataAvailable(
            "save_result wrote no file: the result has no dates left (a GTiff is one "
            "file per date; check the filter_temporal or temporal_extent)"
        )
    if not run.files and not run.discards:
        raise ProcessGraphInvalid("the process graph has no save_result: nothing was written")


def _check_shape(graph: Mapping[str, Any]) -> None:
    """A graph (or callback) whose from_node references loop or are malformed, or one beyond the
    emulator's limits (:data:`hybrid.graph_structure.MAX_NODES` nodes,
    :data:`~hybrid.graph_structure.MAX_CALLBACK_DEPTH` levels of callbacks), is refused
    before the parser walks it (openeo-pg-parser-networkx raises a bare Exception for a
    loop, and recurses through the graph)."""
    from hybrid.graph_structure import reference_message, shape_problem
    from hybrid.limits import MAX_CALLBACK_DEPTH, MAX_NODES

    # the user's nodes within the limit, and the save_result a graph without one gets
    problem = shape_problem(graph, max_nodes=MAX_NODES + 1)
    if problem is None:
        return
    if problem.kind == "reference":
        raise ProcessGraphInvalid(reference_message(problem), node=problem.nodes[0])
    if problem.kind == "cycle":
        raise ProcessGraphInvalid(
            f"invalid process graph: the nodes {', '.join(problem.nodes[:5])} form a cycle "
            "(from_node references must not loop)",
            node=problem.nodes[0],
        )
    raise ProcessGraphInvalid(
        f"the process graph has more than {MAX_NODES} nodes or {MAX_CALLBACK_DEPTH} "
        "levels of callbacks, the most this backend runs: split it into several runs"
    )


def _run_copy(graph: Mapping[str, Any], facts: GraphFacts, run: Run) -> dict[str, Any]:
    """The run's own copy of ``graph``, with what the processes learn from the whole
    graph marked on their arguments: the loads' extents, the filter_labels and
    resample_spatial nodes Copernicus does in the load (and the loads read filtered or
    resampled), cell types (load_stac's from its files), the reducers of
    aggregate_spatial, the masks applied in the load, the cube each aggregate_spatial
    reads its tiles from."""
    from hybrid.backends.local import data_masks, label_pushdown, resample_pushdown
    from hybrid.backends.local.cell_types import with_cell_types
    from hybrid.backends.local.load_arguments import with_extents
    from hybrid.backends.local.spatial_reducers import mark_spatial_reducers
    from hybrid.backends.local.stac_load import mark_cell_types
    from hybrid.backends.local.tile_sources import mark_tile_sources

    pushed = label_pushdown.push_down(with_extents(graph, facts.loads))
    # the load_stac nodes' cell types, from their files, the items searched for the run
    mark_cell_types(pushed, facts.stac_conditions, run.stac_searches)
    typed = with_cell_types(resample_pushdown.push_down(pushed))
    mark_spatial_reducers(typed)
    data_masks.mark(typed, data_masks.masks_in_load(graph))
    mark_tile_sources(typed)  # after the masks: one applied in the load is a source
    return typed


def _task_rechunks() -> Any:
    """dask rechunks the graph builds as tasks: the engine picks its scheduler itself
    (threads, or a cluster it connects to when computing), so a rechunk must not be
    planned as a p2p shuffle for a client that happens to be active (which needs that
    client's workers); choosing would also import distributed to look for one (0.4 s of
    a ``hybrid run``)."""
    import dask

    return dask.config.set({"array.rechunk.method": "tasks"})


def _strict_nested_references() -> None:
    """References inside lists and objects parsed as strictly as the rest of the graph.

    openeo-pg-parser-networkx validates the whole graph with ``strict=True`` but a
    ``{"from_node": ...}`` inside a list or object (``array_create([...])``) without it
    (utils.py ``parse_nested_parameter``); its left-to-right argument union then turns
    every text argument of the referenced node and its ancestors that reads as a
    boolean or number into one: ``reduce_dimension(dimension="t")`` gets ``True``.
    """
    import pydantic
    from openeo_pg_parser_networkx import graph
    from openeo_pg_parser_networkx.pg_schema import ParameterReference, ResultReference

    def parse_nested_parameter(parameter: Any) -> Any:
        for model in (ResultReference, ParameterReference):
            try:
                return model.model_validate(parameter, strict=True)
            except (pydantic.ValidationError, TypeError):
                pass
        return parameter

    graph.parse_nested_parameter = parse_nested_parameter


#: the process id of the node that gathers every end node of a graph
COLLECT = "_hybrid_collect"


def end_nodes(graph: Mapping[str, Any]) -> list[str]:
    """Top-level nodes no other node takes input from, sorted (Copernicus evaluates all of
    them, not only the result node: openeo_driver/processgraph/evaluator.py:56-92)."""
    from hybrid.graph_structure import from_nodes

    used = {ref for node in graph.values() for ref in from_nodes(node.get("arguments") or {})}
    return sorted(set(graph) - used)


def collect_end_nodes(graph: Mapping[str, Any]) -> dict[str, Any]:
    """``graph`` with one new result node that takes every end node as input, so that
    every save_result runs (the parser only walks up from the result node)."""
    ends = end_nodes(graph)
    if len(ends) <= 1:
        return dict(graph)
    out = {nid: {**node, "result": False} for nid, node in graph.items()}
    out[f"{COLLECT}_node"] = {
        "process_id": COLLECT,
        "arguments": {"data": [{"from_node": nid} for nid in ends]},
        "result": True,
    }
    return out


def _udf_processes(settings: UdfSettings) -> dict[str, Any]:
    """The processes that may run a UDF, bound to this backend's UDF limits."""

    from hybrid.backends.local.registry import overrides

    table = overrides()
    return {
        pid: functools.partial(table[pid], udf_settings=settings)
        for pid in (
            "apply",
            "apply_dimension",
            "reduce_dimension",
            "apply_neighborhood",
            "apply_polygon",
            "run_udf",
        )
    }


def _as_hybrid_error(exc: Exception) -> HybridError | None:
    """Errors of openeo-processes-dask and the parser, as one-line HybridErrors."""
    module = type(exc).__module__
    if module.startswith(("openeo_processes_dask", "openeo_pg_parser_networkx")):
        return ProcessParameterInvalid(f"{type(exc).__name__}: {exc}")
    if module.startswith("rasterio"):
        from hybrid.errors import DataSourceError
        from hybrid.stac.access import gdal_detail

        return DataSourceError(
            f"cannot read a Sentinel-2 COG ({gdal_detail(exc)}): the file is damaged or "
            "incomplete, or the server that serves it failed (remote reads are retried "
            "a few times): re-download it (hybrid cache), try again later, or remove its "
            "item from the catalog"
        )
    return None


#: process parameter names per registry, by ``id`` with a weak reference to the registry
#: it was computed for: an id is reused once its object is gone (ProcessRegistry is a
#: Mapping, unhashable, so no WeakKeyDictionary); the entry leaves with its registry
_PARAMETER_NAMES: dict[int, tuple[Any, dict[str, frozenset[str]]]] = {}


def _parameter_names(registry: Any) -> dict[str, frozenset[str]]:
    """The arguments each predefined process of ``registry`` takes: the parameters of its
    description as served (``GET /processes``) and those Copernicus reads beyond it
    (:data:`~hybrid.backends.local.copernicus_registry.READ_BEYOND_DESCRIPTION`), not
    the keywords of its Python implementation, whichever they are (any keyword, or the
    run's own load_collection and save_result); none listed for a process without a
    description's parameters. The engine's own marker
    :data:`~hybrid.backends.local.load_paths.IN_LOAD` stays where the implementation
    takes it: the UDP expansion sets it on masks before the engine runs
    (:func:`hybrid.backends.local.data_masks.decide`)."""
    import weakref

    from hybrid.backends.local.copernicus_registry import READ_BEYOND_DESCRIPTION
    from hybrid.backends.local.load_paths import IN_LOAD
    from hybrid.backends.local.process_descriptions import described

    held = _PARAMETER_NAMES.get(id(registry))
    if held is not None and held[0]() is registry:
        return held[1]
    store = registry.store["predefined"]
    names: dict[str, frozenset[str]] = {}
    for pid in store:
        spec = store[pid].spec or {}
        if "parameters" not in spec:
            continue
        declared = {p["name"] for p in described(spec)["parameters"]}
        marker = {IN_LOAD} & _keywords(store[pid].implementation)
        names[pid] = frozenset(declared | marker | READ_BEYOND_DESCRIPTION.get(pid, frozenset()))
    _PARAMETER_NAMES[id(registry)] = (weakref.ref(registry), names)
    weakref.finalize(registry, _PARAMETER_NAMES.pop, id(registry), None)
    return names


def _keywords(implementation: Any) -> set[str]:
    """The named keywords of ``implementation`` (none without a signature: the run's own
    processes, bound when it runs)."""
    import inspect

    try:
        return set(inspect.signature(implementation).parameters)
    except (TypeError, ValueError):
        return set()
