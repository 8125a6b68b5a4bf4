"""A reference for to_scl_dilation_mask / mask_scl_dilation written from the Copernicus
source (openeo-geotrellis-extensions CloudFilterStrategy.scala
``SCLConvolutionFilter.createMask`` L226-288, kernels L174-194, FFTConvolve.scala
L73-85; geotrellis Kernel.gaussian / Kernel.circle), and the SCL scenes it is run on.

The reference is independent of the implementation (which convolves the normalised
float kernel by FFT and compares floats): plain Python integer kernels, the inputs' 0/1
masks turned into exact integer weight sums (overlap-add, rounded, the rounding
checked), each threshold decided exactly in integers, the Scala control flow transcribed
branch by branch. It replaced a naive sum of 40401 shifted copies for the 201-px kernel:
same answers on every case here, a fraction of the time.
"""

from __future__ import annotations

import math

import numpy as np

# -- the reference -------------------------------------------------------------------


def ref_gaussian_weights(size: int) -> np.ndarray:
    """geotrellis Kernel.gaussian(size, size / 6.0, 10000) (Int tile): integer weights;
    the filter divides them by their sum (see :func:`ref_dilate`)."""
    sigma = size / 6.0
    denom = 2.0 * sigma * sigma
    k = np.zeros((size, size), dtype=np.int64)
    for r in range(size):
        for c in range(size):
            rsqr = (c - size // 2) ** 2 + (r - size // 2) ** 2
            k[r, c] = int(10000.0 * math.exp(-rsqr / denom))  # Scala .toInt truncates
    return k


def ref_circle(size: int) -> np.ndarray:
    """geotrellis Kernel.circle(size, 0, size / 2): r*r + c*c < rad2 from the corner."""
    rad2 = (size // 2) ** 2
    return np.array([[1 if r * r + c * c < rad2 else 0 for c in range(size)]
                     for r in range(size)], dtype=np.int64)  # fmt: skip


def ref_weight_sums(mask: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """For a 0/1 ``mask`` and integer ``weights``: the exact integer sum of the weights
    over the set pixels each output pixel's window covers, i.e. the full linear
    convolution (zeros outside) cropped from ((k - 1) // 2) as FFTConvolve.scala L73-85
    crops it. Overlap-add in float64 holds every such sum (< 2**31) to far better than
    0.5, so rounding gives the exact integer; the residual is checked, not assumed."""
    from scipy.signal import oaconvolve

    full = oaconvolve(mask.astype(np.float64), weights.astype(np.float64), mode="full")
    top, left = (weights.shape[0] - 1) // 2, (weights.shape[1] - 1) // 2
    full = full[top : top + mask.shape[0], left : left + mask.shape[1]]
    sums = np.rint(full)
    assert np.abs(full - sums).max(initial=0.0) < 0.25, "the integer sums are not exact"
    return sums.astype(np.int64)


def ref_dilate(mask: np.ndarray, size: int, threshold: float) -> np.ndarray:
    """conv(mask, gaussian / sum(gaussian)) > threshold, decided exactly: with S the
    integer weight sum and W the kernel's total, S / W > threshold iff S > floor(threshold
    * W) (threshold: the double the Scala literal is). So no pixel's side of the
    threshold depends on the order a float implementation sums in."""
    from fractions import Fraction

    weights = ref_gaussian_weights(size)
    limit = math.floor(Fraction(threshold) * int(weights.sum()))
    return ref_weight_sums(mask, weights) > limit


def ref_erode(binary: np.ndarray, size: int) -> np.ndarray:
    """CloudFilterStrategy.scala L290-298: conv((m - 1)**2, circle) > 0.5 -> 0 else 1;
    a 0/1 mask convolved with a 0/1 kernel counts pixels, so "> 0.5" is "any"."""
    if size <= 0:
        return binary
    holes = (binary == 0).astype(np.int64)
    return np.where(ref_weight_sums(holes, ref_circle(size)) > 0, 0.0, 1.0)


def ref_mask(scl, erosion=0, mask1=(2, 4, 5, 6, 7), mask2=(3, 8, 9, 10, 11), k1=17, k2=201):
    values = [[None if v != v else int(v) for v in row] for row in scl]
    binary1 = np.array([[0.0 if v in mask1 else 1.0 for v in row] for row in values])
    nothing_masked = not binary1.any()
    if not nothing_masked and k1 > 0:
        conv1 = ref_dilate(ref_erode(binary1, erosion), k1, 0.057)
    elif nothing_masked:
        conv1 = None
    else:
        conv1 = binary1 > 0
    binary2 = np.array([[1.0 if v in mask2 else 0.0 for v in row] for row in values])
    all_cloud = binary2.all()
    conv2 = binary2 > 0 if all_cloud else ref_dilate(ref_erode(binary2, erosion), k2, 0.025)
    return conv2 if conv1 is None else (conv1 | conv2)


# -- cubes ---------------------------------------------------------------------------


def _scl_cube(slices: list[np.ndarray]):
    import xarray as xr

    data = np.stack(slices)[:, None].astype(np.float32)
    ny, nx = data.shape[-2:]
    return xr.DataArray(
        data,
        dims=("t", "bands", "y", "x"),
        coords={
            "t": np.arange(len(slices)).astype("datetime64[D]").astype("datetime64[ns]"),
            "bands": ["SCL"],
            "y": 5000.0 - 10 * np.arange(ny),
            "x": 300000.0 + 10 * np.arange(nx),
        },
    ).chunk({"t": 1, "y": 17, "x": 19})


def _clouds(seed: int, shape=(48, 52)) -> np.ndarray:
    """A scene: vegetation and soil, a cloud with its shadow, water, snow, nodata."""
    rng = np.random.default_rng(seed)
    scl = rng.choice([4, 5, 4, 4, 6, 7, 2], size=shape).astype(np.float64)
    y, x = np.mgrid[: shape[0], : shape[1]]
    cy, cx = rng.integers(10, 38), rng.integers(10, 42)
    scl[(y - cy) ** 2 + (x - cx) ** 2 < 30] = 9
    scl[(y - cy - 6) ** 2 + (x - cx - 4) ** 2 < 12] = 3
    scl[rng.random(shape) < 0.01] = 10
    scl[:3, -5:] = np.nan
    scl[rng.random(shape) < 0.01] = 1
    return scl
