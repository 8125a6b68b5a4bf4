"""What a raster result file says about itself, read from its header: band names, CRS,
grid shape and bounds. ``GET /jobs/{id}/results`` puts them on the file's STAC asset
(``bands``/``eo:bands``, ``proj:epsg``, ``proj:shape``, ``proj:bbox``) as Copernicus does
(openeo-python-driver ``views.py`` ``_asset_object``, about line 1809).

Only headers and the 1-D x/y coordinates are read, never the pixel values; the answer is
cached per file version (path, size, modification time).
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_X_NAMES = ("x", "lon", "longitude")
_Y_NAMES = ("y", "lat", "latitude")


@dataclass(frozen=True)
class RasterFacts:
    """The header facts of one raster file; None where the file does not say."""

    bands: tuple[str, ...]
    epsg: int | None
    #: (rows, columns)
    shape: tuple[int, int] | None
    #: (west, south, east, north) of the pixel edges, in the file's CRS
    bbox: tuple[float, float, float, float] | None


def raster_facts(path: Path) -> RasterFacts | None:
    """The facts of a NetCDF or GeoTIFF result file; None for any other or unreadable file."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return _cached(str(path), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=256)
def _cached(path: str, size: int, mtime_ns: int) -> RasterFacts | None:
    suffix = Path(path).suffix.lower()
    try:
        if suffix in (".tif", ".tiff"):
            return _gtiff_facts(path)
        if suffix in (".nc", ".nc4"):
            return _netcdf_facts(path)
    except (OSError, ValueError, KeyError, IndexError):
        return None
    return None


def _gtiff_facts(path: str) -> RasterFacts:
    import rasterio

    with rasterio.open(path) as src:
        # a band without description has no name to tell (none is made up): the bands
        # named, first, are those Copernicus's band metadata names and its asset lists
        # (geopyspark-driver geopysparkdatacube.py L2398-2400; hybrid.io.gtiff)
        names = tuple(str(name) for name in itertools.takewhile(bool, src.descriptions))
        epsg = src.crs.to_epsg() if src.crs is not None else None
        b = src.bounds
        return RasterFacts(names, epsg, (src.height, src.width), (b.left, b.bottom, b.right, b.top))


def _netcdf_facts(path: str) -> RasterFacts:
    import xarray as xr

    from hybrid.io.netcdf import CRS_VARIABLES, netcdf_crs

    # lazily opened: the header and the 1-D coordinates are read, not the pixel values
    with xr.open_dataset(path, engine="h5netcdf", decode_times=False) as ds:
        x_name = next((n for n in _X_NAMES if n in ds.dims), None)
        y_name = next((n for n in _Y_NAMES if n in ds.dims), None)
        if x_name is None or y_name is None:
            return RasterFacts((), None, None, None)
        bands = tuple(
            str(name)
            for name, var in ds.data_vars.items()
            if {x_name, y_name} <= set(var.dims) and name not in CRS_VARIABLES
        )
        shape = (ds.sizes[y_name], ds.sizes[x_name])
        xs = ds[x_name].values if x_name in ds.variables else None
        ys = ds[y_name].values if y_name in ds.variables else None
        wkt = netcdf_crs(ds, bands[0]) if bands else None
    return RasterFacts(bands, _epsg(wkt), shape, _edges(xs, ys))


def _epsg(wkt: str | None) -> int | None:
    if not wkt:
        return None
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        return CRS.from_wkt(wkt).to_epsg()
    except CRSError:
        return None


def _edges(xs: Any, ys: Any) -> tuple[float, float, float, float] | None:
    """Pixel-edge bounds from regular pixel-centre coordinates (None: fewer than 2 each)."""
    if xs is None or ys is None or len(xs) < 2 or len(ys) < 2:
        return None
    dx = abs(float(xs[1]) - float(xs[0])) / 2
    dy = abs(float(ys[1]) - float(ys[0])) / 2
    x0, x1 = sorted((float(xs[0]), float(xs[-1])))
    y0, y1 = sorted((float(ys[0]), float(ys[-1])))
    return (x0 - dx, y0 - dy, x1 + dx, y1 + dy)
