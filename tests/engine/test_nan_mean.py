"""The one-pass nodata-skipping mean is numpy.nanmean bit for bit, and the mean process
takes it where it applies."""

from __future__ import annotations

import warnings

import dask.array as da
import numpy as np
import pytest
import xarray as xr

from hybrid.backends.local.processes import nan_mean, statistics


def _values(dtype: str, shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    values = (rng.normal(size=shape) * 1e3).astype(dtype)
    values[rng.random(shape) < 0.3] = np.nan
    values[(0,) * (len(shape) - 1)] = np.nan  # an all-NaN line along the last axis
    values.flat[1] = -0.0
    return values


def _same_bits(got: np.ndarray, want: np.ndarray) -> None:
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(
        np.ascontiguousarray(got).view(np.uint8), np.ascontiguousarray(want).view(np.uint8)
    )


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_numpy_bit_for_bit(dtype: str, axis: int) -> None:
    values = _values(dtype, (5, 7, 33))
    if axis == 1:
        values = _values(dtype, (6, 300, 1000))  # large enough for numpy's blocking
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's "Mean of empty slice"
        want = np.nanmean(values, axis=axis)
    _same_bits(nan_mean.nan_mean_of(values, axis), want)


def test_dask_blocks_bit_for_bit() -> None:
    values = _values("float64", (4, 6, 64, 64), seed=1)
    lazy = da.from_array(values, chunks=(1, 6, 32, 32))
    assert nan_mean.applies(lazy, 1, False)
    result = nan_mean.nan_mean_of(lazy, 1)
    assert result.chunks == ((1,) * 4, (32, 32), (32, 32))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        want = np.nanmean(values, axis=1)
    _same_bits(result.compute(scheduler="synchronous"), want)


def test_other_layouts_are_numpys() -> None:
    values = _values("float32", (33, 7, 5)).transpose(2, 1, 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        want = np.nanmean(values, axis=1)
    _same_bits(nan_mean.nan_mean_of(values, 1), want)


def test_one_dimension_gives_a_scalar() -> None:
    assert nan_mean.nan_mean_of(np.array([1.0, np.nan, 2.0]), 0) == 1.5
    assert np.ndim(nan_mean.nan_mean_of(np.array([1.0, np.nan, 2.0]), 0)) == 0


@pytest.mark.parametrize(
    ("data", "axis", "keepdims"),
    [
        (np.arange(12).reshape(3, 4), 0, False),  # integers: numpy's mean
        (np.ones((3, 4)), None, False),  # all axes
        (np.ones((3, 4)), 0, True),
        (np.ones((0, 4)), 0, False),  # nothing to reduce
        (da.ones((6, 4), chunks=(3, 4)), 0, False),  # the axis in two chunks
        ([1.0, 2.0], 0, False),
        (xr.DataArray(np.ones((3, 4))), 0, False),  # xarray: not a raw array
        (np.ones((3, 4)), True, False),
    ],
)
def test_other_reductions_stay_numpys(data: object, axis: object, keepdims: bool) -> None:
    assert not nan_mean.applies(data, axis, keepdims)


def test_mean_process_takes_it_and_keeps_ignore_nodata() -> None:
    values = _values("float64", (3, 8, 8), seed=2)
    lazy = da.from_array(values, chunks=(3, 4, 4))
    result = statistics.mean(lazy, axis=0)
    names = {str(key[0]) for key in result.__dask_graph__()}
    assert any(name.startswith("nan_mean") for name in names), names
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        _same_bits(result.compute(scheduler="synchronous"), np.nanmean(values, axis=0))
    # a list keeps ignore_nodata=false (a cube's values skip nodata whatever it says)
    plain = statistics.mean([1.0, np.nan, 2.0], ignore_nodata=False)
    assert np.isnan(plain)


def test_a_lazy_mean_reads_its_block_without_copying_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """The reduced axis lies in one chunk, so each mean gets that chunk as it is; a
    concatenation of the one block (``map_blocks(drop_axis=...)``) copied it first."""
    values = _values("float64", (7, 16, 16), seed=3)
    made: list[np.ndarray] = []
    given: list[bool] = []
    real = nan_mean.nan_mean

    def make(block: np.ndarray) -> np.ndarray:
        made.append(block.copy())
        return made[-1]

    def watched(block: np.ndarray, axis: int) -> np.ndarray:
        given.append(any(block is own for own in made))
        return real(block, axis)

    monkeypatch.setattr(nan_mean, "nan_mean", watched)
    lazy = da.from_array(values, chunks=(7, 8, 8)).map_blocks(make, dtype=values.dtype)
    result = nan_mean.nan_mean_of(lazy, 0).compute(scheduler="synchronous")
    assert given == [True] * 4
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        _same_bits(result, np.nanmean(values, axis=0))
