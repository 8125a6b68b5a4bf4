"""GTiff save_result options of the Copernicus backend's ``/file_formats`` (openeo-
geopyspark-driver ``openeogeotrellis/backend.py`` L488-578, applied in
``geopysparkdatacube.py`` ``write_assets`` L2116-2130, L2166-2171, L2283-2312), as the
openeo client's docs/data_access.rst "Output formats" passes them
(``save_result(format="GTiff", options={...})``), against ``hybrid serve``: the honoured
ones are in the files (read with rasterio), the others are refused with one 400 instead of
being ignored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from openeo.rest import OpenEoApiError

from tests.workflows.raw import raw_bands

BBOX = {"west": 6.6640, "south": 45.2400, "east": 6.6660, "north": 45.2410}
DATE = ["2023-06-12", "2023-06-13"]


def _cube(connection: Any) -> Any:
    return connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=BBOX, temporal_extent=DATE, bands=["B04", "B08"]
    )


def test_file_formats_lists_the_options(connection: Any) -> None:
    parameters = connection.list_output_formats()["GTiff"]["parameters"]
    for name in ("compression", "ZLEVEL", "predictor", "tile_size", "bands_metadata"):
        assert name in parameters, name
    assert parameters["overviews"]["enum"] == ["AUTO", "ALL", "OFF"]
    assert "tile_grid" not in parameters and "colormap" in parameters


@pytest.mark.parametrize(
    ("options", "compression", "predictor"),
    [
        ({"ZLEVEL": 9, "predictor": 3, "tile_size": 128}, "DEFLATE", "3"),
        ({"compression": "zstd", "ZLEVEL": 15, "predictor": 2, "tile_size": 64}, "ZSTD", "2"),
    ],
)
def test_compression_predictor_and_tile_size_are_written(
    connection: Any, tmp_path: Path, options: dict[str, Any], compression: str, predictor: str
) -> None:
    """The floating-point predictor (3) on a float32 cube (``* 1.0``), the horizontal
    one (2) on the loaded int16 bands."""
    bands_metadata = {"B04": {"scale": 0.0001, "offset": 0}, "B08": {"long_name": "NIR"}}
    cube = _cube(connection) * 1.0 if predictor == "3" else _cube(connection)
    saved = cube.save_result(format="GTiff", options={**options, "bands_metadata": bands_metadata})
    saved.download(tmp_path / "out.tif")
    raw = raw_bands(connection, ["B04", "B08"], tmp_path / "raw.nc", bbox=BBOX, dates=DATE)
    with rasterio.open(tmp_path / "out.tif") as ds:
        structure = ds.tags(ns="IMAGE_STRUCTURE")
        assert structure["COMPRESSION"] == compression
        assert structure.get("PREDICTOR", "1") == predictor
        assert ds.block_shapes == [(options["tile_size"], options["tile_size"])] * 2
        assert ds.descriptions == ("B04", "B08")
        assert ds.scales == (0.0001, 1.0) and ds.offsets == (0.0, 0.0)
        assert "SCALE" not in ds.tags(1) and "OFFSET" not in ds.tags(1)
        assert ds.tags(2)["LONG_NAME"] == "NIR" and "SCALE" not in ds.tags(2)
        got = ds.read()
    want = np.stack([raw[b].values[0] for b in ("B04", "B08")]).astype(np.float32)
    np.testing.assert_array_equal(got, want)


def test_the_floating_point_predictor_is_refused_for_integer_bands(
    connection: Any, tmp_path: Path
) -> None:
    """GDAL (and the TIFF floating-point predictor) takes float samples only; the loaded
    bands are int16: one 400 before anything is written."""
    saved = _cube(connection).save_result(format="GTiff", options={"predictor": 3})
    with pytest.raises(OpenEoApiError) as caught:
        saved.download(tmp_path / "out.tif")
    assert caught.value.http_status_code == 400
    assert caught.value.code == "ProcessParameterInvalid"
    assert "predictor" in caught.value.message and "int16" in caught.value.message
    assert not (tmp_path / "out.tif").exists()


def test_a_colormap_is_the_palette_copernicus_writes(connection: Any, tmp_path: Path) -> None:
    """Classes 0..3 of B04 (uint8) with a colormap: palette entry i is the colour of the
    i-th smallest value (here the values 0, 1, 2, 5: entry 3 is 5's colour), alpha
    dropped, the other entries black; the pixel values are unchanged."""
    classes = (
        _cube(connection).filter_bands(["B04"]).apply(lambda x: x.linear_scale_range(0, 3000, 0, 3))
    )
    colours = {"2": [0, 0, 1, 1], "0": [1, 0, 0, 1], "5": 0x00FF0080, "1": 4294967295}
    saved = classes.convert_data_type("uint8").save_result("GTiff", options={"colormap": colours})
    saved.download(tmp_path / "classes.tif")
    plain = classes.convert_data_type("uint8").save_result("GTiff")
    plain.download(tmp_path / "plain.tif")
    with rasterio.open(tmp_path / "classes.tif") as ds, rasterio.open(tmp_path / "plain.tif") as p:
        assert ds.dtypes == ("uint8",)
        assert ds.colorinterp[0].name == "palette"
        palette = ds.colormap(1)
        np.testing.assert_array_equal(ds.read(), p.read())
    # a TIFF palette has no alpha (GDAL reads the nodata entry, 0 here, as transparent)
    rgb = {i: colour[:3] for i, colour in palette.items()}
    assert len(rgb) == 256
    assert rgb[0] == (255, 0, 0)
    assert rgb[1] == (255, 255, 255)
    assert rgb[2] == (0, 0, 255)
    assert rgb[3] == (0, 255, 0)  # 5's colour
    assert all(rgb[i] == (0, 0, 0) for i in range(4, 256))
    assert all(palette[i][3] == 255 for i in range(1, 256))


def test_the_zlevel_changes_the_file(connection: Any, tmp_path: Path) -> None:
    sizes = {}
    for level in (1, 9):
        path = tmp_path / f"z{level}.tif"
        _cube(connection).save_result(format="GTiff", options={"ZLEVEL": level}).download(path)
        sizes[level] = path.stat().st_size
    assert sizes[9] < sizes[1]


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"tile_grid": "utm-10km"}, "tile_grid"),
        # a palette needs one band of uint8/uint16 (this is two int16 bands)
        ({"colormap": {"0": [1, 0, 0, 1], "1": 4294967295}}, "'colormap' needs one band"),
        ({"colormap": {"0": [1, 0, 0]}}, "'colormap' entry '0'"),
        ({"colormap": {"low": 1}}, "'colormap' entry 'low'"),
        ({"ZLEVEL": 12}, "ZLEVEL"),
        ({"compression": "lzw"}, "compression"),
        ({"tile_size": 100}, "tile_size"),
        ({"predictor": 4}, "predictor"),
        ({"bands_metadata": {"B04": 5}}, "bands_metadata"),
    ],
)
def test_unsupported_or_invalid_options_are_one_400(
    connection: Any, options: dict[str, Any], words: str
) -> None:
    import openeo.rest

    with pytest.raises(openeo.rest.OpenEoApiError) as caught:
        _cube(connection).save_result(format="GTiff", options=options).download()
    assert caught.value.http_status_code == 400
    assert caught.value.code == "ProcessParameterInvalid"
    assert words in caught.value.message


def test_overviews_all_as_copernicus_generic_writer(tmp_path: Path) -> None:
    """``overviews="ALL"``: a halving per level the 256 px tile layout can be reduced,
    when that is two or more levels (package.scala ``saveRDDGeneric`` L357-386); AUTO
    writes none below 2048 px."""
    from hybrid.io.gtiff import write_gtiff
    from hybrid.io.gtiff_options import all_overview_factors
    from hybrid.testing import synthetic_result

    assert all_overview_factors(256, 256) == []
    assert all_overview_factors(512, 100) == []  # one level only
    assert all_overview_factors(513, 100) == [2, 4]
    assert all_overview_factors(1100, 300) == [2, 4, 8]
    cube = synthetic_result(shape=(300, 600)).isel(t=[0])
    (auto,) = write_gtiff(cube, tmp_path / "auto")
    (every,) = write_gtiff(cube, tmp_path / "all", options={"overviews": "ALL"})
    with rasterio.open(auto) as ds:
        assert ds.overviews(1) == []
    with rasterio.open(every) as ds:
        assert ds.overviews(1) == [2, 4]
        full = ds.read(1)
        np.testing.assert_array_equal(ds.read(1, out_shape=(150, 300)), full[::2, ::2])
