"""GTiff results in Copernicus's layout: per-date names, deflate, 256-px tiles, overviews
(``defaultOverviewReductions``), band DESCRIPTION only while a band dimension remains."""

from __future__ import annotations

import numpy as np
import rasterio
import xarray as xr

from hybrid.io.gtiff import label_file_name, overview_factors, write_gtiff
from hybrid.io.reader import open_result
from hybrid.testing import synthetic_result


def test_overview_factors_follow_copernicus_auto():
    # ceil(log2(max/1024)) levels, the first skipped, tiles kept above 16 px
    assert overview_factors(300, 200) == []
    assert overview_factors(2048, 100) == []
    assert overview_factors(2049, 100) == [4]
    assert overview_factors(4096, 4096) == [4]
    assert overview_factors(4097, 10) == [4, 8]
    assert overview_factors(50_000, 10) == [4, 8]


def test_file_names():
    assert label_file_name(np.datetime64("2023-05-01")) == "openEO_2023-05-01Z.tif"
    assert label_file_name(np.datetime64("2023-05-01T10:30")) == "openEO_20230501T103000Z.tif"
    assert label_file_name(None) == "openEO.tif"


def test_reduced_bands_have_no_description_and_files_are_tiled_deflate(tmp_path):
    cube = synthetic_result(shape=(20, 30))
    files = write_gtiff(cube, tmp_path, attrs={"hybrid_job_id": "j-1"})
    assert [f.name for f in files] == [
        "openEO_2023-05-01Z.tif",
        "openEO_2023-06-01Z.tif",
        "openEO_2023-07-01Z.tif",
    ]
    with rasterio.open(files[0]) as src:
        assert src.descriptions == (None,)
        assert src.profile["tiled"] and src.block_shapes[0] == (256, 256)
        assert src.compression.value.lower() == "deflate"
        assert src.dtypes[0] == "float32" and np.isnan(src.nodata)
        assert src.overviews(1) == []
        tags = src.tags()
        assert tags["hybrid_job_id"] == "j-1"
        assert tags["PROCESSING_SOFTWARE"].startswith("hybrid openEO engine")
        assert tags["institution"] == tags["PROCESSING_SOFTWARE"]  # GDAL drops empty tags
    opened = open_result(tmp_path)
    np.testing.assert_array_equal(opened.values, cube.values)
    assert opened.attrs["hybrid_job_id"] == "j-1"


def test_band_dimension_keeps_descriptions(tmp_path):
    cube = synthetic_result(shape=(5, 6))
    cube = xr.concat([cube, cube * 2], dim="bands").assign_coords(bands=["B04", "B08"])
    cube = cube.transpose("t", "bands", "y", "x")
    cube.attrs = synthetic_result().attrs
    files = write_gtiff(cube, tmp_path)
    with rasterio.open(files[0]) as src:
        assert src.descriptions == ("B04", "B08")
    assert list(open_result(tmp_path)["bands"].values) == ["B04", "B08"]


def test_large_rasters_get_overviews(tmp_path):
    cube = synthetic_result(dates=("2023-05-01",), shape=(20, 2100))
    (file,) = write_gtiff(cube, tmp_path)
    with rasterio.open(file) as src:
        assert src.overviews(1) == [4]


def _tile_bytes(path) -> int:
    """The compressed bytes of every full-resolution tile the file's index points to."""
    with rasterio.open(path) as src:
        return sum(
            src.block_size(band, i, j)
            for band in src.indexes
            for (i, j), _window in src.block_windows(band)
        )


def test_a_lazy_result_is_handed_to_gdal_in_whole_tiles_each_once(tmp_path, monkeypatch):
    """Blocks off the 256-px tile lattice (as the engine's are): every write is one whole
    tile (cut at the raster's edge), every tile is written once, and the file holds no
    other copy of a tile even when GDAL's block cache is too small to keep a partial
    tile until its neighbour arrives (before: it was flushed, compressed, read back and
    written again, its first copy left in the file)."""
    import hybrid.io.gtiff as gtiff

    cube = synthetic_result(dates=("2023-05-01",), shape=(700, 900), seed=4)
    lazy = cube.chunk({"y": 230, "x": 310})
    windows = []
    real = gtiff._write_tile

    def spy(dst, extent, values):
        windows.append(tuple((s.start, s.stop) for s in extent[1:]))
        real(dst, extent, values)

    monkeypatch.setattr(gtiff, "_write_tile", spy)
    with rasterio.Env(GDAL_CACHEMAX=1):  # MiB: less than the file's tiles
        (file,) = write_gtiff(lazy, tmp_path)
    tiles = {
        ((r, min(r + 256, 700)), (c, min(c + 256, 900)))
        for r in range(0, 700, 256)
        for c in range(0, 900, 256)
    }
    assert sorted(windows) == sorted(tiles)  # each once, whole
    with rasterio.open(file) as src:
        np.testing.assert_array_equal(src.read(1), cube.values[0])
        first_tile = min(src.block_size(1, i, j) for (i, j), _w in src.block_windows(1))
    # the header and tile index are a few KiB; a second copy of any tile is more
    assert file.stat().st_size - _tile_bytes(file) < first_tile


def _geotiff(path, values, **profile):
    from affine import Affine

    with rasterio.open(
        path, "w", driver="GTiff", width=values.shape[-1], height=values.shape[-2], count=1,
        dtype=values.dtype, crs="EPSG:32632", transform=Affine(10, 0, 300_000, 0, -10, 5_010_100),
        **profile,
    ) as dst:  # fmt: skip
        dst.write(values, 1)


def test_reading_gives_nan_where_gdal_masks_whatever_the_nodata(tmp_path):
    """NaN nodata (results) is read as stored; a numeric nodata (int16 Copernicus
    bands) and a file without nodata go through GDAL's mask as before."""
    from hybrid.io.gtiff import read_raster

    values = np.arange(12 * 16, dtype="float32").reshape(12, 16) / 7
    values[2, 3] = np.nan
    _geotiff(tmp_path / "nan.tif", values, nodata=float("nan"))
    counts = np.arange(12 * 16, dtype="int16").reshape(12, 16)
    counts[5, 5] = -9999
    _geotiff(tmp_path / "int.tif", counts, nodata=-9999)
    _geotiff(tmp_path / "none.tif", counts)
    nan = read_raster([tmp_path / "nan.tif"], source=tmp_path).values
    np.testing.assert_array_equal(nan, values.astype("float64"))
    as_int = read_raster([tmp_path / "int.tif"], source=tmp_path).values
    assert np.isnan(as_int[5, 5]) and np.isnan(as_int).sum() == 1
    np.testing.assert_array_equal(np.nan_to_num(as_int, nan=-9999), counts.astype("float64"))
    plain = read_raster([tmp_path / "none.tif"], source=tmp_path).values
    np.testing.assert_array_equal(plain, counts.astype("float64"))


def test_a_one_pixel_axis_takes_the_other_axis_pixel_size(tmp_path):
    """A load_stac of a small extent in EPSG:4326 (0.1 degree pixels) can be one row
    high: its GTiff had a 10-unit pixel height (10 degrees), moving its north edge by 5
    degrees; the grid's pixels are square, so the row takes the columns' size."""
    cube = synthetic_result(shape=(1, 4), x0=5.15, y0=50.35, resolution=0.1, epsg=4326)
    files = write_gtiff(cube, tmp_path)
    with rasterio.open(files[0]) as src:
        assert np.allclose(src.res, (0.1, 0.1))
        assert np.allclose(src.bounds, (5.1, 50.3, 5.5, 50.4))
    column = synthetic_result(shape=(3, 1), x0=5.15, y0=50.35, resolution=0.1, epsg=4326)
    (first, *_) = write_gtiff(column, tmp_path / "column")
    with rasterio.open(first) as src:
        assert np.allclose(src.bounds, (5.1, 50.1, 5.2, 50.4))
