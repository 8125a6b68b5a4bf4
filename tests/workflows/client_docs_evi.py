"""The small box, EVI and netCDF helpers of the UDP, UDF and time-series examples of the
openeo Python client's documentation (test_udp_docs.py, test_udf_docs.py,
test_timeseries_docs.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from tests.workflows.raw import pixels_inside

#: a few pixels of the seed field: the UDF tests start a worker process each
SMALL_BBOX = {"west": 6.6640, "south": 45.2400, "east": 6.6660, "north": 45.2410}


def _nc(path: Path) -> xr.Dataset:
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load()


def _covered(raw: xr.Dataset, geometry: dict[str, Any]) -> np.ndarray:
    inside = pixels_inside(raw, geometry)
    assert inside.sum() >= 6, "a field must cover a few pixels"
    return inside


def _evi(raw: xr.Dataset) -> np.ndarray:
    blue, red, nir = (raw[b].values.astype(np.float64) * 0.0001 for b in ("B02", "B04", "B08"))
    with np.errstate(all="ignore"):
        out: np.ndarray = 2.5 * (nir - red) / (nir + 6.0 * red - 7.5 * blue + 1.0)
    return out


def _nan_stat(function: Any, values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(function(finite)) if finite.size else float("nan")
