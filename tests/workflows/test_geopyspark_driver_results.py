"""openeo-geopyspark-driver's own result tests (``tests/test_api_result.py`` at 9baf2e10,
L110-1989), replayed against ``hybrid serve`` with the openeo client: each sends its
process graph to the real driver's ``/result`` on the synthetic ``TestCollection-LonLat4x4``
and asserts exact numbers, labels and dims. Here ``load_collection`` of that collection is
``load_stac`` of a static collection of real COGs holding the same values
(:mod:`tests.workflows.lonlat_collection`), served over HTTP on 127.0.0.1; the
driver's expectations are asserted as they are written there.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.testing import assert_equal

from tests.workflows.lonlat_graphs import UNIT, load, saved

#: the 4 x 4 Longitude tile of the unit extent, x first (TestApplyRunUDFWithContext L717)
LONGITUDE4X4 = np.array([[0, 0.25, 0.5, 0.75]] * 4).T


def test_execute_math_basic(connection: Any) -> None:
    """test_execute_math_basic (L110-112): ``add(3, 5)`` answers 8."""
    graph = {"add": {"process_id": "add", "arguments": {"x": 3, "y": 5}, "result": True}}
    assert connection.execute(graph) == 8


def test_load_collection_json_basic(connection: Any, lonlat: Mapping[int, str]) -> None:
    """test_load_collection_json_basic (L115-142): one date, four bands as JSON: dims
    ``t, bands, x, y``, Longitude the pixels' west edges along x."""
    lc = load(lonlat[1], ["2021-01-01", "2021-01-10"], ["Flat:1", "TileRow", "Longitude", "Day"])
    result = connection.execute(saved({"lc": lc}, "lc"))
    assert result["dims"] == ["t", "bands", "x", "y"]
    assert_equal(
        result["data"],
        [[np.ones((4, 4)), np.zeros((4, 4)), LONGITUDE4X4, np.full((4, 4), fill_value=5)]],
    )


def _netcdf(connection: Any, graph: dict[str, Any], tmp_path: Path) -> Any:
    import xarray as xr

    path = tmp_path / "result.nc"
    connection.download(graph, path)
    return xr.load_dataset(path)


def test_load_collection_netcdf_basic(
    connection: Any, lonlat: Mapping[int, str], tmp_path: Path
) -> None:
    """test_load_collection_netcdf_basic (L156-203): as netCDF, ``t`` the date, x ascending
    and y descending pixel centres, Latitude the pixels' south edges."""
    bands = ["Flat:1", "TileRow", "Longitude", "Latitude", "Day"]
    lc = load(lonlat[1], ["2021-01-01", "2021-01-10"], bands)
    ds = _netcdf(connection, saved({"lc": lc}, "lc", "netcdf"), tmp_path)
    assert dict(ds.sizes) == {"t": 1, "x": 4, "y": 4}
    assert_equal(ds.coords["t"].values, [np.datetime64("2021-01-05")])
    assert_equal(ds.coords["x"].values, [0.125, 0.375, 0.625, 0.875])
    assert_equal(ds.coords["y"].values, [0.875, 0.625, 0.375, 0.125])
    assert_equal(ds["Flat:1"].values, np.ones((1, 4, 4)))
    assert_equal(ds["TileRow"].values, np.zeros((1, 4, 4)))
    assert_equal(ds["Longitude"].values, [[[0.00, 0.25, 0.50, 0.75]] * 4])
    assert_equal(ds["Latitude"].values, [[[0.75] * 4, [0.5] * 4, [0.25] * 4, [0.0] * 4]])
    assert_equal(ds["Day"].values, np.full((1, 4, 4), fill_value=5))


def test_load_collection_netcdf_extent(
    connection: Any, lonlat: Mapping[int, str], tmp_path: Path
) -> None:
    """test_load_collection_netcdf_extent (L206-270): an extent off the 0.25 degree grid
    (0.5-3.3 E, 1.2-2.7 N) loads every pixel it touches: 12 x 7 pixels, x 0.625-3.375,
    y 2.625-1.125."""
    bands = ["Flat:1", "TileRow", "Longitude", "Latitude", "Day"]
    extent = {"west": 0.5, "south": 1.2, "east": 3.3, "north": 2.7}
    lc = load(lonlat[3], ["2021-01-01", "2021-01-10"], bands, extent)
    ds = _netcdf(connection, saved({"lc": lc}, "lc", "netcdf"), tmp_path)
    assert dict(ds.sizes) == {"t": 1, "x": 12, "y": 7}
    assert_equal(ds.coords["t"].values, [np.datetime64("2021-01-05")])
    assert_equal(ds.coords["x"].values, 0.625 + 0.25 * np.arange(12))
    assert_equal(ds.coords["y"].values, [2.625, 2.375, 2.125, 1.875, 1.625, 1.375, 1.125])
    assert_equal(ds["Flat:1"].values, np.ones((1, 7, 12)))
    assert_equal(ds["TileRow"].values, [[[0.0] * 12] * 3 + [[1.0] * 12] * 4])
    assert_equal(ds["Longitude"].values, [[list(0.5 + 0.25 * np.arange(12))] * 7])
    assert_equal(
        ds["Latitude"].values, [[[lat] * 12 for lat in (2.5, 2.25, 2.0, 1.75, 1.5, 1.25, 1.0)]]
    )
    assert_equal(ds["Day"].values, np.full((1, 7, 12), fill_value=5))


def _callback(process_id: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """A callback of one node."""
    node = {"process_id": process_id, "arguments": arguments, "result": True}
    return {"process_graph": {"node": node}}


def test_udp_simple_temporal_reduce(connection: Any, lonlat: Mapping[int, str]) -> None:
    """test_udp_simple_temporal_reduce (L273-333): a stored UDP of ``reduce_dimension(t,
    max)`` called on a month: dims ``bands, x, y``, Day the last date's 25."""
    reduce = {
        "process_id": "reduce_dimension",
        "arguments": {
            "data": {"from_parameter": "data"},
            "dimension": "t",
            "reducer": _callback("max", {"data": {"from_parameter": "data"}}),
        },
        "result": True,
    }
    data = {
        "name": "data",
        "description": "cube",
        "schema": {"type": "object", "subtype": "raster-cube"},
    }
    connection.save_user_defined_process("driver_max_t", {"reduce": reduce}, parameters=[data])
    nodes = {
        "lc": load(lonlat[1], ["2021-01-01", "2021-02-01"], ["Longitude", "Day"]),
        "udp": {
            "process_id": "driver_max_t",
            "namespace": "user",
            "arguments": {"data": {"from_node": "lc"}},
        },
    }
    result = connection.execute(saved(nodes, "udp"))
    assert result["dims"] == ["bands", "x", "y"]
    assert_equal(result["data"], [LONGITUDE4X4, np.full((4, 4), fill_value=25)])


def test_apply_square_pixels(connection: Any, lonlat: Mapping[int, str]) -> None:
    """test_apply_square_pixels (L586-640): ``apply`` of ``multiply(x, x)`` squares every
    band of every date."""
    square = _callback("multiply", {"x": {"from_parameter": "x"}, "y": {"from_parameter": "x"}})
    nodes = {
        "lc": load(lonlat[1], ["2021-01-01", "2021-02-01"], ["Longitude", "Day"]),
        "apply": {
            "process_id": "apply",
            "arguments": {"data": {"from_node": "lc"}, "process": square},
        },
    }
    result = connection.execute(saved(nodes, "apply"))
    assert result["dims"] == ["t", "bands", "x", "y"]
    expected = [[LONGITUDE4X4**2, np.full((4, 4), fill_value=day**2)] for day in (5, 15, 25)]
    assert_equal(result["data"], expected)


def _element(key: str, value: Any) -> dict[str, Any]:
    return {
        "process_id": "array_element",
        "arguments": {"data": {"from_parameter": "data"}, key: value},
    }


def _over_bands(
    lonlat: Mapping[int, str],
    bands: list[str],
    process_id: str,
    key: str,
    process: dict[str, Any],
) -> dict[str, Any]:
    """The unit extent's first date of ``bands`` (node ``lc``) and ``process_id`` (node
    ``over``) running ``process`` as its ``key`` callback over the bands dimension."""
    arguments = {
        "data": {"from_node": "lc"},
        "dimension": "bands",
        key: {"process_graph": process},
    }
    return {
        "lc": load(lonlat[1], ["2021-01-01", "2021-01-10"], bands),
        "over": {"process_id": process_id, "arguments": arguments},
    }


def test_apply_dimension_array_concat(connection: Any, lonlat: Mapping[int, str]) -> None:
    """test_apply_dimension_array_concat (L1495-1553): ``apply_dimension`` over bands
    returning the bands concatenated with band 0 and Longitude x Day: six bands."""
    process = {
        "one": _element("index", 0),
        "lon": _element("label", "Longitude"),
        "day": _element("index", 3),
        "lon x day": {
            "process_id": "multiply",
            "arguments": {"x": {"from_node": "lon"}, "y": {"from_node": "day"}},
        },
        "array_concat": {
            "process_id": "array_concat",
            "arguments": {
                "array1": {"from_parameter": "data"},
                "array2": [{"from_node": "one"}, {"from_node": "lon x day"}],
            },
            "result": True,
        },
    }
    bands = ["Flat:1", "TileRow", "Longitude", "Day"]
    nodes = _over_bands(lonlat, bands, "apply_dimension", "process", process)
    result = connection.execute(saved(nodes, "over"))
    assert result["dims"] == ["t", "bands", "x", "y"]
    ones, zeros, fives = np.ones((4, 4)), np.zeros((4, 4)), np.full((4, 4), 5)
    assert_equal(result["data"], [[ones, zeros, LONGITUDE4X4, fives, ones, 5 * LONGITUDE4X4]])


def test_apply_dimension_reduce_time(connection: Any, lonlat: Mapping[int, str]) -> None:
    """test_apply_dimension_reduce_time (L1556-1644): ``apply_dimension(t, target_dimension=
    bands)`` whose result node is ``sd``: one band per pixel-constant series... the driver
    asserts four bands, 0, 0, 0 and 10 (its TODO EP-3916 calls that "probably wrong")."""
    process = {
        "arrayconcat1": {
            "process_id": "array_concat",
            "arguments": {
                "array1": {"from_node": "quantiles1"},
                "array2": [{"from_node": "sd1"}, {"from_node": "mean1"}],
            },
        },
        "mean1": {"process_id": "mean", "arguments": {"data": {"from_parameter": "data"}}},
        "quantiles1": {
            "process_id": "quantiles",
            "arguments": {"data": {"from_parameter": "data"}, "probabilities": [0.25, 0.5, 0.75]},
        },
        "sd1": {
            "process_id": "sd",
            "arguments": {"data": {"from_parameter": "data"}},
            "result": True,
        },
    }
    nodes = {
        "lc": load(
            lonlat[1], ["2021-01-01", "2021-01-30"], ["Flat:1", "TileRow", "Longitude", "Day"]
        ),
        "ad": {
            "process_id": "apply_dimension",
            "arguments": {
                "data": {"from_node": "lc"},
                "dimension": "t",
                "target_dimension": "bands",
                "process": {"process_graph": process},
            },
        },
    }
    result = connection.execute(saved(nodes, "ad"))
    assert result["dims"] == ["bands", "x", "y"]
    zeros = np.zeros((4, 4))
    assert_equal(result["data"], [zeros, zeros, zeros, np.full((4, 4), fill_value=10.0)])


@pytest.mark.parametrize("repeat", [1, 3])
def test_apply_dimension_array_create(
    connection: Any, lonlat: Mapping[int, str], repeat: int
) -> None:
    """test_apply_dimension_array_create (L1647-1693): ``array_create([b0, b1], repeat)``
    over bands: the two bands ``repeat`` times."""
    process = {
        "one": _element("index", 0),
        "day": _element("index", 1),
        "array_create": {
            "process_id": "array_create",
            "arguments": {"data": [{"from_node": "one"}, {"from_node": "day"}], "repeat": repeat},
            "result": True,
        },
    }
    nodes = _over_bands(lonlat, ["Flat:1", "Day"], "apply_dimension", "process", process)
    result = connection.execute(saved(nodes, "over"))
    assert result["dims"] == ["t", "bands", "x", "y"]
    assert_equal(result["data"], [[np.ones((4, 4)), np.full((4, 4), fill_value=5)] * repeat])


def test_reduce_dimension_array_create_array_concat(
    connection: Any, lonlat: Mapping[int, str]
) -> None:
    """test_reduce_dimension_array_create_array_concat (L1696-1771): ``sum`` of two ones
    concatenated with three twos, over bands: 8."""
    process = {
        "one": _element("index", 0),
        "two": _element("index", 1),
        "two ones": {
            "process_id": "array_create",
            "arguments": {"data": [{"from_node": "one"}] * 2},
        },
        "three twos": {
            "process_id": "array_create",
            "arguments": {"data": [{"from_node": "two"}] * 3},
        },
        "array_concat": {
            "process_id": "array_concat",
            "arguments": {
                "array1": {"from_node": "two ones"},
                "array2": {"from_node": "three twos"},
            },
        },
        "sum": {
            "process_id": "sum",
            "arguments": {"data": {"from_node": "array_concat"}},
            "result": True,
        },
    }
    nodes = _over_bands(lonlat, ["Flat:1", "Flat:2"], "reduce_dimension", "reducer", process)
    result = connection.execute(saved(nodes, "over"))
    assert result["dims"] == ["t", "x", "y"]
    assert_equal(result["data"], np.full((1, 4, 4), fill_value=8))


TRIANGLE = {"type": "Polygon", "coordinates": [[[0.1, 0.1], [1.8, 0.1], [1.1, 1.8], [0.1, 0.1]]]}
#: the driver's five spellings of one triangle (L1362-1380, L1429-1447)
TRIANGLES = [
    TRIANGLE,
    {"type": "MultiPolygon", "coordinates": [TRIANGLE["coordinates"]]},
    {"type": "GeometryCollection", "geometries": [TRIANGLE]},
    {"type": "Feature", "properties": {}, "geometry": TRIANGLE},
    {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": {}, "geometry": TRIANGLE}],
    },
]


@pytest.mark.parametrize("reducer", ["mean", "median"])
@pytest.mark.parametrize("geometries", TRIANGLES, ids=[g["type"] for g in TRIANGLES])
def test_ep3718_aggregate_spatial_geometries(
    connection: Any, lonlat: Mapping[int, str], geometries: dict[str, Any], reducer: str
) -> None:
    """test_ep3718_aggregate_spatial_geometries (L1385-1428): ``aggregate_spatial`` of one
    triangle in any of five GeoJSON spellings gives the same series: one row per date of
    Flat:1, Month, Day (the driver's ``pixels_threshold`` parametrisation picks a JVM code
    path, not replayed)."""
    nodes = {
        "lc": load(
            lonlat[1],
            ["2021-01-01", "2021-02-20"],
            ["Flat:1", "Month", "Day"],
            {**UNIT, "east": 2.0, "north": 2.0},
        ),
        "aggregate": {
            "process_id": "aggregate_spatial",
            "arguments": {
                "data": {"from_node": "lc"},
                "geometries": geometries,
                "reducer": _callback(reducer, {"data": {"from_parameter": "data"}}),
            },
        },
    }
    result = connection.execute(saved(nodes, "aggregate"))
    assert result == {
        "2021-01-05T00:00:00Z": [[1.0, 1.0, 5.0]],
        "2021-01-15T00:00:00Z": [[1.0, 1.0, 15.0]],
        "2021-01-25T00:00:00Z": [[1.0, 1.0, 25.0]],
        "2021-02-05T00:00:00Z": [[1.0, 2.0, 5.0]],
        "2021-02-15T00:00:00Z": [[1.0, 2.0, 15.0]],
    }


@pytest.mark.parametrize("geometries", TRIANGLES, ids=[g["type"] for g in TRIANGLES])
def test_ep3887_mask_polygon(
    connection: Any, lonlat: Mapping[int, str], geometries: dict[str, Any]
) -> None:
    """test_ep3887_mask_polygon (L1452-1492): a load without spatial extent bounded by the
    ``mask_polygon`` triangle: 8 x 8 pixels (0-2 degrees), those whose centre lies outside
    the triangle masked (the driver's expected rows, with masked cells NaN, see below)."""
    nodes = {
        "lc": load(lonlat[1], ["2021-01-04", "2021-01-06"], ["Flat:2"], None),
        "maskpolygon1": {
            "process_id": "mask_polygon",
            "arguments": {"data": {"from_node": "lc"}, "mask": geometries},
        },
    }
    result = connection.execute(saved(nodes, "maskpolygon1"))
    assert result["dims"] == ["t", "bands", "x", "y"]
    centres = [0.125, 0.375, 0.625, 0.875, 1.125, 1.375, 1.625, 1.875]
    assert result["coords"]["x"]["data"] == centres
    assert result["coords"]["y"]["data"] == centres
    kept = [1, 2, 4, 6, 7, 5, 2, 0]  # per x column, the pixels kept from y = 0.125 up
    expected = np.array([[[[2.0] * n + [np.nan] * (8 - n) for n in kept]]])
    # the driver reads 0 where masked: its synthetic tiles are integer arrays without
    # nodata (collections/testing.py L130-133, L170-175); a float cube masks to NaN there
    # as here (nodata of the float64 cell type)
    assert_equal(np.array(result["data"], dtype=float), expected)
