"""A raster cube checked, its values as a dask array with the dimensions a block
function works on last, and such an array back as a cube in the original order."""

from __future__ import annotations

from typing import Any

import numpy as np

from hybrid.errors import ProcessParameterInvalid


def require_raster(data: Any, process: str) -> None:
    """One 400 unless ``data`` is a raster cube with x and y dimensions."""
    import xarray as xr

    wanted = f"{process}: data must be a raster data cube with dimensions x and y"
    if not isinstance(data, xr.DataArray):
        raise ProcessParameterInvalid(wanted)
    if "x" not in data.dims or "y" not in data.dims:
        raise ProcessParameterInvalid(f"{wanted}; it has {', '.join(map(str, data.dims))}")


def values_last(data: Any, last: tuple[str, ...]) -> tuple[Any, Any]:
    """``data`` transposed so that ``last`` come last, and its values as a dask array
    (one chunk when they were in memory)."""
    import dask.array as da

    cube = data.transpose(*[d for d in data.dims if d not in last], *last)
    values = cube.data
    if not isinstance(values, da.Array):
        values = da.from_array(np.asarray(values), chunks=values.shape)
    return cube, values


def as_cube(values: Any, laid_out: Any, data: Any) -> Any:
    """``values`` (shaped as ``laid_out``, from :func:`values_last`) as a cube with its
    coordinates, ``data``'s attributes and ``data``'s dimension order."""
    import xarray as xr

    out = xr.DataArray(values, dims=laid_out.dims, coords=laid_out.coords, attrs=data.attrs)
    return out.transpose(*data.dims)
