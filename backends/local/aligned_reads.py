"""Bands on the load grid's pixel lattice, read by windows (coarser ones by block
repetition) instead of through odc-stac.

odc-stac reads an asset whose pixels are ``k`` times the grid's (SCL at 20 m, or a 60 m
band, onto a 10 m grid) through a GDAL warp (``rasterio.warp.reproject``, nearest), which
was the largest single cost of a 10 m load after decoding. When the file is in the
grid's CRS, north-up, its pixel size is ``k`` grid pixels and the grid's pixel edges lie
on the file's pixel lattice (the offset between the two origins is a whole number of
grid pixels), nearest resampling is exactly block repetition: every grid pixel centre
lies strictly inside one file pixel, never on an edge. Such assets of local files are
read here, per chunk: the window of file pixels the chunk covers (nodata outside the
file), each pixel repeated ``k`` times along both axes, cropped to the chunk. The values
equal odc-stac's warp (``tests/engine/test_aligned_reads.py`` compares the two).
Files at the grid's own pixel size on its lattice (``k`` = 1) are read the same way:
odc-stac pastes their pixels unchanged, at the cost of planning each read (overlap,
reprojection info, a nodata fuser) per chunk, about half of its time at 30 x 2048^2.

Remote assets stay on odc-stac's reader, with its GDAL cloud settings and retries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from hybrid.backends.local.open_files import OpenFiles
from hybrid.errors import DataSourceError
from hybrid.grid import Grid
from hybrid.stac.access import AssetHeader, local_path


@dataclass(frozen=True)
class AlignedAsset:
    """One file read by repetition onto a grid: grid pixel (row, col) is file pixel
    ``((row + row0) // factor, (col + col0) // factor)``."""

    path: str
    factor: int
    row0: int
    col0: int
    width: int
    height: int
    dtype: str
    nodata: float
    #: where the reads find the file open (:mod:`hybrid.backends.local.open_files`):
    #: the load's, shared by its assets
    files: OpenFiles = field(compare=False, repr=False)

    def read(self, rows: tuple[int, int], cols: tuple[int, int]) -> Any:
        """Grid rows ``rows`` x cols ``cols`` (half-open), nodata outside the file."""
        return self._repeated(*self._coarse(rows, cols), rows, cols)

    def _repeated(
        self, first: tuple[int, int], coarse: Any, rows: tuple[int, int], cols: tuple[int, int]
    ) -> Any:
        """Grid rows x cols from the file pixels ``coarse`` whose first is ``first``."""
        k = self.factor
        fine = coarse if k == 1 else coarse.repeat(k, axis=0).repeat(k, axis=1)
        dy, dx = rows[0] + self.row0 - first[0] * k, cols[0] + self.col0 - first[1] * k
        return fine[dy : dy + rows[1] - rows[0], dx : dx + cols[1] - cols[0]]

    def fill(self, out: Any, rows: tuple[int, int], cols: tuple[int, int], offset: Any) -> None:
        """Put rows x cols into the float32 array ``out`` as the loader hands bands on
        (:func:`put_values`). A block that starts and ends on file pixel edges is
        converted at the file's resolution, each converted pixel repeated ``k`` times
        along the row, and each such row copied ``k`` times (a broadcast of the file
        pixels over ``k`` x ``k`` cells copies them two at a time: ``put_values`` took
        4.8 s instead of 1.5 s in ``python -m benchmarks.profile 20x4096``)."""
        import numpy as np

        k = self.factor
        first, coarse = self._coarse(rows, cols)
        on_edges = (rows[0] + self.row0) % k == 0 and (cols[0] + self.col0) % k == 0
        if k > 1 and on_edges and out.shape == (coarse.shape[0] * k, coarse.shape[1] * k):
            values = np.empty(coarse.shape, np.float32)
            put_values(values, coarse, offset, self.nodata)
            out.reshape(coarse.shape[0], k, out.shape[1])[...] = values.repeat(k, axis=1)[:, None]
        else:
            put_values(out, self._repeated(first, coarse, rows, cols), offset, self.nodata)

    def _coarse(self, rows: tuple[int, int], cols: tuple[int, int]) -> tuple[tuple[int, int], Any]:
        """(first file row, first file col) and the file pixels covering grid rows x
        cols, nodata outside the file."""
        import numpy as np
        from rasterio.errors import RasterioError
        from rasterio.windows import Window

        k = self.factor
        r0, r1 = (rows[0] + self.row0) // k, -(-(rows[1] + self.row0) // k)
        c0, c1 = (cols[0] + self.col0) // k, -(-(cols[1] + self.col0) // k)
        in_r0, in_r1 = max(r0, 0), min(r1, self.height)
        in_c0, in_c1 = max(c0, 0), min(c1, self.width)
        data = None
        if in_r0 < in_r1 and in_c0 < in_c1:
            window = Window(in_c0, in_r0, in_c1 - in_c0, in_r1 - in_r0)
            try:
                data = self.files.read(self.path, window)
            except (RasterioError, OSError) as exc:
                raise DataSourceError(f"cannot read {self.path}: {exc}") from exc
            if (in_r0, in_r1, in_c0, in_c1) == (r0, r1, c0, c1):
                return (r0, c0), data
        coarse = np.full((r1 - r0, c1 - c0), self.nodata, dtype=self.dtype)
        if data is not None:
            coarse[in_r0 - r0 : in_r1 - r0, in_c0 - c0 : in_c1 - c0] = data
        return (r0, c0), coarse


def aligned_asset(
    href: str,
    header: AssetHeader,
    grid: Any,
    epsg: int,
    nodata: float,
    files: OpenFiles | None = None,
) -> AlignedAsset | None:
    """How to read ``href`` by repetition onto ``grid`` (an affine of a north-up grid,
    odc-geo's ``GeoBox.affine``), or None when it must be warped
    (:func:`repetition`) or is a remote file. ``files``: where the reads find the file
    open."""
    path = local_path(href)
    placed = repetition(header, grid, epsg)
    if path is None or placed is None:
        return None
    factor, row0, col0 = placed
    return AlignedAsset(
        str(path),
        factor,
        row0,
        col0,
        header.width,
        header.height,
        header.dtype,
        nodata,
        files or OpenFiles(),
    )


def repetition(header: AssetHeader, grid: Any, epsg: int) -> tuple[int, int, int] | None:
    """(factor, row0, col0) when the file's pixels are ``factor`` >= 1 grid pixels and
    the grid's pixel edges lie on the file's lattice (grid pixel (row, col) is file pixel
    ((row + row0) // factor, (col + col0) // factor)); None when it must be warped
    (other CRS, rotated, another pixel size, an origin off the lattice)."""
    a, b, c, d, e, f = header.transform
    res = float(grid.a)
    if header.epsg != epsg or b != 0 or d != 0 or grid.b != 0 or grid.d != 0:
        return None
    if res <= 0 or float(grid.e) != -res or a != -e:
        return None
    factor = round(a / res)
    col0, row0 = (float(grid.c) - c) / res, (f - float(grid.f)) / res
    if factor < 1 or factor * res != a or not (col0.is_integer() and row0.is_integer()):
        return None
    return factor, int(row0), int(col0)


def block_padding(header: AssetHeader, grid: Any, epsg: int) -> tuple[int, int] | None:
    """(rows, cols) to add above and left of ``grid`` (an affine) so that its origin is a
    corner of the file's internal blocks, when the grid is the file's own pixel lattice
    (same CRS and pixel size, origins a whole number of pixels apart); else None.

    Chunks that start on block corners and span whole blocks decode every block of the
    file once; chunks cut across blocks decode the blocks on their edges twice (each
    chunk opens the file anew; at 30 x 2048^2 that doubled the decoding).
    """
    placed = repetition(header, grid, epsg)
    if placed is None or placed[0] != 1:
        return None
    _factor, row0, col0 = placed
    return row0 % header.block[0], col0 % header.block[1]


@dataclass(frozen=True)
class BlockAlignedLoad:
    """A load grid grown up and left to a block corner of the files, with chunks of
    whole blocks (:func:`block_aligned`)."""

    grid: Grid
    #: rows and cols added above and left of the requested grid
    pad: tuple[int, int]
    chunks: dict[str, int]
    #: the files' block (rows, cols): an edge chunk under half of it is a sliver
    block: tuple[int, int]

    def unpadded(self, cube: Any) -> Any:
        """``cube`` (loaded on :attr:`grid`) on the requested grid, with chunks smaller
        than half a block at its edges merged into their neighbours."""
        cube = cube.isel(y=slice(self.pad[0], None), x=slice(self.pad[1], None))
        least = {"y": self.block[0] // 2, "x": self.block[1] // 2}
        merged = {
            dim: merge_edge_slivers(tuple(cube.chunksizes[dim]), least[dim]) for dim in ("y", "x")
        }
        return cube.chunk(merged)


def block_aligned(
    grid: Grid, headers: Sequence[Mapping[str, AssetHeader]], keys: Sequence[str], target: int
) -> BlockAlignedLoad | None:
    """The load of ``grid`` aligned on the blocks of the first item's first asset (of
    ``keys``) whose file is on the grid's pixel lattice, with chunks of whole blocks of
    about ``target`` pixels (a sliver left at an edge is merged into its neighbour by
    :meth:`BlockAlignedLoad.unpadded`).

    None (the load keeps its own grid and chunks) when any file of any item (``headers``:
    one mapping per item) is not on the lattice: a GDAL warp's approximate transformer
    picks its source pixels per destination window, so growing the grid could change a
    warped pixel; pasted and repeated pixels cannot change.
    """
    from odc.geo.geobox import GeoBox

    bounds = (grid.xmin, grid.ymin, grid.xmax, grid.ymax)
    affine = GeoBox.from_bbox(bounds, crs=grid.crs, resolution=grid.resolution).affine
    for header in headers:
        for key in keys:
            if repetition(header[key], affine, grid.epsg) is None:
                return None
    for key in keys:
        pad = block_padding(headers[0][key], affine, grid.epsg)
        if pad is None:
            continue
        rows, cols = headers[0][key].block
        res = grid.resolution
        grown = replace(grid, xmin=grid.xmin - pad[1] * res, ymax=grid.ymax + pad[0] * res)
        chunks = {"y": whole_blocks(rows, target), "x": whole_blocks(cols, target)}
        return BlockAlignedLoad(grown, pad, chunks, (rows, cols))
    return None


def whole_blocks(block: int, target: int) -> int:
    """A chunk side of whole blocks, about ``target`` pixels. A short last chunk is
    merged into its neighbour where the chunks are built (:func:`repeated_layer`,
    :meth:`BlockAlignedLoad.unpadded`). Spreading the blocks evenly instead made
    1536-px chunks at 4096^2, and peak RSS grew with the area again (4 dates at
    2048^2 / 4096^2 / 8192^2: 659 / 860 / 972 MiB, against 583 / 646 / 736 MiB)."""
    return block * max(1, round(target / block))


def merge_edge_slivers(sizes: tuple[int, ...], least: int) -> tuple[int, ...]:
    """Chunk sizes along one axis with a first or last chunk smaller than ``least``
    merged into its neighbour."""
    out = list(sizes)
    if len(out) > 1 and out[0] < least:
        first = out.pop(0)
        out[0] += first
    if len(out) > 1 and out[-1] < least:
        last = out.pop()
        out[-1] += last
    return tuple(out)


def repeated_band(
    assets: Sequence[AlignedAsset], chunks: tuple[tuple[int, ...], ...], offsets: Any
) -> Any:
    """(t, y, x) float32 dask array of ``assets`` (one per t) with ``chunks``, one task
    per block: the digital numbers plus ``offsets`` (one per t), NaN where nodata."""
    import dask.array as da
    import numpy as np

    return da.map_blocks(
        _read_block,
        tuple(assets),
        np.asarray(offsets, np.float32),
        chunks=chunks,
        dtype=np.float32,
        meta=np.empty((0, 0, 0), dtype=np.float32),
        token="hybrid-aligned-read",
    )


def repeatable_keys(
    items: list[Any],
    keys: tuple[str, ...],
    nodata: tuple[float, ...],
    headers: list[dict[str, Any]],
    geobox: Any,
    epsg: int,
) -> dict[str, list[Any]]:
    """Asset key -> one AlignedAsset per item, for the keys every item's file can be read
    by block repetition (:mod:`hybrid.backends.local.aligned_reads`)."""
    found: dict[str, list[Any]] = {}
    files = OpenFiles()  # one for the load: open while its graph lives
    for key, fill in zip(keys, nodata, strict=True):
        assets = [
            aligned_asset(item.assets[key].href, header[key], geobox.affine, epsg, fill, files)
            for item, header in zip(items, headers, strict=True)
        ]
        if all(a is not None for a in assets):
            found[key] = assets
    return found


def repeated_layer(
    assets: list[Any], geobox: Any, chunks: dict[str, Any], ds: Any, offsets: Any
) -> Any:
    """The (t, y, x) float32 DataArray of a band read by repetition (``offsets`` added,
    NaN for nodata), chunked and labelled like odc-stac's bands (``ds``: odc-stac's load
    of the other bands, or None)."""
    import dask.array as da
    import xarray as xr

    ny, nx = geobox.shape
    if ds is not None:
        template = next(iter(ds.data_vars.values()))
        dask_chunks = template.data.chunks
        y, x = template["y"].values, template["x"].values
    else:
        shape = (len(assets), ny, nx)
        t_chunks, y_chunks, x_chunks = da.core.normalize_chunks(
            (1, chunks["y"], chunks["x"]), shape
        )
        # a last chunk of a few pixels is read with its neighbour, not on its own
        y_chunks = merge_edge_slivers(y_chunks, chunks["y"] // 4)
        x_chunks = merge_edge_slivers(x_chunks, chunks["x"] // 4)
        dask_chunks = (t_chunks, y_chunks, x_chunks)
        y, x = geobox.coordinates["y"].values, geobox.coordinates["x"].values
    data = repeated_band(assets, dask_chunks, offsets)
    return xr.DataArray(data, dims=("t", "y", "x"), coords={"y": y, "x": x})


def put_values(target: Any, raw: Any, offset: Any, nodata: float) -> None:
    """Write digital numbers ``raw`` into the float32 ``target`` as the loader hands
    bands on: plus the date's ``offset``, NaN where ``raw`` is ``nodata``."""
    import numpy as np

    target[...] = raw
    if offset:
        target += offset
    missing = raw == nodata
    if missing.any():
        np.copyto(target, np.float32(np.nan), where=missing)


def values_block(raw: Any, offsets: Any, nodata: float, block_info: Any = None) -> Any:
    """A (t, y, x) block of digital numbers as the loader hands bands on
    (:func:`put_values`; ``offsets``: one per date of the whole array)."""
    import numpy as np

    t0, t1 = block_info[0]["array-location"][0]
    out = np.empty(raw.shape, np.float32)
    for i, t in enumerate(range(t0, t1)):
        put_values(out[i], raw[i], offsets[t], nodata)
    return out


def _read_block(
    assets: tuple[AlignedAsset, ...], offsets: Any, block_info: Mapping[Any, Any]
) -> Any:
    """One block as the loader hands bands on (:func:`put_values`), read from the files."""
    import numpy as np

    (t0, t1), rows, cols = block_info[None]["array-location"]
    out = np.empty((t1 - t0, rows[1] - rows[0], cols[1] - cols[0]), np.float32)
    for i, t in enumerate(range(t0, t1)):
        assets[t].fill(out[i], rows, cols, offsets[t])
    return out
