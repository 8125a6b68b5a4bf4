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
