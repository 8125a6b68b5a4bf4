"""``sort``, ``order`` or ``rearrange`` in an apply_dimension callback through the openeo
client against ``hybrid serve``: one 400 ProcessUnsupported naming the process and its
place, as Copernicus refuses them (its callback builder has no ``sort``, ``order`` or
``rearrange``: openeo-geotrellis-extensions
OpenEOProcessScriptBuilder.scala L1214 "Unsupported operation"), not a numpy shape
message after loading."""

from __future__ import annotations

import pytest

from tests.workflows.raw import BBOX, DATES


def test_sort_in_apply_dimension_is_one_clear_400(connection, tmp_path):
    from openeo.processes import sort
    from openeo.rest import OpenEoApiError

    cube = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=BBOX, temporal_extent=DATES, bands=["B04"]
    )
    sorted_cube = cube.apply_dimension(lambda x: sort(x), dimension="t")
    with pytest.raises(OpenEoApiError) as info:
        sorted_cube.download(tmp_path / "x.nc", format="netCDF")
    assert info.value.http_status_code == 400
    assert info.value.code == "ProcessUnsupported"
    message = info.value.message
    assert "'sort'" in message and "apply_dimension" in message and "\n" not in message
    assert sorted_cube.validate()[0]["code"] == "ProcessUnsupported"


def test_order_in_apply_dimension_is_one_clear_400(connection, tmp_path):
    from openeo.processes import order
    from openeo.rest import OpenEoApiError

    cube = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=BBOX, temporal_extent=DATES, bands=["B04"]
    )
    ranked = cube.apply_dimension(lambda x: order(x), dimension="t")
    with pytest.raises(OpenEoApiError) as info:
        ranked.download(tmp_path / "x.nc", format="netCDF")
    assert (info.value.http_status_code, info.value.code) == (400, "ProcessUnsupported")
    assert "'order'" in info.value.message and "apply_dimension" in info.value.message


def test_rearrange_in_apply_dimension_is_one_clear_400(connection, tmp_path):
    from openeo.processes import rearrange
    from openeo.rest import OpenEoApiError

    cube = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=BBOX, temporal_extent=DATES, bands=["B04"]
    )
    swapped = cube.apply_dimension(lambda x: rearrange(x, [1, 0]), dimension="t")
    with pytest.raises(OpenEoApiError) as info:
        swapped.download(tmp_path / "x.nc", format="netCDF")
    assert (info.value.http_status_code, info.value.code) == (400, "ProcessUnsupported")
    assert "'rearrange'" in info.value.message and "apply_dimension" in info.value.message
