"""A client script that names bands by their common names runs as on Copernicus:
``load_collection(bands=["red", "nir"])``, ``filter_bands(["nir"])``, ``band("nir")``
and ``ndvi()`` (``tests/engine/test_band_names.py`` has the rules). A real server
(uvicorn in a thread) over the real ``LocalBackend``, the openeo client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from tests.server_helpers import SEED_BBOX, local_server

EXTENT = ["2023-06-01", "2023-06-20"]


@pytest.fixture(scope="module")
def connection(tmp_path_factory: pytest.TempPathFactory, sample_catalog: Path) -> Iterator[Any]:
    import openeo

    with local_server(tmp_path_factory.mktemp("band-names") / "data", sample_catalog) as server:
        yield openeo.connect(server.url).authenticate_basic("hybrid", "hybrid")


def _load(connection: Any, bands: list[str]) -> Any:
    return connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=SEED_BBOX, temporal_extent=EXTENT, bands=bands
    )


def _download(cube: Any, path: Path) -> xr.Dataset:
    cube.download(path, format="netCDF")
    with xr.open_dataset(path) as dataset:
        return dataset.load()


def test_common_names_through_the_client(connection: Any, tmp_path: Path) -> None:
    named = _load(connection, ["B04", "B08"])
    common = _load(connection, ["red", "nir"])
    want = _download(named.ndvi(), tmp_path / "want.nc")
    by_band = (common.band("nir") - common.band("red")) / (common.band("nir") + common.band("red"))
    got = _download(by_band, tmp_path / "band_maths.nc")
    np.testing.assert_allclose(got["var"].values, want["var"].values, rtol=1e-6)
    got = _download(common.ndvi(), tmp_path / "ndvi.nc")
    np.testing.assert_array_equal(got["var"].values, want["var"].values)
    nir = _download(named.filter_bands(["nir"]), tmp_path / "nir.nc")
    assert [v for v in nir.data_vars if v != "crs"] == ["B08"]
    loaded = _download(common, tmp_path / "common.nc")
    np.testing.assert_array_equal(nir["B08"].values, loaded["nir"].values)
