"""The openeo client's ``DataCube.convert_data_type`` against ``hybrid serve``: the file
has the cell type asked for (dtype and nodata, as Copernicus writes the converted tile),
its cells Java's narrowing of the float cube downloaded from the same server (numpy's
integer casts, which wrap the same way), and a filter after the conversion keeps it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
import xarray as xr

from tests.workflows.raw import BBOX, DATES

#: name -> (file dtype, nodata as written or None)
CASES = {
    "uint8": ("uint8", 0.0),
    "int8ud5": ("int8", 5.0),
    "int16": ("int16", -32768.0),
    "uint16raw": ("uint16", None),
    "float32ud-9999": ("float32", -9999.0),
}


def _scaled(connection: Any) -> Any:
    """NDVI x 250 - 100 of the first date (negatives wrap around in unsigned types),
    masked where NDVI > 0.7 (gaps)."""
    cube = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=BBOX, temporal_extent=DATES, bands=["B04", "B08"]
    )
    ndvi = cube.ndvi().reduce_dimension("t", reducer="first")
    return ndvi.apply(lambda x: x * 250 - 100).mask(ndvi > 0.7)


def _narrowed(values: np.ndarray, dtype: str, nodata: float | None) -> np.ndarray:
    if dtype == "float32":
        return np.where(np.isnan(values), nodata, values).astype(np.float32)
    whole = np.where(np.isnan(values), 0, values).astype(np.int64).astype(np.int32)
    stored = whole.astype(dtype)
    return stored if nodata is None else np.where(np.isnan(values), nodata, stored)


@pytest.fixture(scope="module")
def floats(connection: Any, tmp_path_factory: pytest.TempPathFactory) -> np.ndarray:
    path = tmp_path_factory.mktemp("floats") / "scaled.tif"
    _scaled(connection).download(path, format="GTiff")
    with rasterio.open(path) as ds:
        values: np.ndarray = ds.read(1).astype(np.float64)
    assert np.isnan(values).any() and (values < 0).any(), "the case needs gaps and negatives"
    return values


@pytest.mark.parametrize("name", list(CASES))
def test_the_gtiff_has_the_converted_cells(
    connection: Any, floats: np.ndarray, name: str, tmp_path: Path
) -> None:
    dtype, nodata = CASES[name]
    path = tmp_path / f"{name}.tif"
    _scaled(connection).convert_data_type(name).filter_bbox(**BBOX).download(path, "GTiff")
    with rasterio.open(path) as ds:
        assert (ds.dtypes[0], ds.nodata) == (dtype, nodata)
        got = ds.read(1)
    want = _narrowed(floats, dtype, nodata)
    if dtype == "uint8":  # a converted 0 is the nodata value: written as 0 either way
        assert (got == 0).sum() >= np.isnan(floats).sum()
    np.testing.assert_array_equal(got, want)


def test_the_netcdf_has_the_converted_type(connection: Any, tmp_path: Path) -> None:
    path = tmp_path / "scaled.nc"
    _scaled(connection).convert_data_type("int16ud32767").download(path, format="netCDF")
    with xr.open_dataset(path, engine="h5netcdf", mask_and_scale=False) as ds:
        variable = ds[next(v for v in ds.data_vars if v != "crs")]
        assert variable.dtype == np.int16 and variable.attrs["_FillValue"] == 32767


@pytest.mark.parametrize(("name", "fill"), [("uint8", 0), ("uint16raw", None)])
def test_the_netcdf_of_an_unsigned_type_is_stored_as_netcdf_java_stores_it(
    connection: Any, floats: np.ndarray, tmp_path: Path, name: str, fill: int | None
) -> None:
    """``uint8`` is UByteConstantNoData: BYTE with ``_Unsigned = "true"`` and
    ``_FillValue`` 0; ``uint16raw`` (UShortCellType) SHORT with ``_Unsigned`` and no
    ``_FillValue`` (the writer's Integer 0 does not match the variable's type):
    NetCDFRDDWriter.scala L599, L664-686, L693; tests/netcdf_unsigned.py."""
    from tests.netcdf_unsigned import assert_stored_as_netcdf_java, read_variable

    dtype, nodata = CASES[name]
    path = tmp_path / f"{name}.nc"
    _scaled(connection).convert_data_type(name).download(path, format="netCDF")
    with xr.open_dataset(path, mask_and_scale=False) as ds:
        variable = next(str(v) for v in ds.data_vars if v != "crs")
    read = read_variable(path, variable)
    assert_stored_as_netcdf_java(read, dtype, fill)
    np.testing.assert_array_equal(read.raw.view(dtype), _narrowed(floats, dtype, nodata))
