"""PNG results as Copernicus writes them (hybrid.io.png): bytes, bands, dates."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from hybrid.errors import ProcessParameterInvalid
from hybrid.io.png import image_bytes
from hybrid.io.registry import require_format, write_result

#: a PNG has no georeferencing: rasterio says so when it opens one
_NOT_GEOREFERENCED = pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")


def _cube(values: np.ndarray, bands: list[str]) -> xr.DataArray:
    t, _, rows, cols = values.shape
    return xr.DataArray(
        values,
        dims=["t", "bands", "y", "x"],
        coords={
            "t": np.array(["2023-06-12", "2023-06-17"][:t], dtype="datetime64[ns]"),
            "bands": bands,
            "y": 100.0 + 10 * np.arange(rows),  # south to north: the image flips it
            "x": 10.0 * np.arange(cols),
        },
    )


def test_values_become_their_low_byte_and_nodata_zero() -> None:
    """UByteCellType conversion: integer part, low 8 bits; NaN -> 0; first band grey."""
    values = np.array([[[[300.7, -1.0, np.nan]], [[5.0, 5.0, 5.0]]]])
    got = image_bytes(_cube(values, ["a", "b"]))
    np.testing.assert_array_equal(got, np.array([[44, 255, 0]], dtype=np.uint8))


def test_three_bands_are_rgb_north_up_and_the_first_date_is_shown() -> None:
    values = np.arange(2 * 4 * 2 * 3, dtype=np.float64).reshape(2, 4, 2, 3)
    with pytest.warns(UserWarning, match="2 dates"):
        got = image_bytes(_cube(values, ["r", "g", "b", "n"]))
    assert got.shape == (2, 3, 3)
    np.testing.assert_array_equal(got[..., 1], values[0, 1, ::-1])


@_NOT_GEOREFERENCED
def test_png_file_and_colormap(tmp_path: Path) -> None:
    """Greyscale with a colormap: an indexed PNG whose palette is the colours in the
    order of their values (Copernicus's saveStitched); the pixel bytes unchanged."""
    import rasterio

    values = np.array([[[[0.0, 1.0], [2.0, 1.0]]]])
    fmt = require_format("png")
    (path,) = write_result(_cube(values, ["a"]), fmt, tmp_path / "grey")
    assert path.name == "openEO.png"
    colours = {"2": 0x0000FFFF, "0": [1, 0, 0, 1], "1": 4294967295}
    (indexed,) = write_result(
        _cube(values, ["a"]), fmt, tmp_path / "indexed", options={"colormap": colours}
    )
    with rasterio.open(path) as grey, rasterio.open(indexed) as image:
        np.testing.assert_array_equal(image.read(1), grey.read(1))
        np.testing.assert_array_equal(image.read(1), values[0, 0, ::-1])  # north up
        assert image.colorinterp[0].name == "palette"
        rgb = [image.colormap(1)[i][:3] for i in range(3)]
    assert rgb == [(255, 0, 0), (255, 255, 255), (0, 0, 255)]
    with pytest.raises(ProcessParameterInvalid, match=r"save_result \(PNG\): 'colormap' entry"):
        write_result(_cube(values, ["a"]), fmt, tmp_path / "bad", options={"colormap": {0: "red"}})
    assert not (tmp_path / "bad").exists() or not list((tmp_path / "bad").iterdir())


@_NOT_GEOREFERENCED
def test_an_rgb_png_keeps_its_colours_with_a_warning(tmp_path: Path) -> None:
    import rasterio

    values = np.arange(12.0).reshape(1, 3, 2, 2)
    fmt = require_format("png")
    with pytest.warns(UserWarning, match="the colormap is not used"):
        (path,) = write_result(
            _cube(values, ["r", "g", "b"]), fmt, tmp_path, options={"colormap": {"0": 1}}
        )
    with rasterio.open(path) as image:
        assert image.count == 3
        np.testing.assert_array_equal(image.read(), values[0, :, ::-1])
