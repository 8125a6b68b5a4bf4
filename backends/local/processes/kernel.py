"""apply_kernel as Copernicus runs it: correlation, zero border, NaN counted as 0.

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
    """(column, row) vectors whose outer product is ``kernel``, if it is rank 1."""
    u, s, vt = np.linalg.svd(kernel)
    if s[0] == 0 or (len(s) > 1 and s[1] > _SEPARABLE_RTOL * s[0]):
        return None
    col = u[:, 0] * np.sqrt(s[0])
    row = vt[0, :] * np.sqrt(s[0])
    if not np.allclose(np.outer(col, row), kernel, rtol=1e-12, atol=1e-15):
        return None
    return col, row


def correlate_block(block: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Correlate the last two axes of ``block`` with ``kernel``, zero outside."""
    from scipy import ndimage

    data = np.nan_to_num(block.astype(np.float64, copy=False), nan=0.0)
    factors = separable_factors(kernel)
    lead = (0,) * (block.ndim - 2)
    if factors is not None:
        col, row = factors
        out = ndimage.correlate1d(data, col, axis=-2, mode="constant", cval=0.0)
        return ndimage.correlate1d(out, row, axis=-1, mode="constant", cval=0.0)
    full = kernel.reshape((1,) * len(lead) + kernel.shape)
    return ndimage.correlate(data, full, mode="constant", cval=0.0)


def apply_kernel(
    data: Any,
    kernel: Any,
    factor: float = 1.0,
    border: Any = 0,
    replace_invalid: float = 0,
) -> Any:
    import dask.array as da
    import xarray as xr

    k = np.asarray(kernel, dtype=np.float64)
    if k.ndim != 2 or k.shape[0] % 2 == 0 or k.shape[1] % 2 == 0:
        raise ProcessParameterInvalid(
            f"apply_kernel: the kernel must be 2-D with an odd number of rows and columns, "
            f"got shape {k.shape}"
        )
    if border != 0 or replace_invalid != 0:
        raise ProcessParameterInvalid(
            "apply_kernel: only border=0 and replace_invalid=0 are supported "
            "(as on the Copernicus backend)"
        )
    k = k * float(factor)
    if not isinstance(data, xr.DataArray):
        raise ProcessParameterInvalid("apply_kernel: data must be a raster data cube")
    dims = [d for d in data.dims if d not in ("y", "x")] + ["y", "x"]
    arr = data.transpose(*dims)
    values = arr.data
    if values.dtype == bool:
        values = values.astype(np.float32)
    if not isinstance(values, da.Array):
        values = da.from_array(values, chunks=values.shape)
    depth = {values.ndim - 2: k.shape[0] // 2, values.ndim - 1: k.shape[1] // 2}
    depth.update({i: 0 for i in range(values.ndim - 2)})
    out = da.map_overlap(
        correlate_block,
        values,
        depth=depth,
        boundary=0,
        dtype=np.float64,
        kernel=k,
    )
    result = xr.DataArray(out, dims=arr.dims, coords=arr.coords, attrs=data.attrs)
    return result.transpose(*data.dims)
