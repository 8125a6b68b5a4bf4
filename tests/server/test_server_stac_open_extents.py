"""load_stac with an open temporal extent keeps items before 2000 and after now, through
the real openeo client against the emulator.

Copernicus filters a load_stac's items with the extent as given, an open bound left
open (openeo-geopyspark-driver 9baf2e10 ``load_stac.py`` ``_TemporalExtent``
L1125-1145, ``intersects`` L1161-1185, used by ``item_intersects`` L1349-1354); the
2000-01-01 and now that ``normalize_temporal_extent`` puts in their place (L229-235)
only reach the JVM, whose ``FixedFeaturesOpenSearchClient.getProducts`` returns every
item it was given whatever the dates (openeo-geotrellis-extensions 2a25a26e
``FixedFeaturesOpenSearchClient.scala`` L46-47; ``FileLayerProvider.scala``
L1592-1598). Without a ``temporal_extent`` the load parameters' default is
``(None, None)`` (openeo-python-driver 9e5b49b2 ``backend.py`` L172).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from tests.server_helpers import local_connection
from tests.user_stac import write_user_collection

DATES = ("1995-06-01T00:00:00Z", "2010-06-01T00:00:00Z", "2090-06-01T00:00:00Z")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Path]]:
    root = tmp_path_factory.mktemp("open_extents")
    values = np.arange(1, 65, dtype=np.uint16).reshape(8, 8)
    url = write_user_collection(root / "stac", values, dates=DATES)
    with local_connection(root / "data") as connection:
        yield connection, url


@pytest.mark.parametrize(
    ("extent", "years"),
    [
        (None, [1995, 2010, 2090]),
        ([None, "2020-01-01"], [1995, 2010]),
        (["2005-01-01", None], [2010, 2090]),
        ([None, "1999-01-01"], [1995]),
    ],
)
def test_open_temporal_bounds_keep_every_item(
    served: tuple[Any, Path], tmp_path: Path, extent: Any, years: list[int]
) -> None:
    connection, url = served
    cube = connection.load_stac(str(url), temporal_extent=extent)
    cube.download(tmp_path / "out.nc", format="netCDF")
    with xr.open_dataset(tmp_path / "out.nc") as ds:
        got = [int(str(t)[:4]) for t in ds["t"].values]
    assert got == years


def test_an_open_extent_takes_the_items_extent_for_periods(
    served: tuple[Any, Path], tmp_path: Path
) -> None:
    """Without a temporal_extent the cube's temporal extent is the items' (load_stac.py
    L584-593: the requested bound, else ``ItemCollection.get_temporal_extent``
    L1650-1660), from which aggregate_temporal_period builds its dekads: the months
    starting in [start - 10 days, end) (hybrid.backends.local.processes.temporal), so
    items from 15 May on have no May dekad (the May item is dropped, as there), where
    2000-01-01 gave every month its dekads."""
    connection, _ = served
    values = np.arange(1, 65, dtype=np.uint16).reshape(8, 8)
    dates = ("2024-05-15T10:00:00Z", "2024-06-15T10:00:00Z")
    url = write_user_collection(tmp_path / "stac", values, dates=dates)
    cube = connection.load_stac(str(url)).aggregate_temporal_period("dekad", reducer="max")
    cube.download(tmp_path / "dekads.nc", format="netCDF")
    with xr.open_dataset(tmp_path / "dekads.nc") as ds:
        labels = [str(t)[:10] for t in ds["t"].values]
    assert "2024-05-11" not in labels and "2024-06-11" in labels
