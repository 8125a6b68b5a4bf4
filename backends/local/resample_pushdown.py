"""A resample_spatial that Copernicus does in the load, or on the cube: the grid it
gives, and what it makes of an integer cube (whole numbers in the cube's cell type).

Copernicus's dry run hands a ``resample_spatial`` (or ``resample_cube_spatial``) to the
load it follows when no blocker lies between them (openeo-python-driver ``dry_run.py``
L155-171, the "resample" propagation rule). The load is then done at the new
resolution: its extent snapped outward to multiples of that resolution
(``processgraph/load_params.py`` ``_align_extent`` L98-107, ``round_to_resolution``;
geotrellis-extensions DatacubeSupport.scala ``getLayout`` L58-62 floors and ceils the
layout's UTM extent on the cell size), and ``resample_spatial`` itself finds nothing left
to do. Without the push-down, the cube is resampled on its load layout
(:func:`hybrid.backends.local.processes.resampling.resample_spatial`). Here the
processes on the path from the load to a pushed resample read the load resampled, and
the pushed resample nodes get :data:`IN_LOAD` (both :func:`push_down`): their grid is
that snapped extent, and a band whose files have coarser pixels than the new ones is
resampled from those pixels, as the read does.

An integer cube (the loaded int16 bands) resampled with a method other than ``near``
gets whole numbers, on both paths:

- **In the load**: the band files are read with that method (``load_params.py``
  L237-239, ``resample_method``). SENTINEL2_L2A's files are JPEG 2000, read by GDAL's
  warper (openeo-geotrellis-extensions FileLayerProvider.scala ``rasterSource``
  L1426-1437, ``GDALRasterSource`` with the ``resampleMethod``) into the files'
  unsigned integer type, which stores a value as ``floor(v + 0.5)`` (GDAL
  gdalwarpkernel.cpp ``ClampRoundAndAvoidNoData``); the BOA offset (a whole -1000) is
  added after, so the harmonised value is rounded the same way.
- **On the cube** (a blocker between): geotrellis resamples the int16 tiles
  (geopysparkdatacube.py L1586-1590 ``tile_to_layout``), whose integer results are
  ``math.round`` (bilinear and the cubic ones, locationtech/geotrellis
  BilinearResample.scala L63, CubicResample.scala L119) except ``average``, whose
  double is truncated towards zero (AverageResample.scala L40-43 ``toInt``).

The engine resamples the loaded cube with GDAL's warper too, from the files' own pixels
and with GDAL's own kernel width (:mod:`hybrid.backends.local.processes.load_warp`), so
in the files' UTM zone the result is Copernicus's read to the last digit
(``tests/server/test_server_resample_edges.py`` compares with rasterio warping an item's
file). Not emulated: a pushed resample with a ``projection`` is done where it stands,
and in another UTM zone the files' pixels are the load's nearest warp of them.

A ``resample_cube_spatial`` with a method other than ``near`` is pushed the same way, at
the target's pixel size (:func:`_push_onto_target`), into a load_collection or a
load_stac: the dry run hands its constraint to whichever load the data comes from
(``dry_run.py`` L105-115, L155-171), load_stac's parameters are extracted as
load_collection's (python-driver ``process_implementations/io.py`` L318-329,
``load_params.py`` L237-239: ``target_resolution``, ``resample_method``), and load_stac's
cell size is the target resolution (geopyspark-driver ``load_stac.py`` L671-674).

A ``resample_spatial`` is pushed into a ``load_stac`` the same way: Copernicus's load_stac
sets its cell size to the target resolution (openeo-geopyspark-driver 9baf2e10
``load_stac.py`` L671-674), so the grid is on multiples of it; its GeoTIFF files are
resampled by geotrellis (FileLayerProvider.scala L1446-1484, ``GeoTiffResampleRasterSource``
L106-126 of locationtech/geotrellis v3.7.1), whose kernels are not widened, and its
average of an integer file is truncated as on the cube (:func:`rule` keeps TRUNCATE).
Not emulated there: geotrellis reads the file's closest finer overview
(``getClosestOverview``, OverviewStrategy ``AutoHigherResolution``).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

# IN_LOAD: a pushed resample_spatial's grid is the load's at the new resolution, on
# multiples of it
from hybrid.backends.local.load_buffers import RESAMPLE_BLOCKERS
from hybrid.backends.local.load_paths import IN_LOAD, copy_after_load, inputs, upstream

#: the argument resample_spatial gets when its data is an integer cube: how the
#: resampled values are stored (:data:`ROUND` or :data:`TRUNCATE`)
INTEGER_RESAMPLING = "integer_resampling"
ROUND = "round"
TRUNCATE = "truncate"
#: GDAL's kernel radius (source pixels, or new ones when shrinking) of each method
#: whose kernel is sized by the scale (gdalwarpkernel.cpp); none for the others
KERNEL_REACH = {"bilinear": 1, "cubic": 2, "cubicspline": 2, "lanczos": 3}
#: the loads a resample_spatial or resample_cube_spatial is handed to: load_stac takes
#: the target resolution too (openeo-geopyspark-driver 9baf2e10 load_stac.py L671-674)
_LOADS = ("load_collection", "load_stac")


def rule(graph: Mapping[str, Any], node_id: str, method: str) -> str:
    """How the integer results of the resample_spatial ``node_id`` with ``method`` are
    stored (module docstring)."""
    if pushed_into_load(graph, node_id) or method != "average":
        return ROUND
    return TRUNCATE


def pushed_into_load(graph: Mapping[str, Any], node_id: str) -> bool:
    """Whether every path from ``node_id`` back to a load_collection is free of
    :data:`~hybrid.backends.local.load_buffers.RESAMPLE_BLOCKERS` (the dry run
    then resamples in the load)."""
    return bool(upstream(graph, node_id, RESAMPLE_BLOCKERS)[0])


def push_down(graph: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the flat ``graph`` with the resample_spatial nodes Copernicus does in
    the load marked :data:`IN_LOAD`, and the processes between a load_collection and
    such a resample (without ``projection``) reading the load resampled: a copy of the
    resample node right after the load (:func:`load_paths.copy_after_load`).
    Copernicus's load is resampled for that path (its dry run hands the resample to the
    load), so an ``ndvi`` between the two computes on the resampled bands. Other readers
    of the load, on paths without the resample, keep reading it as it is
    (:mod:`hybrid.backends.local.load_paths`). The resample node itself stays; on the
    cube already on its grid it changes nothing. A resample that reads the load directly
    is that read itself."""
    out = copy.deepcopy(dict(graph))
    done: set[str] = set()
    for node_id, node in graph.items():
        if not isinstance(node, Mapping) or node.get("process_id") != "resample_spatial":
            continue
        loads, path = upstream(graph, node_id, RESAMPLE_BLOCKERS, _LOADS)
        if not loads:
            continue
        out[node_id].setdefault("arguments", {})[IN_LOAD] = True
        if (node.get("arguments") or {}).get("projection") is not None:
            continue
        for load in (load for load in loads if load not in done):
            done.add(load)
            if inputs(graph, node_id) != [load]:
                copy_after_load(graph, out, load, node_id, path, "resampled")
    for node_id, node in graph.items():
        if isinstance(node, Mapping) and node.get("process_id") == "resample_cube_spatial":
            _push_onto_target(graph, out, node_id, done)
    return out


def _push_onto_target(
    graph: Mapping[str, Any], out: dict[str, Any], node_id: str, done: set[str]
) -> None:
    """A resample_cube_spatial with no blocker between a load and its data: the dry
    run's "resample" rule hands the load the target's pixel size (its metadata's step,
    ``_extract_resample_constraint`` dry_run.py L105-115) and the method
    (load_params.py L237-239), so the load reads the files resampled with that method,
    a pushed resample_spatial right after the load on the path (a 20 m band onto a 10 m
    cube with ``bilinear`` is interpolated from its file, not the load's nearest copies).
    Into a load_collection or a load_stac (:data:`_LOADS`; not emulated for load_stac:
    the ``target_crs`` that goes with the resolution, a SENTINEL2_L2A target's
    AUTO:42001 making it read in the extent's UTM zone, load_stac.py L676-690; here
    its items' CRS stays). Not with ``near`` (the load's own read), nor onto a target in
    another CRS or of unknown pixel size, nor on a path with a resample_spatial (pushed itself) or
    another resample_cube_spatial nearer the load (the one the dry run takes)."""
    args = graph[node_id].get("arguments") or {}
    method = args.get("method", "near")
    target = args.get("target")
    if method == "near" or not isinstance(target, Mapping) or "from_node" not in target:
        return
    step = target_step(graph, target)
    loads, path = upstream(graph, node_id, RESAMPLE_BLOCKERS, _LOADS)
    # the dry run takes the resample closest to the load (``args_list[:1]``, dry_run.py
    # L534-537): a resample_cube_spatial after another one on the path is not pushed
    on_path = {graph[n].get("process_id") for n in path if n != node_id}
    if step is None or not loads or on_path & {"resample_spatial", "resample_cube_spatial"}:
        return
    for load in (load for load in loads if load not in done):
        done.add(load)
        read = copy_after_load(graph, out, load, node_id, path, "resampled")
        arguments = {"data": {"from_node": load}, "resolution": step, "method": method}
        out[read] = {"process_id": "resample_spatial", "arguments": {**arguments, IN_LOAD: True}}


def target_step(graph: Mapping[str, Any], target: Any) -> Any:
    """The pixel size of a resample_cube_spatial's ``target`` (a node reference) in the
    dry run's metadata (:func:`_step`); None when unknown."""
    if not isinstance(target, Mapping) or "from_node" not in target:
        return None
    return _step(graph, str(target["from_node"]), set())


def _step(graph: Mapping[str, Any], node_id: str, seen: set[str]) -> Any:
    """The pixel size the dry run's metadata gives the cube of ``node_id`` in the
    collection's CRS: the collection's after a load_collection, a resample_spatial's
    resolution (0: its data's), a resample_cube_spatial's target's, else its data's
    (merge_cubes: its first cube's); None when unknown or reprojected."""
    node = graph.get(node_id)
    if node_id in seen or not isinstance(node, Mapping):
        return None
    seen.add(node_id)
    process = node.get("process_id")
    args = node.get("arguments") or {}
    if process == "load_collection":  # the step of the collection's cube:dimensions
        from hybrid.collection import pixel_step

        return pixel_step()
    if process == "resample_spatial" and args.get("projection") is not None:
        return None
    if process == "resample_spatial" and args.get("resolution") not in (None, 0, [0, 0]):
        return args["resolution"]
    source = args.get("target" if process == "resample_cube_spatial" else "data")
    source = args.get("cube1") if process == "merge_cubes" else source
    if isinstance(source, Mapping) and "from_node" in source:
        return _step(graph, str(source["from_node"]), seen)
    return None


def stored(values: Any, how: str) -> Any:
    """The resampled float ``values`` (numpy or dask; NaN: nodata) as the integer cells
    hold them."""
    if how == TRUNCATE:
        return np.trunc(values)
    return np.floor(values + 0.5)


def resample_margin(resolution: Any, method: Any = "near") -> int:
    """10-m pixels a resample_spatial to ``resolution`` may sample beyond the extent:
    up to one target pixel (the extent is snapped outward to multiples of it when
    Copernicus resamples in the load, as this module pushes it), plus one (at most
    256, one Copernicus load tile); with a method other than near, at least two 60 m
    file pixels, which a cubic kernel reaches beyond the edge, and the reach of its
    kernel in new pixels when they are coarser (GDAL widens it by the shrink factor:
    :mod:`hybrid.backends.local.processes.load_warp`)."""
    values = resolution if isinstance(resolution, list | tuple) else [resolution]
    sizes = [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    largest = max([s for s in sizes if math.isfinite(s) and s > 0], default=0.0)
    if not largest:
        return 0
    from hybrid.collection import file_resolutions

    margin = math.ceil(largest / 10) + 1
    if method in (None, "near"):
        return min(256, margin)
    cubic = 2 * max(file_resolutions().values()) // 10 + 1  # the coarsest: B01, B09
    return min(256, max(margin + math.ceil(KERNEL_REACH.get(method, 0) * largest / 10), cubic))


def cube_resample_margin(graph: Mapping[str, Any], args: Mapping[str, Any]) -> int:
    """The margin of a resample_cube_spatial read in the load at its target's pixel size
    (the output grid's when unknown)."""
    from hybrid.grid import PIXEL_SIZE

    step = target_step(graph, args.get("target"))
    return resample_margin(PIXEL_SIZE if step is None else step, args.get("method"))
