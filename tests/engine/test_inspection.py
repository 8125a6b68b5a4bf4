"""``inspect`` outside a job: Python logging; its texts as Copernicus logs them
(openeo-python-driver process_implementations/misc.py ``inspect``); the job's log is
checked through the client in tests/workflows/test_batch_job_scripts.py."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import xarray as xr

from hybrid.backends.local.processes.inspection import describe, inspect
from hybrid.errors import ProcessParameterInvalid


def test_a_cube_is_described_as_copernicus_metadata() -> None:
    cube = xr.DataArray(
        np.zeros((2, 1, 3, 4)), dims=("t", "bands", "y", "x"), coords={"bands": ["B04"]}
    )
    assert describe(cube) == "CubeMetadata(['B04'] - ['x', 'y', 't', 'bands'])"
    assert describe(cube.isel(bands=0, drop=True).expand_dims(season=["s"])) == (
        "CubeMetadata(no bands dimension - ['x', 'y', 't', 'season'])"
    )
    assert describe([1, "a", None]) == "[1, 'a', None]"  # Python's str, as there


def test_outside_a_job_inspect_logs_and_returns_the_data(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        assert inspect(3.5, message="hello", level="WARNING") == 3.5
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("WARNING", "User: hello"),
        ("WARNING", "User: 3.5"),
    ]
    with pytest.raises(ProcessParameterInvalid, match="level must be one of"):
        inspect(1, level="fatal")
