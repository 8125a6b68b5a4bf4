"""The cell type of a cube as Copernicus holds it: int16 from the load, an integer type
after some callbacks, float32 after anything else.

Copernicus's cube has a cell type (geotrellis); a GeoTIFF or NetCDF is written in it,
and some processes compute in it. The local engine holds every cube as floats with NaN
for nodata. This module works the type out from the graph, as Copernicus's processes
set it:

- ``load_collection`` (SENTINEL2_L2A): int16 with nodata -32768, of SCL alone uint8 with
  nodata 0, with an angle band float32 (FileLayerProvider.scala; :func:`_loaded_type`);
- ``load_stac``: its files' own type (:mod:`hybrid.backends.local.stac_cell_types`);
- the processes with a callback get the type the callback's result has
  (:mod:`hybrid.backends.local.callback_types`, geotrellis-extensions
  OpenEOProcessScriptBuilder.scala ``resultingDataType``), its ``data`` parameter typed
  as Copernicus types it: ``reduce_dimension``, ``aggregate_temporal(_period)`` and
  ``apply_dimension`` over ``t`` with the cube's type, ``apply_dimension`` over ``bands``
  with float32, ``apply``'s ``x`` not at all. So a lone ``max``, ``min``, ``median``,
  ``first``, ``last`` or ``count`` over time keeps the int16 type (a count: its tiles'),
  a band reduction ``B08 - B04`` is int16 and ``B08 * 2`` int32, an ``apply`` of a lone
  ``absolute``/``ceil``/``floor``/``round``/``clip`` float32 (Copernicus converts the
  cube to float32 before ``apply`` and a band reduction, geopysparkdatacube.py
  ``_apply_bands_dimension`` L403-434, and to the callback's type after), of ``int``
  int32, of ``linear_scale_range`` to an integer range uint8/uint16/int16 (L1271-1322);
- filters, renames, ``mask_scl_dilation`` (Copernicus masks while loading and the node
  returns its cube: python-driver ``process_implementations/sar.py`` L112-122),
  ``mask`` (also with a ``replacement``, which an integer cube
  stores as an integer, :data:`INPUT_CELL_TYPE`: the result is converted back to the
  data's type, OpenEOProcesses.scala ``rasterMask`` L1072-1080), ``mask_polygon`` (its
  ``replacement`` unread) and nearest-neighbour resampling keep it, as do
  ``resample_spatial`` and ``resample_cube_spatial`` with any method, whose values are
  then stored as whole numbers (:data:`INTEGER_RESAMPLING`,
  :mod:`hybrid.backends.local.resample_pushdown`); ``merge_cubes`` gives the union
  of its cubes' types (OpenEOProcesses.scala ``mergeCubes`` L937-944, geotrellis
  ``CellType.union``: the int16 load merged with a mask of bits stays int16), an
  overlap resolver computing in it (int16 sums wrap around, :data:`OUTPUT_CELL_TYPE`);
  ``convert_data_type`` gives the type it names (geotrellis ``CellType.fromName``: a raw
  type has no nodata, a ``ud`` one its own;
  :mod:`hybrid.backends.local.processes.cell_conversion`); ``aspect`` and ``slope``
  give float64 (:mod:`hybrid.backends.local.processes.terrain`), and so does
  ``apply_kernel`` (the union of the cube's type and the float64 kernel's,
  OpenEOProcesses.scala ``apply_kernel`` L1101-1104); any other process makes it
  float32 here.

:func:`with_cell_types` writes what it finds into a copy of the graph: a save_result's
``options`` get the type of its data under :data:`hybrid.io.cube.CELL_TYPE` (the run
moves it onto the cube for the writers); a band reduction whose result is int16 or int32
gets it as :data:`OUTPUT_CELL_TYPE` (its values as such a tile stores them:
:mod:`hybrid.backends.local.stored_integers`); a ``median`` or ``quantiles`` over time of
an integer cube's values and an ``array_interpolate_linear`` filling them get its type as
:data:`INPUT_CELL_TYPE`. Copernicus computes those over time in the cube's own tiles:
in doubles stored into a tile of the input's type, which keeps the integer part
(``multibandReduce`` L223-243 writes into ``tile.bands(0).mutable``,
``multibandMapToNewTiles`` L211 into ``ArrayTile.empty(tile.cellType, ...)``; geotrellis
``ShortArrayTile.updateDouble``), so the median of 1500 and 1501 is 1500 on the int16
cube, its 0.25 quantile of 516 and 517 is 516.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import numpy as np

from hybrid.backends.local import resample_pushdown
from hybrid.backends.local.resample_pushdown import INTEGER_RESAMPLING
from hybrid.graph_structure import lone_process, nodes_reading
from hybrid.io.cube import CELL_TYPE

#: the argument the processes that compute in their input's integer cell type get: its
#: dtype name (:func:`hybrid.backends.local.processes.statistics.median` keeps the
#: integer part, :func:`hybrid.backends.local.processes.arrays.array_interpolate_linear`
#: of what it fills, :func:`hybrid.backends.local.processes.masking.mask` of its
#: replacement)
INPUT_CELL_TYPE = "input_cell_type"
#: the argument raster_to_vector gets when its data is an integer cube: that cell type's
#: nodata value, which Copernicus reads as no data (255 of linear_scale_range's uint8,
#: 0 of convert_data_type's uint8)
INPUT_NODATA = "input_nodata"
#: the argument a band reduction or a merge with an overlap resolver whose result is
#: int16 or int32 gets: that dtype name (:func:`hybrid.backends.local.processes.udf.
#: reduce_dimension`, :func:`hybrid.backends.local.processes.merging.merge_cubes`); an
#: apply or a callback over bands whose result is float64 gets "float64" (else its
#: float64 values become float32, as there), one whose result is bits "bool"
OUTPUT_CELL_TYPE = "output_cell_type"
#: the argument a load_stac node gets with its cube's cell type, [dtype, nodata]
#: (:func:`hybrid.backends.local.stac_load.mark_cell_types`)
LOAD_CELL_TYPE = "load_cell_type"
#: a cell type: its dtype name and nodata value (None: a raw type without one)
TileType = tuple[str, float | None]
#: the loaded SENTINEL2_L2A cube (``eo:bands`` ``"type": "int16"``), and of SCL alone
LOADED, LOADED_SCL = ("int16", -32768), ("uint8", 0)
INT32 = ("int32", -(2**31))
FLOAT = ("float32", float("nan"))
#: a callback computing with a constant of more than 7 digits (double_constants)
F64 = "float64"
#: geotrellis's bit cells (comparisons): float32 to the processes, kept here for the
#: types they combine into; a save_result of bits gets ``("bool", None)`` (no nodata),
#: which the writers store as Copernicus does (:func:`hybrid.io.netcdf_layout.storage`,
#: :mod:`hybrid.io.gtiff`)
_BITS = ("bool", 0)
#: the integer cell types a result can have, with the nodata value Copernicus gives them
_NODATA = {"int16": -32768, "int32": -(2**31), "uint8": 255, "uint16": 65535, "bool": 0}
#: processes whose result is float64 (geotrellis ``DoubleArrayTileResult``)
_DOUBLE = frozenset({"aspect", "slope", "apply_kernel"})
#: the processes with a callback, and the callback's argument name
_CALLBACK = {
    "reduce_dimension": "reducer",
    "aggregate_temporal_period": "reducer",
    "aggregate_temporal": "reducer",
    "apply_dimension": "process",
    "apply": "process",
}
#: the processes that compute in their input's cell type where they read a callback's
#: ``data`` over time (:data:`INPUT_CELL_TYPE`): geotrellis writes their doubles into
#: tiles of that type (``multibandReduce``, ``multibandMapToNewTiles``)
_IN_INPUT_TYPE = frozenset({"median", "quantiles", "array_interpolate_linear"})
#: the reducers that fold the tiles over time in their own type, int16 and bits
#: wrapping around (:mod:`hybrid.backends.local.processes.tile_folds`), and those types
_FOLDING = frozenset({"sum", "product"})
_FOLDED_TYPES = frozenset({"int16", "int32", "bool"})
#: the arguments holding the cubes a process's cell type comes from, where not ``data``
_INPUTS = {"merge_cubes": ("cube1", "cube2")}
#: processes whose result has their ``data``'s cell type
_KEEPING = frozenset(
    {
        "filter_bbox", "filter_spatial", "filter_temporal", "filter_bands", "filter_labels",
        "rename_labels", "rename_dimension", "mask", "mask_polygon", "resample_spatial",
        "resample_cube_spatial", "drop_dimension", "resolution_merge", "mask_scl_dilation",
    }
)  # fmt: skip


def with_cell_types(graph: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the flat ``graph`` whose save_result nodes carry the integer cell type
    of their data in ``options`` (a float32 result is written as before), whose band
    reductions to int16/int32 carry :data:`OUTPUT_CELL_TYPE` and whose medians and
    interpolations over time of integer cubes carry :data:`INPUT_CELL_TYPE`."""
    out = copy.deepcopy(dict(graph))
    types = CellTypes(out)
    for node_id, node in out.items():
        if not isinstance(node, dict):
            continue
        process = node.get("process_id")
        arguments = node.get("arguments") or {}
        if process == "save_result":
            data = arguments.get("data")
            dtype, nodata = ("bool", None) if types.raw(data) == _BITS else types.of(data)
            if dtype != "float32" or nodata is None or not np.isnan(nodata):
                options = arguments.get("options")
                arguments["options"] = {**(options if isinstance(options, dict) else {})}
                arguments["options"][CELL_TYPE] = [dtype, nodata]
        elif process in _CALLBACK and process != "apply" and not _over_bands(arguments):
            _mark_input_type(arguments, types.raw(arguments.get("data"))[0])
        own = types.of({"from_node": node_id})[0]
        stored = (process == "reduce_dimension" and _over_bands(arguments)) or (
            process == "merge_cubes" and arguments.get("overlap_resolver") is not None
        )
        if (stored and own in ("int16", "int32")) or (_declares(process, arguments) and own == F64):
            arguments[OUTPUT_CELL_TYPE] = own
        elif (stored or _declares(process, arguments)) and types.raw(
            {"from_node": node_id}
        ) == _BITS:
            arguments[OUTPUT_CELL_TYPE] = "bool"  # a sum of comparisons keeps its lowest bit
        if process == "mask" and arguments.get("replacement") is not None and integer_type(own):
            arguments[INPUT_CELL_TYPE] = own
        if process == "resolution_merge":  # stores its predictions in the cube's type
            arguments[INPUT_CELL_TYPE] = own
        if process == "raster_to_vector":
            data_type, data_nodata = types.of(arguments.get("data"))
            if integer_type(data_type) and data_nodata is not None:
                arguments[INPUT_NODATA] = data_nodata
        if _resampled_whole(process, own) and not _keeps_values(str(process), arguments):
            method = str(arguments.get("method", "near"))
            arguments[INTEGER_RESAMPLING] = resample_pushdown.rule(out, node_id, method)
    return out


def _mark_input_type(arguments: dict[str, Any], dtype: str) -> None:
    """A median, quantiles or interpolation over time of an integer cube's values (the
    callback's ``data``) learns its type, as does a lone sum or product of an int16,
    int32 or boolean one."""
    reducer = _folding_reducer(arguments.get("reducer"), dtype)
    if reducer is not None:
        reducer.setdefault("arguments", {})[INPUT_CELL_TYPE] = dtype
        _warn_fold(str(reducer["process_id"]), dtype)
    if not integer_type(dtype):
        return
    for callback in ("reducer", "process"):
        for node in nodes_reading(arguments.get(callback), "data"):
            if node.get("process_id") in _IN_INPUT_TYPE:
                node.setdefault("arguments", {})[INPUT_CELL_TYPE] = dtype


def _folding_reducer(callback: Any, dtype: str) -> dict[str, Any] | None:
    """The lone sum or product over time that folds tiles of ``dtype`` in that type
    (:mod:`hybrid.backends.local.processes.tile_folds`), or None."""
    node = lone_process(callback, "data")
    folds = node is not None and node.get("process_id") in _FOLDING and dtype in _FOLDED_TYPES
    return node if folds else None


def _warn_fold(process: str, dtype: str) -> None:
    """Tell the user that Copernicus folds these tiles in their own type."""
    from hybrid.run_warnings import warn

    kept = "only whether the count is odd" if dtype == "bool" else "the low bits (it wraps around)"
    warn(
        f"{process} over time of a {dtype} cube: Copernicus combines the dates' {dtype} tiles "
        f"and keeps {kept}, so this run does too; apply(x * 1.0) first gives float32"
    )


def integer_type(name: str | None) -> bool:
    """Whether :data:`INPUT_CELL_TYPE` ``name`` (a dtype name, or None: float) is an
    integer cell type, in which Copernicus stores what it computes."""
    return name is not None and np.dtype(name).kind in "iu"


def result_cell_type(graph: Mapping[str, Any], data: Any) -> TileType:
    """The cell type (dtype name, nodata) of the cube ``data`` refers to; float32 where
    the graph does not say (not a node's result)."""
    return CellTypes(graph).of(data)


def integral(tile: TileType) -> bool:
    """Whether a cell type as :meth:`CellTypes.raw` gives it is an integer one, bits
    included (geotrellis' BitCellType is no floating point type: ``isFloatingPoint``)."""
    return tile[0] == _BITS[0] or integer_type(tile[0])


class CellTypes:
    """The cell types of a flat graph's nodes, each worked out once (a chain of
    thousands of nodes is walked without recursion)."""

    def __init__(self, graph: Mapping[str, Any]) -> None:
        self.graph = graph
        self.known: dict[str, TileType] = {}

    def of(self, data: Any) -> TileType:
        """The cell type of ``data``'s cube as the writers take it (bits: float32)."""
        found = self.raw(data)
        return FLOAT if found == _BITS else found

    def raw(self, data: Any) -> TileType:
        node_id = _reference(data)
        if node_id is None or not isinstance(self.graph.get(node_id), Mapping):
            return FLOAT
        pending = [node_id]
        visiting: set[str] = set()
        while pending:
            current = pending[-1]
            needed = [n for n in self._inputs(current) if n not in self.known]
            if needed and current not in visiting:
                visiting.add(current)
                pending.extend(needed)
                continue
            pending.pop()
            if current not in self.known:  # a cycle leaves its inputs unknown: float32
                self.known[current] = self._own(current)
        return self.known[node_id]

    def _inputs(self, node_id: str) -> list[str]:
        node = self.graph.get(node_id)
        if not isinstance(node, Mapping):
            return []
        arguments = node.get("arguments") or {}
        names = _INPUTS.get(str(node.get("process_id")), ("data",))
        found = (_reference(arguments.get(name)) for name in names)
        return [n for n in found if n is not None and isinstance(self.graph.get(n), Mapping)]

    def _input(self, arguments: Mapping[str, Any], name: str = "data") -> TileType:
        node_id = _reference(arguments.get(name))
        return self.known.get(node_id, FLOAT) if node_id is not None else FLOAT

    def _own(self, node_id: str) -> TileType:
        node = self.graph[node_id]
        process = node.get("process_id")
        arguments = node.get("arguments") or {}
        if process == "load_collection":
            return _loaded_type(arguments.get("bands"))
        if process == "load_stac":  # its files' type, as stac_load.mark_cell_types marks it
            marked = arguments.get(LOAD_CELL_TYPE)
            return (str(marked[0]), marked[1]) if isinstance(marked, list) else FLOAT
        if process == "convert_data_type":
            return _converted_type(arguments.get("data_type"))
        if process in _DOUBLE:
            return F64, float("nan")
        if process == "merge_cubes":
            return _tile_union(self._input(arguments, "cube1"), self._input(arguments, "cube2"))
        if process in _CALLBACK:  # a type kept over time keeps its nodata (load_stac's)
            dtype, data = self._callback_type(str(process), arguments), self._input(arguments)
            kept = process != "apply" and not _over_bands(arguments) and dtype == data[0]
            return data if kept else _with_nodata(dtype)
        if process in _KEEPING:
            data = self._input(arguments)
            if _keeps_values(str(process), arguments) or _resampled_whole(process, data[0]):
                return data
        return FLOAT

    def _callback_type(self, process: str, arguments: Mapping[str, Any]) -> str:
        """The cell type of the callback's result, its ``data`` typed as Copernicus
        types it (module docstring)."""
        from hybrid.backends.local.callback_types import callback_type, counts_in_place

        callback = arguments.get(_CALLBACK[process])
        if process == "apply":
            return callback_type(callback, {})
        if _over_bands(arguments):
            if process == "apply_dimension":
                return callback_type(callback, {"data": "float32"})
            return callback_type(callback, {"data": self._input(arguments)[0]})
        data = self._input(arguments)[0]
        if _folding_reducer(callback, data) is not None or counts_in_place(callback):
            return data  # the tiles keep their type (tile_folds), whatever the metadata says
        return callback_type(callback, {"data": data})


def _converted_type(name: Any) -> TileType:
    """The cell type ``convert_data_type`` converts to (float32 for a name it refuses:
    the run fails there); a raw type's nodata is None."""
    from hybrid.backends.local.processes.cell_conversion import cell_type
    from hybrid.errors import ProcessParameterInvalid

    try:
        target = cell_type(name)
    except ProcessParameterInvalid:
        return FLOAT
    return _BITS if target.bits else (target.dtype, target.nodata)


def _over_bands(arguments: Mapping[str, Any]) -> bool:
    return arguments.get("dimension") == "bands"


def _with_nodata(dtype: str) -> TileType:
    """An integer cell type (or bits) with its nodata; float64 with NaN; other floats:
    float32."""
    if dtype == F64:
        return F64, float("nan")
    return (dtype, _NODATA[dtype]) if dtype in _NODATA else FLOAT


def _declares(process: Any, arguments: Mapping[str, Any]) -> bool:
    """Whether Copernicus converts the process's result to its callback's declared type
    (float32 in, the builder's type out: geopysparkdatacube.py ``apply`` L308-320 and
    ``_apply_bands_dimension`` L403-434)."""
    return process == "apply" or (
        process in ("reduce_dimension", "apply_dimension") and _over_bands(arguments)
    )


def _tile_union(first: TileType, second: TileType) -> TileType:
    """geotrellis ``CellType.union`` of two cubes' types (``merge_cubes``): the one with
    more bits; of two with as many, a float one's, else the second's."""
    from hybrid.backends.local.callback_types import BIT_COUNT

    (a, _), (b, _) = first, second
    if BIT_COUNT[a] != BIT_COUNT[b]:
        return first if BIT_COUNT[a] > BIT_COUNT[b] else second
    return first if a == "float32" and b != "float32" else second


def _reference(data: Any) -> str | None:
    if isinstance(data, Mapping) and isinstance(data.get("from_node"), str):
        return str(data["from_node"])
    return None


def _loaded_type(bands: Any) -> TileType:
    """float32 without named ``bands`` (all) or with an angle band (float32 values), SCL
    alone uint8 nodata 0 (geotrellis-extensions FileLayerProvider.scala L1539-1552), int16."""
    from hybrid.collection import angle_band_names

    named = isinstance(bands, list) and bool(bands) and all(isinstance(b, str) for b in bands)
    dns = named and angle_band_names().isdisjoint(bands)
    return (LOADED_SCL if bands == ["SCL"] else LOADED) if dns else FLOAT


def _resampled_whole(process: Any, dtype: str) -> bool:
    """A resample_spatial or resample_cube_spatial of an integer cube: whole numbers in
    that type, whatever the method (:mod:`hybrid.backends.local.resample_pushdown`)."""
    return process in ("resample_spatial", "resample_cube_spatial") and integer_type(dtype)


def _keeps_values(process: str, arguments: Mapping[str, Any]) -> bool:
    if process in ("resample_spatial", "resample_cube_spatial"):
        return arguments.get("method", "near") == "near"
    return True
