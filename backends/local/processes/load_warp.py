"""A resample_spatial Copernicus does in the load: each band's file warped by GDAL.

Copernicus hands a resample right after a load to the read (openeo-python-driver
9e5b49b2 ``dry_run.py`` L155-171, :mod:`hybrid.backends.local.resample_pushdown`): the
load's cell size is the new pixel size and its method the read's
(openeo-geopyspark-driver 9baf2e10 ``datacube_parameters.py`` L74). SENTINEL2_L2A's band
files are JPEG 2000 (``.jp2``), which openeo-geotrellis-extensions 2a25a26e
FileLayerProvider.scala ``rasterSource`` L1426-1437 reads with a ``GDALRasterSource``
whose ``GDALWarpOptions`` give gdalwarp ``-tap -tr -r <method> -te -t_srs`` and nothing
about the kernel (locationtech/geotrellis v3.7.1 gdal/GDALWarpOptions.scala
``toWarpOptionsList`` L160-185). GDAL then sizes the bilinear, cubic, cubicspline and
lanczos kernels by the scale of the warp: shrinking a file by a factor ``k`` (a 10 m
band read at 60 m: k = 6) widens the kernel ``k`` times, so a 60 m bilinear pixel
blends the 12 x 12 file pixels around it, not the 2 x 2 nearest its centre (GDAL
gdalwarpoperation.cpp, ``XSCALE``/``YSCALE`` = destination / source pixels when not
given). odc-geo's warp forces ``XSCALE=YSCALE=1`` (odc/geo/warp.py ``_rio_reproject``),
a one-pixel kernel whatever the scale, so :func:`gdal_warp` passes the scale GDAL
computes itself: the file's pixel over the new one (the same values as GDAL's
default, ``tests/server/test_server_resample_kernel.py`` compares with rasterio
warping the file). The footprint methods (average, min, max, med, mode) and near do not
depend on it.

Not emulated: gdalwarp's default ``-ovr AUTO`` (GDALWarpOptions.scala L86, the
``AutoHigherResolution`` default written as ``AUTO``: GDALUtils.scala L103-111) reads a
JPEG 2000 file's reduced-resolution level when the new pixel is at least about twice
the file's (a 10 m band read at 20 m from its 20 m wavelet level, at 60 m from the 40 m
one, then warped with the kernel widened by 1.5); those wavelet levels are not the
mean of the file's pixels (each tile's 5/3 low-pass band of a lossless file), and the
engine warps the file's full-resolution pixels (tests/engine/test_jp2_reduced_levels.py
runs GDAL's gdalwarp on a JP2 to check both).

A load_stac of GeoTIFF files (anything but ``.jp2``) is read by geotrellis instead
(FileLayerProvider.scala L1446-1484, ``GeoTiffResampleRasterSource``; locationtech/
geotrellis v3.7.1 GeoTiffResampleRasterSource.scala L106-126, ``Raster.resample``), whose
bilinear and cubic kernels take the 2 x 2 and 4 x 4 source pixels around a new pixel's
centre whatever the scale (BilinearResample.scala, BicubicResample.scala): one source
pixel's kernel, as GDAL's with ``XSCALE=1`` (the load marks it:
:data:`hybrid.backends.local.file_pixels.GEOTRELLIS_READ`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from hybrid.backends.local.file_pixels import GEOTRELLIS_READ


def on_lattice(src: Any, layout: Any, res: Any, resampling: str) -> Any:
    """``src`` on the grid of a load at the new pixel size: the load's extent snapped
    outward to multiples of it (:mod:`hybrid.backends.local.resample_pushdown`). A band
    read from a file with coarser pixels than the load's (a 20 m band at 10 m or 60 m)
    is resampled from those pixels, as Copernicus reads the file with the method, not
    from the load's nearest copies of them (:func:`_coarser_files`); every band with
    the kernel GDAL gives its file's pixel (:func:`gdal_warp`)."""
    import xarray as xr
    from affine import Affine
    from odc.geo.geobox import GeoBox

    xmin, ymax, size, cols, rows = (float(v) for v in layout)
    rx, ry = abs(float(res.x)), abs(float(res.y))
    west, east = math.floor(xmin / rx) * rx, math.ceil((xmin + cols * size) / rx) * rx
    south, north = math.floor((ymax - rows * size) / ry) * ry, math.ceil(ymax / ry) * ry
    shape = (round((north - south) / ry), round((east - west) / rx))
    box = GeoBox(shape, Affine(rx, 0.0, west, 0.0, -ry, north), src.odc.geobox.crs)
    coarser = _coarser_files(src, size) if resampling != "nearest" else {}
    widened = not src.attrs.get(GEOTRELLIS_READ, False)
    if not coarser:
        return gdal_warp(src, box, size if widened else None, resampling)
    parts = []
    for band in src["bands"].values:
        one, pixel = src.sel(bands=[band]), coarser.get(str(band), size)
        if pixel != size:
            one = _file_pixels(one, pixel, size)
        parts.append(gdal_warp(one, box, pixel if widened else None, resampling))
    return xr.concat(parts, dim="bands")


def gdal_warp(src: Any, box: Any, pixel: float | None, resampling: str) -> Any:
    """``src`` (pixels of ``pixel`` metres, y/x last) warped onto the GeoBox ``box``
    as GDAL's warper does by default: its kernel scaled by ``pixel`` over the new pixel
    size (module docstring), NaN where there is no data; ``pixel`` None: a kernel of
    one source pixel, as geotrellis resamples (:data:`GEOTRELLIS_READ`)."""
    from odc.geo.xr import xr_reproject

    rx, ry = (abs(float(v)) for v in (box.resolution.x, box.resolution.y))
    x, y = (1.0, 1.0) if pixel is None else (pixel / rx, pixel / ry)
    return xr_reproject(src, box, resampling=resampling, dst_nodata=np.nan, XSCALE=x, YSCALE=y)


def _coarser_files(src: Any, size: float) -> dict[str, float]:
    """The bands of ``src`` (loaded at ``size``) read from files with coarser pixels, with
    that size (:mod:`hybrid.backends.local.file_pixels`: a CDSE B01's is 20 m). Whatever
    the new pixel size, Copernicus warps those file pixels, not the load's nearest copies
    of them, which bilinear or cubic kernels would blend across file pixel edges."""
    from hybrid.backends.local.file_pixels import band_file_pixels

    if "bands" not in src.dims:
        return {}
    found = band_file_pixels(src.attrs, (str(b) for b in src["bands"].values))
    return {b: n for b, n in found.items() if n > size and math.isclose(n % size, 0)}


def _file_pixels(one: Any, pixel: float, size: float) -> Any:
    """The file's pixels of a band loaded by repetition at ``size``: the first load pixel
    of every ``pixel``-sized block of the lattice (multiples of ``pixel``)."""
    left, top = one["x"].values - size / 2, one["y"].values + size / 2
    cols, rows = _on_multiples(left, pixel), _on_multiples(top, pixel)
    picked = one.isel(x=cols, y=rows)
    return picked.assign_coords(x=left[cols] + pixel / 2, y=top[rows] - pixel / 2)


def _on_multiples(edges: Any, pixel: float) -> Any:
    """The indices of ``edges`` that are multiples of ``pixel``."""
    rest = np.mod(edges, pixel)
    return np.flatnonzero(np.isclose(rest, 0) | np.isclose(rest, pixel))
