"""How a cube's cell type is stored in a NetCDF band variable, as Copernicus's file has it.

Copernicus's writer (openeo-geotrellis-extensions 2a25a26e ``NetCDFRDDWriter.scala``)
creates the file with ``NetcdfFileWriter.Version.netcdf4_classic`` (L599) through
netcdf-java 5.1.0 (``openeo-geotrellis/pom.xml`` L203-212), maps the cell type to a
netcdf-java type and a nodata (L663-686) and adds ``_FillValue`` =
``nodata.getOrElse(0)`` (L693, ``addNetcdfVariable`` L752-760: not Integer.MIN_VALUE).
What netcdf-java makes of that (Unidata/netcdf-java 5d70eef9
``cdm/core/src/main/java/ucar/nc2/NetcdfFileWriter.java`` ``Version.isExtendedModel``
and ``addVariable``; 00462170 ``netcdf4/src/main/java/ucar/nc2/jni/netcdf/Nc4Iosp.java``
``writeAttribute``, whose _FillValue check is also in the 4.6 source, Unidata/thredds;
``ucar.nc2.Attribute(String, Number)`` types the attribute by the number's class; 5.x
sources, not the v5.1.0 tag itself):

- the classic model is not the "extended model" (``Version.isExtendedModel``: netcdf4
  and ncstream only), so ``addVariable`` stores UBYTE as BYTE and USHORT as SHORT
  (``dataType.withSignedness(SIGNED)``) and adds ``_Unsigned = "true"`` to the variable;
  the cells are written bit for bit (``writeData`` puts the tile's byte/short array as
  it is), so 200 is stored as -56 and a reader applying ``_Unsigned`` reads 200;
- ``_FillValue`` is written only when the attribute's type is the variable's
  (``writeAttribute``: "_FillValue type does not agree with variable", the attribute is
  skipped). The attribute's type is the Java class of the number (``new
  Attribute(name, Number)``): ``ubyteNODATA``/``ushortNODATA`` of the constant-nodata
  types are a Byte/Short (0), kept; the ``widenedNoData.asInt`` of a user-defined unsigned
  nodata (255 of linear_scale_range's uint8) and the ``getOrElse(0)`` of a type without
  nodata (geotrellis's bits, ``uint8raw``) are Integers, dropped.

So geotrellis's bits (a comparison's result, UBYTE 0/1: L297, L665) are BYTE 0/1 with
``_Unsigned`` and no ``_FillValue``; uint8/uint16 with nodata 0 (geotrellis's
UByte/UShortConstantNoData: ``withNoData(Some(0))`` and the GDAL/GeoTIFF readers give it)
BYTE/SHORT with ``_Unsigned`` and ``_FillValue`` 0; any other unsigned nodata, or none,
without ``_FillValue`` (the nodata cells keep their value). CF readers (xarray,
netCDF4-python) decode ``_Unsigned`` back to uint8/uint16. Signed integers keep their
type and nodata (int32's Integer.MIN_VALUE without the attribute); floats are float32
with NaN, or float64 (:mod:`hybrid.io.netcdf_layout`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hybrid.io.cube import stored_values

#: geotrellis' constant nodata per integer cell type (ByteConstantNoData, ShortConstantNoData,
#: IntConstantNoData)
_INT_NODATA = {"int8": -128, "int16": -32768, "int32": -(2**31)}
#: the cell types netcdf-java stores as the signed type of their size, with ``_Unsigned``
_SIGNED = {"bool": "int8", "uint8": "int8", "uint16": "int16"}


def storage(dtype: Any, nodata: float | int | None) -> tuple[str, float | int | None]:
    """(the values' type, the value nodata is stored as, None for a type without nodata,
    which stores no data as 0) for a cube of ``dtype`` with ``nodata``: the file
    variable's type is :func:`file_dtype` of the first."""
    name = np.dtype(dtype).name
    if name == "bool":  # geotrellis bits: 0/1 without nodata
        return "bool", None
    if name in _INT_NODATA:
        fill = _INT_NODATA[name] if nodata is None or not float(nodata).is_integer() else nodata
        return name, int(fill)
    if name in _SIGNED:  # uint8raw, uint16raw: no nodata
        whole = nodata is not None and float(nodata).is_integer()
        return name, int(nodata) if whole else None  # type: ignore[arg-type]
    return ("float64" if name == "float64" else "float32"), float("nan")


def file_dtype(dtype: str) -> str:
    """The type of the file variable holding values of ``dtype`` (see the docstring)."""
    return _SIGNED.get(dtype, dtype)


def is_unsigned(dtype: str) -> bool:
    """Whether values of ``dtype`` are stored with ``_Unsigned = "true"``."""
    return dtype in _SIGNED


def fill_attribute(dtype: str, fill: float | int | None) -> Any:
    """The ``_FillValue`` a variable of values of ``dtype`` stored with nodata ``fill``
    gets, in the file variable's type, or None for none: not int32 (Integer.MIN_VALUE,
    which ``addNetcdfVariable`` L758 leaves out), not bits, and of the unsigned types
    only the constant nodata 0 (Nc4Iosp drops the Integer of the others and of a type
    without nodata, see the docstring)."""
    if dtype == "int32":  # its user-defined nodata too, as before (not checked here)
        return None
    if fill is None or (is_unsigned(dtype) and fill != 0):
        return None
    return np.array(fill, dtype=file_dtype(dtype))


def file_values(values: Any, dtype: str, fill: float | int | None) -> np.ndarray:
    """``values`` (a cube's block, NaN for no data) as the file variable stores them:
    in ``dtype`` with NaN as ``fill`` (0 when None), unsigned ones reinterpreted as
    their signed type bit for bit (netcdf-java writes the tile's array as it is)."""
    stored = stored_values(values, "uint8" if dtype == "bool" else dtype, fill)
    return stored.view(file_dtype(dtype)) if is_unsigned(dtype) else stored
