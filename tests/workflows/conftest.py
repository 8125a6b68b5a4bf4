"""One ``hybrid serve`` on 127.0.0.1 over the embedded sample for all published workflows,
and the raw input each test checks its result against (downloaded from the same server)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import xarray as xr

from tests.server_helpers import ServeProcess, basic_client
from tests.stac_fixtures import serving_directory
from tests.workflows.client_docs_loads import SMALL_BBOX
from tests.workflows.lonlat_collection import write_lonlat_collection
from tests.workflows.raw import raw_bands


@pytest.fixture(scope="session")
def serve(tmp_path_factory: pytest.TempPathFactory, sample_catalog: Path) -> Iterator[ServeProcess]:
    data_dir = tmp_path_factory.mktemp("serve-workflows") / "data"
    with ServeProcess(data_dir=data_dir, stac=sample_catalog, workers=1) as server:
        yield server


@pytest.fixture(scope="session")
def connection(serve: ServeProcess, tmp_path_factory: pytest.TempPathFactory) -> Any:
    return basic_client(serve.url, tmp_path_factory.mktemp("client"))


@pytest.fixture(scope="session")
def lonlat(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mapping[int, str]]:
    """URLs of the collection for January and February 2021, keyed by the latitude of the
    north edge of the tile row the driver counts ``TileRow`` from (the load's north edge,
    rounded up: 1 for the unit extent, 3 for that of test_load_collection_netcdf_extent)."""
    root = tmp_path_factory.mktemp("lonlat4x4")
    for north in (1, 3):
        write_lonlat_collection(root / f"n{north}", origin=(0, north))
    with serving_directory(root) as base:
        yield {north: f"{base}/n{north}/collection.json" for north in (1, 3)}


@pytest.fixture(scope="module")
def raw(connection: Any, tmp_path_factory: pytest.TempPathFactory) -> xr.Dataset:
    """The raw bands over SMALL_BBOX, downloaded once per module (client documentation tests)."""
    path = tmp_path_factory.mktemp("raw") / "raw.nc"
    return raw_bands(connection, ["B02", "B03", "B04", "B08"], path, bbox=SMALL_BBOX)
