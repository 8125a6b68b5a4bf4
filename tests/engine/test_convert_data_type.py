"""convert_data_type (hybrid.backends.local.processes.cell_conversion) against numpy's
own integer casts: geotrellis stores a double in a tile of the new type with Java's
narrowing (``(int) d`` saturating, then the low bits), no data as the type's nodata,
and reads that nodata value back as no data; the names are geotrellis's."""

from __future__ import annotations

from typing import Any

import dask.array as da
import numpy as np
import pytest
import xarray as xr

from hybrid.backends.local.processes.cell_conversion import convert_data_type
from hybrid.errors import ProcessParameterInvalid

VALUES = np.array(
    [np.nan, 0.0, 0.7, -0.7, 1.5, 127.9, 128.0, 255.0, 256.0, 300.0, -1.0, -129.0,
     32767.0, 32768.0, -32768.0, 70000.0, 65535.0, 1e12, -1e12, 2.0**31]
)  # fmt: skip

#: name -> (numpy dtype of the tile, nodata as stored or None for a raw type)
TYPES = {
    "int8": ("int8", -128), "int8raw": ("int8", None), "int8ud5": ("int8", 5),
    "uint8": ("uint8", 0), "uint8raw": ("uint8", None), "uint8ud255": ("uint8", 255),
    "int16": ("int16", -32768), "int16raw": ("int16", None), "int16ud32767": ("int16", 32767),
    "uint16": ("uint16", 0), "uint16raw": ("uint16", None), "uint16ud65535": ("uint16", 65535),
    "int32": ("int32", -(2**31)), "int32raw": ("int32", None), "int32ud-1": ("int32", -1),
}  # fmt: skip


def _java_stored(values: np.ndarray, dtype: str, nodata: int | None) -> np.ndarray:
    """What the tile holds, read back as floats with NaN for no data: numpy's C casts
    from int32 wrap as Java's narrowing does."""
    whole = np.where(np.isnan(values), 0, np.clip(values, -(2**31), 2**31 - 1))
    stored = whole.astype(np.int64).astype(np.int32).astype(dtype).astype(np.float64)
    if nodata is None:
        return stored
    stored = np.where(np.isnan(values), nodata, stored)
    return np.where(stored == nodata, np.nan, stored)


def _cube(values: np.ndarray, lazy: bool = False) -> xr.DataArray:
    data: Any = values.reshape(1, 1, 1, -1)
    if lazy:
        data = da.from_array(data, chunks=(1, 1, 1, 7))
    return xr.DataArray(data, dims=("t", "bands", "y", "x"), attrs={"epsg": 32631})


@pytest.mark.parametrize("lazy", [False, True])
@pytest.mark.parametrize("name", list(TYPES))
def test_each_cell_is_narrowed_as_java_stores_it_in_the_tile(name: str, lazy: bool) -> None:
    got = convert_data_type(_cube(VALUES, lazy), name)
    want = _java_stored(VALUES, *TYPES[name])
    np.testing.assert_array_equal(np.asarray(got.values).ravel(), want)
    assert got.dims == ("t", "bands", "y", "x") and got.attrs == {"epsg": 32631}


def test_bits_and_floats() -> None:
    """A bit is the lowest bit of the integer (NaN: 0); float32 rounds; a float type's
    user-defined nodata reads as no data."""
    bits = convert_data_type(_cube(VALUES), "bool").values.ravel()
    whole = np.where(np.isnan(VALUES), 0, np.clip(VALUES, -(2**31), 2**31 - 1)).astype(np.int64)
    np.testing.assert_array_equal(bits, (whole.astype(np.int32) & 1).astype(np.float64))
    floats = convert_data_type(_cube(VALUES), "float32ud-1").values.ravel()
    want = VALUES.astype(np.float32)
    want[want == -1] = np.nan
    np.testing.assert_array_equal(floats, want)
    assert convert_data_type(_cube(VALUES), "float64").values.dtype == np.float64


@pytest.mark.parametrize(
    "name", ["UINT8", "uint32", "float16", "int8udx", "int16ud99999999999", "float32udnan", 8]
)
def test_a_name_geotrellis_refuses_is_refused(name: Any) -> None:
    with pytest.raises(ProcessParameterInvalid, match="is not supported; use one of bool"):
        convert_data_type(_cube(VALUES), name)
