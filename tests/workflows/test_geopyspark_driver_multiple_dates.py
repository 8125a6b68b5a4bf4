"""openeo-geopyspark-driver's ``tests/test_multiple_date.py`` (9baf2e10) replayed on
``hybrid serve`` with the real openeo client: the driver calls its Python datacube API on
an in-memory Spark layer (``TestMultipleDates.tiled_raster_rdd``, L52-105); here that
layer is a static STAC collection of COGs (:mod:`tests.workflows.driver_layers`) read with
``load_stac``, each test's calls are the graph's processes, and the driver's expected
cells (a geotrellis ``stitch``: the northern row first) are asserted as written.

The load truncates the driver's instants to their day (``2016-08-24T09:00`` is labelled
2016-08-24: :mod:`hybrid.stac.selection`, geopyspark-driver load_stac.py).
test_reduce_all_data and test_reduce_some_nodata are replayed in
``test_geopyspark_driver_results_more.py``. Not replayed:

- test_repartition (L138-151), test_resample_spatial_reproject's and
  test_resample_cube_spatial_partitions' partition counts (L530-611): Spark partitioners;
- test_reduce_tiles (L270-281): asserts nothing; test_max_aggregator (L366-369): the
  driver's numpy helper ``max_composite``, no process;
- test_aggregate_temporal and test_aggregate_temporal_100 (L325-331, L351-364): a
  reducer given as the string ``"min"``, the deprecated geopyspark ``aggregate_by_cell``
  path (geopysparkdatacube.py L987-993; its expected cells keep either date's nodata,
  L356-360, where a callback's ``min`` skips it); a process graph always gives a
  callback (L982-985 and L994-1006, the path replayed by test_aggregate_temporal_median);
- test_min_time's point time series (L394-401): the deprecated ``timeseries`` method
  (#421), no process;
- test_reproject_spatial (L154-178): resample_spatial with ``resolution`` 0 to
  EPSG:3395 keeps the 10 x 10 shape there because geopyspark reprojects tile by tile onto
  ``FloatingLayoutScheme`` of the layer's own 5 x 5 tiles (geopyspark 97bcb17a
  TemporalTiledRasterLayer.scala L196-206; geopysparkdatacube.py L1551-1555): a tiling of
  the Spark fixture, where a load has 256-pixel tiles (hybrid gives 12 x 13 here);
- the old ``openeo_udf`` variant of test_apply_spatiotemporal (not the runtime's API).
"""

from __future__ import annotations

import email.utils
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.workflows.driver_layers import layers, north_up
from tests.workflows.test_geopyspark_driver_results_more import connection

__all__ = ["connection", "layers"]

#: a cell without a value (variance and sd of one value)
NAN = float("nan")


def cells(connection: Any, cube: Any) -> Any:
    return north_up(connection.execute(cube.save_result("json").flat_graph()))


def test_drop_dimension(connection: Any, layers: dict[str, str]) -> None:
    """test_drop_dimension (L180-187): filter_temporal to one date, its label, then
    drop_dimension(t) leaves a cube without t."""
    cube = connection.load_stac(layers["multi"]).filter_temporal("2016-08-23", "2016-08-26")
    labels = connection.execute(cube.dimension_labels("t").flat_graph())
    assert [email.utils.parsedate_to_datetime(x).date().isoformat() for x in labels] == [
        "2016-08-24"
    ]
    result = connection.execute(cube.drop_dimension("t").save_result("json").flat_graph())
    assert result["dims"] == ["bands", "x", "y"]


@pytest.mark.parametrize(
    ("reducer", "expected"),
    [
        ("max", [[2, 2], [2, 2]]),
        ("min", [[2, 1], [1, 1]]),
        ("sum", [[2, 4], [4, 4]]),
        ("mean", [[2, 4 / 3], [4 / 3, 4 / 3]]),
        ("variance", [[NAN, 1 / 3], [1 / 3, 1 / 3]]),
        ("sd", [[NAN, 0.5773503], [0.5773503, 0.5773503]]),
    ],
)
def test_reduce(connection: Any, layers: dict[str, str], reducer: str, expected: list) -> None:
    """test_reduce (L189-211): reduce_dimension over t skips nodata (the first cell has a
    value on the second date only); variance and sd are the sample ones, NaN for one
    value."""
    cube = connection.load_stac(layers["multi"]).reduce_dimension("t", reducer=reducer)
    np.testing.assert_allclose(cells(connection, cube)[:, :2, :2], [expected], rtol=1e-6)


def test_reduce_nontemporal(connection: Any, layers: dict[str, str]) -> None:
    """test_reduce_nontemporal (L317-322): reducing a dimension the cube lacks
    (``gender``) is refused: a 400 naming it, not the driver's Python exception."""
    from openeo.rest import OpenEoApiError

    graph = {
        "lc": {"process_id": "load_stac", "arguments": {"url": layers["multi"]}},
        "reduce": {
            "process_id": "reduce_dimension",
            "arguments": {
                "data": {"from_node": "lc"},
                "dimension": "gender",
                "reducer": {"process_graph": {"max": {
                    "process_id": "max", "arguments": {"data": {"from_parameter": "data"}},
                    "result": True,
                }}},
            },
            "result": True,
        },
    }  # fmt: skip
    with pytest.raises(OpenEoApiError) as error:
        connection.execute(graph)
    assert error.value.http_status_code == 400
    assert "gender" in error.value.message


def test_aggregate_temporal_median(connection: Any, layers: dict[str, str]) -> None:
    """test_aggregate_temporal_median (L338-348): one interval over the three dates, the
    median of (1, 2, 1) in cell (1, 1) (the only cell the driver checks), labelled as
    asked."""
    cube = connection.load_stac(layers["multi"]).aggregate_temporal(
        [["2015-01-01", "2018-01-01"]], reducer="median", labels=["2017-01-03"]
    )
    result = connection.execute(cube.save_result("json").flat_graph())
    assert result["coords"]["t"]["data"] == ["2017-01-03 00:00:00"]
    assert north_up(result)[0, 0, 1, 1] == 1.0


def test_aggregate_max_time(connection: Any, layers: dict[str, str], tmp_path: Path) -> None:
    """test_aggregate_max_time (L371-379) and test_min_time's first cell (L381-392): the
    maximum over time is 2 in the first cell, float32 as the layer's cells (the driver's
    ``float32ud-1.0``; the GeoTIFF's nodata value is not compared)."""
    import rasterio

    cube = connection.load_stac(layers["multi"]).reduce_dimension("t", reducer="max")
    cube.download(tmp_path / "max.tif", format="GTiff")
    with rasterio.open(tmp_path / "max.tif") as ds:
        assert ds.dtypes[0] == "float32"
        assert ds.read(1)[0, 0] == 2.0


@pytest.mark.parametrize(
    ("replacement", "second"),
    [(None, NAN), (10.0, 10.0), (10, 10.0)],
    ids=["default_none", "float", "int"],
)
def test_mask_raster_replacement(
    connection: Any, layers: dict[str, str], replacement: Any, second: float
) -> None:
    """test_mask_raster_replacement_default_none / _float / _int (L449-501): the mask is
    the layer with 0 in each tile's first cell; its nonzero cells are replaced (nodata by
    default), then the maximum over time: 2 in the first cell, the replacement next."""
    cube = connection.load_stac(layers["multi"])
    mask = connection.load_stac(layers["mask"])
    masked = cube.mask(mask) if replacement is None else cube.mask(mask, replacement)
    got = cells(connection, masked.reduce_dimension("t", reducer="max"))[0, 0, :2]
    np.testing.assert_equal(got, [2.0, second])


@pytest.mark.parametrize(
    ("kernel", "factor", "expected"),
    [
        ([[0.0, 1.0, 0.0], [1.0, 1.0, 1.0], [0.0, 1.0, 0.0]], 2.0, (12.0, 16.0, 20.0)),
        ([[0, 1, 0], [1, 1, 1], [0, 1, 0]], 1, (6.0, 8.0, 10.0)),
    ],
    ids=["float", "int"],
)
def test_apply_kernel(
    connection: Any, layers: dict[str, str], kernel: list, factor: float, expected: tuple
) -> None:
    """test_apply_kernel_float / _int (L503-526): a cross kernel (border 0) times
    ``factor``, then the maximum over time, in cells (0, 0), (0, 1) and (1, 1)."""
    cube = connection.load_stac(layers["multi"]).apply_kernel(kernel, factor)
    got = cells(connection, cube.reduce_dimension("t", reducer="max"))[0]
    assert (got[0, 0], got[0, 1], got[1, 1]) == expected


def _resolution(connection: Any, cube: Any, path: Path) -> tuple[float, float]:
    import rasterio

    cube.reduce_dimension("t", reducer="max").download(path, format="GTiff")
    with rasterio.open(path) as ds:
        return ds.res


def test_resample_spatial_reproject(
    connection: Any, layers: dict[str, str], tmp_path: Path
) -> None:
    """test_resample_spatial_reproject (L530-556, resolutions only): 2 km in EPSG:32631,
    then 0.005 degree in EPSG:4326: the GeoTIFF's pixels are 0.005 degree."""
    cube = connection.load_stac(layers["one"])
    cube = cube.resample_spatial(resolution=2000, projection="EPSG:32631")
    cube = cube.resample_spatial(resolution=0.005, projection="EPSG:4326")
    assert _resolution(connection, cube, tmp_path / "r.tif")[0] == pytest.approx(0.005, abs=1e-3)


@pytest.mark.parametrize("resolution", [0.05, [0.05, 0.06]])
def test_resample_spatial(
    connection: Any, layers: dict[str, str], tmp_path: Path, resolution: Any
) -> None:
    """test_resample_spatial (L686-702): a new resolution in the cube's CRS, one number or
    [x, y], is the GeoTIFF's pixel size."""
    cube = connection.load_stac(layers["one"]).resample_spatial(resolution=resolution)
    want = resolution if isinstance(resolution, list) else [resolution] * 2
    assert _resolution(connection, cube, tmp_path / "r.tif") == pytest.approx(want)


def test_rename_dimension(connection: Any, layers: dict[str, str]) -> None:
    """test_rename_dimension (L613-619): t renamed to myNewTimeDim is a valid dimension
    for the next process; the JSON writer still names it ``t``, as Copernicus's
    (``_collect_as_xarray``, geopysparkdatacube.py L2808-2819, names ``t``, ``bands``,
    ``x``, ``y`` whatever the metadata calls them; rename_dimension L304-305 renames the
    metadata only)."""
    cube = connection.load_stac(layers["multi"]).rename_dimension("t", "myNewTimeDim")
    result = connection.execute(cube.save_result("json").flat_graph())
    assert result["dims"] == ["t", "bands", "x", "y"]
    reduced = cube.reduce_dimension("myNewTimeDim", reducer="max")
    assert cells(connection, reduced)[0, 0, 0] == 2.0


def _udf(code: str) -> Any:
    from openeo import UDF

    return UDF(textwrap.dedent(code), runtime="Python")


def test_apply_spatiotemporal(connection: Any, layers: dict[str, str]) -> None:
    """test_apply_spatiotemporal, openeo.udf variant (L622-684): a UdfData UDF summing
    each cube over t, run by reduce_dimension over t (the driver's
    ``apply_tiles_spatiotemporal``, geopysparkdatacube.py L830-835): 2 in cell (0, 0) (one
    value), 6 in (0, 5), 4 in (5, 6)."""
    code = """
        from openeo.udf import XarrayDataCube, UdfData

        def hyper_sum(udf_data: UdfData):
            cube_list = []
            for cube in udf_data.get_datacube_list():
                mean = cube.array.sum(dim="t")
                mean.name = cube.id + "_sum"
                cube_list.append(XarrayDataCube(array=mean))
            udf_data.set_datacube_list(cube_list)
    """
    cube = connection.load_stac(layers["multi"]).reduce_dimension("t", reducer=_udf(code))
    got = cells(connection, cube)[0]
    assert (got[0, 0], got[0, 5], got[5, 6]) == (2.0, 6.0, 4.0)


def test_apply_dimension_spatiotemporal(connection: Any, layers: dict[str, str]) -> None:
    """test_apply_dimension_spatiotemporal (L403-447): a UdfData UDF that returns its
    input, run over t (apply_dimension's UDF path, geopysparkdatacube.py L384-387), gives
    the input back (2 decimals); its ``UdfData`` annotation needs no import."""
    code = """
        def rct_savitzky_golay(udf_data:UdfData):
            from scipy.signal import savgol_filter

            print(udf_data.get_datacube_list())
            return udf_data
    """
    cube = connection.load_stac(layers["multi"])
    before = cells(connection, cube)
    after = cells(connection, cube.apply_dimension(process=_udf(code), dimension="t"))
    np.testing.assert_array_almost_equal(after, before, decimal=2)
