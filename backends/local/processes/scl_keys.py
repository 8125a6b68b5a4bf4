"""mask_scl_dilation per layout key, as Copernicus computes it while loading.

Copernicus applies ``mask_scl_dilation`` in the load (a "custom cloud mask": python-driver
``dry_run.py`` L956-957, no pixel buffer; geotrellis-extensions ``FileLayerProvider.scala``
L1039-1049 at 2a25a26e) and builds the mask once per layout key (tile) of the load:
``SCLConvolutionFilterStrategy.loadMasked`` (``CloudFilterStrategy.scala`` L60-63) reads
the SCL of the key grown by ``floor(kernel2_size / 2)`` pixels, real pixels past the
extent too (``FileLayerProvider.scala`` L1396-1407 turns the load's virtual cropping off
for it), and convolves that window alone, zeros beyond it (``FFTConvolve``), before
cropping it back to the key (L97-137). So the dilations and the erosion see only that many
pixels past a key's edge: with kernel1_size 17 and kernel2_size 3 (openeo-gfmap's
``mask_scl_dilation``) the first dilation stops 1 pixel past each key, and the erosion's
off-centre kernel turns the window's last row and column into cloud, along the bottom and
right edge of every key, not along the extent's.

The keys: ``key_size`` pixels of the load layout (the cube's :data:`LAYOUT`, the extent
with the kernels' pixel buffer) from its upper-left corner
(:mod:`hybrid.stac.overlap`). The load reads past the layout what the windows of its keys
need (:func:`read_margin`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from hybrid.backends.local.surviving_keys import KeyLayout
from hybrid.stac.overlap import key_size

#: (first row, first column, key side, window buffer) in pixels of the cube
KeyGrid = tuple[int, int, int, int]


def window_buffer(kernel2_size: int) -> int:
    """The SCL pixels loadMask reads around a key: ``floor(kernel2.cols / 2)``."""
    return kernel2_size // 2


def read_margin(arguments: Any, bbox: Any, epsg: int | None, buffer: int) -> int:
    """Pixels to read around the load grid of ``bbox`` (its layout: grown by the kernels'
    ``buffer``) so that every key's window has its pixels: the window around the layout,
    and past its right and bottom edges the part of its last keys beyond it. 0 without
    mask_scl_dilation ``arguments`` for the load."""
    from hybrid.grid import output_grid

    if arguments is None or bbox is None:
        return 0
    size = arguments.get("kernel2_size", 201)
    valid = isinstance(size, int | float) and not isinstance(size, bool) and size > 0
    layout = output_grid(bbox, epsg=epsg).buffered(buffer)
    side = key_size(layout.width, layout.height)
    past = max(-layout.width % side, -layout.height % side)
    return buffer + past + (window_buffer(int(size)) if valid else 0)


def key_grid(data: Any, layout: Any, window: int) -> KeyGrid | None:
    """Where the layout's keys lie in ``data``'s pixels, None when that is not known
    (no layout, fewer than two pixels a side to read the pixel size from)."""
    if not layout or data.sizes.get("x", 0) < 2 or data.sizes.get("y", 0) < 2:
        return None
    xmin, ymax, step, width, height = layout
    xs, ys = data["x"].values, data["y"].values
    res = abs(float(xs[1] - xs[0]))
    col = round((xmin - (float(xs[0]) - res / 2)) / res)
    row = round(((float(ys[0]) + res / 2) - ymax) / res)
    scale = float(step) / res
    side = key_size(round(width * scale), round(height * scale))
    return row, col, side, window


def key_layout(keys: KeyGrid, data: Any, layout: Any) -> KeyLayout:
    """The layout's keys in ``data``'s CRS: whole keys from its upper-left corner, so
    past the extent to the right and bottom."""
    _, _, side, _ = keys
    xmin, ymax, step = (float(v) for v in layout[:3])
    res = abs(float(data["x"].values[1] - data["x"].values[0]))
    width, height = (round(n * step / res) for n in layout[3:5])
    return KeyLayout(xmin, ymax, side * res, math.ceil(height / side), math.ceil(width / side))


def by_key(scl: np.ndarray, keys: KeyGrid, mask_of: Callable[[np.ndarray], np.ndarray]) -> Any:
    """``mask_of`` (a 2-D boolean mask of a 2-D SCL window) computed per key window of
    ``scl``, each cropped back to its key."""
    row0, col0, side, pad = keys
    rows, cols = scl.shape
    out = np.zeros(scl.shape, dtype=bool)
    for top in _starts(row0, side, rows):
        for left in _starts(col0, side, cols):
            y0, x0 = max(top - pad, 0), max(left - pad, 0)
            y1, x1 = min(top + side + pad, rows), min(left + side + pad, cols)
            mask = mask_of(scl[y0:y1, x0:x1])
            ky0, kx0 = max(top, 0), max(left, 0)
            ky1, kx1 = min(top + side, rows), min(left + side, cols)
            out[ky0:ky1, kx0:kx1] = mask[ky0 - y0 : ky1 - y0, kx0 - x0 : kx1 - x0]
    return out


def _starts(origin: int, side: int, length: int) -> range:
    """The first pixels of the keys (every ``side`` from ``origin``) covering 0..length."""
    first = origin - side * math.ceil(origin / side)
    return range(first, length, side)
