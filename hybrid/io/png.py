"""A raster cube saved as PNG, as Copernicus writes it.

Copernicus stitches the cube into one image, ``openEO.png`` (openeo-geopyspark-driver
``geopysparkdatacube.py`` ``write_assets``, format "PNG", L2547-2559; listed in
``backend.py`` ``file_formats`` L580-600), with openeo-geotrellis-extensions
``png/package.scala`` ``saveStitched``/``toScanLines`` L15-110:

- a cube with dates becomes a spatial layer first (``to_spatial_layer``, L2163): one date
  per pixel, which one unspecified ("only export bands at a single (random) date",
  L2009). Here the first date, with a warning: reduce ``t`` first for a defined image.
- the cells are converted to ``UByteCellType``: the integer part of the value, its low
  8 bits (300 -> 44, -1 -> 255), nodata (NaN) -> 0.
- fewer than 3 bands: 8-bit greyscale of the first band; else RGB of the first three.
- rows from north to south, no georeferencing.

- ``colormap``: a greyscale image becomes an indexed one whose palette (``PLTE``) holds
  the colours in the order of their values (:mod:`hybrid.io.palette`; ``png/package.scala``
  ``saveStitched`` L34-56, one entry per colour); an RGB image keeps its colours and the
  colormap is not used there (``indexed`` needs a greyscale image, L37), here with a
  warning.
"""

from __future__ import annotations

import struct
import warnings
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hybrid.atomic import atomic_path
from hybrid.io.format import PREFIX_PARAMETER, Format, filename_prefix
from hybrid.io.palette import COLORMAP_PARAMETER, RGB, palette

if TYPE_CHECKING:
    import numpy as np

SUFFIX = ".png"


def write_raster(
    cube: Any, out_dir: Path, *, attrs: Mapping[str, Any], options: Mapping[str, Any]
) -> list[Path]:
    """The registry's raster writer for PNG: ``openEO.png`` (or the filename prefix)."""
    colours = palette(options.get("colormap"), "save_result (PNG)")
    path = Path(out_dir) / f"{filename_prefix(options)}{SUFFIX}"
    pixels = image_bytes(cube)
    if colours is not None and pixels.ndim == 3:
        warnings.warn(
            "save_result PNG: the image is RGB (3 bands or more), so the colormap is not "
            "used (Copernicus uses it for a greyscale image only)",
            stacklevel=2,
        )
        colours = None
    with atomic_path(path) as tmp:
        tmp.write_bytes(encode_png(pixels, colours))
    return [path]


def image_bytes(cube: Any) -> np.ndarray:
    """(rows, cols) greyscale or (rows, cols, 3) RGB bytes of the cube, north up."""
    import numpy as np

    if "t" in cube.dims:
        if cube.sizes["t"] > 1:
            warnings.warn(
                f"save_result PNG: the cube has {cube.sizes['t']} dates; the image shows "
                "the first (Copernicus shows one date, which one undefined): reduce t first",
                stacklevel=2,
            )
        cube = cube.isel(t=0)
    if "bands" in cube.dims:
        take = 3 if cube.sizes["bands"] >= 3 else 1
        cube = cube.isel(bands=slice(0, take)).transpose("y", "x", "bands")
    else:
        cube = cube.transpose("y", "x").expand_dims("bands", axis=-1)
    cube = cube.sortby("y", ascending=False).sortby("x")
    values = np.asarray(cube.values, dtype=np.float64)
    whole = np.trunc(np.nan_to_num(values, nan=0.0, posinf=2.0**31 - 1, neginf=-(2.0**31)))
    low = np.clip(whole, -(2.0**31), 2.0**31 - 1).astype(np.int64) & 0xFF
    out: np.ndarray = low.astype(np.uint8)
    return out[..., 0] if out.shape[-1] == 1 else out


def encode_png(pixels: np.ndarray, colours: Sequence[RGB] | None = None) -> bytes:
    """An 8-bit greyscale (2-D) or RGB (3-D) PNG of ``pixels``; a 2-D one with
    ``colours`` is indexed, its palette those colours."""
    import numpy as np

    rows, cols = pixels.shape[:2]
    colour_type = 2 if pixels.ndim == 3 else 3 if colours else 0
    data = np.ascontiguousarray(pixels, dtype=np.uint8)
    scanlines = b"".join(b"\x00" + data[row].tobytes() for row in range(rows))
    header = struct.pack(">IIBBBBB", cols, rows, 8, colour_type, 0, 0, 0)
    plte = bytes(v for rgb in colours[:256] for v in rgb) if colour_type == 3 and colours else b""
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _chunk(b"IHDR", header),
            _chunk(b"PLTE", plte) if plte else b"",
            _chunk(b"IDAT", zlib.compress(scanlines, 6)),
            _chunk(b"IEND", b""),
        )
    )


def _chunk(tag: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(tag + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + tag + payload + struct.pack(">I", crc)


FORMAT = Format(
    name="PNG",
    title="Portable Network Graphics (PNG)",
    suffixes=(SUFFIX,),
    media_type="image/png",
    per_label=False,
    writers={"raster": write_raster},
    parameters={"filename_prefix": PREFIX_PARAMETER, "colormap": COLORMAP_PARAMETER},
)
