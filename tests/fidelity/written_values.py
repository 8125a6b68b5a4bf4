"""What a run wrote, read back for a comparison with the reference: a NetCDF file with its
stored values, and one variable's values as float64 with its fill value as NaN."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr


def read_netcdf(path: Path) -> xr.Dataset:
    """The file's variables as stored (no CF scaling or masking), loaded into memory."""
    with xr.open_dataset(path, engine="h5netcdf", mask_and_scale=False) as ds:
        return ds.load()


def values_with_nan(ds: xr.Dataset, name: str) -> np.ndarray:
    """Variable ``name`` in float64, its ``_FillValue`` cells NaN."""
    var = ds[name]
    values = np.asarray(var.values, dtype=np.float64)
    fill = var.attrs.get("_FillValue", var.encoding.get("_FillValue"))
    if fill is not None and not np.isnan(fill):
        values[var.values == fill] = np.nan
    return values
