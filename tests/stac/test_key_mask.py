"""The serving masks of overlapping tiles, built block by block from their layout keys."""

from __future__ import annotations

import numpy as np

from hybrid.stac.overlap import key_mask


def test_the_lazy_key_mask_is_the_keys_repeated_over_their_pixels():
    keys = np.random.default_rng(3).random((2, 3, 4)) > 0.5  # 2 dates, 3 x 4 keys
    side, height, width = 16, 40, 57  # the last keys are cut by the grid
    chunks = ((1, 1), (13, 13, 14), (20, 20, 17))
    lazy = key_mask(keys, side, chunks)
    eager = np.stack([np.kron(k, np.ones((side, side), bool))[:height, :width] for k in keys])
    assert lazy.chunks == chunks and lazy.dtype == bool
    np.testing.assert_array_equal(lazy.compute(scheduler="synchronous"), eager)
