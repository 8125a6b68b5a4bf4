"""A function mapped with a halo (hybrid.backends.local.halo): what map_overlap computes
with ``boundary="none"``, bit for bit, in two tasks a block instead of a dozen."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

da = pytest.importorskip("dask.array")


def _smear(block: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """An asymmetric convolution with a zero border: a wrong strip or corner shows."""
    from scipy import ndimage

    full = weights.reshape((1,) * (block.ndim - 2) + weights.shape)
    return ndimage.convolve(block.astype(np.float64), full, mode="constant", cval=0.0)


def _array(shape: tuple[int, ...], chunks: tuple[Any, ...]) -> Any:
    values = np.random.default_rng(7).random(shape).astype("float32")
    return da.from_array(values, chunks=chunks)


@pytest.mark.parametrize(
    ("shape", "chunks", "depth"),
    [
        ((3, 40, 50), (1, (13, 17, 10), (20, 5, 25)), (2, 3)),
        ((2, 40, 50), (1, 20, 25), (0, 4)),
        ((40, 50), (40, (30, 20)), (6, 1)),
        ((2, 9, 9), (1, 3, 3), (3, 3)),
    ],
)
def test_the_result_is_map_overlaps_bit_for_bit(shape, chunks, depth):
    from hybrid.backends.local.halo import map_with_halo

    weights = np.arange(1.0, (2 * depth[0] + 1) * (2 * depth[1] + 1) + 1.0).reshape(
        2 * depth[0] + 1, 2 * depth[1] + 1
    )
    values = _array(shape, chunks)
    got = map_with_halo(_smear, values, depth, np.float64, weights=weights)
    overlap = {**{a: 0 for a in range(len(shape) - 2)}, len(shape) - 2: depth[0]}
    overlap[len(shape) - 1] = depth[1]
    want = values.map_overlap(
        _smear, depth=overlap, boundary="none", dtype=np.float64, weights=weights
    )
    assert got.chunks == values.chunks
    np.testing.assert_array_equal(got.compute(scheduler="sync"), want.compute(scheduler="sync"))


def test_two_tasks_a_block_and_no_slicing_tasks():
    from hybrid.backends.local.halo import map_with_halo

    values = _array((2, 60, 60), (1, 20, 20))
    got = map_with_halo(_smear, values, (2, 2), np.float64, weights=np.ones((5, 5)))
    layer = got.dask.layers[got.name]
    assert len(layer) == 2 * 2 * 3 * 3
    assert not any("getitem" in str(key[0]) for key in got.__dask_graph__())
    overlapped = values.map_overlap(
        _smear, depth=(0, 2, 2), boundary="none", dtype=np.float64, weights=np.ones((5, 5))
    )
    assert len(dict(got.__dask_graph__())) < len(dict(overlapped.__dask_graph__())) / 2


def test_a_halo_deeper_than_a_block_still_gives_map_overlaps_result():
    from hybrid.backends.local.halo import map_with_halo

    values = _array((1, 30, 30), (1, 10, (4, 13, 13)))
    weights = np.random.default_rng(1).random((11, 11))
    got = map_with_halo(_smear, values, (5, 5), np.float64, weights=weights)
    want = values.map_overlap(
        _smear, depth=(0, 5, 5), boundary="none", dtype=np.float64, weights=weights
    )
    np.testing.assert_array_equal(got.compute(), want.compute())


def test_lent_strips_are_copies_that_do_not_hold_their_block():
    from hybrid.backends.local.halo import lent_edges

    block = np.arange(2 * 8 * 6, dtype="float32").reshape(2, 8, 6)
    lent = lent_edges((2, 1), ((1, 0), (-1, -1), (0, 1)), block)
    assert lent[(1, 0)].shape == (2, 2, 6) and lent[(-1, -1)].shape == (2, 2, 1)
    np.testing.assert_array_equal(lent[(0, 1)], block[..., :, -1:])
    np.testing.assert_array_equal(lent[(-1, -1)], block[..., :2, :1])
    assert not any(np.shares_memory(strip, block) for strip in lent.values())
