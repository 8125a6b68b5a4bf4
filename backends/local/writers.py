"""save_result's files, laid out like the Copernicus backend writes them.

NetCDF (NetCDFRDDWriter): CF-1.9, dims t (unlimited) / y / x, x/y float64 pixel
centres with y descending, t as integer days since 1990-01-01, a ``crs`` grid-mapping
variable with ``crs_wkt`` and ``spatial_ref``; one variable per band, or ``var`` when
the band dimension was reduced. GTiff: one ``openEO_YYYY-MM-DDZ.tif`` per date, band
names in the band descriptions, deflate.

Files are written to a temporary name and renamed, so nothing half-written is left.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from hybrid.errors import FormatUnsuitable

TIME_UNITS = "days since 1990-01-01"


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """A temporary path beside ``target`` that replaces it only on success."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)


def to_dataset(cube: Any, *, epsg: int, attrs: Mapping[str, Any] | None = None) -> Any:
    """The result cube as the Copernicus NetCDF dataset (in memory, lazy values)."""
    import xarray as xr
    from pyproj import CRS

    if "bands" in cube.dims:
        variables = {str(b): cube.sel(bands=b, drop=True) for b in cube["bands"].values}
    else:
        variables = {"var": cube}
    crs = CRS.from_epsg(epsg)
    crs_attrs = dict(crs.to_cf())
    crs_attrs["spatial_ref"] = crs.to_wkt()
    crs_attrs.setdefault("crs_wkt", crs.to_wkt())
    data_vars: dict[str, Any] = {"crs": xr.DataArray(np.int8(0), attrs=crs_attrs)}
    for name, var in variables.items():
        dims = [d for d in ("t", "y", "x") if d in var.dims]
        var = var.transpose(*dims)
        var = var.drop_vars([c for c in var.coords if c not in dims])
        var.attrs = {"grid_mapping": "crs", "long_name": name}
        data_vars[name] = var
    ds = xr.Dataset(data_vars)
    ds["x"].attrs = {
        "standard_name": "projection_x_coordinate",
        "long_name": "x coordinate of projection",
        "units": "m",
    }
    ds["y"].attrs = {
        "standard_name": "projection_y_coordinate",
        "long_name": "y coordinate of projection",
        "units": "m",
    }
    if "t" in ds.coords:
        ds["t"].attrs = {"standard_name": "time", "long_name": "t", "axis": "T"}
    ds.attrs = {"Conventions": "CF-1.9", "institution": "hybrid (openEO local backend)"}
    ds.attrs.update({k: v for k, v in (attrs or {}).items() if v is not None})
    return ds


def write_netcdf(ds: Any, target: Path) -> Path:
    encoding: dict[str, dict[str, Any]] = {}
    for name, var in ds.data_vars.items():
        if name == "crs":
            continue
        if np.dtype(var.dtype).kind == "f":
            encoding[name] = {"_FillValue": np.float32(np.nan), "dtype": "float32"}
        else:
            encoding[name] = {"_FillValue": None}
    if "t" in ds.coords and np.issubdtype(ds["t"].dtype, np.datetime64):
        encoding["t"] = {"units": TIME_UNITS, "calendar": "standard", "dtype": "int32"}
    for coord in ("x", "y"):
        encoding[coord] = {"dtype": "float64", "_FillValue": None}
    with atomic_path(target) as tmp:
        ds.to_netcdf(tmp, engine="h5netcdf", encoding=encoding, unlimited_dims=["t"])
    return target


def write_gtiffs(ds: Any, out_dir: Path, *, epsg: int) -> list[Path]:
    import rasterio
    from rasterio.transform import from_origin

    names = [n for n in ds.data_vars if n != "crs"]
    if "t" not in ds.dims:
        raise FormatUnsuitable("GTiff output needs a time dimension 't'")
    x, y = ds["x"].values, ds["y"].values
    res = float(x[1] - x[0]) if len(x) > 1 else 10.0
    transform = from_origin(float(x[0]) - res / 2, float(y[0]) + res / 2, res, res)
    files = []
    for i, t in enumerate(ds["t"].values):
        day = np.datetime_as_string(t, unit="D") if isinstance(t, np.datetime64) else str(t)
        target = out_dir / f"openEO_{day}Z.tif"
        stack = np.stack([np.asarray(ds[n].isel(t=i).values, dtype=np.float32) for n in names])
        with atomic_path(target) as tmp, rasterio.open(
            tmp, "w", driver="GTiff", width=stack.shape[2], height=stack.shape[1],
            count=len(names), dtype="float32", crs=f"EPSG:{epsg}", transform=transform,
            nodata=np.nan, compress="deflate", tiled=True,
        ) as dst:  # fmt: skip
            dst.write(stack)
            for b, name in enumerate(names, start=1):
                dst.set_band_description(b, name)
        files.append(target)
    return files
