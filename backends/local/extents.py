"""What each load_collection (and load_stac) must load, inferred from the whole graph
before anything runs.

Copernicus does a dry run of every graph first (openeo-python-driver
``openeo_driver/dry_run.py``): each ``load_collection`` starts a trace, every cube
process appends to it, and per trace end ("leaf") the operation CLOSEST TO THE SOURCE
of each kind becomes a constraint of the load (``get_source_constraints``,
dry_run.py:509-551, rules at dry_run.py:125-172):

- ``temporal_extent``: load_collection's own ``temporal_extent``, else the first
  ``filter_temporal`` (dry_run.py:398-399, 615-616);
- ``spatial_extent``: load_collection's own ``spatial_extent``, else the first
  ``filter_bbox`` (dry_run.py:400-401, 618-623); only when there is none, a "weak"
  extent: the bbox of the geometries of the first ``filter_spatial``,
  ``aggregate_spatial``, ``apply_polygon`` or ``mask_polygon`` (the latter only with
  ``inside=false`` and no ``replacement``; dry_run.py:545-547, 625-634, 668-697;
  apply_polygon through ``chunk_polygon``, dry_run.py:834-852);
- ``bands``: load_collection's own ``bands``, else the first ``filter_bands``, but not
  past a "blocker" such as ``reduce_dimension`` or ``merge_cubes`` (dry_run.py:129-142);
- ``pixel_buffer``: the first of ``apply_kernel`` (kernel size / 2), ``apply_neighborhood``
  (its x/y ``overlap`` in px) and ``to_scl_dilation_mask`` (kernel2_size / 2), rounded
  up, the largest over the load's paths (:mod:`.load_buffers`). The load reads that many
  pixels more around its extent (openeo-geotrellis-extensions FileLayerProvider.scala
  L1010-1016) and save_result crops back to the requested extent (openeo-geopyspark-driver
  geopysparkdatacube.py L2093-2106), so kernels see the real neighbours at the edges.

The load's own arguments always win (``load_params.update(arguments)``,
processgraph/process_implementations/io.py:139-140). The geometries of the first
``aggregate_spatial`` (else ``filter_spatial``) go to the load too: :attr:`LoadExtent.area`
(:mod:`hybrid.backends.local.load_arguments`). An open temporal bound becomes
2000-01-01 or now (openeo-geopyspark-driver ``openeogeotrellis/utils.py:139-144``).
A load no spatial constraint reaches is refused: Copernicus refuses it in batch jobs
with ``MissingSpatialFilter`` (``openeogeotrellis/layercatalog.py:146-151``,
``require_bounds`` set in ``deploy/batch_job.py:339``); here it is refused before any
data is read, in batch and synchronous runs alike.

Where a load feeds several trace ends with different constraints, Copernicus evaluates
the load once per consumer and hands out the constraints in dry-run order
(load_params.py:215-216, node caching off for load_collection in
processgraph/evaluator.py:173-176); this engine loads the UNION instead (the envelope of
the extents, the hull of the periods, all named bands), a superset from which every
branch's own filters then select.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from hybrid.backends.local.extent_literals import (
    UNREAD,
    geometries_bbox,
    geometries_rough_area,
    inline_geojson,
    require_load_polygons,
    spatial_bbox,
    temporal_interval,
)
from hybrid.backends.local.load_buffers import (
    after_resample,
    kernel_literal,
    load_buffer,
    scaled_buffer,
    sets_pixel_buffer,
)
from hybrid.backends.local.size_hints import SizeHint, resample_hint, size_hint
from hybrid.collection import pixel_step
from hybrid.errors import ProcessParameterInvalid
from hybrid.graph_structure import from_nodes
from hybrid.grid import BBox

#: processes past which a filter_bands is not pushed into the load (dry_run.py:132-141)
BAND_BLOCKERS = frozenset(
    {
        "sar_backscatter", "atmospheric_correction", "mask_scl_dilation", "resolution_merge",
        "custom_cloud_mask", "apply_neighborhood", "reduce_dimension", "merge_cubes",
    }
)  # fmt: skip
#: arguments through which no cube flows on to the process (dry_run.py: the target of
#: resample_cube_spatial and the geometries of the vector processes are not traced)
_NOT_TRACED = frozenset(
    {
        ("resample_cube_spatial", "target"),
        ("aggregate_spatial", "geometries"),
        ("filter_spatial", "geometries"),
        ("mask_polygon", "mask"),
        ("apply_polygon", "geometries"),
        ("apply_polygon", "polygons"),
    }
)
#: process -> the argument whose geometries' bbox is a weak spatial extent
_WEAK = {
    "filter_spatial": "geometries",
    "aggregate_spatial": "geometries",
    "mask_polygon": "mask",
    "apply_polygon": "geometries",
}
#: the processes whose geometries' area a load reads (:attr:`LoadExtent.area`)
_READ_AREA = frozenset({"aggregate_spatial", "filter_spatial"})
#: the processes that bound the area of a load, for messages
SPATIAL_PROCESSES = "filter_bbox, filter_spatial, aggregate_spatial, apply_polygon or mask_polygon"
#: an extent given by a parameter reference: bounded, but its value is not known here
UNKNOWN = BBox(-180.0, -90.0, 180.0, 90.0)


class UnboundedLoad(ProcessParameterInvalid):
    """A load_collection nothing bounds: Copernicus's ``MissingSpatialFilter`` (layercatalog.py
    L146-151 under ``require_bounds``: views.py L718, deploy/batch_job.py L339)."""

    code = "MissingSpatialFilter"


@dataclass(frozen=True)
class LoadExtent:
    """What one load_collection node loads."""

    node: str
    #: None when nothing bounds it
    spatial: BBox | None
    #: where the spatial extent came from ("load_collection" or "<process> '<node>'")
    spatial_from: str | None
    #: [start, end) with open bounds as None; None when nothing bounds it
    temporal: tuple[str | None, str | None] | None
    #: None: all bands
    bands: tuple[str, ...] | None
    #: pixels to load around the extent for a following kernel; ``wide``: in the pixels
    #: of a resample handed to the load (load_buffers.py), what this load reads
    buffer: int = 0
    wide: int = 0
    #: the loading process: load_collection or load_stac
    process: str = "load_collection"
    #: the bbox of the geometries whose whole area Copernicus reads for a following
    #: aggregate_spatial or filter_spatial (None: none follows)
    area: BBox | None = None
    #: the box the items are searched in when every use of the load ends in such
    #: geometries: Copernicus reads the polygons' extent, not the extent
    #: (FileLayerProvider.scala L1018-1027 at 2a25a26e: the search box of an OpenSearch
    #: collection; on the load_stac path all items found are kept, FixedFeaturesOpenSearch
    #: Client.getProducts, but only keys the polygons touch are read, so an item missing
    #: them gives no tile and no date); None: the extent's
    search: BBox | None = None
    #: per trace end, what the size check reads
    sizes: frozenset[SizeHint] = frozenset()


#: the processes whose extents the dry run infers (dry_run.py:459-481 traces load_stac
#: as load_collection)
LOADS = ("load_collection", "load_stac")


@dataclass(frozen=True)
class _Trace:
    """The constraints met on one path from a load to a trace end (first of each wins)."""

    temporal: tuple[str | None, str | None] | None = None
    spatial: tuple[BBox, str] | None = None
    weak: tuple[BBox, str] | None = None
    #: the geometries' bbox of the first aggregate_spatial and of the first filter_spatial
    aggregated: BBox | None = None
    filtered: BBox | None = None
    bands: tuple[str, ...] | None = None
    bands_blocked: bool = False
    buffer: int = 0
    wide: int = 0
    #: a process that sets the dry run's pixel_buffer was met (later ones do not count)
    buffered: bool = False
    #: pixel sizes (m): load_collection's, a resample's handed to it (load_buffers.py)
    native: float | None = None
    step: float | None = None
    resample_seen: bool = False
    #: what the size check reads: the resample handed to the load and the rough areas of
    #: the first aggregate_spatial's and filter_spatial's geometries (-1: not known here)
    resample: tuple[Any, ...] | None = None
    aggregated_area: float | None = None
    filtered_area: float | None = None


def infer_loads(graph: Mapping[str, Any]) -> dict[str, LoadExtent]:
    """node id -> what it loads, for every top-level load_collection and load_stac of a
    flat graph."""
    consumers = _consumers(graph)
    loads = {}
    for node_id, node in graph.items():
        process = node.get("process_id")
        if process not in LOADS:
            continue
        args = node.get("arguments") or {}
        start = _own(node_id, args)
        traces = set(_walk(graph, consumers, node_id, start))
        loads[node_id] = replace(_merge(node_id, traces), process=str(process))
    return loads


def require_bounded(loads: Mapping[str, LoadExtent]) -> None:
    """Refuse a load_collection that nothing bounds, naming the node and what to add
    (a load_stac without extent loads its items' extent: load_stac.py:569)."""
    for load in loads.values():
        if load.spatial is None and load.process == "load_collection":
            raise UnboundedLoad(
                f"load_collection has no spatial extent and nothing after it bounds one: give "
                f"it a spatial_extent (a bbox or a GeoJSON polygon) or add {SPATIAL_PROCESSES} "
                "after it (Copernicus refuses such a job with MissingSpatialFilter)",
                node=load.node,
            )


def _own(node_id: str, args: Mapping[str, Any]) -> _Trace:
    """The constraints load_collection's own arguments set."""
    trace = _Trace(native=None if "url" in args else pixel_step())  # not load_stac
    temporal = args.get("temporal_extent")
    if temporal:  # as Copernicus, an empty one is none (python-driver io.py L106)
        trace = replace(trace, temporal=temporal_interval(node_id, "temporal_extent", temporal))
    spatial = args.get("spatial_extent")
    if spatial is not None:
        process = "load_stac" if "url" in args else "load_collection"
        require_load_polygons(node_id, process, spatial)
        bbox = spatial_bbox(node_id, "spatial_extent", spatial) or UNKNOWN
        trace = replace(trace, spatial=(bbox, "load_collection"))
    bands = args.get("bands")
    if isinstance(bands, list) and bands:
        trace = replace(trace, bands=tuple(str(b) for b in bands))
    return trace


def _consumers(graph: Mapping[str, Any]) -> dict[str, list[str]]:
    """node id -> the top-level nodes a cube flows on to (in graph order)."""
    out: dict[str, list[str]] = {nid: [] for nid in graph}
    for node_id, node in graph.items():
        for source in cube_sources(node):
            if source in out and node_id not in out[source]:
                out[source].append(node_id)
    return out


def cube_sources(node: Mapping[str, Any]) -> Iterator[str]:
    """The nodes whose cubes flow into ``node``, as the dry run traces them (not the
    target of resample_cube_spatial nor the geometries of the vector processes)."""
    pid = node.get("process_id")
    for name, value in (node.get("arguments") or {}).items():
        if (pid, name) not in _NOT_TRACED:
            yield from from_nodes(value)


def _walk(
    graph: Mapping[str, Any], consumers: Mapping[str, list[str]], node_id: str, trace: _Trace
) -> Iterator[_Trace]:
    """Every distinct trace state at the ends of the paths leaving ``node_id``."""
    memo: dict[tuple[str, _Trace], frozenset[_Trace]] = {}

    def ends(nid: str, state: _Trace) -> frozenset[_Trace]:
        key = (nid, state)
        if key not in memo:
            memo[key] = frozenset()  # cycles are refused elsewhere; stop here
            nexts = consumers.get(nid, [])
            if not nexts:
                memo[key] = frozenset({state})
            else:
                found: set[_Trace] = set()
                for nxt in nexts:
                    found |= ends(nxt, _step(graph, nxt, state))
                memo[key] = frozenset(found)
        return memo[key]

    yield from ends(node_id, trace)


def _step(graph: Mapping[str, Any], node_id: str, trace: _Trace) -> _Trace:
    """The trace after the cube passed through ``node``."""
    node = graph[node_id]
    pid = node.get("process_id")
    args = node.get("arguments") or {}
    if not trace.resample_seen and pid in ("resample_spatial", "resample_cube_spatial"):
        trace = replace(trace, resample=resample_hint(pid, args))
    seen, step = after_resample(pid, args, trace.resample_seen, trace.step)
    trace = replace(trace, resample_seen=seen, step=step)
    if pid == "filter_temporal" and trace.temporal is None and args.get("extent") is not None:
        return replace(trace, temporal=temporal_interval(node_id, "extent", args["extent"]))
    if pid == "filter_bbox" and trace.spatial is None and args.get("extent") is not None:
        bbox = spatial_bbox(node_id, "extent", args["extent"]) or UNKNOWN
        return replace(trace, spatial=(bbox, f"filter_bbox '{node_id}'"))
    if pid in _WEAK:
        return _with_geometries(graph, node_id, trace)
    if pid == "filter_bands" and trace.bands is None and not trace.bands_blocked:
        bands = args.get("bands")
        if isinstance(bands, list) and bands:
            return replace(trace, bands=tuple(str(b) for b in bands))
    if not trace.buffered and sets_pixel_buffer(pid, args):  # the first on the path
        pixels = load_buffer(pid, kernel_literal(graph, args))
        wide = scaled_buffer(pixels, trace.step, trace.native)
        trace = replace(trace, buffer=pixels, wide=wide, buffered=True)
    if pid in BAND_BLOCKERS:
        return replace(trace, bands_blocked=True)
    return trace


def _with_geometries(graph: Mapping[str, Any], node_id: str, trace: _Trace) -> _Trace:
    """The trace after a process with geometries: their bbox is the weak extent of the
    first such process, and the area a load reads for the first aggregate_spatial and
    the first filter_spatial (geometries not known here, a parameter's, are no area)."""
    pid = graph[node_id].get("process_id")
    args = graph[node_id].get("arguments") or {}
    key = _WEAK[pid]
    if pid == "apply_polygon" and args.get(key) is None:
        key = "polygons"  # the deprecated name
    if pid == "mask_polygon" and (args.get("inside") or args.get("replacement") is not None):
        return trace
    aggregate = pid == "aggregate_spatial"
    area_known = trace.aggregated if aggregate else trace.filtered
    wants_area = pid in _READ_AREA and area_known is None
    if trace.weak is not None and not wants_area:
        return trace
    geometries = inline_geojson(graph, args.get(key))
    box = UNKNOWN if geometries is UNREAD else geometries_bbox(geometries, node_id, key)
    if box is None:
        return trace
    if trace.weak is None:
        trace = replace(trace, weak=(box, f"{pid} '{node_id}'"))
    if wants_area:
        area = -1.0 if box is UNKNOWN else geometries_rough_area(geometries, key)
        if aggregate:
            trace = replace(trace, aggregated_area=area)
        else:
            trace = replace(trace, filtered_area=area)
    if wants_area and box is not UNKNOWN:
        trace = replace(trace, aggregated=box) if aggregate else replace(trace, filtered=box)
    return trace


def _merge(node_id: str, traces: set[_Trace]) -> LoadExtent:
    """One load's extent from the states at its trace ends: their union."""
    boxes: list[tuple[BBox, str]] = []
    periods: list[tuple[str | None, str | None]] = []
    bands: set[str] | None = set()
    order: list[str] = []
    areas: list[tuple[BBox, str]] = []
    buffer = wide = 0
    unbounded_time = False
    for trace in sorted(traces, key=repr):
        chosen = trace.spatial or trace.weak
        if chosen is not None:
            boxes.append(chosen)
        area = trace.aggregated or trace.filtered
        if area is not None:
            areas.append((area, "geometries"))
        if trace.temporal is None:
            unbounded_time = True
        else:
            periods.append(trace.temporal)
        if trace.bands is None:
            bands = None
        elif bands is not None:
            for b in trace.bands:
                if b not in bands:
                    bands.add(b)
                    order.append(b)
        buffer, wide = max(buffer, trace.buffer), max(wide, trace.wide)
    missing = len(boxes) < len(traces)
    spatial, source = (None, None) if missing or not boxes else union_boxes(boxes)
    temporal = None if unbounded_time or not periods else _hull(periods)
    read_area = union_boxes(areas)[0] if areas else None
    return LoadExtent(
        node=node_id,
        spatial=spatial,
        spatial_from=source,
        temporal=temporal,
        bands=tuple(order) if bands else None,
        buffer=buffer,
        wide=wide,
        area=read_area,
        search=read_area if len(areas) == len(traces) else None,  # every use ends in geometries
        sizes=frozenset(size_hint(trace) for trace in traces),
    )


def union_boxes(boxes: list[tuple[BBox, str]]) -> tuple[BBox | None, str]:
    """The envelope of ``boxes`` (in their CRS when they share one, else in lon/lat) and
    their sources' names; UNKNOWN when one is."""
    if any(b is UNKNOWN for b, _ in boxes):
        return UNKNOWN, boxes[0][1]
    from hybrid.grid import bounds_union, lonlat_bbox

    crs = {b.crs for b, _ in boxes}
    parts = [b for b, _ in boxes] if len(crs) == 1 else [lonlat_bbox(b) for b, _ in boxes]
    sources = sorted({s for _, s in boxes})
    union = BBox(*bounds_union((p.west, p.south, p.east, p.north) for p in parts), crs=parts[0].crs)
    return union, " + ".join(sources)


def _hull(periods: list[tuple[str | None, str | None]]) -> tuple[str | None, str | None]:
    starts = [s for s, _ in periods]
    ends = [e for _, e in periods]
    start = None if None in starts else min(s for s in starts if s is not None)
    end = None if None in ends else max(e for e in ends if e is not None)
    return start, end
