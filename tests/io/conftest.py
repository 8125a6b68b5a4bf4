"""Fixtures of the result-file tests."""

from __future__ import annotations

import pytest
import xarray as xr

from tests.engine.test_vector_cubes import two_band_series


@pytest.fixture()
def series_cube() -> xr.DataArray:
    """An aggregate_spatial time series: two bands over three fields, the last covering no
    pixel centre."""
    return two_band_series()
