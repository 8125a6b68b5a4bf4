"""mask, ndvi and divide as the local engine replaces them (backends/local/processes),
with hand-computed answers.
"""

from __future__ import annotations

import warnings
from typing import Any

import dask
import dask.array as da
import numpy as np
import pytest
import xarray as xr

from hybrid.backends.local.processes.indices import divide, ndvi
from hybrid.backends.local.processes.masking import mask
from hybrid.errors import ProcessParameterInvalid
from tests.engine.process_cubes import cube, times

# ---------------------------------------------------------------- mask


def _bands_cube() -> xr.DataArray:
    values = np.arange(2 * 2 * 3, dtype=np.float64).reshape(2, 2, 3)
    return cube(values, ("bands", "y", "x"), bands=["B04", "B08"])


def test_mask_single_band_mask_applies_to_every_band() -> None:
    flags = cube([[[1, 0, 0], [0, 0, 1]]], ("bands", "y", "x"), bands=["cloud"])
    out = mask(_bands_cube(), flags).values
    assert np.isnan(out[:, 0, 0]).all() and np.isnan(out[:, 1, 2]).all()
    np.testing.assert_array_equal(out[0, 0, 1:], [1, 2])
    np.testing.assert_array_equal(out[1, 1, :2], [9, 10])


def test_mask_bands_go_by_position_like_copernicus() -> None:
    # DatacubeSupport.rasterMaskGeneric: equal band counts pair band i with band i
    # (whatever the labels), otherwise band 0 masks every band
    pairs = np.zeros((2, 2, 3))
    pairs[0, 0, 0] = pairs[1, 1, 2] = 1
    out = mask(_bands_cube(), cube(pairs, ("bands", "y", "x"), bands=["a", "b"])).values
    np.testing.assert_array_equal(np.isnan(out), pairs.astype(bool))
    three = np.zeros((3, 2, 3))
    three[0, 0, 1] = three[1, 1, 1] = 1  # only band 0 counts
    out = mask(_bands_cube(), cube(three, ("bands", "y", "x"), bands=["a", "b", "c"])).values
    assert np.isnan(out[:, 0, 1]).all() and np.isnan(out).sum() == 2


def test_mask_dates_join_like_copernicus_tiles() -> None:
    # rasterMaskGeneric joins the tiles per space-time key (left outer join): a date the
    # mask lacks stays unmasked, a mask date without data is dropped
    data = cube(
        np.ones((3, 1, 2)), ("t", "y", "x"), t=times("2023-05-01", "2023-05-02", "2023-05-03")
    )
    flags = cube(np.ones((2, 1, 2)), ("t", "y", "x"), t=times("2023-05-02", "2023-05-09"))
    out = mask(data, flags).values
    np.testing.assert_array_equal(np.isnan(out[:, 0, 0]), [False, True, False])
    out = mask(data, flags.astype(bool), replacement=7).values
    np.testing.assert_array_equal(out[:, 0, 1], [1, 7, 1])


def test_mask_without_time_is_broadcast_over_time() -> None:
    data = cube(
        np.ones((3, 2, 2)), ("t", "y", "x"), t=times("2023-05-01", "2023-05-02", "2023-05-03")
    )
    out = mask(data, cube([[0, 1], [0, 0]], ("y", "x")), replacement=-5).values
    np.testing.assert_array_equal(out[:, 0, 1], [-5, -5, -5])
    assert (out[:, [0, 1, 1], [0, 0, 1]] == 1).all()


def test_mask_nodata_in_mask_masks() -> None:
    out = mask(cube(np.ones((1, 3)), ("y", "x")), cube([[0.0, np.nan, 2.0]], ("y", "x"))).values
    np.testing.assert_array_equal(np.isnan(out), [[False, True, True]])


def test_mask_bool_mask_and_replacement() -> None:
    flags = cube([[True, False]], ("y", "x"))
    out = mask(cube([[3.0, 4.0]], ("y", "x")), flags, replacement=0).values
    np.testing.assert_array_equal(out, [[0.0, 4.0]])


def test_mask_replaces_only_values_and_an_integer_cube_stores_an_integer() -> None:
    """DatacubeSupport.scala rasterMaskGeneric L221-233: ``v2 != 0 && isData(v1)``, and
    ``replacement.intValue()`` into an int16 tile (wrapped, -32768 nodata)."""
    data = cube([[3.0, np.nan, 4.0, 5.0]], ("y", "x"))
    flags = cube([[True, True, False, True]], ("y", "x"))
    np.testing.assert_array_equal(
        mask(data, flags, replacement=0.5).values, [[0.5, np.nan, 4, 0.5]]
    )
    ints = mask(data, flags, replacement=-2.7, input_cell_type="int16").values
    np.testing.assert_array_equal(ints, [[-2, np.nan, 4, -2]])
    wrapped = mask(data, flags, replacement=32768, input_cell_type="int16").values
    assert np.isnan(wrapped[0, [0, 1, 3]]).all() and wrapped[0, 2] == 4
    np.testing.assert_array_equal(
        mask(data, flags, replacement=70000.9, input_cell_type="int32").values,
        [[70000, np.nan, 4, 70000]],
    )


def test_mask_label_mismatch_is_a_clear_error() -> None:
    """A mask on another grid is resampled onto the data's (as Copernicus's rasterMask);
    without a reference system to do that, one clear error."""
    data = cube(np.ones((2, 2)), ("y", "x"))
    shifted = cube(np.zeros((2, 2)), ("y", "x"), x=np.array([5.0, 15.0]))
    with pytest.raises(ProcessParameterInvalid, match="no known reference system"):
        mask(data, shifted)
    with pytest.raises(ProcessParameterInvalid, match="dimensions \\['t'\\]"):
        mask(data, cube(np.zeros((1, 2, 2)), ("t", "y", "x"), t=times("2023-05-01")))


def test_mask_is_lazy_and_computes_nothing() -> None:
    computed: list[str] = []

    def block(name: str, shape: tuple[int, ...]) -> Any:
        def make() -> np.ndarray:
            computed.append(name)
            return np.ones(shape)

        return da.from_delayed(dask.delayed(make)(), shape=shape, dtype=np.float64)

    data = cube(block("data", (2, 3, 4)), ("t", "y", "x"), t=times("2023-05-01", "2023-05-02"))
    flags = cube(block("mask", (2, 3, 4)), ("t", "y", "x"), t=times("2023-05-01", "2023-05-02"))
    out = mask(data, flags)
    assert isinstance(out.data, da.Array)
    assert computed == []
    assert np.isnan(out.values).all()
    assert sorted(computed) == ["data", "mask"]


# ---------------------------------------------------------------- ndvi


def test_ndvi_uint16_does_not_wrap() -> None:
    data = cube(
        np.array([[[100, 3000]], [[200, 1000]]], dtype=np.uint16),
        ("bands", "y", "x"),
        bands=["B08", "B04"],
    )
    out = ndvi(data, nir="B08", red="B04")
    assert out.dtype == np.float32 and out.dims == ("y", "x")
    np.testing.assert_allclose(out.values, [[-1 / 3, 0.5]], rtol=1e-6)


def test_ndvi_zero_sum_is_nan_and_the_sums_are_float32() -> None:
    # harmonised DN: B08 + B04 == 0 -> NaN (geotrellis Divide), not +-inf; Copernicus
    # converts the int16 cube to float32 before the band reduction, so 20000 + 15000
    # is 35000 (geopysparkdatacube.py _apply_bands_dimension L407-408)
    values = np.array([[[500.0, 15000.0, 3000.0]], [[-500.0, 20000.0, 1000.0]]], np.float32)
    data = cube(values, ("bands", "y", "x"), bands=["B08", "B04"])
    out = ndvi(data, nir="B08", red="B04")
    assert out.dtype == np.float32
    assert np.isnan(out.values[0, 0]) and not np.isinf(out.values).any()
    assert out.values[0, 1] == np.float32(-5000) / np.float32(35000)
    assert out.values[0, 2] == np.float32(0.5)


def test_divide_by_zero_is_nan_on_rasters() -> None:
    x = cube(da.from_array(np.array([[1.0, -1.0, 0.0, 6.0]], np.float32)), ("y", "x"))
    y = cube(np.array([[0.0, 0.0, 0.0, 3.0]], np.float32), ("y", "x"))
    out = divide(x, y)
    assert out.dtype == np.float32
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # never divides by zero, even lazily
        np.testing.assert_array_equal(out.values, [[np.nan, np.nan, np.nan, 2.0]])
    ints = divide(np.array([3, 4], np.int16), 0)
    assert ints.dtype == np.float32 and np.isnan(ints).all()
    assert divide(np.array([1.0, 2.0]), np.array([0.0, 4.0])).dtype == np.float64
    assert divide(1.0, 4.0) == 0.25  # two numbers: the spec (openeo-processes-dask)
