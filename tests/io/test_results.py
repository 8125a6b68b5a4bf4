"""hybrid.io: every encoding of the same result opens as the same normalised cube."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyproj
import pytest
import xarray as xr

from hybrid.errors import UsageError
from hybrid.io.gtiff import write_gtiff
from hybrid.io.netcdf import write_netcdf
from hybrid.io.reader import open_result
from hybrid.testing import synthetic_result

UTM32 = pyproj.CRS.from_epsg(32632)


def make_cube(*, shape=(3, 6, 8), **options):
    nt, ny, nx = shape
    dates = ("2023-05-01", "2023-06-01", "2023-07-01")[:nt]
    return synthetic_result(dates=dates, shape=(ny, nx), **options)


def test_local_layout_round_trip(tmp_path):
    cube = make_cube()
    path = write_netcdf(cube, tmp_path / "openEO.nc", attrs={"job_id": "j-1", "n": 3})
    raw = xr.open_dataset(path, engine="h5netcdf", decode_times=False)
    assert raw["t"].attrs["units"] == "days since 1990-01-01"
    assert raw["t"].dtype.kind == "i"
    assert raw["var"].attrs["grid_mapping"] == "crs"
    assert "crs_wkt" in raw["crs"].attrs and "spatial_ref" in raw["crs"].attrs
    assert np.isnan(raw["var"].encoding["_FillValue"])
    assert raw["y"].values[0] > raw["y"].values[-1]
    # Copernicus's layout: a char crs holding only the WKT, no calendar
    assert raw["crs"].dtype.kind == "S" and set(raw["crs"].attrs) == {"crs_wkt", "spatial_ref"}
    assert "calendar" not in raw["t"].attrs
    raw.close()

    opened = open_result(path)
    assert opened.dims == ("t", "y", "x")
    assert opened.rio.crs.to_epsg() == 32632
    assert opened.attrs["job_id"] == "j-1"
    np.testing.assert_array_equal(opened["t"].values, cube["t"].values)
    np.testing.assert_array_equal(opened.values, cube.values)


def test_timestamps_with_hours_and_other_epoch_normalise_to_date(tmp_path):
    cube = make_cube()
    shifted = cube.assign_coords(t=cube["t"].values + np.timedelta64(10, "h"))
    ds = shifted.to_dataset()
    ds["t"].encoding = {"units": "hours since 2000-01-01", "dtype": "int64"}
    ds.to_netcdf(tmp_path / "hours.nc", engine="h5netcdf")
    opened = open_result(tmp_path / "hours.nc")
    np.testing.assert_array_equal(opened["t"].values, cube["t"].values)


def test_y_ascending_and_fill_value_are_normalised(tmp_path):
    cube = make_cube()
    flipped = cube.isel(y=slice(None, None, -1)).fillna(-999.0).to_dataset()
    flipped["var"].encoding = {"_FillValue": -999.0}
    flipped["crs"] = xr.DataArray(0, attrs={"spatial_ref": UTM32.to_wkt()})
    flipped["var"].attrs["grid_mapping"] = "crs"
    flipped.to_netcdf(tmp_path / "flipped.nc", engine="h5netcdf")
    opened = open_result(tmp_path / "flipped.nc")
    np.testing.assert_array_equal(opened["y"].values, cube["y"].values)
    np.testing.assert_array_equal(opened.values, cube.values)
    assert opened.rio.crs.to_epsg() == 32632


def test_gtiff_folder_opens_like_the_netcdf(tmp_path):
    cube = make_cube()
    write_gtiff(cube, tmp_path / "gtiff")
    folder = tmp_path / "gtiff"
    opened = open_result(folder)
    assert opened.dims == ("t", "y", "x")
    np.testing.assert_array_equal(opened["x"].values, cube["x"].values)
    np.testing.assert_array_equal(opened["y"].values, cube["y"].values)
    np.testing.assert_array_equal(opened["t"].values, cube["t"].values)
    np.testing.assert_array_equal(opened.values, cube.values)


def test_several_variables_become_bands(tmp_path):
    cube = make_cube()
    ds = xr.Dataset({"B04": cube, "B08": cube * 2})
    ds["crs"] = xr.DataArray(0, attrs={"crs_wkt": UTM32.to_wkt()})
    ds.to_netcdf(tmp_path / "bands.nc", engine="h5netcdf")
    opened = open_result(tmp_path / "bands.nc")
    assert opened.dims == ("t", "bands", "y", "x")
    assert list(opened["bands"].values) == ["B04", "B08"]
    round_trip = open_result(write_netcdf(opened, tmp_path / "again.nc"))
    np.testing.assert_array_equal(round_trip.values, opened.values)


def test_folder_with_one_netcdf(tmp_path):
    write_netcdf(make_cube(), tmp_path / "job" / "openEO.nc")
    (tmp_path / "job" / "job-results.json").write_text("{}")
    assert open_result(tmp_path / "job").sizes["t"] == 3


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "missing.nc", "not found"),
        (lambda p: _write(p / "junk.nc", b"not a netcdf"), "cannot read"),
        (lambda p: _write(p / "junk.tif", b"not a tiff"), "cannot read"),
        (lambda p: (p / "empty").mkdir() or p / "empty", "holds no result"),
    ],
)
def test_unreadable_input_is_a_usage_error(tmp_path, make, message):
    with pytest.raises(UsageError, match=message) as info:
        open_result(make(tmp_path))
    assert "\n" not in str(info.value)
    assert info.value.exit_code == 2


def _write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path
