"""Results in the cell type Copernicus holds them in (hybrid.backends.local.cell_types),
through the real openeo client against the emulator: the loaded bands as int16 with
nodata -32768 (GTiff and NetCDF), also after max or median over time, whose median keeps
the integer part as Copernicus stores it; ``linear_scale_range`` to an integer range as
uint8 (nodata 255) below a range of 254, uint16 (65535) below 65535, else int16
(openeo-geotrellis-extensions OpenEOProcessScriptBuilder.scala
``linearScaleRangeFunction`` L1271-1322); everything else float32 with NaN. The
expected values come from the same graph made float by ``* 1.0``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
import xarray as xr

from backends.local.cell_types import (
    FLOAT,
    INPUT_CELL_TYPE,
    INT32,
    LOADED,
    OUTPUT_CELL_TYPE,
    result_cell_type,
    with_cell_types,
)
from tests.netcdf_unsigned import assert_stored_as_netcdf_java, read_variable
from tests.server_helpers import local_connection

BBOX = {"west": 6.660, "south": 45.236, "east": 6.668, "north": 45.244}
DATES = ["2023-06-10", "2023-06-20"]


@pytest.fixture(scope="module")
def connection(tmp_path_factory: pytest.TempPathFactory, sample_catalog: Path) -> Iterator[Any]:
    with local_connection(tmp_path_factory.mktemp("cells") / "data", sample_catalog) as connected:
        yield connected


def _red(connection: Any) -> Any:
    """B04 of the first date, bright pixels (> 500) masked: a cube with nodata."""
    cube = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=BBOX, temporal_extent=DATES, bands=["B04"]
    ).reduce_dimension("t", reducer="first")
    return cube.mask(cube > 500)


def _tiff(cube: Any, path: Path) -> tuple[str, float | None, np.ndarray]:
    cube.download(path, format="GTiff")
    with rasterio.open(path) as src:
        return src.dtypes[0], src.nodata, src.read(1)


@pytest.mark.parametrize(
    ("low", "high", "dtype", "nodata"),
    [(0, 200, "uint8", 255), (0, 255, "uint16", 65535), (-100, 100, "int16", -32768)],
)
def test_integer_output_range_is_written_in_its_cell_type(
    connection: Any, tmp_path: Path, low: int, high: int, dtype: str, nodata: int
) -> None:
    red = _red(connection)
    integers = red.linear_scale_range(0, 1000, low, high)
    got_type, got_nodata, got = _tiff(integers, tmp_path / "i.tif")
    # the same graph with float bounds: float32, the fraction kept
    floats = red.linear_scale_range(0, 1000, float(low), float(high))
    float_type, _, reference = _tiff(floats, tmp_path / "f.tif")
    assert (got_type, got_nodata, float_type) == (dtype, nodata, "float32")
    assert np.isnan(reference).any() and not np.isnan(reference).all()
    want = np.where(np.isnan(reference), nodata, np.trunc(reference)).astype(dtype)
    np.testing.assert_array_equal(got, want)


def test_the_cell_type_survives_filters_and_follows_the_callback(
    connection: Any, tmp_path: Path
) -> None:
    """The client puts ``* 2`` into the same apply callback: uint8 times an int32
    constant is int32 (cellTypeUnion), ``* 2.5`` float32."""
    scaled = _red(connection).linear_scale_range(0, 1000, 0, 200)
    inner = {"west": 6.662, "south": 45.238, "east": 6.666, "north": 45.242}
    filtered, _, _ = _tiff(scaled.filter_bbox(**inner), tmp_path / "filtered.tif")
    _, _, whole = _tiff(scaled, tmp_path / "scaled.tif")
    doubled, nodata, values = _tiff(scaled * 2, tmp_path / "doubled.tif")
    assert filtered == "uint8"
    assert (doubled, nodata) == ("int32", -(2**31))
    np.testing.assert_array_equal(
        values, np.where(whole == 255, -(2**31), 2 * whole.astype(np.int64))
    )
    scaled_float, nodata, values = _tiff(scaled * 2.5, tmp_path / "float.tif")
    assert scaled_float == "float32" and nodata is not None and np.isnan(nodata)
    np.testing.assert_array_equal(values, np.where(whole == 255, np.nan, 2.5 * whole))


def test_netcdf_of_an_unsigned_range_is_stored_as_netcdf_java_stores_it(
    connection: Any, tmp_path: Path
) -> None:
    """linear_scale_range to [0, 200] is UByteUserDefinedNoData(255): Copernicus's
    ``netcdf4_classic`` file holds it as netcdf-java stores UBYTE there, BYTE with
    ``_Unsigned = "true"`` and no ``_FillValue`` (the writer's Integer 255 does not match
    the variable's type and netcdf-java drops it: NetCDFRDDWriter.scala L599, L682, L693;
    tests/netcdf_unsigned.py), so CF readers get uint8 with 255 as a value, the GTiff's
    cells."""
    scaled = _red(connection).linear_scale_range(0, 1000, 0, 200)
    _, _, expected = _tiff(scaled, tmp_path / "scaled.tif")
    scaled.download(tmp_path / "scaled.nc", format="netCDF")
    read = read_variable(tmp_path / "scaled.nc", "B04")
    assert_stored_as_netcdf_java(read, "uint8", None)
    assert (read.decoded == 255).any()
    np.testing.assert_array_equal(read.decoded, expected)


def test_a_comparison_is_written_as_copernicus_writes_bits(connection: Any, tmp_path: Path) -> None:
    """``B04 > 300`` is geotrellis bits: a 1-bit GeoTIFF without nodata, and in netCDF
    the UBYTE 0/1 Copernicus's writer makes of them (NetCDFRDDWriter.scala L297, L665),
    stored by netcdf-java as BYTE with ``_Unsigned = "true"`` and without ``_FillValue``
    (the writer's ``nodata.getOrElse(0)`` is an Integer, L693, which netcdf-java drops on
    a BYTE variable): CF readers see false as 0, not as missing."""
    red = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=BBOX, temporal_extent=DATES, bands=["B04"]
    ).reduce_dimension("t", reducer="first")
    bits, floats = red > 300, (red > 300) * 1.0
    dtype, nodata, values = _tiff(bits, tmp_path / "bits.tif")
    _, _, expected = _tiff(floats, tmp_path / "floats.tif")
    with rasterio.open(tmp_path / "bits.tif") as src:
        assert src.tags(1, "IMAGE_STRUCTURE").get("NBITS") == "1"
    assert (dtype, nodata) == ("uint8", None) and 0 < values.mean() < 1
    np.testing.assert_array_equal(values, expected)
    bits.download(tmp_path / "bits.nc", format="netCDF")
    read = read_variable(tmp_path / "bits.nc", "B04")
    assert_stored_as_netcdf_java(read, "uint8", None)
    np.testing.assert_array_equal(read.decoded, expected)


def _lone(process: str) -> dict[str, Any]:
    """A reducer callback of one ``process`` on ``data``."""
    node = {"process_id": process, "arguments": {"data": {"from_parameter": "data"}}}
    return {"process_graph": {"r": {**node, "result": True}}}


def _on_x(process: str) -> dict[str, Any]:
    """An apply callback of one ``process`` on ``x``."""
    node = {"process_id": process, "arguments": {"x": {"from_parameter": "x"}}}
    return {"process_graph": {"r": {**node, "result": True}}}


def _clip(low: float, high: float) -> dict[str, Any]:
    node = {"process_id": "clip", "arguments": {"x": {"from_parameter": "x"}}}
    node["arguments"].update({"min": low, "max": high})
    return {"process_graph": {"c": {**node, "result": True}}}


def _apply_lsr(**bounds: Any) -> dict[str, Any]:
    scale = {"process_id": "linear_scale_range", "result": True}
    scale["arguments"] = {"x": {"from_parameter": "x"}, "inputMin": 0, "inputMax": 1, **bounds}
    return {
        "process_id": "apply",
        "arguments": {"data": {"from_node": "load"}, "process": {"process_graph": {"s": scale}}},
    }


@pytest.mark.parametrize(
    ("between", "want"),
    [
        ({"process_id": "filter_bands", "arguments": {"bands": ["B04"]}}, ("uint8", 255)),
        ({"process_id": "resample_spatial", "arguments": {"resolution": 20}}, ("uint8", 255)),
        # geotrellis stores a bilinear value of an integer tile rounded, in its type
        # (BilinearResample.scala L63; backends/local/resample_pushdown.py)
        (
            {"process_id": "resample_spatial", "arguments": {"method": "bilinear"}},
            ("uint8", 255),
        ),
        ({"process_id": "mask", "arguments": {"mask": {"from_node": "bits"}}}, ("uint8", 255)),
        (
            {
                "process_id": "mask",
                "arguments": {"mask": {"from_node": "bits"}, "replacement": 0.5},
            },
            ("uint8", 255),
        ),
        # converted back to the data's type, whatever the mask (rasterMask L1072-1080)
        ({"process_id": "mask", "arguments": {"mask": {"from_node": "floats"}}}, ("uint8", 255)),
        ({"process_id": "mask_polygon", "arguments": {"replacement": 0.5}}, ("uint8", 255)),
        ({"process_id": "reduce_dimension", "arguments": {"dimension": "t"}}, FLOAT),
        (
            {"process_id": "reduce_dimension", "arguments": {"reducer": _lone("max")}},
            ("uint8", 255),
        ),
        (
            {"process_id": "aggregate_temporal_period", "arguments": {"reducer": _lone("median")}},
            ("uint8", 255),
        ),
        (
            {"process_id": "aggregate_temporal_period", "arguments": {"reducer": _lone("mean")}},
            FLOAT,
        ),
        # apply's x has no type on Copernicus: absolute, round and clip give float32
        ({"process_id": "apply", "arguments": {"process": _on_x("absolute")}}, FLOAT),
        ({"process_id": "apply", "arguments": {"process": _on_x("round")}}, FLOAT),
        ({"process_id": "apply", "arguments": {"process": _on_x("sqrt")}}, FLOAT),
        ({"process_id": "apply", "arguments": {"process": _on_x("int")}}, INT32),
        ({"process_id": "apply", "arguments": {"process": _clip(0, 50)}}, FLOAT),
        ({"process_id": "apply", "arguments": {"process": _clip(0, 50.5)}}, FLOAT),
        (
            {
                "process_id": "apply_dimension",
                "arguments": {"process": _lone("array_interpolate_linear"), "dimension": "t"},
            },
            ("uint8", 255),
        ),
        (
            {
                "process_id": "apply_dimension",
                "arguments": {"process": _lone("cumsum"), "dimension": "t"},
            },
            FLOAT,
        ),
    ],
)
def test_the_processes_between_apply_and_save(between: dict[str, Any], want: Any) -> None:
    between = {**between, "arguments": {**between["arguments"], "data": {"from_node": "apply"}}}
    graph = {"apply": _apply_lsr(outputMin=0, outputMax=100), "between": between}
    for name, process in (("bits", _on_x("is_nan")), ("floats", _on_x("sqrt"))):
        graph[name] = {"process_id": "apply", "arguments": {"process": process}}
        graph[name]["arguments"]["data"] = {"from_node": "apply"}
    assert result_cell_type(graph, {"from_node": "between"}) == want


@pytest.mark.parametrize(
    ("bounds", "want"),
    [
        ({"outputMin": 0, "outputMax": 253}, ("uint8", 255)),
        ({"outputMin": 0, "outputMax": 254}, ("uint16", 65535)),
        ({"outputMin": 0.0, "outputMax": 100}, FLOAT),  # a float bound: no cast
        ({"outputMax": 100}, FLOAT),  # outputMin's default is 0.0
        ({"outputMin": 0, "outputMax": 1}, FLOAT),  # a range of 1
        ({"outputMin": -1, "outputMax": 70000}, FLOAT),  # too wide for int16
    ],
)
def test_the_bounds_choose_the_type(bounds: dict[str, Any], want: Any) -> None:
    assert result_cell_type({"apply": _apply_lsr(**bounds)}, {"from_node": "apply"}) == want


@pytest.mark.parametrize(
    ("bands", "want"),
    [
        (["B04", "SCL"], LOADED),
        (["B04", "sunZenithAngles"], FLOAT),  # angles are float32 values
        (["B04", "SZA"], FLOAT),  # by an alias too
        (None, FLOAT),  # every band, the angles among them
    ],
)
def test_a_load_of_digital_numbers_is_int16(bands: Any, want: Any) -> None:
    load = {"process_id": "load_collection", "arguments": {"id": "SENTINEL2_L2A"}}
    load["arguments"]["bands"] = bands
    assert result_cell_type({"load": load}, {"from_node": "load"}) == want


def test_int_in_apply_is_int32() -> None:
    """geotrellis-extensions ``intFunction`` L1733-1747: int32 unless ``x`` has an
    integer type, which apply's ``x`` never has (``fromParameter`` types ``data`` only)."""
    load = {"process_id": "load_collection", "arguments": {"id": "SENTINEL2_L2A"}}
    load["arguments"]["bands"] = ["B04"]
    floats = _apply_lsr(outputMin=0.0, outputMax=1.0)
    floats["arguments"]["data"] = {"from_node": "load"}
    graph: dict[str, Any] = {"load": load, "floats": floats}
    for source in ("load", "floats"):
        graph[f"int_{source}"] = {
            "process_id": "apply",
            "arguments": {"data": {"from_node": source}, "process": _on_x("int")},
        }
    assert result_cell_type(graph, {"from_node": "int_load"}) == INT32
    assert result_cell_type(graph, {"from_node": "int_floats"}) == INT32


def test_the_load_is_int16() -> None:
    load = {"process_id": "load_collection", "arguments": {"id": "SENTINEL2_L2A"}}
    load["arguments"]["bands"] = ["B04", "B08"]
    mean = {"process_id": "reduce_dimension", "arguments": {"data": {"from_node": "load"}}}
    mean["arguments"]["reducer"] = _lone("mean")
    graph = {"load": load, "mean": mean}
    assert result_cell_type(graph, {"from_node": "load"}) == LOADED == ("int16", -32768)
    assert result_cell_type(graph, {"from_node": "mean"}) is FLOAT


SEASON = ["2023-06-01", "2023-08-01"]


def _bands(connection: Any) -> Any:
    return connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=BBOX, temporal_extent=SEASON, bands=["B04", "B08"]
    )


def test_the_loaded_bands_are_written_as_int16(connection: Any, tmp_path: Path) -> None:
    bands = _bands(connection).filter_temporal(["2023-06-12", "2023-06-13"])
    dtype, nodata, got = _tiff(bands, tmp_path / "raw.tif")
    _, _, floats = _tiff(bands * 1.0, tmp_path / "float.tif")
    assert (dtype, nodata) == ("int16", -32768)
    np.testing.assert_array_equal(got, np.where(np.isnan(floats), -32768, floats))
    bands.download(tmp_path / "raw.nc", format="netCDF")
    with xr.open_dataset(tmp_path / "raw.nc", engine="h5netcdf", mask_and_scale=False) as ds:
        assert ds["B04"].dtype == np.int16 and ds["B04"].attrs["_FillValue"] == -32768


@pytest.mark.parametrize(
    ("reducer", "dtype", "nodata"),
    [("median", "int16", -32768), ("max", "int16", -32768), ("count", "int16", -32768)],
)
def test_a_composite_over_time_keeps_int16_and_the_median_its_integer_part(
    connection: Any, tmp_path: Path, reducer: str, dtype: str, nodata: int
) -> None:
    """On the int16 cube Copernicus's median of 1500 and 1501 is 1500 (stored into an
    int16 tile); ``* 1.0`` first makes the cube float32 and the median 1500.5. A count
    is written into the first date's tile, so it has the cube's type too, not the
    builder's int32 (geotrellis-extensions 2a25a26e OpenEOProcessScriptBuilder.scala
    L223-224, L403-405; the GTiff writer takes the tiles' type, geotiff/package.scala
    L444, L480-485)."""
    bands = _bands(connection)
    got_type, got_nodata, got = _tiff(
        bands.reduce_dimension("t", reducer=reducer), tmp_path / "i.tif"
    )
    floats = (bands * 1.0).reduce_dimension("t", reducer=reducer)
    float_type, _, reference = _tiff(floats, tmp_path / "f.tif")
    assert (got_type, got_nodata) == (dtype, nodata)
    assert float_type == "float32"
    if reducer == "median":
        assert (reference % 1 == 0.5).any()  # an even number of dates somewhere
    want = np.where(np.isnan(reference), nodata, np.trunc(reference))
    np.testing.assert_array_equal(got, want)
    if reducer == "count":  # also against the valid dates of the series itself
        bands.download(tmp_path / "series.nc", format="netCDF")
        with xr.open_dataset(tmp_path / "series.nc", engine="h5netcdf") as ds:
            valid = np.isfinite(ds["B04"].values).sum(axis=0)  # _tiff reads the first band
        # a pixel without a valid date has no count: nodata (multibandReduce)
        np.testing.assert_array_equal(got, np.where(valid == 0, nodata, valid))


def test_quantiles_over_time_keep_the_integer_part_of_the_int16_cube(
    connection: Any, tmp_path: Path
) -> None:
    """Copernicus stores quantiles over time into tiles of the input's cell type
    (OpenEOProcessScriptBuilder.scala ``multibandMapToNewTiles`` L211), so on the int16
    cube they keep their integer part, whether reduced with array_element or kept as
    new labels by apply_dimension; the float32 cube keeps the fractions."""
    from openeo.processes import array_element, quantiles

    def first_quartile(data: Any) -> Any:
        return array_element(quantiles(data, probabilities=[0.25]), index=0)

    def quartiles(data: Any) -> Any:
        return quantiles(data, probabilities=[0.25, 0.75])

    bands = _bands(connection)
    for name, build in (
        ("reduced", lambda cube: cube.reduce_dimension("t", reducer=first_quartile)),
        ("applied", lambda cube: cube.apply_dimension(dimension="t", process=quartiles)),
    ):
        _, _, got = _tiff(build(bands), tmp_path / f"{name}.tif")
        _, _, floats = _tiff(build(bands * 1.0), tmp_path / f"{name}-float.tif")
        finite = np.isfinite(floats)
        assert (floats[finite] % 1 != 0).any(), name  # the float cube has fractions
        np.testing.assert_array_equal(got[finite], np.trunc(floats[finite]), err_msg=name)


def test_medians_over_time_and_band_reductions_learn_their_type() -> None:
    """A median over time of the load (through a mask) computes in int16, not one of a
    float cube; a band reduction to int16 converts its result; ndvi learns nothing (a
    band reduction, computed in float32 on Copernicus)."""
    load = {"process_id": "load_collection", "arguments": {"id": "SENTINEL2_L2A"}}
    load["arguments"]["bands"] = ["B04", "B08"]
    bits = {
        "process_id": "apply",
        "arguments": {"data": {"from_node": "load"}, "process": _on_x("is_nan")},
    }
    masked = {
        "process_id": "mask",
        "arguments": {"data": {"from_node": "load"}, "mask": {"from_node": "bits"}},
    }
    floats = _apply_lsr(outputMin=0.0, outputMax=1.0)  # float bounds: float32
    floats["arguments"]["data"] = {"from_node": "load"}
    graph = {"load": load, "bits": bits, "masked": masked, "floats": floats}
    for name, source in (("int", "masked"), ("float", "floats")):
        graph[f"ndvi_{name}"] = {"process_id": "ndvi", "arguments": {"data": {"from_node": source}}}
        median = {"process_id": "reduce_dimension", "arguments": {"reducer": _lone("median")}}
        median["arguments"].update(data={"from_node": source}, dimension="t")
        graph[f"median_{name}"] = median
        difference = {"process_id": "reduce_dimension", "arguments": {"reducer": _difference()}}
        difference["arguments"].update(data={"from_node": source}, dimension="bands")
        graph[f"difference_{name}"] = difference
    marked = with_cell_types(graph)

    def median_arguments(node: str) -> dict[str, Any]:
        (reducer,) = marked[node]["arguments"]["reducer"]["process_graph"].values()
        return reducer["arguments"]

    assert median_arguments("median_int")[INPUT_CELL_TYPE] == "int16"
    assert INPUT_CELL_TYPE not in median_arguments("median_float")
    assert marked["difference_int"]["arguments"][OUTPUT_CELL_TYPE] == "int16"
    assert OUTPUT_CELL_TYPE not in marked["difference_float"]["arguments"]
    assert marked["ndvi_int"] == graph["ndvi_int"]
    assert (
        INPUT_CELL_TYPE
        not in graph["median_int"]["arguments"]["reducer"]["process_graph"]["r"]["arguments"]
    )  # a copy was marked


def _difference(y: Any = None) -> dict[str, Any]:
    """A band reduction ``B08 - B04`` (or ``B08 - y``)."""

    def band(index: int) -> dict[str, Any]:
        return {
            "process_id": "array_element",
            "arguments": {"data": {"from_parameter": "data"}, "index": index},
        }

    nodes = {"nir": band(1), "red": band(0)}
    subtrahend = {"from_node": "red"} if y is None else y
    nodes["d"] = {
        "process_id": "subtract",
        "arguments": {"x": {"from_node": "nir"}, "y": subtrahend},
        "result": True,
    }
    return {"process_graph": nodes}


@pytest.mark.parametrize(
    ("second", "resolver", "want"),
    [
        ("load2", None, LOADED),
        ("floats", None, FLOAT),
        ("bits", None, LOADED),  # geotrellis CellType.union(int16, bit): int16
        ("uint8", None, LOADED),
        ("load2", _lone("max"), LOADED),  # the resolver works in the union's tiles
        ("floats", _lone("max"), FLOAT),
    ],
)
def test_merged_cubes_take_the_union_of_their_types(second: str, resolver: Any, want: Any) -> None:
    """OpenEOProcesses.scala ``mergeCubes`` L937-944: the union of the two cubes'
    types, whether or not an overlap resolver combines them."""
    load = {"process_id": "load_collection", "arguments": {"id": "SENTINEL2_L2A"}}
    load["arguments"]["bands"] = ["B04"]
    floats = _apply_lsr(outputMin=0.0, outputMax=1.0)
    floats["arguments"]["data"] = {"from_node": "load"}
    uint8 = _apply_lsr(outputMin=0, outputMax=100)
    uint8["arguments"]["data"] = {"from_node": "load"}
    bits = {"process_id": "apply", "arguments": {"data": {"from_node": "load"}}}
    bits["arguments"]["process"] = _on_x("is_nan")
    merge = {"cube1": {"from_node": "load"}, "cube2": {"from_node": second}}
    if resolver is not None:
        merge["overlap_resolver"] = resolver
    graph = {
        "load": load, "load2": dict(load), "floats": floats, "uint8": uint8, "bits": bits,
        "merge": {"process_id": "merge_cubes", "arguments": merge},
    }  # fmt: skip
    assert result_cell_type(graph, {"from_node": "merge"}) == want
    marked = with_cell_types(graph)["merge"]["arguments"]
    assert marked.get(OUTPUT_CELL_TYPE) == ("int16" if resolver and want == LOADED else None)


def _numpy_fill(series: np.ndarray) -> np.ndarray:
    """Each gap between two valid values filled with numpy's own interpolation, by
    position (an independent restatement)."""
    valid = np.flatnonzero(~np.isnan(series))
    out = series.copy()
    if valid.size < 2:
        return out
    inner = np.arange(valid[0], valid[-1] + 1)
    gaps = inner[np.isnan(series[inner])]
    out[gaps] = np.interp(gaps, valid, series[valid])
    return out


def test_interpolated_dekads_of_the_int16_cube_keep_integers(
    connection: Any, tmp_path: Path
) -> None:
    """Dekad medians of the int16 bands, gaps filled by array_interpolate_linear: the
    cube stays int16 and the filled values keep their integer part, as Copernicus writes
    them into the int16 tiles; checked against numpy on the downloaded medians."""
    red = _bands(connection).filter_bands(["B04"])
    medians = red.mask(red > 600).aggregate_temporal_period("dekad", reducer="median")
    filled = medians.apply_dimension(dimension="t", process="array_interpolate_linear")
    medians.download(tmp_path / "medians.nc", format="netCDF")
    filled.download(tmp_path / "filled.nc", format="netCDF")
    with xr.open_dataset(tmp_path / "medians.nc", engine="h5netcdf") as ds:
        before = ds["B04"].values
    with xr.open_dataset(tmp_path / "filled.nc", engine="h5netcdf", mask_and_scale=False) as ds:
        assert ds["B04"].dtype == np.int16
    with xr.open_dataset(tmp_path / "filled.nc", engine="h5netcdf") as ds:
        after = ds["B04"].values
    interpolated = np.apply_along_axis(_numpy_fill, 0, before)
    gaps = np.isnan(before) & ~np.isnan(interpolated)
    assert gaps.sum() > 100, "no gap to fill: the test shows nothing"
    assert (interpolated[gaps] % 1 != 0).any(), "no fraction to drop: the test shows nothing"
    np.testing.assert_array_equal(after, np.trunc(interpolated))


def test_a_kernel_result_is_float64_as_the_union_with_the_kernel(
    connection: Any, tmp_path: Path
) -> None:
    """Copernicus converts the cube to the union of its type and the float64 kernel's
    (OpenEOProcesses.scala ``apply_kernel`` L1101-1104, the kernel ``factor *
    kernel.astype(np.float64)`` in geopysparkdatacube.py L1246): the file holds float64,
    the mean of 3 x 3 int16 values to the last bit of a double. It was float32."""
    bands = _bands(connection).filter_temporal(["2023-06-12", "2023-06-13"])
    kernel = [[1, 1, 1], [1, 1, 1], [1, 1, 1]]
    bands.apply_kernel(kernel, factor=1 / 9).download(tmp_path / "k.nc", format="netCDF")
    bands.download(tmp_path / "raw.nc", format="netCDF")
    with (
        xr.open_dataset(tmp_path / "k.nc", engine="h5netcdf") as ds,
        xr.open_dataset(tmp_path / "raw.nc", engine="h5netcdf") as raw,
    ):
        assert ds["B04"].dtype == np.float64
        red = raw["B04"].values[0].astype(np.float64)
        inner = sum(
            red[1 + dy : red.shape[0] - 1 + dy, 1 + dx : red.shape[1] - 1 + dx]
            for dy in (-1, 0, 1)
            for dx in (-1, 0, 1)
        ) * (1 / 9)
        got = ds["B04"].values[0][1:-1, 1:-1]
        valid = np.isfinite(inner)
        assert valid.mean() > 0.9
        np.testing.assert_allclose(got[valid], inner[valid], rtol=1e-12)


def test_a_load_of_scl_alone_is_uint8_with_nodata_0() -> None:
    """Copernicus reads SCL files as uint8 with nodata 0 and converts them to nothing else
    (geotrellis-extensions 2a25a26e FileLayerProvider.scala L1539-1552: ``Band_SCL_``
    titles get ``UByteUserDefinedNoDataCellType(0)`` and no int16 target); the cube's
    type is its first source's (L997-1005, L1031-1033), the union of its bands' (L125,
    OpenEOProcessScriptBuilder.scala ``cellTypeUnion`` L87-105): uint8 for SCL alone,
    int16 beside a reflectance band."""
    load = {"process_id": "load_collection", "arguments": {"id": "SENTINEL2_L2A"}}
    load["arguments"]["bands"] = ["SCL"]
    assert result_cell_type({"load": load}, {"from_node": "load"}) == ("uint8", 0)
    load["arguments"]["bands"] = ["SCL", "B04"]
    assert result_cell_type({"load": load}, {"from_node": "load"}) == LOADED


def test_scl_alone_is_written_as_uint8_with_nodata_0(connection: Any, tmp_path: Path) -> None:
    scl = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=BBOX, temporal_extent=SEASON, bands=["SCL"]
    ).filter_temporal(["2023-06-12", "2023-06-13"])
    dtype, nodata, got = _tiff(scl, tmp_path / "scl.tif")
    _, _, floats = _tiff(scl * 1.0, tmp_path / "float.tif")
    assert (dtype, nodata) == ("uint8", 0)
    assert np.isfinite(floats).any()
    np.testing.assert_array_equal(got, np.where(np.isnan(floats), 0, floats))
    # netcdf-java's UBYTE in netcdf4_classic: BYTE with _Unsigned = "true" and the Byte
    # _FillValue 0 of UByteConstantNoData (NetCDFRDDWriter.scala L599, L675, L693;
    # tests/netcdf_unsigned.py)
    scl.download(tmp_path / "scl.nc", format="netCDF")
    read = read_variable(tmp_path / "scl.nc", "SCL")
    assert_stored_as_netcdf_java(read, "uint8", 0)
    np.testing.assert_array_equal(read.raw[0].view("uint8"), got)
    with xr.open_dataset(tmp_path / "scl.nc", engine="h5netcdf") as ds:
        np.testing.assert_array_equal(ds["SCL"].values[0], np.where(got == 0, np.nan, got))
