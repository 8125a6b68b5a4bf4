"""The cell type of a cube as Copernicus holds it: int16 from the load, an integer type
after ``linear_scale_range`` to an integer range, float32 after anything else.

Copernicus's cube has a cell type (geotrellis); a GeoTIFF or NetCDF is written in it,
and some processes compute in it. The local engine holds every cube as floats with NaN
for nodata. This module works the type out from the graph, as Copernicus's processes
set it:

- ``load_collection`` (SENTINEL2_L2A): int16 with nodata -32768 (the collection's
  ``eo:bands`` ``"type": "int16"``; FIELD_NOTES section 1, FileLayerProvider.scala),
  unless it loads an angle band (float32 values: the cube is float32 here, as before);
- an ``apply`` whose callback is a lone ``linear_scale_range`` to an integer output range
  (the openeo client's ``DataCube.linear_scale_range``): uint8 (nodata 255), uint16
  (65535) or int16 (-32768) [openeo-geotrellis-extensions OpenEOProcessScriptBuilder.scala
  ``linearScaleRangeFunction`` L1271-1322];
- an ``apply`` of a lone ``absolute``, ``abs``, ``ceil``, ``floor`` or ``round`` keeps its
  input's type (``PRESERVE_DATATYPE_MODE``, L1173-1183), as does a ``clip`` to whole-number
  bounds (``clipFunction`` L1687-1700); a lone ``int`` gives int32 from a float cube
  (``intFunction`` L1733-1747); an ``apply_dimension`` of a lone
  ``array_interpolate_linear`` keeps its input's type too: it writes the values it
  fills into the input's tiles, so on an integer cube they keep their integer part
  (``linearInterpolation`` through ``multibandMap``, L177-194, L367-392, L1203);
- ``reduce_dimension``, ``aggregate_temporal_period`` and ``aggregate_temporal`` with a
  lone ``max``, ``min``, ``median``, ``first`` or ``last`` keep their input's type
  (``PRESERVE_DATATYPE_MODE``, OpenEOProcessScriptBuilder.scala L1157-1160, L1167-1168,
  L1195-1198), ``count`` is int32 (L1169-1171); every other reducer is float32
  (``forceFloat``, or the builder's default ``FloatConstantNoDataCellType``, L528,
  L573-585);
- filters, renames, ``mask``/``mask_polygon`` without replacement and nearest-neighbour
  resampling keep it, and ``merge_cubes`` of two cubes of one type without an overlap
  resolver; any other process makes it float32 here.

:func:`with_cell_types` writes what it finds into a copy of the graph: a save_result's
``options`` get the type of its data under :data:`hybrid.io.cube.CELL_TYPE` (the run
moves it onto the cube for the writers); a ``median`` reducing an integer cube, an
``ndvi`` of one and an ``array_interpolate_linear`` filling one get its type as
:data:`INPUT_CELL_TYPE`. Copernicus computes the median
in doubles and stores it into a tile of the input's type, which keeps the integer part
(``multibandReduce`` L223-243 writes into ``tile.bands(0).mutable``; geotrellis
``ShortArrayTile.updateDouble``), so the median of 1500 and 1501 is 1500 on the int16
cube; its ``ndvi`` subtracts and adds in int16, which wraps around
(:mod:`hybrid.backends.local.processes.indices`).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import numpy as np

from hybrid.io.cube import CELL_TYPE

#: the argument the processes that compute in their input's integer cell type get: its
#: dtype name (:func:`hybrid.backends.local.processes.statistics.median` keeps the
#: integer part, :func:`hybrid.backends.local.processes.indices.ndvi` sums in int16)
INPUT_CELL_TYPE = "input_cell_type"
#: the loaded SENTINEL2_L2A cube
LOADED = ("int16", -32768)
#: the processes that reduce with a callback, and the callback's argument name
_REDUCING = {
    "reduce_dimension": "reducer",
    "aggregate_temporal_period": "reducer",
    "aggregate_temporal": "reducer",
}
#: reducers whose result has their input's cell type
_PRESERVING = frozenset({"max", "min", "median", "first", "last"})
#: reducers whose result has a cell type of its own: ``count`` is int32
#: (``IntConstantNoDataCellType``, OpenEOProcessScriptBuilder.scala L1169-1171)
INT32 = ("int32", -(2**31))
_OWN_TYPE = {"count": INT32}
#: apply callbacks of one process that keep their input's cell type (L1173-1183)
_PRESERVING_MAPS = frozenset({"abs", "absolute", "ceil", "floor", "round"})
#: the apply_dimension callback that keeps it: it fills the gaps into the input's
#: tiles, which keeps the integer part of what it fills in (L367-392, L1203)
_FILLING = "array_interpolate_linear"

FLOAT = ("float32", float("nan"))
#: the processes that learn their input's cell type (:func:`with_cell_types`)
_TYPED_INPUT = frozenset({"save_result", "ndvi", "apply_dimension", *_REDUCING})
#: processes whose result has their ``data``'s cell type
_KEEPING = frozenset(
    {
        "filter_bbox", "filter_spatial", "filter_temporal", "filter_bands", "filter_labels",
        "rename_labels", "rename_dimension", "mask", "mask_polygon", "resample_spatial",
        "resample_cube_spatial", "drop_dimension",
    }
)  # fmt: skip


def with_cell_types(graph: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the flat ``graph`` whose save_result nodes carry the integer cell type
    of their data in ``options`` (a float32 result is written as before) and whose
    medians and ndvi of integer cubes carry :data:`INPUT_CELL_TYPE`."""
    out = copy.deepcopy(dict(graph))
    for node in out.values():
        if not isinstance(node, dict) or node.get("process_id") not in _TYPED_INPUT:
            continue
        arguments = node.get("arguments") or {}
        dtype, nodata = result_cell_type(out, arguments.get("data"))
        if dtype == "float32":
            continue
        if node["process_id"] == "save_result":
            options = arguments.get("options")
            arguments["options"] = {**(options if isinstance(options, dict) else {})}
            arguments["options"][CELL_TYPE] = [dtype, nodata]
        elif node["process_id"] == "ndvi":
            arguments[INPUT_CELL_TYPE] = dtype
        elif node["process_id"] == "apply_dimension":
            filling = _lone_process(arguments.get("process"), "data")
            if filling is not None and filling.get("process_id") == _FILLING:
                filling.setdefault("arguments", {})[INPUT_CELL_TYPE] = dtype
        else:
            reducer = _lone_process(arguments.get(_REDUCING[node["process_id"]]), "data")
            if reducer is not None and reducer.get("process_id") == "median":
                reducer.setdefault("arguments", {})[INPUT_CELL_TYPE] = dtype
    return out


def integer_type(name: str | None) -> bool:
    """Whether :data:`INPUT_CELL_TYPE` ``name`` (a dtype name, or None: float) is an
    integer cell type, in which Copernicus stores what it computes."""
    return name is not None and np.dtype(name).kind in "iu"


def result_cell_type(graph: Mapping[str, Any], data: Any) -> tuple[str, float]:
    """The cell type (dtype name, nodata) of the cube ``data`` refers to; float32 where
    the graph does not say (not a node's result)."""
    seen: set[str] = set()
    while isinstance(data, Mapping) and isinstance(data.get("from_node"), str):
        node_id = data["from_node"]
        node = graph.get(node_id)
        if node_id in seen or not isinstance(node, Mapping):
            return FLOAT
        seen.add(node_id)
        process = node.get("process_id")
        arguments = node.get("arguments") or {}
        if process == "load_collection":
            return LOADED if _digital_numbers_only(arguments.get("bands")) else FLOAT
        if process == "merge_cubes":
            return _merged_cell_type(graph, arguments)
        if process == "apply" and _lone(arguments.get("process"), "x", {"int"}):
            inner = result_cell_type(graph, arguments.get("data"))
            return INT32 if inner == FLOAT else inner
        own = _own_cell_type(str(process), arguments)
        if own is not None:
            return own
        data = arguments.get("data")
    return FLOAT


def _own_cell_type(process: str, arguments: Mapping[str, Any]) -> tuple[str, float] | None:
    """The cell type ``process`` gives its result; None: its input's."""
    if process == "apply":
        callback = arguments.get("process")
        if _lone(callback, "x", _PRESERVING_MAPS) or _integer_clip(callback):
            return None
        return _callback_cell_type(callback) or FLOAT
    if process == "apply_dimension":
        return None if _lone(arguments.get("process"), "data", {_FILLING}) else FLOAT
    if process in _REDUCING:
        reducer = _lone_process(arguments.get(_REDUCING[process]), "data")
        name = None if reducer is None else reducer.get("process_id")
        if name in _OWN_TYPE:
            return _OWN_TYPE[str(name)]
        return None if name in _PRESERVING else FLOAT
    if process in _KEEPING and _keeps_values(process, arguments):
        return None
    return FLOAT


def _digital_numbers_only(bands: Any) -> bool:
    """Whether a load's ``bands`` are named and none is an angle band (float32 values,
    which make the cube float; no ``bands`` loads them all)."""
    from hybrid.collection import angle_band_names

    named = isinstance(bands, list) and bool(bands) and all(isinstance(b, str) for b in bands)
    return named and angle_band_names().isdisjoint(bands)


def _merged_cell_type(graph: Mapping[str, Any], arguments: Mapping[str, Any]) -> tuple[str, float]:
    """merge_cubes without an overlap resolver: the union of its cubes' cell types
    (OpenEOProcesses.scala ``mergeCubes`` L931-943, geotrellis ``CellType.union``), here
    their common type, else float32."""
    if arguments.get("overlap_resolver") is not None:
        return FLOAT
    first, second = (result_cell_type(graph, arguments.get(name)) for name in ("cube1", "cube2"))
    return first if first == second else FLOAT


def _keeps_values(process: str, arguments: Mapping[str, Any]) -> bool:
    if process in ("mask", "mask_polygon"):
        return arguments.get("replacement") is None
    if process in ("resample_spatial", "resample_cube_spatial"):
        return arguments.get("method", "near") == "near"
    return True


def _callback_cell_type(process: Any) -> tuple[str, float] | None:
    """The cell type of an apply callback that is one linear_scale_range of ``x``."""
    from hybrid.backends.local.processes.elementwise import integer_cell_type

    node = _lone_process(process, "x")
    if node is None or node.get("process_id") != "linear_scale_range":
        return None
    arguments = node.get("arguments") or {}
    return integer_cell_type(arguments.get("outputMin", 0.0), arguments.get("outputMax", 1.0))


def _integer_clip(callback: Any) -> bool:
    """A lone ``clip`` to whole-number bounds, which keeps its input's tiles (a fraction
    in a bound converts them to float32 first: ``clipFunction`` L1687-1700)."""
    node = _lone_process(callback, "x")
    if node is None or node.get("process_id") != "clip":
        return False
    bounds = [(node.get("arguments") or {}).get(k) for k in ("min", "max")]
    return all(
        isinstance(b, int | float) and not isinstance(b, bool) and float(b).is_integer()
        for b in bounds
    )


def _lone(callback: Any, parameter: str, names: frozenset[str] | set[str]) -> bool:
    """Whether the callback is one of the processes ``names`` applied to ``parameter``."""
    node = _lone_process(callback, parameter)
    return node is not None and node.get("process_id") in names


def _lone_process(callback: Any, parameter: str) -> dict[str, Any] | None:
    """The one node of a callback whose graph is that node applied to ``parameter``."""
    nodes = callback.get("process_graph") if isinstance(callback, Mapping) else None
    if not isinstance(nodes, Mapping) or len(nodes) != 1:
        return None
    (node,) = nodes.values()
    if not isinstance(node, dict):
        return None
    arguments = node.get("arguments") or {}
    return node if arguments.get(parameter) == {"from_parameter": parameter} else None
