"""The periods of a lazy float cube stacked one task per block: the values of a
vectorized gather cast to float64 with NaN padding, bit for bit, in fewer tasks."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest

from hybrid.backends.local.processes.period_stack import stacked_periods


def _cube(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    values = rng.normal(size=shape).astype(np.float32)
    values[rng.random(shape) < 0.2] = np.nan
    return values


def _expected(values: np.ndarray, axis: int, take: np.ndarray, valid: np.ndarray) -> np.ndarray:
    gathered = np.take(values, take, axis=axis).astype(np.float64)
    padding = np.expand_dims(~valid, tuple(range(axis)) + tuple(range(axis + 2, values.ndim + 1)))
    return np.where(padding, np.nan, gathered)


def _periods(lengths: list[int], dates: int) -> tuple[np.ndarray, np.ndarray]:
    width = max(lengths)
    take = np.zeros((len(lengths), width), dtype=np.int64)
    valid = np.zeros((len(lengths), width), dtype=bool)
    first = 0
    for row, length in enumerate(lengths):
        take[row, :length] = range(first, first + length)
        take[row, length:] = first + length - 1
        valid[row, :length] = True
        first += length
    assert first <= dates
    return take, valid


@pytest.mark.parametrize(
    ("shape", "axis", "chunks", "lengths", "run"),
    [
        ((9, 20, 24), 0, (1, 8, 10), [3, 4, 2], 16),  # one date a chunk, as loads are
        ((9, 20, 24), 0, (4, 20, 24), [3, 4, 2], 16),  # several dates a chunk
        ((2, 9, 12, 10), 1, (1, 1, 5, 10), [5, 1, 3], 16),  # bands before time
        ((9, 6, 5), 0, (2, 3, 5), [7, 2], 3),  # members in runs; a run of only padding
    ],
)
def test_the_stack_is_the_gather_cast_and_padded(
    shape: tuple[int, ...],
    axis: int,
    chunks: tuple[int, ...],
    lengths: list[int],
    run: int,
) -> None:
    values = _cube(shape)
    take, valid = _periods(lengths, shape[axis])
    lazy = stacked_periods(da.from_array(values, chunks=chunks), axis, take, valid, run)
    got = lazy.compute(scheduler="synchronous")
    want = _expected(values, axis, take, valid)
    assert got.dtype == np.float64 and got.shape == want.shape == lazy.shape
    np.testing.assert_array_equal(got.view(np.uint64), want.view(np.uint64))
    widths = lazy.chunks[axis + 1]
    assert max(widths) <= run and sum(widths) == take.shape[1]
    assert lazy.chunks[axis] == (1,) * len(lengths)


def test_one_task_per_block_of_the_stack() -> None:
    values = da.from_array(_cube((8, 20, 20)), chunks=(1, 10, 10))
    take, valid = _periods([3, 5], 8)
    lazy = stacked_periods(values, 0, take, valid, 16)
    own = [key for key in lazy.__dask_graph__() if key[0] == lazy.name]
    assert len(own) == 2 * 2 * 2  # periods x blocks of y x blocks of x
