"""apply_kernel as the local engine replaces it (backends/local/processes/kernel.py), with
hand-computed answers and Copernicus's own test vectors.
"""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest
from scipy import ndimage

from hybrid.backends.local.processes.kernel import apply_kernel, convolve_block, separable_factors
from hybrid.errors import ProcessParameterInvalid
from tests.engine.process_cubes import cube, times

# ---------------------------------------------------------------- apply_kernel

ASYMMETRIC = np.array([[1.0, 2, 3], [4, 5, 6], [7, 8, 9]])


def test_apply_kernel_convolves_not_correlates() -> None:
    impulse = np.zeros((5, 5))
    impulse[2, 2] = 1.0
    out = apply_kernel(cube(impulse, ("y", "x")), ASYMMETRIC).values
    # convolution: out[y, x] = sum k[a, b] * in[y - a + 1, x - b + 1] -> the kernel
    # appears as written around an impulse (a correlation would rotate it by 180 degrees)
    np.testing.assert_array_equal(out[1:4, 1:4], ASYMMETRIC)
    assert out.sum() == 45


def _copernicus_fft(values: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """FFTConvolve.apply re-done with numpy's FFT: NaN -> 0, both zero-padded to
    n + k - 1, multiplied in Fourier space, the centre cropped out."""
    rows, cols = values.shape[0] + kernel.shape[0] - 1, values.shape[1] + kernel.shape[1] - 1
    full = np.fft.ifft2(
        np.fft.fft2(np.nan_to_num(values), (rows, cols)) * np.fft.fft2(kernel, (rows, cols))
    ).real
    r0, c0 = (kernel.shape[0] - 1) // 2, (kernel.shape[1] - 1) // 2
    return full[r0 : r0 + values.shape[0], c0 : c0 + values.shape[1]]


SOBEL = np.array([[-1.0, -2, -1], [0, 0, 0], [1, 2, 1]])

#: openeo-geotrellis-extensions FFTConvolveSpec.testSimpleConvolve (copied there from
#: geotrellis' Convolve test): [[1..9]] convolved with SOBEL
SIMPLE_CONVOLVE = np.array([[-13.0, -20, -17], [-18, -24, -18], [13, 20, 17]])


def test_copernicus_fftconvolvespec_simple_convolve_direct_path() -> None:
    data = cube(np.arange(1.0, 10).reshape(3, 3), ("y", "x"))
    np.testing.assert_array_equal(apply_kernel(data, SOBEL).values, SIMPLE_CONVOLVE)


def test_copernicus_fftconvolvespec_simple_convolve_fft_path() -> None:
    # the same 3x3 kernel centred in an 11x11 of zeros: same convolution, but 11 > 10
    # sends it down Copernicus's FFT path
    big = np.zeros((11, 11))
    big[4:7, 4:7] = SOBEL
    values = np.arange(1.0, 10).reshape(3, 3)
    out = apply_kernel(cube(values, ("y", "x")), big).values
    np.testing.assert_allclose(out, SIMPLE_CONVOLVE, atol=1e-9)
    np.testing.assert_allclose(_copernicus_fft(values, big), SIMPLE_CONVOLVE, atol=1e-9)


def test_copernicus_openeoprocessesspec_apply_mask_fft() -> None:
    # OpenEOProcessesSpec.applyMaskFFT: a 1280 x 1280 tile of ones in 256-px layout
    # tiles, a 61 x 61 kernel of ones (FFT path) equals geotrellis' direct Convolve of
    # the whole tile: the number of tile pixels inside each 61 x 61 window
    ones = da.ones((1280, 1280), chunks=256)
    out = apply_kernel(cube(ones, ("y", "x")), np.ones((61, 61))).values
    i = np.arange(1280)
    inside = np.minimum(i + 30, 1279) - np.maximum(i - 30, 0) + 1
    np.testing.assert_allclose(out, np.outer(inside, inside), rtol=0, atol=1e-6)
    assert out[0, 0] == 31 * 31 and out[640, 640] == 61 * 61


def test_apply_kernel_direct_path_nodata_window_is_nodata() -> None:
    # geotrellis Convolve (kernels <= 10 px): nodata is skipped, a window of only
    # nodata (or outside the layer) gives nodata
    data = np.ones((5, 5))
    data[:3, :3] = np.nan
    out = apply_kernel(cube(data, ("y", "x")), np.ones((3, 3))).values
    assert np.isnan(out[:2, :2]).all()
    assert np.isfinite(out).sum() == 25 - 4
    np.testing.assert_array_equal(out[2:, 2:], [[5, 7, 6], [7, 8, 6], [6, 6, 4]])
    np.testing.assert_array_equal(out[0, 2:], [2, 4, 4])


def test_apply_kernel_fft_path_never_nodata() -> None:
    # FFTConvolve (kernels > 10 px) turns NaN into 0 first: never nodata
    data = np.full((15, 15), np.nan)
    data[14, 14] = 1.0
    out = apply_kernel(cube(data, ("y", "x")), np.ones((11, 11))).values
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out, _copernicus_fft(data, np.ones((11, 11))), atol=1e-9)


def test_apply_kernel_factor_multiplies_the_kernel() -> None:
    data = cube(np.arange(1.0, 10).reshape(3, 3), ("y", "x"))
    out = apply_kernel(data, SOBEL, factor=0.5)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out.values, SIMPLE_CONVOLVE * 0.5)


def test_apply_kernel_zero_border() -> None:
    out = apply_kernel(cube(np.ones((3, 3)), ("y", "x")), np.ones((3, 3))).values
    np.testing.assert_array_equal(out, [[4, 6, 4], [6, 9, 6], [4, 6, 4]])


def test_apply_kernel_nan_counts_as_zero() -> None:
    data = np.ones((3, 3))
    data[1, 1] = np.nan
    out = apply_kernel(cube(data, ("y", "x")), np.ones((3, 3))).values
    np.testing.assert_array_equal(out, [[3, 5, 3], [5, 8, 5], [3, 5, 3]])


def test_apply_kernel_bool_input_is_zero_one() -> None:
    flags = np.array([[True, False, False], [False, False, False], [False, False, True]])
    out = apply_kernel(cube(flags, ("y", "x")), np.ones((3, 3))).values
    np.testing.assert_array_equal(out, [[1, 1, 0], [1, 2, 1], [0, 1, 1]])


def test_apply_kernel_rejects_even_kernel_and_unknown_border() -> None:
    data = cube(np.ones((3, 3)), ("y", "x"))
    with pytest.raises(ProcessParameterInvalid, match="KernelDimensionsUneven"):
        apply_kernel(data, np.ones((2, 3)))
    with pytest.raises(ProcessParameterInvalid, match="border 'mirror' is unknown"):
        apply_kernel(data, np.ones((3, 3)), border="mirror")


@pytest.mark.parametrize("separable", [True, False], ids=["separable", "full"])
def test_apply_kernel_chunked_matches_scipy(separable: bool) -> None:
    rng = np.random.default_rng(7)
    values = rng.normal(size=(2, 3, 23, 19))
    values[0, 1, 5:9, 3] = np.nan
    if separable:
        g = np.exp(-0.5 * (np.arange(-5, 6) / 1.6) ** 2)
        kernel = np.outer(g, g) / np.outer(g, g).sum()
        assert separable_factors(kernel) is not None
    else:
        kernel = rng.normal(size=(5, 7))
        assert separable_factors(kernel) is None
    want = ndimage.convolve(np.nan_to_num(values), kernel[None, None], mode="constant", cval=0.0)
    dims = ("t", "bands", "y", "x")
    whole = apply_kernel(cube(values, dims), kernel)
    chunked = apply_kernel(cube(da.from_array(values, chunks=(1, 2, 4, 3)), dims), kernel)
    assert isinstance(chunked.data, da.Array)
    np.testing.assert_allclose(whole.values, want, atol=1e-12)
    # halo across chunk borders: small chunks give exactly the unchunked answer
    np.testing.assert_allclose(chunked.values, whole.values, atol=1e-12)


def test_separable_and_full_convolution_agree() -> None:
    rng = np.random.default_rng(3)
    col, row = rng.normal(size=7), rng.normal(size=5)
    kernel = np.outer(col, row)
    block = rng.normal(size=(2, 15, 12))
    fast = convolve_block(block, kernel)
    full = ndimage.convolve(block, kernel[None], mode="constant", cval=0.0)
    np.testing.assert_allclose(fast, full, atol=1e-12)


def test_apply_kernel_keeps_dims_order_and_coords() -> None:
    data = cube(np.ones((4, 3, 2)), ("y", "x", "t"), t=times("2023-05-01", "2023-05-02"))
    out = apply_kernel(data, np.ones((1, 1)))
    assert out.dims == ("y", "x", "t")
    np.testing.assert_array_equal(out["t"].values, data["t"].values)
    np.testing.assert_array_equal(out.values, 1.0)
