"""GTiff's colormap as Copernicus's geotrellis writes it (``hybrid/io/palette.py``):
entry i the colour of the i-th smallest value, at most 2**bits entries."""

from __future__ import annotations

from pathlib import Path

import pytest
import rasterio

from hybrid.errors import ProcessParameterInvalid
from hybrid.io.cube import CELL_TYPE
from hybrid.io.gtiff import write_gtiff
from hybrid.testing import synthetic_result


def _classes(dtype: str) -> object:
    cube = synthetic_result(shape=(20, 30)).isel(t=[0])
    cube = (cube.fillna(0) % 7).astype(dtype)
    cube.attrs[CELL_TYPE] = (dtype, 0)
    return cube


@pytest.mark.parametrize(("dtype", "entries"), [("uint8", 256), ("uint16", 65536)])
def test_more_colours_than_the_cells_hold_are_cut_to_2_to_the_bits(
    dtype: str, entries: int, tmp_path: Path
) -> None:
    colours = {str(value): value * 2 for value in range(300)}  # 0xRRGGBBAA of 2 * value
    (path,) = write_gtiff(_classes(dtype), tmp_path, options={"colormap": colours})
    with rasterio.open(path) as ds:
        palette = ds.colormap(1)
    assert len(palette) == entries
    # value v packs to 2v: only its blue and alpha bytes are set; alpha is not in a TIFF
    assert palette[200][:3] == (0, 0, 1)  # 400 = 0x190: blue 0x01
    assert palette[255][:3] == (0, 0, 1)
    if entries > 300:
        assert palette[299][:3] == (0, 0, 2) and palette[300][:3] == (0, 0, 0)


def test_a_float_result_with_a_colormap_is_refused(tmp_path: Path) -> None:
    cube = synthetic_result(shape=(20, 30)).isel(t=[0])
    with pytest.raises(ProcessParameterInvalid, match="float32 values: select one band"):
        write_gtiff(cube, tmp_path / "out", options={"colormap": {"0": 1}})
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())
