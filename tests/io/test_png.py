"""PNG results as Copernicus writes them (hybrid.io.png): bytes, bands, dates."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from hybrid.errors import ProcessParameterInvalid
from hybrid.io.png import image_bytes
from hybrid.io.registry import require_format, write_result


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


def test_png_file_and_colormap_refused(tmp_path: Path) -> None:
    pil = pytest.importorskip("PIL.Image")
    values = np.full((1, 1, 2, 2), 7.0)
    fmt = require_format("png")
    (path,) = write_result(_cube(values, ["a"]), fmt, tmp_path)
    assert path.name == "openEO.png"
    np.testing.assert_array_equal(np.asarray(pil.open(path)), np.full((2, 2), 7))
    with pytest.raises(ProcessParameterInvalid, match="colormap"):
        write_result(_cube(values, ["a"]), fmt, tmp_path, options={"colormap": {0: 1}})
