"""What GDAL's warper reads from a JPEG 2000 file when a resample shrinks it: a known,
not emulated, difference of the in-load ``resample_spatial``.

Copernicus reads SENTINEL2_L2A's ``.jp2`` band files through gdalwarp
(openeo-geotrellis-extensions 2a25a26e FileLayerProvider.scala ``rasterSource``
L1426-1437: ``GDALRasterSource`` with ``GDALWarpOptions`` that set no overview strategy),
and geotrellis's default strategy is written as ``-ovr AUTO`` (locationtech/geotrellis
v3.7.1 GDALWarpOptions.scala L86 ``OverviewStrategy.DEFAULT``, OverviewStrategy.scala
L36 ``AutoHigherResolution``, GDALUtils.scala L103-111 ``"AUTO"``). GDAL's JPEG 2000
driver shows the codestream's reduced-resolution levels as overviews, so these tests
run the real gdalwarp (``GDALWarp`` of the GDAL rasterio loads, with geotrellis's
options) on a lossless (reversible 5/3) JP2 written here and pin down:

- which level ``-ovr AUTO`` reads: the coarsest whose factor is at most the shrink
  factor (+0.1), so a 10 m file is read at 20 m from its 20 m level (20-39 m), at 40-79 m
  from its 40 m one, at 19 m from the full-resolution pixels;
- what a level is: each tile's integer 5/3 lifting low-pass (LL) band, not a mean or a
  decimation of the file's pixels;
- that hybrid's in-load warp (:func:`hybrid.backends.local.processes.load_warp.gdal_warp`)
  reads the full-resolution pixels (gdalwarp ``-ovr NONE``), which is the difference.

Not emulated because what CDSE's files hold is not established from the driver or
CDSE material (lossless? how many decomposition levels? which GDAL JPEG 2000 driver?):
README's ``resample_spatial`` row.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

SIDE = 600  # two 512-px JPEG 2000 tiles each way: the levels are made tile by tile
TILE = 512
X0, Y0 = 600000.0, 5700000.0
EPSG = "EPSG:32631"


def _libgdal() -> Any:
    """The GDAL library rasterio uses (the wheel's bundled copy, else the system's)."""
    import rasterio

    here = os.path.join(os.path.dirname(rasterio.__file__), os.pardir, "rasterio.libs")
    found = sorted(glob.glob(os.path.join(here, "libgdal*.so*"))) or [
        name for name in [ctypes.util.find_library("gdal")] if name
    ]
    if not found:
        pytest.skip("no GDAL shared library to call gdalwarp with")
    lib = ctypes.CDLL(found[0])
    lib.GDALAllRegister()
    lib.GDALOpenEx.restype = ctypes.c_void_p
    lib.GDALOpenEx.argtypes = [ctypes.c_char_p, ctypes.c_uint] + [ctypes.c_void_p] * 3
    lib.GDALWarpAppOptionsNew.restype = ctypes.c_void_p
    lib.GDALWarpAppOptionsNew.argtypes = [ctypes.POINTER(ctypes.c_char_p), ctypes.c_void_p]
    lib.GDALWarp.restype = ctypes.c_void_p
    lib.GDALWarp.argtypes = [
        ctypes.c_char_p, ctypes.c_void_p, ctypes.c_int,
        ctypes.POINTER(ctypes.c_void_p), ctypes.c_void_p, ctypes.POINTER(ctypes.c_int),
    ]  # fmt: skip
    lib.GDALWarpAppOptionsFree.argtypes = [ctypes.c_void_p]
    lib.GDALClose.argtypes = [ctypes.c_void_p]
    return lib


@pytest.fixture(scope="module")
def jp2(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    """A 10 m uint16 band, lossless JPEG 2000 with 5 resolutions in 512-px tiles."""
    import rasterio
    from rasterio.transform import from_origin

    if "JP2OpenJPEG" not in rasterio.drivers.raster_driver_extensions().values():
        pytest.skip("GDAL without its OpenJPEG driver")
    yy, xx = np.mgrid[0:SIDE, 0:SIDE]
    noise = np.random.default_rng(7).integers(0, 500, (SIDE, SIDE))
    pixels = (3000 + 2000 * np.sin(xx / 7.0) * np.cos(yy / 5.0) + noise).astype(np.uint16)
    path = tmp_path_factory.mktemp("jp2") / "B04.jp2"
    profile = {
        "driver": "JP2OpenJPEG", "width": SIDE, "height": SIDE, "count": 1,
        "dtype": "uint16", "crs": EPSG, "transform": from_origin(X0, Y0, 10, 10),
        "REVERSIBLE": "YES", "QUALITY": 100, "RESOLUTIONS": 5,
        "blockxsize": TILE, "blockysize": TILE,
    }  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(pixels, 1)
    with rasterio.open(path) as src:
        assert np.array_equal(src.read(1), pixels), "the JP2 is not lossless"
        assert src.overviews(1) == [2, 4, 8]
        assert src.block_shapes == [(TILE, TILE)]
    return path, pixels


def _gdalwarp(src: Path, dst: Path, res: int, method: str, ovr: str) -> np.ndarray:
    """gdalwarp with the options geotrellis's GDALWarpOptions gives (-tap -tr -r -te
    -t_srs) and ``-ovr``, into a GeoTIFF read back."""
    import rasterio

    lib = _libgdal()
    east, south = X0 + SIDE * 10, Y0 - SIDE * 10
    args = ["-of", "GTiff", "-overwrite", "-tap", "-tr", str(res), str(res), "-r", method]
    args += ["-te", str(X0), str(south), str(east), str(Y0), "-t_srs", EPSG, "-ovr", ovr]
    argv = (ctypes.c_char_p * (len(args) + 1))(*[a.encode() for a in args], None)
    options = lib.GDALWarpAppOptionsNew(argv, None)
    source = lib.GDALOpenEx(str(src).encode(), 0x02, None, None, None)  # GDAL_OF_RASTER
    error = ctypes.c_int(0)
    out = lib.GDALWarp(
        str(dst).encode(), None, 1, (ctypes.c_void_p * 1)(source), options, ctypes.byref(error)
    )
    lib.GDALClose(out)
    lib.GDALClose(source)
    lib.GDALWarpAppOptionsFree(options)
    assert out and not error.value, f"gdalwarp {' '.join(args)} failed"
    with rasterio.open(dst) as warped:
        return np.asarray(warped.read(1))


@pytest.mark.parametrize(
    ("res", "method", "level"),
    [
        (19, "near", "NONE"),
        (20, "near", "0"),
        (20, "bilinear", "0"),
        (20, "average", "0"),
        (39, "near", "0"),
        (40, "near", "1"),
        (60, "near", "1"),
        (60, "average", "1"),
    ],
)
def test_gdalwarp_ovr_auto_reads_the_reduced_level_at_most_the_shrink_factor(
    jp2: tuple[Path, np.ndarray], tmp_path: Path, res: int, method: str, level: str
) -> None:
    path, _ = jp2
    auto = _gdalwarp(path, tmp_path / "auto.tif", res, method, "AUTO")
    assert np.array_equal(auto, _gdalwarp(path, tmp_path / "level.tif", res, method, level))
    full = _gdalwarp(path, tmp_path / "full.tif", res, method, "NONE")
    assert np.array_equal(auto, full) == (level == "NONE")


def _lowpass(x: np.ndarray, axis: int) -> np.ndarray:
    """One reversible 5/3 lifting step along ``axis`` (whole-sample symmetric
    extension, ISO/IEC 15444-1 Annex F): the low-pass samples."""
    x = np.moveaxis(x.astype(np.int64), axis, -1)
    n = x.shape[-1]

    def mirrored(i: np.ndarray) -> np.ndarray:
        return np.abs(np.where(i >= n, 2 * (n - 1) - i, i))

    odd, even = np.arange(1, n, 2), np.arange(0, n, 2)
    high = x[..., odd] - (x[..., mirrored(odd - 1)] + x[..., mirrored(odd + 1)]) // 2
    before, after = mirrored(even - 1), mirrored(even + 1)
    low = x[..., even] + (high[..., (before - 1) // 2] + high[..., (after - 1) // 2] + 2) // 4
    return np.moveaxis(low, -1, axis)


def _reduced_level(pixels: np.ndarray, level: int) -> np.ndarray:
    """Level ``level`` (0: half resolution) of ``pixels``: each tile's LL band."""
    rows = []
    for top in range(0, pixels.shape[0], TILE):
        row = []
        for left in range(0, pixels.shape[1], TILE):
            tile = pixels[top : top + TILE, left : left + TILE]
            for _ in range(level + 1):
                tile = _lowpass(_lowpass(tile, 0), 1)
            row.append(tile)
        rows.append(np.concatenate(row, axis=1))
    return np.concatenate(rows, axis=0)


@pytest.mark.parametrize("level", [0, 1])
def test_a_reduced_level_is_each_tiles_5_3_lowpass_not_a_mean(
    jp2: tuple[Path, np.ndarray], level: int
) -> None:
    import rasterio

    path, pixels = jp2
    with rasterio.open(path, overview_level=level) as src:
        read = src.read(1).astype(np.int64)
    assert np.array_equal(read, _reduced_level(pixels, level))
    k = 2 ** (level + 1)
    blocks = pixels[: SIDE // k * k, : SIDE // k * k].reshape(SIDE // k, k, SIDE // k, k)
    assert not np.array_equal(read, np.floor(blocks.mean(axis=(1, 3)) + 0.5))
    assert not np.array_equal(read, pixels[::k, ::k])


def test_the_in_load_warp_reads_the_full_resolution_pixels(
    jp2: tuple[Path, np.ndarray], tmp_path: Path
) -> None:
    """hybrid's warp of the file's pixels to 20 m is gdalwarp ``-ovr NONE``, not the
    ``-ovr AUTO`` Copernicus's GDALRasterSource asks for."""
    from affine import Affine
    from odc.geo.geobox import GeoBox
    from odc.geo.xr import wrap_xr

    from hybrid.backends.local.processes.load_warp import gdal_warp

    path, pixels = jp2
    source = wrap_xr(
        pixels.astype(np.float64), GeoBox((SIDE, SIDE), Affine(10, 0, X0, 0, -10, Y0), EPSG)
    )
    box = GeoBox((SIDE // 2, SIDE // 2), Affine(20, 0, X0, 0, -20, Y0), EPSG)
    ours = gdal_warp(source, box, 10.0, "nearest").values
    assert np.array_equal(ours, _gdalwarp(path, tmp_path / "full.tif", 20, "near", "NONE"))
    assert not np.array_equal(ours, _gdalwarp(path, tmp_path / "auto.tif", 20, "near", "AUTO"))
