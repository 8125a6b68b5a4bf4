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

The engine resamples the loaded cube with GDAL's warper too (odc-geo), from the files'
own pixels, so in the files' UTM zone the result is Copernicus's read to the last digit
(``tests/server/test_server_resample_edges.py`` compares with rasterio warping an item's
file). Not emulated: a pushed resample with a ``projection`` is done where it stands,
and in another UTM zone the files' pixels are the load's nearest warp of them.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import numpy as np

from hybrid.backends.local.load_paths import copy_after_load, inputs, upstream

#: the argument a pushed resample_spatial gets (True): its grid is the load's at the new
#: resolution, on multiples of it
IN_LOAD = "in_load"
#: the argument resample_spatial gets when its data is an integer cube: how the
#: resampled values are stored (:data:`ROUND` or :data:`TRUNCATE`)
INTEGER_RESAMPLING = "integer_resampling"
ROUND = "round"
TRUNCATE = "truncate"
#: processes between a load and a resample_spatial that keep the resampling out of
#: the load (openeo-python-driver dry_run.py L157-169)
BLOCKERS = frozenset(
    {
        "apply_kernel", "reduce_dimension", "apply", "apply_dimension", "apply_neighborhood",
        "reduce_dimension_binary", "mask", "to_scl_dilation_mask", "corsa_compress",
        "predict_onnx",
    }
)  # fmt: skip


def rule(graph: Mapping[str, Any], node_id: str, method: str) -> str:
    """How the integer results of the resample_spatial ``node_id`` with ``method`` are
    stored (module docstring)."""
    if pushed_into_load(graph, node_id) or method != "average":
        return ROUND
    return TRUNCATE


def pushed_into_load(graph: Mapping[str, Any], node_id: str) -> bool:
    """Whether every path from ``node_id`` back to a load_collection is free of
    :data:`BLOCKERS` (the dry run then resamples in the load)."""
    return bool(upstream(graph, node_id, BLOCKERS)[0])


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
        loads, path = upstream(graph, node_id, BLOCKERS)
        if not loads:
            continue
        out[node_id].setdefault("arguments", {})[IN_LOAD] = True
        if (node.get("arguments") or {}).get("projection") is not None:
            continue
        for load in (load for load in loads if load not in done):
            done.add(load)
            if inputs(graph, node_id) != [load]:
                copy_after_load(graph, out, load, node_id, path, "resampled")
    return out


def stored(values: Any, how: str) -> Any:
    """The resampled float ``values`` (numpy or dask; NaN: nodata) as the integer cells
    hold them."""
    if how == TRUNCATE:
        return np.trunc(values)
    return np.floor(values + 0.5)
