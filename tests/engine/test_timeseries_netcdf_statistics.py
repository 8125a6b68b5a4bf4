"""aggregate_spatial time series with several statistics per band as netCDF.

Copernicus names the netCDF variables by the cube's bands when it has a band dimension
(openeo-python-driver 9e5b49b2 save_result.py ``_create_point_timeseries_xarray``
L414-424: ``band_names = self._metadata.band_names``, then one variable per column of
values, ``band_names[band]``): an ``array_create`` of k > 1 statistics over a cube with
n bands gives n * k columns, and the (n + 1)-th raises IndexError, outside the writer's
``try`` (L479-487): the job fails. A cube without bands (reduced, as NDVI) gets
``band_0``... for its columns and is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from hybrid.backends.local.processes.spatial_aggregation import aggregate_spatial
from hybrid.errors import FormatUnsuitable
from tests.engine.vector_grid import TIMES, collection, grid_cube, rect, write_vector_cube


def _mean_and_sd(*args: Any, **kwargs: Any) -> Any:
    """An array_create of mean and sd, with the engine's calling convention."""
    values, axis = args[0], kwargs["axis"]
    return np.stack([np.nanmean(values, axis=axis), np.nanstd(values, axis=axis, ddof=1)])


def _plain_mean(*args: Any, **kwargs: Any) -> Any:
    return np.nanmean(args[0], axis=kwargs["axis"])


def _cube(bands: list[str] | None) -> xr.DataArray:
    rng = np.random.default_rng(3)
    if bands is None:
        return grid_cube(rng.uniform(size=(3, 6, 8)), ("t", "y", "x"), t=TIMES)
    values = rng.uniform(size=(3, 6, 8, len(bands)))
    return grid_cube(values, ("t", "y", "x", "bands"), t=TIMES, bands=bands)


FIELDS = collection(rect(1, 1, 5, 4), rect(3, 2, 7, 6))


@pytest.mark.parametrize("bands", [["B04", "B08"], ["B04"]])
def test_several_statistics_of_a_cube_with_bands_are_refused_as_netcdf(
    bands: list[str], tmp_path: Path
) -> None:
    series = aggregate_spatial(_cube(bands), FIELDS, _mean_and_sd)
    with pytest.raises(FormatUnsuitable, match="several statistics per band"):
        write_vector_cube(series, "netCDF", tmp_path)
    # the other layouts hold them (band_0, band_1, ... as Copernicus's JSON/Parquet)
    assert write_vector_cube(series, "JSON", tmp_path).exists()
    assert write_vector_cube(series, "Parquet", tmp_path).exists()


def test_several_statistics_of_a_cube_without_bands_are_written(tmp_path: Path) -> None:
    series = aggregate_spatial(_cube(None), FIELDS, _mean_and_sd)
    path = write_vector_cube(series, "netCDF", tmp_path)
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        assert list(ds.data_vars) == ["band_0", "band_1"]
        np.testing.assert_allclose(ds["band_1"].values, series.values[..., 1])


def test_one_statistic_per_band_keeps_the_band_names(tmp_path: Path) -> None:
    series = aggregate_spatial(_cube(["B04", "B08"]), FIELDS, _plain_mean)
    path = write_vector_cube(series, "netCDF", tmp_path)
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        assert list(ds.data_vars) == ["B04", "B08"]
