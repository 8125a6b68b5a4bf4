"""load_collection ``properties`` beyond cloud cover through the openeo client against
``hybrid serve``: a tile filter as Copernicus's users write it (legacy ``tileId``
"31TGL", adapted to ``grid:code`` "MGRS-31TGL" as Copernicus's layer catalog does), a
relative-orbit filter, and the refusals, each 400 with one line.

Expected values: the independent reference (tests/reference) on the sample's own items,
chosen by their ``grid:code`` / the ``R008`` of their product name, read with rasterio.
Copernicus sources: openeo-geopyspark-driver ``load_stac.py`` L2731-2806
(AdaptingPropertyFilter), ``docs/layercatalog.md`` L195-210, L621-638 (grid: the items'
common CRS).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.reference.catalog import RefItem, filter_items, items_per_date, parse_instant
from tests.reference.catalog import read_items as read_ref_items
from tests.reference.grid import aoi_lonlat_bounds, make_grid
from tests.reference.load import load_item, mosaic
from tests.reference.overlap import allowed_pixels
from tests.workflows.raw import BBOX, raw_bands

#: June 2023 of the sample: 31TGL on 06-09 (orbit 8) and 06-22 (orbit 108)
DATES = ["2023-06-01", "2023-07-01"]
AOI = {
    "type": "Polygon",
    "coordinates": [
        [
            [BBOX["west"], BBOX["south"]],
            [BBOX["east"], BBOX["south"]],
            [BBOX["east"], BBOX["north"]],
            [BBOX["west"], BBOX["north"]],
            [BBOX["west"], BBOX["south"]],
        ]
    ],
}


def _expected(catalog: Path, keep: Callable[[RefItem], bool]) -> tuple[list[str], np.ndarray]:
    """Dates and B04 of the reference load of the sample items ``keep`` selects."""
    items = filter_items(
        read_ref_items(catalog),
        start=parse_instant(DATES[0]),
        end=parse_instant(DATES[1]),
        max_cloud_cover=None,
        lonlat_bounds=aoi_lonlat_bounds(AOI),
    )
    per_date = items_per_date([i for i in items if keep(i)])
    epsgs = {i.epsg for group in per_date.values() for i in group}
    grid = make_grid(AOI, kernel_size=0, epsg=epsgs.pop() if len(epsgs) == 1 else None)
    layers = []
    for group in per_date.values():
        loaded = [load_item(i, grid, ("B04",)) for i in group]
        layers.append(mosaic(loaded, allowed_pixels(group, grid))["B04"])
    return [d.isoformat() for d in per_date], np.stack(layers)


def _served(connection: Any, path: Path, properties: dict[str, Any]) -> tuple[list[str], Any]:
    ds = raw_bands(connection, ["B04"], path, dates=DATES, properties=properties)
    return [str(t)[:10] for t in ds.t.values], ds["B04"].values


def test_a_legacy_tile_filter_loads_only_that_tile(connection, sample_catalog, tmp_path):
    dates, got = _served(connection, tmp_path / "t.nc", {"tileId": lambda v: v == "31TGL"})
    want_dates, want = _expected(sample_catalog, lambda i: i.tile == "31TGL")
    assert dates == want_dates == ["2023-06-09", "2023-06-22"]
    assert got.shape == want.shape  # on 31TGL's own UTM zone 31 grid
    np.testing.assert_array_equal(got, want)


def test_a_relative_orbit_filter_loads_only_that_orbit(connection, sample_catalog, tmp_path):
    dates, got = _served(connection, tmp_path / "o.nc", {"sat:relative_orbit": lambda v: v == 8})
    want_dates, want = _expected(
        sample_catalog, lambda i: "_R008_" in str(i.properties.get("s2:product_uri"))
    )
    assert dates == want_dates == ["2023-06-09"]
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize(
    ("properties", "words"),
    [
        ({"relativeOrbitNumber": lambda v: v == 8}, "name it 'sat:relative_orbit'"),
        ({"s2:mgrs_tile": lambda v: v == "31TGL"}, "tileId"),
        ({"sat:orbit_state": lambda v: v == "descending"}, "does not record sat:orbit_state"),
    ],
)
def test_filters_this_source_cannot_evaluate_are_one_400(connection, tmp_path, properties, words):
    from openeo.rest import OpenEoApiError

    with pytest.raises(OpenEoApiError) as info:
        raw_bands(connection, ["B04"], tmp_path / "x.nc", dates=DATES, properties=properties)
    assert info.value.http_status_code == 400
    assert info.value.code == "ProcessParameterInvalid"
    assert words in info.value.message and "\n" not in info.value.message
