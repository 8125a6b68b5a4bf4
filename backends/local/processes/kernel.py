"""apply_kernel as Copernicus runs it: correlation, zero border, NaN counted as 0.

The other openEO border modes and ``replace_invalid`` follow the spec.

openeo-processes-dask convolves (asymmetric kernels come out flipped), rechunks x/y
into one chunk and turns boolean input into zeros. Here the kernel is applied lazily
per chunk with a halo (``dask.array.map_overlap``); a rank-1 kernel such as the
Gaussian runs as two 1-D passes, with the same result as the 2-D correlation.
"""

from __future__ import annotations

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


def correlate_block(
    block: np.ndarray, kernel: np.ndarray, *, replace_invalid: float = 0.0, cval: float = 0.0
) -> np.ndarray:
    """Correlate the last two axes of ``block`` with ``kernel``, ``cval`` (zero) outside.

    NaN and infinite values count as ``replace_invalid`` (one pass over the block).
    """
    from scipy import ndimage

    data = block.astype(np.float64, copy=False)
    data = np.where(np.isfinite(data), data, np.float64(replace_invalid))
    if cval == 0 and not data.any():
        # a cloud-free slice: the correlation of zeros is zeros (most dates of a season)
        return np.zeros_like(data)
    factors = separable_factors(kernel)
    lead = (0,) * (block.ndim - 2)
    if factors is not None:
        col, row = factors
        out = ndimage.correlate1d(data, col, axis=-2, mode="constant", cval=cval)
        # beyond the edges the first pass would have given cval * sum(col)
        edge = cval * float(col.sum())
        return ndimage.correlate1d(out, row, axis=-1, mode="constant", cval=edge)
    full = kernel.reshape((1,) * len(lead) + kernel.shape)
    return ndimage.correlate(data, full, mode="constant", cval=cval)


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
    """Correlate every x/y slice of ``data`` with ``kernel`` x ``factor``, lazily.

    NaN and infinite values are replaced by ``replace_invalid`` first, then the
    array is extended beyond its edges as ``border`` says (default: zeros).
    Copernicus accepts only ``border=0`` and ``replace_invalid=0`` (geopyspark-driver
    #1235); the other modes follow the openEO spec.
    """
    import dask.array as da
    import xarray as xr

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
    mode, constant = _border(border)
    k = k * float(factor)
    if not isinstance(data, xr.DataArray):
        raise ProcessParameterInvalid("apply_kernel: data must be a raster data cube")
    if "x" not in data.dims or "y" not in data.dims:
        raise ProcessParameterInvalid(
            "apply_kernel: the cube needs dimensions x and y, it has "
            + ", ".join(map(str, data.dims))
        )
    dims = [d for d in data.dims if d not in ("y", "x")] + ["y", "x"]
    arr = data.transpose(*dims)
    values = arr.data
    if not isinstance(values, da.Array):
        values = da.from_array(np.asarray(values), chunks=values.shape)
    values = values.astype(np.float64)
    ny, nx = k.shape[0] // 2, k.shape[1] // 2
    lead = values.ndim - 2
    depth = {i: 0 for i in range(lead)}
    depth.update({lead: ny, lead + 1: nx})
    if mode == "constant" and np.isfinite(constant):
        # one task per chunk: the halo comes from the neighbouring chunks; beyond the
        # array's edges scipy's constant mode supplies the border, so no padding copy;
        # invalid values are replaced inside the block function
        out = da.map_overlap(
            correlate_block,
            values,
            depth=depth,
            boundary="none",
            dtype=np.float64,
            kernel=k,
            replace_invalid=float(replace_invalid),
            cval=constant,
        )
        result = xr.DataArray(out, dims=arr.dims, coords=arr.coords, attrs=data.attrs)
        return result.transpose(*data.dims)
    values = da.where(da.isfinite(values), values, float(replace_invalid))
    pad = [(0, 0)] * lead + [(ny, ny), (nx, nx)]
    if mode == "constant":
        padded = da.pad(values, pad, mode="constant", constant_values=constant)
    else:
        padded = da.pad(values, pad, mode=mode)
    out = da.map_overlap(
        correlate_block,
        padded,
        depth=depth,
        boundary="none",
        dtype=np.float64,
        kernel=k,
    )
    out = out[(Ellipsis, slice(ny, ny + values.shape[-2]), slice(nx, nx + values.shape[-1]))]
    result = xr.DataArray(out, dims=arr.dims, coords=arr.coords, attrs=data.attrs)
    return result.transpose(*data.dims)
