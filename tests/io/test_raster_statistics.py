"""Band statistics of result files as Copernicus reports them on job result assets (what
``gdalinfo -stats`` says, named and kept by its rules). Copernicus's own file and answer
are compared in tests/server/test_result_collection.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from hybrid.io.gtiff import write_gtiff
from hybrid.io.netcdf import write_netcdf
from hybrid.io.raster_statistics import band_statistics
from hybrid.testing import synthetic_result

DATES = ("2023-05-01", "2023-06-01", "2023-07-01")


def _expected(values: np.ndarray) -> dict[str, float]:
    valid = values[np.isfinite(values)].astype("float64")
    return {
        "minimum": valid.min(),
        "maximum": valid.max(),
        "mean": valid.mean(),
        "stddev": valid.std(),
        "valid_percent": round(100.0 * valid.size / values.size, 2),  # GDAL's rounding
    }


def _close(ours: dict[str, float], expected: dict[str, float]) -> None:
    assert set(ours) == set(expected)
    for key, value in expected.items():  # GDAL's text has 14 significant digits
        assert ours[key] == pytest.approx(value, rel=1e-12), key


def test_one_variable_over_time_keeps_the_last_time_steps_statistics(tmp_path: Path) -> None:
    cube = synthetic_result(dates=DATES, shape=(40, 30))
    path = write_netcdf(cube, tmp_path / "openEO.nc")
    (entry,) = band_statistics(path)
    assert entry["name"] == "var"  # its long_name
    _close(entry["statistics"], _expected(cube.values[-1]))
    assert [p.name for p in tmp_path.iterdir()] == ["openEO.nc"]  # nothing written beside


def test_several_variables_are_named_after_them(tmp_path: Path) -> None:
    cube = synthetic_result(dates=DATES, shape=(20, 24))
    bands = xr.concat([cube, cube * 2], dim="bands").assign_coords(bands=["B04", "B08"])
    path = write_netcdf(bands.transpose("t", "bands", "y", "x"), tmp_path / "openEO.nc")
    entries = band_statistics(path)
    assert [e["name"] for e in entries] == ["B04", "B08"]
    _close(entries[1]["statistics"], _expected(cube.values[-1] * 2))


def test_gtiff_bands_by_description_else_number(tmp_path: Path) -> None:
    cube = synthetic_result(dates=DATES[:1], shape=(20, 24))
    (plain,) = write_gtiff(cube, tmp_path / "plain")
    (entry,) = band_statistics(plain)
    assert entry["name"] == "1"
    _close(entry["statistics"], _expected(cube.values[0]))
    bands = xr.concat([cube, cube + 1], dim="bands").assign_coords(bands=["B02", "B03"])
    (named,) = write_gtiff(bands.transpose("t", "bands", "y", "x"), tmp_path / "named")
    assert [e["name"] for e in band_statistics(named)] == ["B02", "B03"]


def test_no_valid_pixel_and_values_that_are_not_finite(tmp_path: Path) -> None:
    cube = synthetic_result(dates=DATES[:1], shape=(8, 8))
    empty = cube.copy(data=np.full(cube.shape, np.nan, dtype="float32"))
    (path,) = write_gtiff(empty, tmp_path / "empty")
    assert band_statistics(path) == [{"name": "1", "statistics": {"valid_percent": 0.0}}]
    values = cube.values.copy()
    values[0, 1, 1] = np.inf
    (path,) = write_gtiff(cube.copy(data=values), tmp_path / "inf")
    ((entry),) = band_statistics(path)
    assert entry["statistics"]["maximum"] == "inf"
    assert entry["statistics"]["mean"] == "nan"  # as Copernicus writes a float it cannot


def test_a_file_gdal_cannot_read_has_none(tmp_path: Path) -> None:
    path = tmp_path / "openEO.nc"
    path.write_bytes(b"not a netcdf")
    assert band_statistics(path) == []
    assert band_statistics(tmp_path / "absent.tif") == []
