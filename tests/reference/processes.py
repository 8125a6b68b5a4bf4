"""The per-date processing as Copernicus does it: cloud flags, apply_kernel, threshold, NDVI.

Written from the driver code, not from the engine (../shared/FIELD_NOTES.md section 1):

- ``SCL == c`` and ``or`` give bits without nodata: SCL nodata is "not cloud"
  (openeo-geotrellis-extensions OpenEOProcessScriptBuilder.scala ``xyFunction``,
  ``convertBitCells = false`` for comparisons);
- apply_kernel convolves (the kernel is flipped): above 10 px through FFTConvolve
  (NaN -> 0, zero padding), else through geotrellis Convolve (nodata skipped, a window
  of only nodata -> nodata); float64;
- ``gt(x, 0.1)``: the constant becomes float32 (``constantArgument``) and the float64
  convolution float32 (``apply`` converts its input: geopysparkdatacube.py
  ``_apply_bands_dimension`` L407-408), compared in float32;
- ndvi: a band reduction, which Copernicus computes on the cube converted to float32
  (openeo-geopyspark-driver geopysparkdatacube.py ``_apply_bands_dimension`` L407-408;
  FIELD_NOTES "Band maths" says int16, the code wins): subtract, add and divide in
  float32, x / 0 is NaN (geotrellis ``Divide``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.signal import fftconvolve

#: kernels with more rows or columns than this take Copernicus's FFT path
FFT_ABOVE = 10


def apply_kernel(values: np.ndarray, kernel: np.ndarray, factor: float = 1.0) -> np.ndarray:
    """One (y, x) slice through Copernicus's apply_kernel (border 0), float64."""
    kernel = np.asarray(kernel, dtype=np.float64) * factor
    values = np.asarray(values, dtype=np.float64)
    if max(kernel.shape) > FFT_ABOVE:
        return fftconvolve(np.nan_to_num(values, nan=0.0), kernel, mode="same")
    return _direct_convolve(values, kernel)


def _direct_convolve(values: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """geotrellis Convolve: sum of value x flipped weight over the non-nodata cells of
    the window (outside the raster: none); NaN where the window has no data at all."""
    ry, rx = kernel.shape[0] // 2, kernel.shape[1] // 2
    padded = np.pad(values, ((ry, ry), (rx, rx)), constant_values=np.nan)
    windows = sliding_window_view(padded, kernel.shape)
    flipped = kernel[::-1, ::-1]
    valid = ~np.isnan(windows)
    total = np.where(valid, windows, 0.0) * flipped
    out = total.sum(axis=(-2, -1))
    out[~valid.any(axis=(-2, -1))] = np.nan
    return out


def cloud_flags(scl: np.ndarray, classes: Sequence[int]) -> np.ndarray:
    """``SCL == c1 or SCL == c2 ...`` as 0/1 without nodata (SCL nodata -> 0)."""
    with np.errstate(invalid="ignore"):
        return np.isin(scl, list(classes)).astype(np.float64)


def cloud_mask(
    scl: np.ndarray, *, classes: Sequence[int], kernel: np.ndarray, threshold: float
) -> np.ndarray:
    """True where the smoothed cloud fraction exceeds ``threshold`` (as float32)."""
    smooth = apply_kernel(cloud_flags(scl, classes), kernel)
    # apply converts the float64 convolution to float32 before gt; gt yields bits
    # without nodata: NaN (a window of only nodata) compares false
    with np.errstate(invalid="ignore"):
        return smooth.astype(np.float32) > np.float32(threshold)


def ndvi(red: np.ndarray, nir: np.ndarray) -> np.ndarray:
    """(nir - red) / (nir + red) in float32, x / 0 -> NaN."""
    diff = np.asarray(nir, np.float32) - np.asarray(red, np.float32)
    total = np.asarray(nir, np.float32) + np.asarray(red, np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = diff / total
    out[total == 0] = np.nan
    return out.astype(np.float32)
