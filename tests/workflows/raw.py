"""The raw input of a workflow, as an independent check computes on it with numpy.

Each workflow test downloads the bands it needs with a bare ``load_collection`` (same
server, same AOI and dates) as netCDF and recomputes the workflow's answer in numpy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

#: a 63 x 89 px field in the middle of the embedded sample (the seed AOI)
BBOX = {"west": 6.660, "south": 45.236, "east": 6.668, "north": 45.244}
#: a few weeks of the sample: five dates, some of them cloudy. Not 9 June: that day a
#: second orbit covers part of the area, and which one a pixel takes then depends on the
#: extent loaded (Copernicus's per-key overlap rule), which a kernel's buffer widens
DATES = ["2023-06-10", "2023-07-05"]


def raw_bands(
    connection: Any,
    bands: Sequence[str],
    path: Path,
    *,
    bbox: Mapping[str, Any] = BBOX,
    dates: Sequence[str] = DATES,
    **load: Any,
) -> xr.Dataset:
    """The bands of ``bbox`` over ``dates`` as the server loads them (netCDF, in memory)."""
    cube = connection.load_collection(
        "SENTINEL2_L2A",
        spatial_extent=dict(bbox),
        temporal_extent=list(dates),
        bands=list(bands),
        **load,
    )
    cube.download(path, format="netCDF")
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load()


def read_tiff(path: Path) -> np.ndarray:
    import rasterio

    with rasterio.open(path) as ds:
        out: np.ndarray = ds.read().astype(np.float64)
        if ds.nodata is not None and not np.isnan(ds.nodata):
            out[out == ds.nodata] = np.nan
        return out


def finite_share(values: np.ndarray) -> float:
    return float(np.isfinite(values).mean())


def nanmax_t(values: np.ndarray) -> np.ndarray:
    """Max over the first (time) axis ignoring NaN; NaN where every date is NaN."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out: np.ndarray = np.nanmax(values, axis=0)
    return out
