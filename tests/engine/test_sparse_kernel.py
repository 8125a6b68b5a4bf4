"""The zero-border convolution computed only near non-zero cells equals one convolution
of the whole slice, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from hybrid.backends.local.processes.kernel import (
    _plane_convolution,
    convolve_block,
    separable_factors,
)
from hybrid.backends.local.processes.sparse_kernel import TILE, _windows, convolve_zero_border
from hybrid.kernel import gaussian_kernel


def _blobs(shape: tuple[int, ...], share: float, seed: int) -> np.ndarray:
    """A float64 mask of 8-px blobs (about ``share`` of the cells) clumped around a few
    centres as clouds are, and one in the last corner so the border matters."""
    rng = np.random.default_rng(seed)
    mask = np.zeros(shape)
    height, width = shape[-2:]
    centres = rng.integers(0, (height, width), size=(3, 2))
    for _ in range(max(1, int(share * height * width / 64))):
        cy, cx = centres[rng.integers(0, len(centres))]
        y, x = (rng.normal((cy, cx), max(height, width) / 20)).astype(int) % (height, width)
        mask[..., y : y + 8, x : x + 8] = rng.choice([1.0, 0.5, -2.0])
    mask[..., -3:, -3:] = 1.0
    return mask


KERNELS = {
    "gaussian 11x11": np.asarray(gaussian_kernel(11, 1.6)),
    "asymmetric 3x5": np.arange(15, dtype=float).reshape(3, 5) - 4.0,
    "reach beyond a tile 71x71": np.ones((71, 71)) / 71**2,
    "not separable 5x5": np.arange(25, dtype=float).reshape(5, 5) ** 2,
}


@pytest.mark.parametrize("name", sorted(KERNELS))
@pytest.mark.parametrize("shape", [(1034, 1034), (3, 257, 300), (40, 33), (2, 20, 25)])
def test_equals_the_whole_slice_convolution(name: str, shape: tuple[int, ...]) -> None:
    kernel = KERNELS[name]
    plane = _plane_convolution(kernel, separable_factors(kernel))
    data = _blobs(shape, 0.01, seed=len(name) + sum(shape))
    reach = (kernel.shape[0] // 2, kernel.shape[1] // 2)
    if shape == (1034, 1034):
        assert _windows(data != 0, reach), "a 1 % mask must take the windowed path"
    got = convolve_zero_border(data, plane, reach)
    expected = np.stack([plane(p) for p in data.reshape(-1, *shape[-2:])])
    assert np.array_equal(got, expected.reshape(shape))


def test_a_sparse_slice_is_computed_in_windows_and_a_busy_one_whole() -> None:
    sparse = _blobs((1034, 1034), 0.01, seed=1) != 0
    windows = _windows(sparse, (5, 5))
    assert windows, "a 1 % mask must take the windowed path"
    computed = sum((y1 - y0) * (x1 - x0) for (y0, y1, x0, x1), _ in windows)
    assert computed < 0.5 * sparse.size
    assert _windows(np.zeros((100, 100), bool), (5, 5)) == []
    busy = np.zeros((8 * TILE, 8 * TILE), bool)
    busy[::TILE, ::TILE] = True
    assert _windows(busy, (5, 5)) is None


def test_convolve_block_keeps_copernicus_results_on_a_cloud_mask() -> None:
    """The seed workflow's dilation: a boolean mask with NaN (nodata) cells, FFT path."""
    mask = _blobs((2, 300, 280), 0.02, seed=7)
    mask[0, 10:20, 200:230] = np.nan
    kernel = np.asarray(gaussian_kernel(11, 1.6))
    got = convolve_block(mask, kernel)
    filled = np.nan_to_num(mask, nan=0.0)
    factors = separable_factors(kernel)
    assert factors is not None
    # the whole block in two 1-D passes, as before the windows
    expected = ndimage.convolve1d(filled, factors[0], axis=-2, mode="constant", cval=0.0)
    expected = ndimage.convolve1d(expected, factors[1], axis=-1, mode="constant", cval=0.0)
    assert np.array_equal(got, expected)
    assert (got[0] > 0.1).sum() > (mask[0] > 0).sum()


def test_a_boolean_mask_is_convolved_as_its_zeros_and_ones() -> None:
    """The halo exchange moves the mask as booleans; the result is the float64 one."""
    mask = _blobs((2, 301, 290), 0.02, seed=3) != 0
    kernel = np.asarray(gaussian_kernel(11, 1.6))
    got = convolve_block(mask, kernel)
    assert got.dtype == np.float64
    assert np.array_equal(got, convolve_block(mask.astype(np.float64), kernel))
