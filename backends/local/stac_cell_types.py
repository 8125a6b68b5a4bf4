"""The cell type of a load_stac's cube: its files' own, as Copernicus reads them.

openeo-geopyspark-driver 9baf2e10 ``openeogeotrellis/load_stac.py`` hands each asset to
the JVM with ``addLink`` (L395-418: the ``raster:bands`` ``data_type``, uint32 renamed
float64, and ``nodata`` when a ``data_type`` is given), but openeo-geotrellis-extensions
2a25a26e ``FileLayerProvider.scala`` reads of a link only its href, title, band names
and offset (L1536-1555): the ``targetCellType`` of a user's asset is None, so its
``GeoTiffResampleRasterSource``/``GeoTiffReprojectRasterSource`` (L1460-1483) has the
cell type geotrellis's GeoTIFF reader gives the file (locationtech/geotrellis 72e24891
``GeoTiffInfo.scala`` L55-111: the sample type and the GDAL nodata tag; a tag outside
the type's range is no nodata; uint32 becomes float32). An item's bands are one
``MultibandCompositeRasterSource`` whose type is the ``cellTypeUnion`` of its files'
(L125; :func:`hybrid.backends.local.callback_types.union`), and the cube's type is the
first item's, a type without nodata getting geotrellis's default one (``withDefaultNoData``:
0 for unsigned integers, the minimum for signed ones, NaN for floats;
``determineCelltype`` L997-1005, L1031). Every tile is converted to it (L732), and the
writers store that type (geotiff/package.scala L444, L480-485; NetCDFRDDWriter.scala
L158-160, L664-686).

An item's type comes from its files' headers (:func:`hybrid.backends.local.stac_cube.
scene_cell_type`); :func:`hybrid.backends.local.stac_load.mark_cell_types` marks it on
the load_stac nodes for :mod:`hybrid.backends.local.cell_types`; :func:`holding_dtype`
is the dtype the local cube holds such values in (float64 where float32 would round
them).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hybrid.backends.local.cell_types import TileType

#: geotrellis's default nodata of each type (``withDefaultNoData``: the ConstantNoData type)
_DEFAULT_NODATA: dict[str, float] = {
    "int8": -128, "uint8": 0, "int16": -32768, "uint16": 0, "int32": -(2**31),
    "float32": float("nan"), "float64": float("nan"),
}  # fmt: skip
#: the range a nodata tag must lie in to be the type's nodata (GeoTiffInfo.scala)
_RANGES: dict[str, tuple[float, float]] = {
    "int8": (-128, 127), "uint8": (0, 255), "int16": (-32768, 32767), "uint16": (0, 65535),
    "int32": (-(2**31), 2**31 - 1), "uint32": (0, 2**32 - 1),
}  # fmt: skip


def file_cell_type(dtype: str, tag: float | None) -> TileType:
    """geotrellis's cell type of a GeoTIFF band of ``dtype`` whose GDAL nodata tag is
    ``tag`` (GeoTiffInfo.scala L55-111): the tag within the type's range is its nodata,
    else the type has none; uint32 is read as float32 (a tag of 0: NaN)."""
    if dtype in ("float32", "float64"):
        if tag is None:
            return dtype, None
        if dtype == "float32" and not math.isnan(tag) and abs(tag) > 3.4028234663852886e38:
            return dtype, float("nan")
        return dtype, float(tag)
    if dtype not in _RANGES:  # int64, complex: no geotrellis type; float64 here
        return "float64", None
    low, high = _RANGES[dtype]
    if tag is None or math.isnan(tag) or not low <= tag <= high:
        return ("float32" if dtype == "uint32" else dtype), None
    if dtype == "uint32":
        return "float32", float("nan") if tag == 0 else float(tag)
    return dtype, float(tag)


def masked_value(dtype: str, tag: float | None) -> float:
    """The file value a band of ``dtype`` with nodata tag ``tag`` is read as nodata for:
    its cell type's nodata (the tag, else the type's default; uint32's tag 0, whose
    float32 type has NaN, stays 0 in the file)."""
    tile = file_cell_type(dtype, tag)
    if tile[1] is not None and dtype == "uint32" and tag is not None:
        return float(tag)
    nodata = with_default_nodata(tile)[1]
    return float("nan") if nodata is None else nodata


def with_default_nodata(tile: TileType) -> TileType:
    """A type without nodata with geotrellis's default one (``withDefaultNoData``)."""
    dtype, nodata = tile
    return (dtype, _DEFAULT_NODATA[dtype]) if nodata is None else tile


def tile_union(first: TileType, second: TileType) -> TileType:
    """``cellTypeUnion`` of two cell types with their nodata: the one it picks, or the
    constant-nodata int16/int32 it makes of an unsigned and a signed type."""
    from hybrid.backends.local.callback_types import union

    dtype = union(first[0], second[0])
    if dtype == second[0]:
        return second
    if dtype == first[0]:
        return first
    return dtype, _DEFAULT_NODATA[dtype]


def files_cell_type(headers: Iterable[tuple[str, float | None]]) -> TileType | None:
    """The cell type of an item's band files, given as (dtype, nodata tag) headers:
    the ``cellTypeUnion`` of theirs, with the default nodata where it has none (None
    without a file)."""
    found: TileType | None = None
    for dtype, tag in headers:
        tile = file_cell_type(dtype, tag)
        found = tile if found is None else tile_union(found, tile)
    return None if found is None else with_default_nodata(found)


def holding_dtype(tile: TileType) -> str:
    """The dtype the local cube holds values of ``tile`` in: float64 for float64 and
    int32 files (float32 would round them), float32 for the others."""
    return "float64" if tile[0] in ("float64", "int32") else "float32"
