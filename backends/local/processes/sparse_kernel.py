"""A convolution with a zero border computed only where the kernel reaches a non-zero cell.

A cloud mask is mostly zeros: on a Sentinel-2 date with at most 20 % cloud most of a
1024^2 block lies farther than the kernel's half size from any cloudy pixel, and there
the convolution is exactly 0. The slice is cut into square tiles; a tile is computed
when a non-zero cell lies within the kernel's reach of it, as a window of the input
grown by that reach, and cropped back. Each output pixel then sees the same input
cells, in the same order, as in one convolution of the whole slice (scipy's filters
work pixel by pixel along lines, with the zero border beyond the slice's edges), so the
values are the same to the last bit (a sum of only negative zeros may come out as +0.0);
``tests/engine/test_sparse_kernel.py`` compares them.
At 30 dates x 2048^2 of the benchmark's scenes it computes about a tenth of the pixels.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

#: side (px) of the tiles the slice is cut into to find where the kernel reaches data
TILE = 32
#: above this share of tiles to compute, one convolution of the whole slice is cheaper
DENSE_ABOVE = 0.5

#: convolve a 2-D float64 array or mask with a zero border; float64 of the same shape out
Convolve2D = Callable[[np.ndarray], np.ndarray]


def convolve_zero_border(
    data: np.ndarray, convolve: Convolve2D, reach: tuple[int, int]
) -> np.ndarray:
    """``convolve`` applied to every 2-D slice (last two axes) of ``data`` (float64 or a
    boolean mask); ``reach`` (rows, cols) is how far the kernel reaches from a pixel."""
    out = np.zeros(data.shape, np.float64)
    height, width = data.shape[-2:]
    slices_in = data.reshape(-1, height, width)
    slices_out = out.reshape(-1, height, width)
    for plane, result in zip(slices_in, slices_out, strict=True):
        windows = _windows(plane if plane.dtype == bool else plane != 0, reach)
        if windows is None:
            result[...] = convolve(plane)
            continue
        for (y0, y1, x0, x1), (wy0, wy1, wx0, wx1) in windows:
            part = convolve(plane[wy0:wy1, wx0:wx1])
            result[y0:y1, x0:x1] = part[y0 - wy0 : y1 - wy0, x0 - wx0 : x1 - wx0]
    return out


Window = tuple[int, int, int, int]


def _windows(nonzero: np.ndarray, reach: tuple[int, int]) -> list[tuple[Window, Window]] | None:
    """(output rows/cols, input rows/cols) per run of tiles to compute, or None when
    the whole slice is cheaper; an empty list when nothing is non-zero."""
    height, width = nonzero.shape
    occupied = _occupied(nonzero)
    if not occupied.any():
        return []
    needed = _grow(occupied, -(-reach[0] // TILE), -(-reach[1] // TILE))
    if needed.mean() > DENSE_ABOVE:
        return None
    found = []
    for i, j0, j1 in _runs(needed):
        y0, y1 = i * TILE, min(height, (i + 1) * TILE)
        x0, x1 = j0 * TILE, min(width, j1 * TILE)
        inner = (y0, y1, x0, x1)
        grown = (
            max(0, y0 - reach[0]),
            min(height, y1 + reach[0]),
            max(0, x0 - reach[1]),
            min(width, x1 + reach[1]),
        )
        found.append((inner, grown))
    return found


def _occupied(nonzero: np.ndarray) -> np.ndarray:
    """Which tiles hold a non-zero cell: a maximum over whole tiles along each axis (in
    the mask's own bytes), then over the part tile at the end."""
    height, width = nonzero.shape
    cells = nonzero.view(np.uint8)
    whole = height - height % TILE
    rows = cells[:whole].reshape(-1, TILE, width).max(axis=1)
    if whole < height:
        rows = np.vstack([rows, cells[whole:].max(axis=0, keepdims=True)])
    whole = width - width % TILE
    tiles = rows[:, :whole].reshape(len(rows), -1, TILE).max(axis=2)
    if whole < width:
        tiles = np.hstack([tiles, rows[:, whole:].max(axis=1, keepdims=True)])
    return tiles.astype(bool)


def _grow(tiles: np.ndarray, by_rows: int, by_cols: int) -> np.ndarray:
    """``tiles`` and every tile within ``by_rows`` / ``by_cols`` tiles of one."""
    from scipy import ndimage

    footprint = np.ones((2 * by_rows + 1, 2 * by_cols + 1), bool)
    return np.asarray(ndimage.binary_dilation(tiles, footprint), bool)


def _runs(needed: np.ndarray) -> Iterator[tuple[int, int, int]]:
    """(tile row, first tile, end tile) of each horizontal run of needed tiles."""
    for i, row in enumerate(needed):
        edges = np.flatnonzero(np.diff(np.concatenate(([0], row.view(np.int8), [0]))))
        for j0, j1 in zip(edges[::2], edges[1::2], strict=True):
            yield i, int(j0), int(j1)
