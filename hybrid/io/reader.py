"""Open any result (a file, or a folder of files) through the format registry."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from hybrid.errors import UsageError

if TYPE_CHECKING:
    import xarray as xr


def open_result(path: str | Path) -> xr.DataArray:
    """Open a raster result (NetCDF file, GeoTIFF, or a folder of either) as a
    normalised cube (:mod:`hybrid.io.cube`).

    Raises :class:`UsageError` when the path is missing or not a readable result.
    """
    from hybrid.io.registry import FORMATS, format_of_file

    path = Path(path)
    if not path.exists():
        raise UsageError(f"result not found: {path} (give a .nc file, a .tif, or a result folder)")
    raster = [f for f in FORMATS if "raster" in f.readers]
    if path.is_dir():
        for fmt in raster:
            files = sorted(p for p in path.iterdir() if fmt.holds(p) and p.is_file())
            if files:
                return fmt.readers["raster"](files, source=path)
        expected = " or ".join(f"{fmt.suffix} files" for fmt in raster)
        raise UsageError(f"{path} holds no result: expected {expected}")
    found = format_of_file(path)
    # anything else is tried as NetCDF, which says why it is not one
    fmt = found if found is not None and "raster" in found.readers else raster[0]
    return fmt.readers["raster"]([path], source=path)
