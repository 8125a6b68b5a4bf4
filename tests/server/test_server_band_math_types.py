"""Band maths and apply in the cell type Copernicus gives them, through the real openeo
client against the emulator (hybrid.backends.local.callback_types).

Copernicus converts the cube to float32 before ``apply`` and a band reduction
(openeo-geopyspark-driver geopysparkdatacube.py ``_apply_bands_dimension`` L403-434),
computes there, and converts the result to the type the callback's builder works out
(openeo-geotrellis-extensions OpenEOProcessScriptBuilder.scala ``resultingDataType``):
``B08 - B04`` on the int16 load is int16, ``B08 * 2`` int32, ``B08 * B04`` int16 (the
float32 product stored into 16 bits: it wraps around), ``(B08 - B04) / 2`` float32, an
``apply`` of ``absolute`` float32 (apply's ``x`` has no type) and of ``int`` int32. The
expected values come from the same maths on the loaded bands as floats.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio

from tests.server_helpers import local_connection

BBOX = {"west": 6.660, "south": 45.236, "east": 6.668, "north": 45.244}
DATES = ["2023-06-12", "2023-06-13"]


@pytest.fixture(scope="module")
def connection(tmp_path_factory: pytest.TempPathFactory, sample_catalog: Path) -> Iterator[Any]:
    with local_connection(
        tmp_path_factory.mktemp("bandmath") / "data", sample_catalog
    ) as connected:
        yield connected


@pytest.fixture(scope="module")
def bands(connection: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, np.ndarray]:
    """B04 and B08 of one date as float64, NaN for nodata."""
    cube = _load(connection)
    path = tmp_path_factory.mktemp("raw") / "raw.tif"
    cube.download(path, format="GTiff")
    with rasterio.open(path) as src:
        raw = src.read().astype(np.float64)
        raw[raw == src.nodata] = np.nan
    return {"B04": raw[0], "B08": raw[1]}


def _load(connection: Any) -> Any:
    return connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=BBOX, temporal_extent=DATES, bands=["B04", "B08"]
    )


def _tiff(cube: Any, path: Path) -> tuple[str, Any, np.ndarray]:
    cube.download(path, format="GTiff")
    with rasterio.open(path) as src:
        return src.dtypes[0], src.nodata, src.read(1)


def _int16(values: np.ndarray) -> np.ndarray:
    """Java's (short) of float32 values, -32768 for nodata."""
    whole = np.trunc(np.nan_to_num(values.astype(np.float32), nan=-32768.0)).astype(np.int64)
    return ((whole + 32768) % 65536 - 32768).astype(np.int16)


def test_a_difference_of_int16_bands_is_int16(connection: Any, bands: Any, tmp_path: Path) -> None:
    cube = _load(connection)
    dtype, nodata, got = _tiff(cube.band("B08") - cube.band("B04"), tmp_path / "d.tif")
    assert (dtype, nodata) == ("int16", -32768)
    np.testing.assert_array_equal(got, _int16(bands["B08"] - bands["B04"]))
    assert np.isfinite(bands["B04"]).all()  # a scene without nodata here


def test_an_int16_product_wraps_around(connection: Any, bands: Any, tmp_path: Path) -> None:
    """Copernicus multiplies in float32 and stores the product into int16 bits."""
    cube = _load(connection)
    dtype, _, got = _tiff(cube.band("B08") * cube.band("B04"), tmp_path / "p.tif")
    product = bands["B08"].astype(np.float32) * bands["B04"].astype(np.float32)
    assert dtype == "int16" and (product > 32767).any()
    np.testing.assert_array_equal(got, _int16(product))


def test_an_integer_constant_gives_int32_and_a_division_float32(
    connection: Any, bands: Any, tmp_path: Path
) -> None:
    cube = _load(connection)
    dtype, nodata, got = _tiff(cube.band("B08") * 2, tmp_path / "twice.tif")
    assert (dtype, nodata) == ("int32", -(2**31))
    np.testing.assert_array_equal(got, 2 * bands["B08"])
    dtype, _, got = _tiff((cube.band("B08") - cube.band("B04")) / 2, tmp_path / "half.tif")
    assert dtype == "float32"
    np.testing.assert_array_equal(got, ((bands["B08"] - bands["B04"]) / 2).astype(np.float32))
    dtype, _, got = _tiff(cube.band("B08") * 0.5, tmp_path / "scaled.tif")
    assert dtype == "float32"


def test_a_constant_of_more_than_seven_digits_is_computed_in_doubles(
    connection: Any, bands: Any, tmp_path: Path
) -> None:
    """0.1 * 3 is 0.30000000000000004 (17 digits): Copernicus makes a float64 tile of it
    (``constantArgument`` L934-955) and multiplies in doubles (``xyFunction``). A band
    reduction declares float64 (the union of the band's and the constant's types), an
    apply float32 (its ``x`` has no type): the double product rounded once."""
    k = 0.1 * 3
    cube = _load(connection)
    dtype, nodata, got = _tiff(cube.band("B08") * k, tmp_path / "b.tif")
    assert dtype == "float64" and np.isnan(nodata)
    np.testing.assert_array_equal(got, bands["B08"] * k)
    (cube.band("B08") * k).download(tmp_path / "b.nc", format="netCDF")
    import xarray as xr

    with xr.open_dataset(tmp_path / "b.nc", engine="h5netcdf") as ds:
        variable = next(v for v in ds.data_vars.values() if v.ndim >= 2)
        assert variable.dtype == np.float64
    dtype, _, got = _tiff(cube.filter_bands(["B08"]).apply(lambda x: x * k), tmp_path / "a.tif")
    want = (bands["B08"] * k).astype(np.float32)
    assert dtype == "float32"
    assert (want != bands["B08"].astype(np.float32) * np.float32(k)).any()  # not in float32
    np.testing.assert_array_equal(got, want)


def test_math_of_a_float32_cube_is_computed_in_doubles(
    connection: Any, bands: Any, tmp_path: Path
) -> None:
    """geotrellis computes ln, sin, arctan, ... of a float32 tile in doubles and rounds
    each value to float32 once (``mapDouble``); so do log to a base
    (geotrellis-extensions ``LogBase``) and power (geotrellis ``Pow``)."""
    cube = _load(connection).filter_bands(["B08"])
    nir = bands["B08"]
    cases = {
        "ln": (cube.apply("ln"), np.log(nir)),
        "arctan": (cube.apply("arctan"), np.arctan(nir)),
        "log10": (cube.apply(lambda x: x.log(10)), np.log(nir) / np.log(10.0)),
        "cube": (cube.apply(lambda x: x**3), nir**3),
    }
    for name, (result, doubles) in cases.items():
        dtype, _, got = _tiff(result, tmp_path / f"{name}.tif")
        want = doubles.astype(np.float32)
        assert dtype == "float32"
        np.testing.assert_array_equal(got, want, err_msg=name)
    # the same functions in float32 give other values somewhere on these pixels (which
    # ones depends on numpy's float32 kernels: its arctan is correctly rounded on some
    # machines), so a float32 computation fails the comparison above
    single = nir.astype(np.float32)
    in_float32 = {
        "ln": np.log(single),
        "arctan": np.arctan(single),
        "log10": np.log(single) / np.float32(np.log(10.0)),
        "cube": single**3,
    }
    differ = [n for n, v in in_float32.items() if (v != cases[n][1].astype(np.float32)).any()]
    assert "cube" in differ and len(differ) >= 2, differ


@pytest.mark.parametrize(("process", "dtype"), [("absolute", "float32"), ("int", "int32")])
def test_apply_of_one_process_on_the_int16_cube(
    connection: Any, bands: Any, tmp_path: Path, process: str, dtype: str
) -> None:
    got_type, _, got = _tiff(_load(connection).apply(process), tmp_path / f"{process}.tif")
    assert got_type == dtype
    np.testing.assert_array_equal(got, bands["B04"])


def test_ndvi_adds_in_float32(connection: Any, bands: Any, tmp_path: Path) -> None:
    """The ndvi process is a band reduction too: nothing is added in int16."""
    dtype, _, got = _tiff(_load(connection).ndvi(nir="B08", red="B04"), tmp_path / "ndvi.tif")
    nir, red = (bands[b].astype(np.float32) for b in ("B08", "B04"))
    assert dtype == "float32"
    np.testing.assert_array_equal(got, (nir - red) / (nir + red))


def test_mask_with_a_replacement_keeps_int16(connection: Any, bands: Any, tmp_path: Path) -> None:
    """DatacubeSupport.scala rasterMaskGeneric L221-233: the mask of comparisons (bits)
    leaves the int16 type, and the replacement goes in as its integer part."""
    cube = _load(connection)
    bright = cube.band("B04") > 1000
    dtype, nodata, got = _tiff(cube.mask(bright, replacement=7.9), tmp_path / "m.tif")
    assert (dtype, nodata) == ("int16", -32768)
    flagged = bands["B04"] > 1000
    assert flagged.any() and (~flagged).any()
    np.testing.assert_array_equal(got, np.where(flagged, 7, bands["B04"]))


def test_a_merge_resolver_works_in_int16(connection: Any, bands: Any, tmp_path: Path) -> None:
    """OpenEOProcesses.scala mergeCubes L937-948: both cubes int16, the resolver's
    product is stored into int16 tiles (it wraps around)."""
    cube = _load(connection).filter_bands(["B04"])
    squared = cube.merge_cubes(cube, overlap_resolver="multiply")
    dtype, nodata, got = _tiff(squared, tmp_path / "sq.tif")
    assert (dtype, nodata) == ("int16", -32768)
    square = bands["B04"].astype(np.float32) ** 2
    assert (square > 32767).any()
    np.testing.assert_array_equal(got, _int16(square))


SEASON = ["2023-06-01", "2023-08-01"]


def _series(connection: Any, path: Path) -> np.ndarray:
    """B04 of every date of the season (dates, y, x), NaN for nodata."""
    cube = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=BBOX, temporal_extent=SEASON, bands=["B04"]
    )
    cube.download(path, format="netCDF")
    import xarray as xr

    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds["B04"].values.astype(np.float64)


def _geotrellis_int16_sum(series: np.ndarray) -> np.ndarray:
    """AddIgnoreNodata date after date, each sum stored as a short (wraps; -32768 is
    nodata), as an independent restatement."""
    total = series[0].copy()
    for values in series[1:]:
        both = ~np.isnan(total) & ~np.isnan(values)
        added = np.where(both, total + values, np.where(np.isnan(total), values, total))
        wrapped = (added + 32768) % 65536 - 32768
        total = np.where(wrapped == -32768, np.nan, wrapped)
    return total


def test_a_sum_over_time_folds_int16_and_bit_tiles(connection: Any, tmp_path: Path) -> None:
    """Over time Copernicus adds the tiles in their own type (tile_folds): int16 sums
    wrap around, a sum of booleans keeps whether the count is odd."""
    series = _series(connection, tmp_path / "series.nc")
    cube = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=BBOX, temporal_extent=SEASON, bands=["B04"]
    )
    red = cube.band("B04")
    dtype, nodata, got = _tiff(red.reduce_dimension("t", reducer="sum"), tmp_path / "s.tif")
    want = _geotrellis_int16_sum(series)
    assert (dtype, nodata) == ("int16", -32768)
    assert (np.nansum(series, axis=0) > 32767).any()  # some pixel wraps
    np.testing.assert_array_equal(got, np.where(np.isnan(want), -32768, want))
    bright = (red > 1000).reduce_dimension("t", reducer="sum")
    _, _, parity = _tiff(bright, tmp_path / "b.tif")
    counts = np.sum(series > 1000, axis=0)
    assert counts.max() > 1
    np.testing.assert_array_equal(parity, counts % 2)
    floats = (red * 1.0).reduce_dimension("t", reducer="sum")
    float_type, _, total = _tiff(floats, tmp_path / "f.tif")
    assert float_type == "float32"
    np.testing.assert_allclose(total, np.nansum(series, axis=0), rtol=1e-6)


def test_mean_and_sd_of_a_float32_cube_add_in_doubles(connection: Any, tmp_path: Path) -> None:
    """geotrellis ``Mean`` and ``Variance`` accumulate a float32 cube's values in doubles
    and store float32 once; ``sd`` is the square root of that float32 variance."""
    import xarray as xr

    cube = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=BBOX, temporal_extent=SEASON, bands=["B04", "B08"]
    ).ndvi(nir="B08", red="B04")
    cube.download(tmp_path / "ndvi.nc", format="netCDF")
    with xr.open_dataset(tmp_path / "ndvi.nc", engine="h5netcdf") as ds:
        series = next(v for v in ds.data_vars.values() if v.ndim == 3).values.astype(np.float64)
    assert series.shape[0] > 2
    with np.errstate(all="ignore"):
        variance = np.nanvar(series, axis=0, ddof=1).astype(np.float32)
        expected = {
            "mean": np.nanmean(series, axis=0).astype(np.float32),
            "variance": variance,
            "sd": np.sqrt(variance.astype(np.float64)).astype(np.float32),
        }
        singles = np.nanmean(series.astype(np.float32), axis=0)
    assert (singles != expected["mean"]).any()  # float32 sums would differ
    for name, want in expected.items():
        dtype, _, got = _tiff(cube.reduce_dimension("t", reducer=name), tmp_path / f"{name}.tif")
        assert dtype == "float32"
        np.testing.assert_allclose(got, want, rtol=0, atol=0, err_msg=name)


def test_arrays_built_in_a_band_callback_have_their_elements_type(
    connection: Any, bands: Any, tmp_path: Path
) -> None:
    """``array_create`` takes the union of its elements' types (OpenEOProcessScriptBuilder
    ``arrayEnd`` L1038-1042, ``arrayCreateFunction`` L1435-1441, ``typeOrElse``
    L1713-1730): the client's ``compute_and_rescale_indices`` to [0, 250] is uint8 with
    nodata 255, two ``int`` of band maths int32 (both float32 here before)."""
    from openeo.extra.spectral_indices import compute_and_rescale_indices
    from openeo.processes import array_create

    ndvi = {"input_range": [-1, 1], "output_range": [0, 250]}
    rescaled = {
        "collection": {"input_range": None, "output_range": None},
        "indices": {"NDVI": ndvi},
    }
    dtype, nodata, got = _tiff(
        compute_and_rescale_indices(_load(connection), rescaled), tmp_path / "ndvi.tif"
    )
    nir, red = (bands[b].astype(np.float32) for b in ("B08", "B04"))
    assert (dtype, nodata) == ("uint8", 255)
    scaled = ((nir - red) / (nir + red) + 1) / 2 * 250
    np.testing.assert_array_equal(got, np.trunc(scaled))
    thirds = _load(connection).apply_dimension(
        dimension="bands", process=lambda d: array_create([(d[1] / 3).int(), (d[0] / 3).int()])
    )
    dtype, nodata, got = _tiff(thirds, tmp_path / "thirds.tif")
    assert (dtype, nodata) == ("int32", -(2**31))
    np.testing.assert_array_equal(got, np.trunc(nir / np.float32(3)))


def test_comparisons_added_or_subtracted_are_numbers_and_stored_as_bits(
    connection: Any, bands: Any, tmp_path: Path
) -> None:
    """Copernicus converts bit tiles to int8 before add/subtract (``xyFunction``
    ``convertBitCells`` L905-911) and stores a result typed bits by its lowest bit
    (geotrellis ``BitArrayTile.update``): the sum of two comparisons is their exclusive
    or, with ``+ 0`` after it int32 0/1/2; a difference of comparisons works (here the
    sum was their or and a difference failed: numpy has no boolean minus)."""
    nir, red = bands["B08"], bands["B04"]
    low, high = nir > 2000, nir > 2400
    assert (low & high).any() and (low & ~high).any()  # the sum is 2 somewhere
    cube = _load(connection).filter_bands(["B08"])
    dtype, _, got = _tiff(cube.apply(lambda x: (x > 2000) + (x > 2400)), tmp_path / "xor.tif")
    assert dtype == "uint8"  # a 1-bit GeoTIFF, as Copernicus writes bits
    np.testing.assert_array_equal(got, low ^ high)
    dtype, _, got = _tiff(cube.apply(lambda x: (x > 2000) + (x > 2400) + 0), tmp_path / "n.tif")
    assert dtype == "int32"
    np.testing.assert_array_equal(got, low.astype(int) + high)
    dtype, _, got = _tiff(cube.apply(lambda x: (x > 2000) + 40000), tmp_path / "big.tif")
    assert dtype == "int32"  # no int8 overflow of the constant
    np.testing.assert_array_equal(got, low + 40000)
    difference = _load(connection).reduce_dimension(
        dimension="bands",
        reducer=lambda d: (d.array_element(1) > 1000) - (d.array_element(0) > 300),
    )
    _, _, got = _tiff(difference, tmp_path / "difference.tif")
    np.testing.assert_array_equal(got, (nir > 1000) ^ (red > 300))
