"""``linear_scale_range`` in an ``apply`` callback on small float32 cubes through the
engine's registry: with integer output bounds Copernicus converts the tile to an integer
cell type, so the values keep their integer part (openeo-geotrellis-extensions
OpenEOProcessScriptBuilder.scala ``linearScaleRangeFunction`` L1271-1322); expected
values from numpy and from the builder's own unit tests."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tests.engine.small_cubes import callback, grid_cube, node
from tests.process_vectors import run_through_engine

NAN = np.nan


def _scaled(values: list[float], *bounds: Any, lazy: bool = False) -> np.ndarray:
    """``apply(linear_scale_range(x, *bounds))`` on a 1 x 1 x n float32 cube."""
    cube_values: Any = np.asarray(values, dtype=np.float32).reshape(1, 1, -1)
    if lazy:
        import dask.array as da

        cube_values = da.from_array(cube_values, chunks=(1, 1, 2))
    cube = grid_cube(cube_values, ("t", "y", "x"), t=np.array(["2023-06-10"], "datetime64[ns]"))
    names = ("inputMin", "inputMax", "outputMin", "outputMax")
    scale = node(
        "linear_scale_range", x={"from_parameter": "x"}, **dict(zip(names, bounds, strict=False))
    )
    out = run_through_engine("apply", {"data": cube, "process": callback("s", s=scale)})
    return np.asarray(out.values, dtype=np.float64).ravel()


@pytest.mark.parametrize("lazy", [False, True])
def test_integer_output_bounds_keep_the_integer_part(lazy: bool) -> None:
    """0..1 -> 0..255 (JSON integers): 255 x clipped, towards zero; NaN stays nodata."""
    values = [0.1, 0.5, 0.999, -0.2, 1.7, NAN]
    got = _scaled(values, 0, 1, 0, 255, lazy=lazy)
    want = np.trunc(np.clip(np.asarray(values, np.float32).astype(np.float64) * 255, 0, 255))
    np.testing.assert_array_equal(got, want)
    assert got[:3].tolist() == [25.0, 127.0, 254.0]


def test_float_output_bounds_keep_the_fraction() -> None:
    """outputMin/outputMax written as 0.0 / 255.0 (or left to their defaults): float32."""
    values = [0.1, 0.5, 0.999]
    want = (np.asarray(values, np.float32).astype(np.float64) * 255).astype(np.float32)
    np.testing.assert_array_equal(_scaled(values, 0, 1, 0.0, 255.0), want)
    np.testing.assert_array_equal(_scaled(values, 0, 2), np.asarray(values, np.float32) / 2)


@pytest.mark.parametrize(
    ("bounds", "values", "want"),
    [
        # TestOpenEOProcessScriptBuilder.java testLinearScaleRange (uint8): 1.9f -> 228
        ((0, 2, 0, 240), [1, 3, -1, 1.9], [120, 240, 0, 228]),
        # testLinearScaleRangeToShort (uint16)
        ((0, 10, 0, 1000), [1, 3, -10, 19], [100, 300, 0, 1000]),
        # int16 (a negative lowest output): towards zero
        ((0, 1, -100, 100), [0.486, 0.514, 1.0], [-2, 2, 100]),
        # uint8 from 100 up to 300: above 255 wraps, 255 is the type's nodata
        ((0, 1, 100, 300), [0.5, 0.775, 0.9], [200, NAN, 24]),
        # a range of 1 or beyond int16 keeps the floats
        ((0, 1, 0, 1), [0.25], [0.25]),
        ((0, 1, 0, 100000), [0.000015], [np.float32(1.5)]),
    ],
)
def test_the_integer_cell_type_copernicus_picks(
    bounds: tuple[int, ...], values: list[float], want: list[float]
) -> None:
    np.testing.assert_array_equal(_scaled(values, *bounds), np.asarray(want, np.float64))
