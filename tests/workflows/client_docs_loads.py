"""The small box, loads, raw bands and refusals of the client documentation tests
(test_client_docs_processes.py, test_client_docs_data_access.py,
test_client_docs_construction.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from tests.workflows.raw import DATES

#: a few pixels of the seed field (6 x 5 px)
SMALL_BBOX = {"west": 6.6640, "south": 45.2400, "east": 6.6645, "north": 45.2404}


def _nc(path: Path) -> xr.Dataset:
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load()


def _load(connection: Any, bands: list[str] | None, **load: Any) -> Any:
    load.setdefault("temporal_extent", DATES)
    load.setdefault("spatial_extent", SMALL_BBOX)
    return connection.load_collection("SENTINEL2_L2A", bands=bands, **load)


def _get(cube: Any, path: Path, variable: str = "B04") -> np.ndarray:
    cube.download(path, format="netCDF")
    out: np.ndarray = _nc(path)[variable].values.astype(np.float64)
    return out


def _band(raw: xr.Dataset, name: str) -> np.ndarray:
    out: np.ndarray = raw[name].values.astype(np.float64)
    return out


def _refused(call: Any, code: str | None = None) -> Any:
    """The one openEO error of ``call``: a 4xx with an error code, never a 5xx."""
    from openeo.rest import OpenEoApiError

    with pytest.raises(OpenEoApiError) as caught:
        call()
    assert 400 <= caught.value.http_status_code < 500, caught.value
    if code is not None:
        assert caught.value.code == code, caught.value
    return caught.value
