"""Window reads (by block repetition for coarser files) equal GDAL's nearest warp."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from affine import Affine

from hybrid.backends.local.aligned_reads import (
    aligned_asset,
    block_padding,
    merge_edge_slivers,
    repeated_band,
)
from hybrid.stac.access import AssetHeader

EPSG = 32632
X0, Y0 = 399960.0, 5000040.0


def _cog(path: Path, res: float, size: int, seed: int) -> AssetHeader:
    import rasterio

    data = np.random.default_rng(seed).integers(1, 12, (size, size), dtype=np.uint8)
    data[3:7, 5:9] = 0  # nodata inside the file
    transform = Affine(res, 0, X0, 0, -res, Y0)
    with rasterio.open(
        path, "w", driver="GTiff", width=size, height=size, count=1, dtype="uint8",
        crs=f"EPSG:{EPSG}", transform=transform, nodata=0, tiled=True,
        blockxsize=16, blockysize=16,
    ) as dst:  # fmt: skip
        dst.write(data, 1)
    return AssetHeader(EPSG, tuple(transform)[:6], size, size, "uint8", (16, 16))  # type: ignore[arg-type]


def _warped(path: Path, grid: Affine, shape: tuple[int, int]) -> np.ndarray:
    """What odc-stac computes for the asset: rasterio's nearest warp, nodata outside."""
    import rasterio
    from rasterio.warp import Resampling, reproject

    out = np.zeros(shape, np.uint8)
    with rasterio.open(path) as src:
        reproject(
            rasterio.band(src, 1), out, dst_transform=grid, dst_crs=f"EPSG:{EPSG}",
            dst_nodata=0, resampling=Resampling.nearest,
        )  # fmt: skip
    return out


@pytest.mark.parametrize(
    ("factor", "col_off", "row_off", "shape"),
    [
        (2, 0, 0, (40, 40)),  # on the file's corner
        (2, 3, 5, (41, 37)),  # odd offsets: grid pixels start mid file pixel
        (2, -7, -4, (50, 60)),  # starts above/left of the file, ends beyond it
        (6, 1, 11, (45, 33)),  # a 60 m band on a 10 m grid
        (1, -3, 2, (30, 31)),  # a 10 m band: pasted as odc-stac does
    ],
)
def test_repetition_equals_the_nearest_warp(
    tmp_path: Path, factor: int, col_off: int, row_off: int, shape: tuple[int, int]
) -> None:
    res = 10.0
    header = _cog(tmp_path / "b.tif", res * factor, 24, seed=factor)
    grid = Affine(res, 0, X0 + col_off * res, 0, -res, Y0 - row_off * res)
    asset = aligned_asset(str(tmp_path / "b.tif"), header, grid, EPSG, 0)
    assert asset is not None and asset.factor == factor
    expected = _warped(tmp_path / "b.tif", grid, shape)
    chunks = ((1,), (17, shape[0] - 17), (9, 20, shape[1] - 29))
    got = repeated_band([asset], chunks, [np.float32(-1000)]).compute()[0]
    # float32 digital numbers plus the offset, NaN for nodata (0), as the loader hands on
    np.testing.assert_array_equal(got, np.where(expected == 0, np.nan, expected - 1000.0))
    assert got.dtype == np.float32


@pytest.mark.parametrize("factor", [2, 6])
def test_blocks_on_file_pixel_edges_are_filled_from_the_file_pixels(
    tmp_path: Path, factor: int
) -> None:
    """The loader's fast path (whole file pixels in the block) gives the values of the
    general one: repetition, offset added, NaN for nodata (the file has a nodata patch)."""
    header = _cog(tmp_path / "b.tif", 10.0 * factor, 24, seed=factor)
    grid = Affine(10.0, 0, X0 - 2 * factor * 10.0, 0, -10.0, Y0)  # starts 2 pixels left
    asset = aligned_asset(str(tmp_path / "b.tif"), header, grid, EPSG, 0)
    assert asset is not None and asset.col0 == -2 * factor
    offset = np.float32(-1000)
    on_edges = ((0, 10 * factor), (0, 12 * factor))  # its first 2 file columns: outside
    for rows, cols in [((1, 2 * factor + 3), (factor + 1, 4 * factor)), on_edges]:
        out = np.empty((rows[1] - rows[0], cols[1] - cols[0]), np.float32)
        asset.fill(out, rows, cols, offset)
        raw = asset.read(rows, cols)
        expected = np.where(raw == 0, np.nan, raw.astype(np.float32) + offset)
        np.testing.assert_array_equal(out, expected)
    assert np.isnan(out[:, : 2 * factor]).all()  # two file columns left of the file


def test_files_off_the_lattice_or_elsewhere_are_warped(tmp_path: Path) -> None:
    header = _cog(tmp_path / "b.tif", 20.0, 8, seed=1)
    path = str(tmp_path / "b.tif")
    on = Affine(10, 0, X0, 0, -10, Y0)
    assert aligned_asset(path, header, on, EPSG, 0) is not None
    assert aligned_asset(path, header, Affine(10, 0, X0 + 5, 0, -10, Y0), EPSG, 0) is None
    assert aligned_asset(path, header, on, 32633, 0) is None  # another CRS
    same = aligned_asset(path, header, Affine(20, 0, X0, 0, -20, Y0), EPSG, 0)
    assert same is not None and same.factor == 1  # read as is
    assert aligned_asset(path, header, Affine(15, 0, X0, 0, -15, Y0), EPSG, 0) is None
    assert aligned_asset("https://example.com/b.tif", header, on, EPSG, 0) is None


def test_block_padding_reaches_the_block_corner(tmp_path: Path) -> None:
    header = _cog(tmp_path / "b.tif", 10.0, 64, seed=2)
    assert block_padding(header, Affine(10, 0, X0 + 37 * 10, 0, -10, Y0 - 5 * 10), EPSG) == (5, 5)
    assert block_padding(header, Affine(10, 0, X0 + 32 * 10, 0, -10, Y0), EPSG) == (0, 0)
    assert block_padding(header, Affine(10, 0, X0 + 3, 0, -10, Y0), EPSG) is None
    assert block_padding(header, Affine(20, 0, X0, 0, -20, Y0), EPSG) is None


@pytest.mark.parametrize(
    ("sizes", "merged"),
    [
        ((1024, 1024, 10), (1024, 1034)),
        ((3, 1024, 1024), (1027, 1024)),
        ((5, 1024, 7), (1036,)),
        ((700,), (700,)),
        ((600, 1024, 600), (600, 1024, 600)),
    ],
)
def test_edge_slivers_merge_into_their_neighbours(
    sizes: tuple[int, ...], merged: tuple[int, ...]
) -> None:
    assert merge_edge_slivers(sizes, 512) == merged
    assert sum(merged) == sum(sizes)
