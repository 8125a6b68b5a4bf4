"""Reading a netCDF band variable as its stored form and as CF readers decode it, to
check an unsigned cube against the file Copernicus's writer makes of it.

netcdf-java (5.1.0, which geotrellis-extensions 2a25a26e ``openeo-geotrellis/pom.xml``
L203-212 uses) writes a UBYTE/USHORT variable of a ``netcdf4_classic`` file as BYTE/SHORT
with ``_Unsigned = "true"`` (``NetcdfFileWriter.addVariable``: the classic model is not
the extended one, so the type is made signed and the attribute added), and drops a
``_FillValue`` whose Java type is not the variable's (``Nc4Iosp.writeAttribute``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import netCDF4
import numpy as np
import xarray as xr


@dataclass(frozen=True)
class Read:
    """One variable: as stored, and as xarray and netCDF4-python decode it."""

    #: the stored values (no decoding at all)
    raw: np.ndarray
    #: the stored variable's attributes
    attrs: dict[str, object]
    #: xarray's default decoding (CF masking and ``_Unsigned``)
    decoded: np.ndarray
    #: netCDF4-python's default reading (a masked array)
    masked: np.ma.MaskedArray


def read_variable(path: Path, name: str) -> Read:
    with xr.open_dataset(path, mask_and_scale=False) as ds:
        raw = ds[name].values
        attrs = dict(ds[name].attrs)
    with xr.open_dataset(path) as ds:
        decoded = ds[name].values
    with netCDF4.Dataset(path) as ds:
        masked = np.ma.asarray(ds[name][:])
        attrs.update({key: ds[name].getncattr(key) for key in ds[name].ncattrs()})
    return Read(raw=raw, attrs=attrs, decoded=decoded, masked=masked)


def assert_stored_as_netcdf_java(read: Read, dtype: str, fill: int | None) -> None:
    """``read`` holds cells of the unsigned ``dtype`` as netcdf-java stores them: the
    signed type of the same size with ``_Unsigned = "true"``, ``_FillValue`` ``fill``
    (None: no such attribute); xarray and netCDF4-python give ``dtype`` back."""
    signed = np.dtype(dtype.replace("uint", "int"))
    assert (read.raw.dtype, read.attrs.get("_Unsigned")) == (signed, "true")
    assert read.attrs.get("_FillValue") == fill
    if fill is not None:
        assert read.attrs["_FillValue"].dtype == signed  # type: ignore[attr-defined]
    assert read.masked.dtype == np.dtype(dtype)
    values = read.raw.view(dtype)
    np.testing.assert_array_equal(read.masked.filled(fill or 0), values)
    np.testing.assert_array_equal(np.ma.getmaskarray(read.masked), values == fill)
    if fill is None:
        assert read.decoded.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(read.decoded, values)
    else:
        np.testing.assert_array_equal(read.decoded, np.where(values == fill, np.nan, values))


def masking(ds: xr.Dataset, nodata: int) -> xr.Dataset:
    """``ds`` with its unsigned variables' ``nodata`` cells as NaN, as a reader of
    Copernicus's file masks a user-defined nodata (65535 of linear_scale_range's
    uint16) that the file has no ``_FillValue`` for."""
    unsigned = [name for name, var in ds.data_vars.items() if var.dtype.kind == "u"]
    return ds.assign({name: ds[name].where(ds[name] != nodata) for name in unsigned})
