"""Small cubes, dates and reducers for the tests of the processes the local engine replaces."""

from __future__ import annotations

from typing import Any

import dask.array as da
import numpy as np
import xarray as xr


def cube(values: Any, dims: tuple[str, ...], **coords: Any) -> xr.DataArray:
    if not isinstance(values, da.Array):
        values = np.asarray(values)
    full = {}
    for dim, size in zip(dims, values.shape, strict=True):
        if dim in coords:
            full[dim] = coords[dim]
        elif dim == "y":
            full[dim] = 100.0 - 10.0 * np.arange(size)
        elif dim == "x":
            full[dim] = 10.0 * np.arange(size)
    return xr.DataArray(values, dims=dims, coords=full)


def times(*days: str) -> np.ndarray:
    return np.array([np.datetime64(day, "ns") for day in days])


def nanmean_reducer(*args: Any, positional_parameters: dict[str, int], **kwargs: Any) -> Any:
    """A reducer with the calling convention of the engine's callbacks."""
    return np.nanmean(args[positional_parameters["data"]], axis=kwargs.get("axis"))
