"""convert_data_type: a cube converted to another cell type, as Copernicus converts it.

Copernicus's experimental process (openeo-python-driver 9e5b49b2
``process_implementations/terrain.py`` L68-71; openeo-geopyspark-driver 9baf2e10
``geopysparkdatacube.py`` ``convert_data_type`` L3241-3249, added in 7cdb6e4a) calls
geotrellis-extensions' ``OpenEOProcesses.convertDataType``, which is newer than the
snapshot of that repository read here (2a25a26e, October 2024, has none). It is taken
to do what geotrellis-extensions' older ``convertDataType`` in geopyspark-geotrellis
``TiledRasterLayer.scala`` L323-324 does, ``rdd.convert(CellType.fromName(newType))``,
which the driver's own test agrees with (``tests/test_apply_process.py``
``test_convert_data_type``: a uint8 cell 2).

The names are geotrellis's (``CellType.fromName``): ``bool``/``boolraw``, ``int8``,
``uint8``, ``int16``, ``uint16``, ``int32``, ``float32``, ``float64`` (their constant
nodata: -128, 0, -32768, 0, -2**31, NaN), the same with ``raw`` (no nodata), and the
integer and float types followed by ``ud`` and a nodata value (``uint8ud255``,
``int16ud32767``, ``float32ud-9999``); anything else is refused, as geotrellis refuses
it ("Cell type ... is not supported").

Each cell is converted as geotrellis's ``ArrayTile.convert`` stores it in a tile of the
new type (``setDouble`` -> ``d2ub``, ``d2s``, ...; ``TypeConversionMacros.scala``):
no data becomes the type's nodata value (0 for a raw integer type); a number becomes
Java's narrowing of it: the integer part, saturated to int32, then its low bits (300
in uint8 is 44; 70000 in int16 is 4464); a bit is the integer's lowest bit. Read back,
the nodata value is no data again: 0 in ``uint8`` and ``uint16`` (a converted 0, or
256, is lost), the type's minimum in the signed ones. The cube is then that type for
the writers (:mod:`hybrid.backends.local.cell_types`), as the file Copernicus writes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from hybrid.errors import ProcessParameterInvalid

#: the constant nodata of geotrellis's ``*ConstantNoDataCellType`` (as the writers store it)
CONSTANT_NODATA = {
    "int8": -128.0, "uint8": 0.0, "int16": -32768.0, "uint16": 0.0, "int32": -(2.0**31),
    "float32": float("nan"), "float64": float("nan"),
}  # fmt: skip
_USER_DEFINED = re.compile(r"(u?int(?:8|16|32)|float(?:32|64))ud(.+)")
#: the decimal numbers Java's ``Double.parseDouble`` reads (hexadecimal ones aside)
_JAVA_DOUBLE = re.compile(r"[+-]?(NaN|Infinity|(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[fFdD]?)")


@dataclass(frozen=True)
class CellType:
    """A geotrellis cell type: its dtype and nodata (None: a raw type without one)."""

    dtype: str
    nodata: float | None

    @property
    def bits(self) -> bool:
        return self.dtype == "bool"


def cell_type(name: Any) -> CellType:
    """The cell type ``CellType.fromName`` reads from ``name``; ProcessParameterInvalid
    for a name it refuses."""
    text = name if isinstance(name, str) else ""
    if text in ("bool", "boolraw"):
        return CellType("bool", None)
    base = text.removesuffix("raw")
    if base in CONSTANT_NODATA:
        return CellType(base, None if text.endswith("raw") else CONSTANT_NODATA[base])
    found = _USER_DEFINED.fullmatch(text)
    if found is not None and (nodata := _user_nodata(found[1], found[2])) is not None:
        return CellType(found[1], nodata)
    raise ProcessParameterInvalid(
        f"convert_data_type: cell type {name!r} is not supported; use one of bool, int8, "
        "uint8, int16, uint16, int32, float32, float64, one of these with 'raw' (no nodata) "
        "or an integer or float type with 'ud' and a nodata value (uint8ud255)"
    )


def _user_nodata(dtype: str, text: str) -> float | None:
    """The nodata of ``<dtype>ud<text>`` as the tile stores it, or None where geotrellis
    cannot read ``text`` (Java's ``Integer.parseInt`` / ``Double.parseDouble``)."""
    if dtype.startswith("float"):
        if not _JAVA_DOUBLE.fullmatch(text):
            return None
        value = float(text.rstrip("fFdD"))
        return float(np.float32(value)) if dtype == "float32" else value
    if not re.fullmatch(r"[+-]?\d+", text) or not -(2**31) <= int(text) < 2**31:
        return None
    return float(_narrowed(np.array([float(text)]), dtype)[0])  # nd.asInt.toByte, ...


def convert_data_type(data: Any, data_type: Any) -> Any:
    """``data`` with each cell as a tile of ``data_type`` holds it (module docstring)."""
    target = cell_type(data_type)
    if not hasattr(data, "dims"):
        raise ProcessParameterInvalid("convert_data_type: data must be a raster data cube")
    import dask.array as da

    def block(values: Any) -> Any:
        return converted(values, target)

    out_dtype = np.float64 if target.dtype in ("float64", "int32") else np.float32
    if isinstance(data.data, da.Array):
        return data.copy(data=da.map_blocks(block, data.data, dtype=out_dtype))
    return data.copy(data=block(np.asarray(data.data)))


def converted(values: Any, target: CellType) -> Any:
    """A block of cells (floats, NaN for no data) as ``target`` holds and reads them."""
    values = np.asarray(values, dtype=np.float64)
    missing = np.isnan(values)
    if target.dtype in ("float32", "float64"):
        out = values.astype(target.dtype)
        if target.nodata is not None and not np.isnan(target.nodata):
            out[out == target.nodata] = np.nan
        return out
    if target.bits:  # BitArrayTile.updateDouble: the lowest bit of the integer, NaN 0
        whole = _narrowed(np.where(missing, 0.0, values), "int32")
        return (whole.astype(np.int64) & 1).astype(np.float32)
    stored = _narrowed(np.where(missing, 0.0, values), target.dtype)
    held = np.float64 if target.dtype == "int32" else np.float32  # int32 exactly
    if target.nodata is None:
        return stored.astype(held)
    stored = np.where(missing, target.nodata, stored)
    return np.where(stored == target.nodata, np.nan, stored).astype(held)


def _narrowed(values: Any, dtype: str) -> Any:
    """Java's ``(byte)``/``(short)``/``(int) d`` of whole floats: the integer part,
    saturated to int32, its low bits read signed or unsigned as ``dtype`` is."""
    from hybrid.backends.local.stored_integers import bits_of, wrapped

    with np.errstate(invalid="ignore"):
        whole = np.trunc(np.clip(values, -(2**31), 2**31 - 1)) + 0.0  # no -0.0
    bits = bits_of(dtype)
    if bits == 32:
        return whole
    signed = wrapped(whole, bits)
    return signed if dtype.startswith("int") else np.mod(signed, 2**bits)


SPEC: dict[str, Any] = {
    "id": "convert_data_type",
    "summary": "Converts the data type of the cube",
    "description": "Converts the data cube to the cell type `data_type` names (geotrellis "
    "names: `uint8`, `int16`, `float32`, `uint8raw`, `int16ud32767`, ...).",
    "categories": ["cubes"],
    "experimental": True,
    "parameters": [
        {"name": "data", "description": "The data cube.",
         "schema": {"type": "object", "subtype": "datacube"}},
        {"name": "data_type", "description": "The desired data type, represented as a string.",
         "schema": {"type": "string"}},
    ],
    "returns": {"description": "A data cube with desired data type.",
                "schema": {"type": "object", "subtype": "datacube"}},
}  # fmt: skip
