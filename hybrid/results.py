"""Open result files from any backend as one normalised cube, and write the local layout.

Every backend's result ends up as the same :class:`xarray.DataArray`: dims ``t, y, x``
(``t, bands, y, x`` when more than one variable/band was kept), float values with NaN as
nodata, x/y pixel centres (x ascending, y descending), ``t`` as ``datetime64`` at the
date's 00:00, and the CRS in ``attrs["crs_wkt"]`` and ``.rio.crs``.

Equivalent encodings therefore compare equal: ``t`` as "days since 1990-01-01" or as
timestamps (at 00:00 or later the same day), y ascending or descending, ``_FillValue``
or NaN, NetCDF or a folder of ``openEO_YYYY-MM-DDZ.tif``.

:func:`write_netcdf` writes the layout Copernicus's NetCDFRDDWriter produces (and the
local backend writes): CF-1.9, ``t`` (unlimited, int days since 1990-01-01), ``y``, ``x``,
a ``crs`` grid-mapping variable with ``crs_wkt`` and ``spatial_ref``, ``_FillValue`` NaN.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hybrid.atomic import atomic_path
from hybrid.errors import UsageError

if TYPE_CHECKING:
    import pyproj
    import xarray as xr

#: the time encoding of the NetCDF layout
TIME_UNITS = "days since 1990-01-01"
#: ``openEO_2023-05-01Z.tif`` (Copernicus), also without ``Z`` or with a time
GTIFF_NAME = re.compile(r"^openEO_(\d{4}-\d{2}-\d{2})(?:T[0-9:.]+)?Z?\.tiff?$", re.IGNORECASE)
_TIME_NAMES = ("t", "time", "date")
_X_NAMES = ("x", "lon", "longitude", "easting")
_Y_NAMES = ("y", "lat", "latitude", "northing")
_CRS_VARIABLES = ("crs", "spatial_ref")


def open_result(path: str | Path) -> xr.DataArray:
    """Open a result (NetCDF file, GeoTIFF, or a folder of either) as a normalised cube.

    Raises :class:`UsageError` when the path is missing or not a readable result.
    """
    path = Path(path)
    if not path.exists():
        raise UsageError(f"result not found: {path} (give a .nc file, a .tif, or a result folder)")
    if path.is_dir():
        netcdfs = sorted(p for p in path.iterdir() if p.suffix.lower() in (".nc", ".nc4"))
        tiffs = sorted(p for p in path.iterdir() if p.suffix.lower() in (".tif", ".tiff"))
        if len(netcdfs) == 1:
            return _open_netcdf(netcdfs[0])
        if len(netcdfs) > 1:
            names = ", ".join(p.name for p in netcdfs)
            raise UsageError(f"{path} holds several NetCDF files ({names}): give one of them")
        if tiffs:
            return _open_gtiffs(tiffs, source=path)
        raise UsageError(f"{path} holds no result: expected one .nc file or openEO_*.tif files")
    if path.suffix.lower() in (".tif", ".tiff"):
        return _open_gtiffs([path], source=path)
    return _open_netcdf(path)


def cube_crs(cube: xr.DataArray) -> pyproj.CRS | None:
    """The CRS of a cube from :func:`open_result` (``None`` when the file had none)."""
    import pyproj

    wkt = cube.attrs.get("crs_wkt")
    return pyproj.CRS.from_wkt(wkt) if wkt else None


def write_netcdf(
    cube: xr.DataArray, path: str | Path, *, attrs: Mapping[str, Any] | None = None
) -> Path:
    """Write a normalised cube in the Copernicus/local NetCDF layout; returns the path.

    ``attrs`` become global attributes (str, int or float values, e.g. provenance).
    """
    import numpy as np
    import xarray as xr

    path = Path(path)
    crs = cube_crs(cube)
    cube = cube.drop_vars([c for c in cube.coords if c not in cube.dims])
    if "bands" in cube.dims:
        parts = {str(b): cube.sel(bands=b, drop=True) for b in cube["bands"].values}
    else:
        parts = {str(cube.name or "var"): cube}
    data_vars: dict[str, Any] = {}
    encoding: dict[str, dict[str, Any]] = {}
    for name, part in parts.items():
        part = part.astype("float32")
        part.attrs = {"grid_mapping": "crs"} if crs is not None else {}
        data_vars[name] = part
        encoding[name] = {"_FillValue": np.float32("nan"), "dtype": "float32", "zlib": True}
    ds = xr.Dataset(data_vars)
    if crs is not None:
        wkt = crs.to_wkt()
        crs_attrs = {k: v for k, v in crs.to_cf().items() if v is not None}
        crs_attrs.update(crs_wkt=wkt, spatial_ref=wkt)
        ds["crs"] = xr.DataArray(np.int32(0), attrs=crs_attrs)
    ds["x"].attrs = {"standard_name": "projection_x_coordinate", "long_name": "x", "units": "m"}
    ds["y"].attrs = {"standard_name": "projection_y_coordinate", "long_name": "y", "units": "m"}
    encoding["x"] = {"_FillValue": None, "dtype": "float64"}
    encoding["y"] = {"_FillValue": None, "dtype": "float64"}
    unlimited: list[str] = []
    if "t" in ds.dims:
        ds["t"].attrs = {"standard_name": "time", "long_name": "t", "axis": "T"}
        times = ds["t"].values.astype("datetime64[ns]")
        whole_days = bool(np.all(times == times.astype("datetime64[D]")))
        encoding["t"] = {
            "units": TIME_UNITS,
            "calendar": "standard",
            "dtype": "int32" if whole_days else "float64",
        }
        unlimited = ["t"]
    ds.attrs = {
        "Conventions": "CF-1.9",
        **{str(k): _attr_value(v) for k, v in (attrs or {}).items()},
    }
    # built in memory, then written as plain bytes: HDF5 can crash the process when the
    # disk fills up under a half-written file (h5py #914, #2160); a plain write just fails
    data = ds.to_netcdf(None, engine="h5netcdf", encoding=encoding, unlimited_dims=unlimited)
    with atomic_path(path) as tmp:
        tmp.write_bytes(bytes(data))
    return path


def write_gtiff(cube: xr.DataArray, folder: str | Path) -> list[Path]:
    """Write a normalised cube as Copernicus's GTiff layout: one ``openEO_YYYY-MM-DDZ.tif``
    per label (float32, NaN nodata, deflate), band names in the DESCRIPTION tags."""
    import numpy as np
    import rasterio
    from affine import Affine

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    x, y = cube["x"].values, cube["y"].values
    dx = float(x[1] - x[0]) if x.size > 1 else 10.0
    dy = float(y[1] - y[0]) if y.size > 1 else -10.0
    transform = Affine(dx, 0.0, x[0] - dx / 2, 0.0, dy, y[0] - dy / 2)
    bands = [str(b) for b in cube["bands"].values] if "bands" in cube.dims else [str(cube.name)]
    crs = cube_crs(cube)
    layers = cube if "t" in cube.dims else cube.expand_dims(t=[None])
    written = []
    for label in layers["t"].values:
        layer = layers.sel(t=label) if label is not None else layers.isel(t=0)
        data = layer.transpose(..., "y", "x").values.astype("float32").reshape(-1, y.size, x.size)
        name = f"openEO_{str(label)[:10]}Z.tif" if label is not None else "openEO.tif"
        profile = {"driver": "GTiff", "width": x.size, "height": y.size, "count": len(bands)}
        profile.update(dtype="float32", transform=transform, nodata=np.nan, compress="deflate")
        with (
            atomic_path(folder / name) as tmp,
            rasterio.open(tmp, "w", crs=crs.to_wkt() if crs else None, **profile) as dst,
        ):
            dst.write(data)
            for index, band in enumerate(bands, start=1):
                dst.set_band_description(index, band)
        written.append(folder / name)
    return written


def _attr_value(value: Any) -> str | int | float:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float | str):
        return value
    import json

    return json.dumps(value, sort_keys=True, default=str)


def _open_netcdf(file: Path) -> xr.DataArray:
    import xarray as xr

    try:
        with xr.open_dataset(file, engine="h5netcdf") as ds:
            ds = ds.load()
    except (OSError, ValueError, TypeError, KeyError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UsageError(f"cannot read {file} as NetCDF: {reason}") from None
    renames = _dim_renames(ds.dims, file)
    ds = ds.rename(renames) if renames else ds
    variables = [
        str(name)
        for name, var in ds.data_vars.items()
        if {"x", "y"} <= set(var.dims) and name not in _CRS_VARIABLES
    ]
    if not variables:
        raise UsageError(f"{file} holds no variable with x and y dimensions: not a raster result")
    crs_wkt = _netcdf_crs(ds, variables[0])
    arrays = [ds[name] for name in variables]
    for arr in arrays:
        extra = set(arr.dims) - {"t", "y", "x"}
        if extra:
            dims = ", ".join(sorted(map(str, extra)))
            raise UsageError(f"{file}: variable {arr.name!r} has unexpected dims {dims}")
    if len(arrays) == 1:
        cube = arrays[0]
    else:
        cube = xr.concat(arrays, dim="bands").assign_coords(bands=[str(v) for v in variables])
    cube = cube.copy()
    cube.attrs = dict(ds.attrs)
    cube.name = variables[0] if len(variables) == 1 else None
    return _normalise(cube, crs_wkt=crs_wkt, source=file)


def _dim_renames(dims: Any, file: Path) -> dict[str, str]:
    renames: dict[str, str] = {}
    for target, names in (("t", _TIME_NAMES), ("x", _X_NAMES), ("y", _Y_NAMES)):
        if target in dims:
            continue
        found = [n for n in names if n in dims]
        if found:
            renames[found[0]] = target
        elif target != "t":
            raise UsageError(
                f"{file} has no {target} dimension (dims: {', '.join(map(str, dims))})"
            )
    return renames


def _netcdf_crs(ds: xr.Dataset, variable: str) -> str | None:
    var = ds[variable]
    candidates = [var.attrs.get("grid_mapping"), var.encoding.get("grid_mapping"), *_CRS_VARIABLES]
    for name in candidates:
        if name and name in ds.variables:
            attrs = ds[name].attrs
            wkt = attrs.get("crs_wkt") or attrs.get("spatial_ref")
            if wkt:
                return str(wkt)
    for key in ("crs_wkt", "spatial_ref", "crs"):
        if key in ds.attrs:
            return str(ds.attrs[key])
    return None


def _open_gtiffs(files: list[Path], *, source: Path) -> xr.DataArray:
    import numpy as np
    import rasterio
    import xarray as xr
    from rasterio.errors import RasterioIOError

    layers: list[tuple[np.datetime64 | None, np.ndarray]] = []
    grid: tuple[Any, ...] | None = None
    names: list[str] = []
    for file in files:
        match = GTIFF_NAME.match(file.name)
        if match is None and len(files) > 1:
            raise UsageError(f"{file.name} in {source} is not named openEO_YYYY-MM-DDZ.tif")
        try:
            with rasterio.open(file) as src:
                data = src.read(masked=True).astype("float64").filled(np.nan)
                this_grid = (src.crs, src.transform, src.width, src.height, src.count)
                names = [d or f"band_{i + 1}" for i, d in enumerate(src.descriptions)]
        except RasterioIOError as exc:
            raise UsageError(f"cannot read {file} as GeoTIFF: {exc}") from None
        if grid is not None and this_grid != grid:
            raise UsageError(
                f"the GeoTIFFs in {source} do not share one grid ({file.name} differs): "
                "compare them one file at a time"
            )
        grid = this_grid
        layers.append((np.datetime64(match.group(1)) if match else None, data))
    assert grid is not None
    crs, transform, width, height, _count = grid
    if transform.b != 0 or transform.d != 0:
        raise UsageError(f"{source} has a rotated grid, which results never have")
    x = transform.c + (np.arange(width) + 0.5) * transform.a
    y = transform.f + (np.arange(height) + 0.5) * transform.e
    stacked = np.stack([layer for _, layer in layers])
    coords: dict[str, Any] = {"y": y, "x": x}
    cube = xr.DataArray(stacked, dims=("t", "bands", "y", "x"), coords=coords)
    if layers[0][0] is not None:
        cube = cube.assign_coords(t=[label for label, _ in layers])
    else:
        cube = cube.isel(t=0, drop=True)
    if len(names) == 1:
        cube = cube.isel(bands=0, drop=True)
        cube.name = names[0] if not names[0].startswith("band_") else "var"
    else:
        cube = cube.assign_coords(bands=names)
    return _normalise(cube, crs_wkt=crs.to_wkt() if crs else None, source=source)


def _normalise(cube: xr.DataArray, *, crs_wkt: str | None, source: Path) -> xr.DataArray:
    import numpy as np

    if not np.issubdtype(cube.dtype, np.floating):
        cube = cube.astype("float64")
    for dim in ("x", "y"):
        cube[dim] = cube[dim].astype("float64")
    if "t" in cube.dims:
        cube = _normalise_time(cube, source=source)
    cube = cube.sortby("x").sortby("y", ascending=False)
    order = [d for d in ("t", "bands", "y", "x") if d in cube.dims]
    cube = cube.transpose(*order)
    cube = cube.drop_vars([c for c in cube.coords if c not in cube.dims])
    cube.attrs["source"] = str(source)
    if crs_wkt:
        import pyproj
        import rioxarray  # noqa: F401  (registers the .rio accessor)

        crs = pyproj.CRS.from_user_input(crs_wkt)
        cube.attrs["crs_wkt"] = crs.to_wkt()
        cube = cube.rio.write_crs(crs)
    return cube


def _normalise_time(cube: xr.DataArray, *, source: Path) -> xr.DataArray:
    import numpy as np
    import pandas as pd

    values = cube["t"].values
    if values.dtype.kind != "M":
        try:
            values = pd.to_datetime([str(v) for v in values], utc=True).tz_localize(None).values
        except (ValueError, TypeError):
            raise UsageError(f"{source}: t labels {values[:3]!r} are not dates") from None
    values = values.astype("datetime64[ns]")
    days = values.astype("datetime64[D]")
    if len(set(days.tolist())) == len(days):
        values = days.astype("datetime64[ns]")
    cube = cube.assign_coords(t=values)
    return cube.sortby("t") if not bool(np.all(np.diff(values) > np.timedelta64(0))) else cube
