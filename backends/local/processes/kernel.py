"""apply_kernel as Copernicus runs it: a convolution (the kernel is flipped), zero border.

Copernicus (openeo-geopyspark-driver ``geopysparkdatacube.py`` ``apply_kernel``,
~L1229-1266) multiplies the kernel by ``factor`` as float64 and hands it to
openeo-geotrellis-extensions ``OpenEOProcesses.apply_kernel`` (~L1101-1112). The cube
is converted to the union of its cell type and the kernel's (float64), then:

- kernels with more than 10 rows or columns run through ``FFTConvolve``
  (geotrellis-common ``FFTConvolve.scala``): NaN/nodata becomes 0 (L36-40), the tile
  and kernel are zero-padded to ``n + k - 1`` (L75-78), multiplied in Fourier space
  (a full linear convolution) and cropped to the centre (L82-84). Never nodata.
- smaller kernels run through geotrellis ``focal.Convolve`` with ``TargetCell.All``:
  the ``KernelCursor`` reads the weight at ``focus + extent - x`` (KernelCursor.scala
  L42-44, i.e. flipped), nodata cells are skipped and the sum starts as NaN
  (Convolve.scala L33-42), so a window holding only nodata gives nodata (NaN); the
  cursor is clipped at the edges of the (neighbour-buffered) layer, which amounts to a
  zero border.

Both paths convolve, so an asymmetric kernel comes out flipped compared with a
correlation (FFTConvolveSpec.testSimpleConvolve). The result is float64.

Copernicus accepts only ``border=0`` and ``replace_invalid=0`` (geopyspark-driver
``apply_kernel`` raises otherwise, #1235) and geotrellis' ``Kernel`` must be square
(Kernel.scala L27). The local engine also runs the spec's other border modes and
``replace_invalid`` values, and rectangular kernels, all as convolutions: invalid
values (NaN, +-inf) are replaced by ``replace_invalid`` and no window becomes nodata.
Infinite values are treated like NaN on the Copernicus paths too (the spec's rule;
geotrellis would propagate them).

The kernel is applied lazily per chunk with a halo (:mod:`hybrid.backends.local.halo`); a
rank-1 kernel such as the Gaussian runs as two 1-D passes, with the same result as the
2-D convolution. openeo-processes-dask also convolves, but rechunks x/y into one chunk
and turns boolean input into zeros.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from hybrid.errors import ProcessParameterInvalid

#: relative tolerance for accepting a kernel as separable (outer product of two vectors)
_SEPARABLE_RTOL = 1e-12


def separable_factors(kernel: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(column, row) vectors whose outer product is ``kernel``, if it is rank 1.

    Taken from the kernel itself (the column and row through its largest entry), so
    integer or constant kernels split exactly.
    """
    if kernel.size == 0 or not np.isfinite(kernel).all():
        return None
    i0, j0 = np.unravel_index(np.argmax(np.abs(kernel)), kernel.shape)
    pivot = kernel[i0, j0]
    if pivot == 0:
        return None
    col = kernel[:, j0].copy()
    row = kernel[i0, :] / pivot
    scale = float(np.abs(kernel).max())
    if not np.allclose(np.outer(col, row), kernel, rtol=0, atol=_SEPARABLE_RTOL * scale):
        return None
    return col, row


#: Copernicus convolves kernels with more rows or columns than this by FFT
#: (OpenEOProcesses.scala ~L1105), smaller ones directly (nodata windows -> nodata)
FFT_ABOVE = 10


def uses_fft(kernel_shape: tuple[int, ...]) -> bool:
    """Whether Copernicus takes its FFT path (NaN -> 0, never nodata) for this kernel."""
    return max(kernel_shape) > FFT_ABOVE


def _only_invalid(invalid: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Where the kernel-sized window around a pixel holds only invalid cells.

    Beyond the array's edges counts as invalid (geotrellis clips its cursor there).
    """
    from scipy import ndimage

    flags = invalid.view(np.uint8) if invalid.dtype == bool else invalid.astype(np.uint8)
    rows = ndimage.minimum_filter1d(flags, shape[0], axis=-2, mode="constant", cval=1)
    return ndimage.minimum_filter1d(rows, shape[1], axis=-1, mode="constant", cval=1).astype(bool)


def convolve_block(
    block: np.ndarray,
    kernel: np.ndarray,
    *,
    replace_invalid: float = 0.0,
    cval: float = 0.0,
    nodata_windows: bool = False,
) -> np.ndarray:
    """Convolve the last two axes of ``block`` with ``kernel``, ``cval`` (zero) outside.

    NaN and infinite values count as ``replace_invalid``. With ``nodata_windows`` a
    pixel whose kernel-sized window holds only invalid values becomes NaN (geotrellis
    ``Convolve``, the Copernicus path for kernels of at most 10 px).
    """
    invalid = None
    if block.dtype == bool and cval == 0:
        data = block  # a mask: scipy reads it as float64, line by line
    else:
        data = block.astype(np.float64, copy=False)
        finite = np.isfinite(data)
        invalid = None if finite.all() else ~finite
        if invalid is not None:
            data = np.where(finite, data, np.float64(replace_invalid))
    out = _convolve(data, kernel, cval)
    if nodata_windows and invalid is not None:
        out[_only_invalid(invalid, (kernel.shape[0], kernel.shape[1]))] = np.nan
    return out


def _convolve(data: np.ndarray, kernel: np.ndarray, cval: float) -> np.ndarray:
    from scipy import ndimage

    from hybrid.backends.local.processes.sparse_kernel import convolve_zero_border

    factors = separable_factors(kernel)
    if cval == 0:
        # a mask is mostly zeros: only where the kernel reaches a non-zero cell
        plane = _plane_convolution(kernel, factors)
        return convolve_zero_border(data, plane, (kernel.shape[0] // 2, kernel.shape[1] // 2))
    if factors is not None:
        col, row = factors
        out = ndimage.convolve1d(data, col, axis=-2, mode="constant", cval=cval)
        # beyond the edges the first pass would have given cval * sum(col)
        edge = cval * float(col.sum())
        return ndimage.convolve1d(out, row, axis=-1, mode="constant", cval=edge)
    full = kernel.reshape((1,) * (data.ndim - 2) + kernel.shape)
    return ndimage.convolve(data, full, mode="constant", cval=cval)


def _plane_convolution(
    kernel: np.ndarray, factors: tuple[np.ndarray, np.ndarray] | None
) -> Callable[[np.ndarray], np.ndarray]:
    """Convolve one 2-D slice with ``kernel`` (as two 1-D passes when ``factors``), zero
    border."""
    from scipy import ndimage

    f64 = np.float64
    if factors is None:
        return lambda plane: ndimage.convolve(plane, kernel, f64, mode="constant", cval=0.0)
    col, row = factors

    def separable(plane: np.ndarray) -> np.ndarray:
        out = ndimage.convolve1d(plane, col, axis=0, output=f64, mode="constant", cval=0.0)
        return ndimage.convolve1d(out, row, axis=1, output=f64, mode="constant", cval=0.0)

    return separable


#: openEO border modes -> numpy/dask pad modes (spec: apply_kernel ``border``)
BORDER_MODES = {
    "replicate": "edge",  # aaaaaa|abcdefgh|hhhhhhh
    "reflect": "symmetric",  # fedcba|abcdefgh|hgfedcb
    "reflect_pixel": "reflect",  # gfedcb|abcdefgh|gfedcba
    "wrap": "wrap",  # cdefgh|abcdefgh|abcdef
}


def _border(border: Any) -> tuple[str, float]:
    """(pad mode, constant) for an openEO ``border`` value."""
    if isinstance(border, bool):
        raise ProcessParameterInvalid(
            f"apply_kernel: border must be a number or a mode, not {border}"
        )
    if isinstance(border, int | float):
        return "constant", float(border)
    if isinstance(border, str) and border in BORDER_MODES:
        return BORDER_MODES[border], 0.0
    raise ProcessParameterInvalid(
        f"apply_kernel: border '{border}' is unknown; use a number or one of "
        f"{', '.join(BORDER_MODES)}"
    )


def apply_kernel(
    data: Any,
    kernel: Any,
    factor: float = 1.0,
    border: Any = 0,
    replace_invalid: float = 0,
) -> Any:
    """Convolve every x/y slice of ``data`` with ``kernel`` x ``factor``, lazily (float64).

    With ``border=0`` and ``replace_invalid=0`` (all Copernicus accepts) the result is
    Copernicus's: kernels above 10 px count nodata as 0; smaller ones skip it and give
    nodata where the window holds nothing else. Otherwise invalid values are replaced
    by ``replace_invalid`` and the array is extended beyond its edges as ``border``
    says (the openEO spec).
    """
    from hybrid.backends.local.cube_arrays import as_cube, require_raster, values_last

    k = _kernel_array(kernel)
    mode, constant = _border(border)
    k = k * float(factor)
    require_raster(data, "apply_kernel")
    arr, values = values_last(data, ("y", "x"))
    if mode == "constant" and np.isfinite(constant):
        # the halo exchange moves the input's own dtype (a boolean mask: 1 byte a
        # pixel); convolve_block computes in float64
        out = _convolve_chunks(values, k, constant, float(replace_invalid))
    else:
        out = _convolve_padded(values.astype(np.float64), k, mode, constant, float(replace_invalid))
    return as_cube(out, arr, data)


def _kernel_array(kernel: Any) -> np.ndarray:
    """The kernel as a float64 2-D array with odd sides, or a clear error."""
    try:
        k = np.asarray(kernel, dtype=np.float64)
    except (ValueError, TypeError) as exc:
        raise ProcessParameterInvalid(
            "apply_kernel: the kernel must be a rectangular 2-D array of numbers "
            "(every row the same length)"
        ) from exc
    if k.ndim != 2 or k.shape[0] % 2 == 0 or k.shape[1] % 2 == 0:
        raise ProcessParameterInvalid(
            "apply_kernel: the kernel must be 2-D with an odd number of rows and columns "
            f"(KernelDimensionsUneven), got shape {k.shape}"
        )
    return k


def _convolve_chunks(values: Any, k: np.ndarray, constant: float, replace_invalid: float) -> Any:
    """A constant border: one task per chunk; the halo comes from the neighbouring
    chunks; beyond the array's edges scipy's constant mode supplies the border, so no
    padding copy; invalid values are replaced inside the block function."""
    from hybrid.backends.local.halo import map_with_halo

    # a halo as deep as the array holds every neighbour a larger kernel could reach
    depth = (min(k.shape[0] // 2, values.shape[-2]), min(k.shape[1] // 2, values.shape[-1]))
    copernicus = constant == 0 and replace_invalid == 0
    return map_with_halo(
        convolve_block,
        values,
        depth,
        np.float64,
        kernel=k,
        replace_invalid=replace_invalid,
        cval=constant,
        nodata_windows=copernicus and not uses_fft(k.shape),
    )


def _convolve_padded(
    values: Any, k: np.ndarray, mode: str, constant: float, replace_invalid: float
) -> Any:
    """Other borders: invalid values replaced, the array padded as ``mode`` says, the
    padding cut off again."""
    import dask.array as da

    from hybrid.backends.local.halo import map_with_border

    values = da.where(da.isfinite(values), values, replace_invalid)
    depth = (k.shape[0] // 2, k.shape[1] // 2)
    return map_with_border(
        convolve_block, values, depth, np.float64, mode=mode, constant=constant, kernel=k
    )
