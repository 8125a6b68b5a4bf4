"""load_stac's cube in the cell type of its files, as Copernicus holds it, through the
real openeo client against the emulator: a user's COG of each data type, with and
without a GDAL nodata tag and with and without ``raster:bands`` ``data_type``/``nodata``,
loaded and saved as GTiff and netCDF.

Copernicus reads a load_stac asset through geotrellis's GeoTIFF reader, whose cell type
is the file's (``GeoTiffInfo`` maps the sample type and nodata tag), gives a type
without nodata its default one (openeo-geotrellis-extensions 2a25a26e
``FileLayerProvider.scala`` ``determineCelltype`` L997-1005) and writes the tiles in
that type (geotiff/package.scala L444, L480-485; NetCDFRDDWriter.scala L158-160); the
``raster:bands`` ``data_type`` and ``nodata`` it passes to ``addLink``
(openeo-geopyspark-driver 9baf2e10 ``load_stac.py`` L395-418) are not read there
(``FileLayerProvider.scala`` L1536-1555 reads a link's href, title and offset only).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
import xarray as xr

from tests.netcdf_unsigned import assert_stored_as_netcdf_java, read_variable
from tests.server_helpers import local_connection
from tests.user_stac import write_user_collection

SIZE = 16


@pytest.fixture(scope="module")
def connection(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with local_connection(tmp_path_factory.mktemp("stac_cells") / "data") as connected:
        yield connected


def _values(dtype: str) -> np.ndarray:
    """A ramp in ``dtype`` over the tile: 0 in the first pixel, the type's largest value
    in the last (for floats a value float32 cannot hold)."""
    kind = np.dtype(dtype)
    if kind.kind == "f":
        ramp = np.linspace(0.0, 1.0, SIZE * SIZE) + 1e-9
        ramp[0] = 0.0
        return ramp.reshape(SIZE, SIZE).astype(kind)
    top = int(np.iinfo(kind).max)
    ramp = np.linspace(np.iinfo(kind).min if kind.kind == "i" else 0, top, SIZE * SIZE)
    values = np.round(ramp).astype(kind)
    values.flat[0] = 0
    return values.reshape(SIZE, SIZE)


#: (file dtype, nodata tag, raster:bands entry) -> (written dtype, written nodata):
#: geotrellis's cell type of the file, a type without nodata given its default one
CASES = [
    ("float64", None, {}, "float64", float("nan")),
    (
        "float64",
        -9999.0,
        {"raster:bands": [{"data_type": "float64", "nodata": -9999}]},
        "float64",
        -9999.0,
    ),
    ("float32", None, {"raster:bands": [{"data_type": "float32"}]}, "float32", float("nan")),
    ("uint16", None, {}, "uint16", 0),
    ("uint16", 65535, {}, "uint16", 65535),
    ("uint16", None, {"raster:bands": [{"data_type": "uint16", "nodata": 0}]}, "uint16", 0),
    # the asset's nodata (STAC 1.1 bands) is not read: 65535 stays a value, 0 is the
    # default nodata
    (
        "uint16",
        None,
        {"bands": [{"name": "v", "data_type": "uint16", "nodata": 65535}]},
        "uint16",
        0,
    ),
    (
        "float32",
        None,
        {"bands": [{"name": "v", "data_type": "float32", "nodata": 1.0}]},
        "float32",
        float("nan"),
    ),
    ("uint8", None, {"raster:bands": [{"data_type": "uint8"}]}, "uint8", 0),
    ("uint8", 255, {}, "uint8", 255),
    ("int16", None, {}, "int16", -32768),
    ("int16", -1, {"raster:bands": [{"data_type": "int16", "nodata": -1}]}, "int16", -1),
    ("int32", None, {}, "int32", -(2**31)),
    # geotrellis reads uint32 as float32 without nodata (NaN by default): 0 is a value
    ("uint32", None, {"raster:bands": [{"data_type": "uint32"}]}, "float32", float("nan")),
]


@pytest.mark.parametrize(("dtype", "tag", "band", "written", "nodata"), CASES)
def test_load_stac_is_written_in_its_files_cell_type(
    connection: Any, tmp_path: Path, dtype: str, tag: Any, band: Any, written: str, nodata: Any
) -> None:
    values = _values(dtype)
    url = write_user_collection(tmp_path / "stac", values, tag=tag, band=band)
    cube = connection.load_stac(str(url), temporal_extent=["2024-01-01", "2025-01-01"])
    cube.download(tmp_path / "out.tif", format="GTiff")
    with rasterio.open(tmp_path / "out.tif") as src:
        got_type, got_nodata, got = src.dtypes[0], src.nodata, src.read(1)
    assert got_type == written
    assert got_nodata == nodata or (np.isnan(got_nodata) and np.isnan(nodata))
    masked = values == nodata
    want = np.where(masked, nodata, values).astype(written)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize(
    ("dtype", "tag", "written", "fill"),
    [
        ("float64", None, "float64", float("nan")),
        # DoubleUserDefinedNoData(-9999): NetCDFRDDWriter.scala L686 takes its nodata
        ("float64", -9999.0, "float64", -9999.0),
        ("int16", None, "int16", -32768),
    ],
)
def test_load_stac_netcdf_keeps_the_files_cell_type(
    connection: Any, tmp_path: Path, dtype: str, tag: Any, written: str, fill: float
) -> None:
    values = _values(dtype)
    if tag is not None:
        values.flat[1] = tag  # a nodata pixel
    url = write_user_collection(tmp_path / "stac", values, tag=tag)
    cube = connection.load_stac(str(url), temporal_extent=["2024-01-01", "2025-01-01"])
    cube.download(tmp_path / "out.nc", format="netCDF")
    with xr.open_dataset(tmp_path / "out.nc", mask_and_scale=False) as ds:
        variable = ds["v"]
        got_fill = variable.attrs.get("_FillValue", variable.encoding.get("_FillValue"))
        assert (str(variable.dtype), str(got_fill)) == (written, str(fill))
        got = variable.isel(t=0).values
    if tag is not None:
        assert got.flat[1] == tag
    np.testing.assert_array_equal(got.flat[2:], values.flat[2:])


@pytest.mark.parametrize(
    ("dtype", "tag", "fill"),
    [("uint8", None, 0), ("uint8", 255, None), ("uint16", None, 0), ("uint16", 65535, None)],
)
def test_load_stac_netcdf_of_unsigned_files_is_stored_as_netcdf_java_stores_it(
    connection: Any, tmp_path: Path, dtype: str, tag: Any, fill: int | None
) -> None:
    """A uint8/uint16 file's cube (UByte/UShortConstantNoData, nodata 0, without a tag;
    UserDefinedNoData with one) in Copernicus's ``netcdf4_classic`` file: the signed type
    with ``_Unsigned = "true"``; ``_FillValue`` 0 of the constant-nodata types (a Byte or
    Short, as the variable), none of a user-defined nodata (its Integer does not match the
    variable's type and netcdf-java drops it): NetCDFRDDWriter.scala L599, L669-686,
    L693; tests/netcdf_unsigned.py. The cells are the file's, nodata included."""
    values = _values(dtype)
    url = write_user_collection(tmp_path / "stac", values, tag=tag)
    cube = connection.load_stac(str(url), temporal_extent=["2024-01-01", "2025-01-01"])
    cube.download(tmp_path / "out.nc", format="netCDF")
    read = read_variable(tmp_path / "out.nc", "v")
    assert_stored_as_netcdf_java(read, dtype, fill)
    np.testing.assert_array_equal(read.raw[0].view(dtype), values)


def test_a_reduction_over_time_keeps_the_files_nodata(connection: Any, tmp_path: Path) -> None:
    """``max`` over ``t`` keeps the tiles' cell type, nodata included
    (OpenEOProcessScriptBuilder.scala L1157, ``PRESERVE_DATATYPE_MODE``): a uint16 file
    without nodata tag is UShortConstantNoData, nodata 0, also after it (not the 65535
    of linear_scale_range's uint16)."""
    values = _values("uint16")
    dates = ("2024-05-01T10:00:00Z", "2024-05-11T10:00:00Z")
    url = write_user_collection(tmp_path / "stac", values, dates=dates)
    cube = connection.load_stac(str(url), temporal_extent=["2024-01-01", "2025-01-01"])
    cube.reduce_dimension("t", reducer="max").download(tmp_path / "max.tif", format="GTiff")
    with rasterio.open(tmp_path / "max.tif") as src:
        assert (src.dtypes[0], src.nodata) == ("uint16", 0)
        np.testing.assert_array_equal(src.read(1), values)
