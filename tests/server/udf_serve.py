"""A ``hybrid serve`` for UDFs, the client connected to it and the UDF examples' helpers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.server_helpers import ServeProcess, openeo_env, write_users_file

#: a corner of the seed area: 33 x 40 pixels
BBOX = {"west": 6.660, "south": 45.230, "east": 6.665, "north": 45.233}

#: seven dates of the sample
DATES = ["2023-06-01", "2023-07-01"]

USERS = {"alice": "alice-pw", "bob": "bob-pw"}

#: generous: a loaded CI machine (load 10 on 2 cores) took over 30 s for a one-second UDF
UDF_TIMEOUT = 300

RESCALE_UDF = """
import xarray

def apply_datacube(cube: xarray.DataArray, context: dict) -> xarray.DataArray:
    cube.values = 0.0001 * cube.values
    return cube
"""


def _serve(root: Path, sample_catalog: Path, udf_timeout: float) -> ServeProcess:
    users = write_users_file(root / "users.toml", USERS)
    return ServeProcess(
        data_dir=root / "data",
        stac=sample_catalog,
        users=users,
        extra_args=["--udf-timeout", str(udf_timeout)],
    )


def _connect(server: Any, user: str = "alice") -> Any:
    import openeo

    return openeo.connect(server.url).authenticate_basic(user, USERS[user])


def _s2(connection: Any, bands: list[str]) -> Any:
    return connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=BBOX, temporal_extent=DATES, bands=bands
    )


@pytest.fixture(autouse=True)
def _openeo_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in openeo_env(tmp_path).items():
        monkeypatch.setenv(key, value)
