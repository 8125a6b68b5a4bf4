"""load_collection ``properties`` beyond cloud cover through the openeo client against
``hybrid serve``: a tile filter as Copernicus's users write it (legacy ``tileId``
"31TGL", adapted to ``grid:code`` "MGRS-31TGL" as Copernicus's layer catalog does), a
relative-orbit filter, a name no item records (no data, as there), and the refusals,
each 400 with one line.

Expected values: the independent reference (tests/reference) on the sample's own items,
chosen by their ``grid:code`` / the ``R008`` of their product name, read with rasterio.
Copernicus sources: openeo-geopyspark-driver ``load_stac.py`` L2731-2806
(AdaptingPropertyFilter), ``docs/layercatalog.md`` L195-210, L621-638 (grid: the items'
common CRS).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr
from openeo.api.process import Parameter

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


def test_a_tile_filter_on_a_name_no_item_records_is_no_data(connection, tmp_path):
    """openeo-usecases jrc_noudf.json's ``eo:mgrs == "31UFT"``: Copernicus refuses no
    property name; items without the property never match (load_stac.py L2633), so
    the load finds nothing: 400 NoDataAvailable (L120-123, L268-269)."""
    from openeo.rest import OpenEoApiError

    with pytest.raises(OpenEoApiError) as info:
        raw_bands(connection, ["B04"], tmp_path / "m.nc", dates=DATES,
                  properties={"eo:mgrs": lambda v: v == "31UFT"})  # fmt: skip
    assert (info.value.http_status_code, info.value.code) == (400, "NoDataAvailable")
    assert "eo:mgrs = '31UFT'" in info.value.message and "\n" not in info.value.message


def _cloud_limited_udp(connection: Any, caplog: pytest.LogCaptureFixture) -> Any:
    """A UDP with ``max_cloud_cover=Parameter(...)`` (a property filter reading a process
    parameter), stored through the client, whose preflight /validation must not warn."""
    limit = Parameter.number("max_cloud_cover", description="max cloud", default=75.0,
                             optional=True)  # fmt: skip
    extent = Parameter.spatial_extent()
    dates = Parameter.temporal_interval(name="temporal_extent")
    cube = connection.load_collection("SENTINEL2_L2A", spatial_extent=extent,
        temporal_extent=dates, bands=["B04"], max_cloud_cover=limit)  # fmt: skip
    with caplog.at_level(logging.WARNING, logger="openeo"):
        connection.save_user_defined_process(
            "cloud_limited", cube, parameters=[extent, dates, limit]
        )
    assert "Preflight process graph validation raised" not in caplog.text, caplog.text
    return cube


def test_a_udp_cloud_cover_parameter_is_checked_once_called(
    connection, sample_catalog, tmp_path, caplog
):
    """The openEO API: /validation "MUST NOT throw an error for unresolvable process
    parameters" (openapi.yaml L2153; Copernicus's dry run still does,
    openeo-python-driver#198). Called with 20, the load keeps the scenes under 20 %; called
    with text, or its graph run as it is, one 400."""
    from openeo.rest import OpenEoApiError

    udp_graph = _cloud_limited_udp(connection, caplog)
    assert connection.validate_process_graph(udp_graph) == []
    called = connection.datacube_from_process(
        "cloud_limited", spatial_extent=BBOX, temporal_extent=DATES, max_cloud_cover=20
    )
    called.download(tmp_path / "c.nc", format="netCDF")
    with xr.open_dataset(tmp_path / "c.nc", engine="h5netcdf") as ds:
        dates, got = [str(t)[:10] for t in ds.t.values], ds["B04"].values
    want_dates, want = _expected(
        sample_catalog, lambda i: i.cloud_cover is not None and i.cloud_cover <= 20
    )
    assert dates == want_dates and "2023-06-12" not in dates and "2023-06-17" not in dates
    np.testing.assert_array_equal(got, want)

    texted = connection.datacube_from_process(
        "cloud_limited", spatial_extent=BBOX, temporal_extent=DATES, max_cloud_cover="a"
    )
    assert [e["code"] for e in texted.validate()] == ["ProcessParameterInvalid"]
    as_stored = connection.load_collection("SENTINEL2_L2A", spatial_extent=BBOX,
        temporal_extent=DATES, bands=["B04"],
        max_cloud_cover=Parameter.number("max_cloud_cover", description="max"))  # fmt: skip
    for cube, words in ((texted, "needs a number constant, got 'a'"),
                        (as_stored, "reads the parameter 'max_cloud_cover'")):  # fmt: skip
        with pytest.raises(OpenEoApiError) as info:
            cube.download(tmp_path / "x.nc", format="netCDF")
        assert (info.value.http_status_code, info.value.code) == (400, "ProcessParameterInvalid")
        assert words in info.value.message, info.value.message
