"""mask as Copernicus applies it: lazy, aligned by label, nodata in the mask masks.

openeo-processes-dask computes the mask branch eagerly and aligns by position.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hybrid.errors import ProcessParameterInvalid


def mask(data: Any, mask: Any, replacement: Any = None) -> Any:
    import xarray as xr

    if not isinstance(data, xr.DataArray) or not isinstance(mask, xr.DataArray):
        raise ProcessParameterInvalid("mask: data and mask must be raster data cubes")
    extra = [d for d in mask.dims if d not in data.dims]
    if extra:
        raise ProcessParameterInvalid(f"mask: the mask has dimensions {extra} that the data lacks")
    for dim in mask.dims:
        both = dim in data.coords and dim in mask.coords
        if both and not np.array_equal(np.asarray(data[dim].values), np.asarray(mask[dim].values)):
            raise ProcessParameterInvalid(
                f"mask: the labels of dimension '{dim}' differ between data and mask; "
                "resample or filter them to match first"
            )
    flag = mask.fillna(1) if mask.dtype.kind == "f" else mask
    flag = flag != 0
    fill = np.nan if replacement is None else replacement
    return data.where(~flag, fill)
