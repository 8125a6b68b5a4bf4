"""GeoTIFF results in the integer cell type Copernicus writes after ``linear_scale_range``
to an integer range (openeo-geotrellis-extensions OpenEOProcessScriptBuilder.scala
``linearScaleRangeFunction`` L1271-1322: uint8 with nodata 255 below a range of 254,
uint16 with nodata 65535 below 65535, else int16 with nodata -32768), through the real
openeo client against the emulator; every other result stays float32 with NaN."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
import xarray as xr

from backends.local.cell_types import result_cell_type
from tests.server_helpers import local_connection

BBOX = {"west": 6.660, "south": 45.236, "east": 6.668, "north": 45.244}
DATES = ["2023-06-10", "2023-06-20"]


@pytest.fixture(scope="module")
def connection(tmp_path_factory: pytest.TempPathFactory, sample_catalog: Path) -> Iterator[Any]:
    with local_connection(tmp_path_factory.mktemp("cells") / "data", sample_catalog) as connected:
        yield connected


def _red(connection: Any) -> Any:
    """B04 of the first date, bright pixels (> 500) masked: a cube with nodata."""
    cube = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=BBOX, temporal_extent=DATES, bands=["B04"]
    ).reduce_dimension("t", reducer="first")
    return cube.mask(cube > 500)


def _tiff(cube: Any, path: Path) -> tuple[str, float | None, np.ndarray]:
    cube.download(path, format="GTiff")
    with rasterio.open(path) as src:
        return src.dtypes[0], src.nodata, src.read(1)


@pytest.mark.parametrize(
    ("low", "high", "dtype", "nodata"),
    [(0, 200, "uint8", 255), (0, 255, "uint16", 65535), (-100, 100, "int16", -32768)],
)
def test_integer_output_range_is_written_in_its_cell_type(
    connection: Any, tmp_path: Path, low: int, high: int, dtype: str, nodata: int
) -> None:
    red = _red(connection)
    integers = red.linear_scale_range(0, 1000, low, high)
    got_type, got_nodata, got = _tiff(integers, tmp_path / "i.tif")
    # the same graph with float bounds: float32, the fraction kept
    floats = red.linear_scale_range(0, 1000, float(low), float(high))
    float_type, _, reference = _tiff(floats, tmp_path / "f.tif")
    assert (got_type, got_nodata, float_type) == (dtype, nodata, "float32")
    assert np.isnan(reference).any() and not np.isnan(reference).all()
    want = np.where(np.isnan(reference), nodata, np.trunc(reference)).astype(dtype)
    np.testing.assert_array_equal(got, want)


def test_the_cell_type_survives_filters_and_not_band_maths(connection: Any, tmp_path: Path) -> None:
    scaled = _red(connection).linear_scale_range(0, 1000, 0, 200)
    inner = {"west": 6.662, "south": 45.238, "east": 6.666, "north": 45.242}
    filtered, _, _ = _tiff(scaled.filter_bbox(**inner), tmp_path / "filtered.tif")
    _, _, whole = _tiff(scaled, tmp_path / "scaled.tif")
    doubled, nodata, values = _tiff(scaled * 2, tmp_path / "doubled.tif")
    assert filtered == "uint8"
    assert doubled == "float32" and nodata is not None and np.isnan(nodata)
    np.testing.assert_array_equal(values, np.where(whole == 255, np.nan, 2.0 * whole))


def test_netcdf_stays_float32(connection: Any, tmp_path: Path) -> None:
    """NetCDF is written as before (float32, NaN): the classic model here has no
    unsigned types (Copernicus writes netcdf-java's UBYTE/USHORT)."""
    path = tmp_path / "scaled.nc"
    _red(connection).linear_scale_range(0, 1000, 0, 200).download(path, format="netCDF")
    with xr.open_dataset(path, engine="h5netcdf", mask_and_scale=False) as ds:
        assert ds["B04"].dtype == np.float32


def _apply_lsr(**bounds: Any) -> dict[str, Any]:
    scale = {"process_id": "linear_scale_range", "result": True}
    scale["arguments"] = {"x": {"from_parameter": "x"}, "inputMin": 0, "inputMax": 1, **bounds}
    return {
        "process_id": "apply",
        "arguments": {"data": {"from_node": "load"}, "process": {"process_graph": {"s": scale}}},
    }


@pytest.mark.parametrize(
    ("between", "want"),
    [
        ({"process_id": "filter_bands", "arguments": {"bands": ["B04"]}}, ("uint8", 255)),
        ({"process_id": "resample_spatial", "arguments": {"resolution": 20}}, ("uint8", 255)),
        ({"process_id": "resample_spatial", "arguments": {"method": "bilinear"}}, None),
        ({"process_id": "mask", "arguments": {"mask": None}}, ("uint8", 255)),
        ({"process_id": "mask", "arguments": {"mask": None, "replacement": 0.5}}, None),
        ({"process_id": "reduce_dimension", "arguments": {"dimension": "t"}}, None),
    ],
)
def test_the_processes_between_apply_and_save(between: dict[str, Any], want: Any) -> None:
    between = {**between, "arguments": {**between["arguments"], "data": {"from_node": "apply"}}}
    graph = {"apply": _apply_lsr(outputMin=0, outputMax=100), "between": between}
    assert result_cell_type(graph, {"from_node": "between"}) == want


@pytest.mark.parametrize(
    ("bounds", "want"),
    [
        ({"outputMin": 0, "outputMax": 253}, ("uint8", 255)),
        ({"outputMin": 0, "outputMax": 254}, ("uint16", 65535)),
        ({"outputMin": 0.0, "outputMax": 100}, None),  # a float bound: no cast
        ({"outputMax": 100}, None),  # outputMin's default is 0.0
        ({"outputMin": 0, "outputMax": 1}, None),  # a range of 1
        ({"outputMin": -1, "outputMax": 70000}, None),  # too wide for int16
    ],
)
def test_the_bounds_choose_the_type(bounds: dict[str, Any], want: Any) -> None:
    assert result_cell_type({"apply": _apply_lsr(**bounds)}, {"from_node": "apply"}) == want
