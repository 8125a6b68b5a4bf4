"""merge_cubes of cubes on different grids, as Copernicus merges them: the second cube
resampled with nearest neighbour onto the first's layout (pixel size, alignment, CRS)
over its own extent, then joined; a cube without time goes onto the layout of one with
time [openeo-geotrellis-extensions OpenEOProcesses.scala ``mergeCubes`` L936-945,
``mergeCubes_SpaceTime_Spatial`` L882-884; geotrellis NearestNeighbor takes the source
pixel the target pixel's centre lies in]. Expected values from numpy indexing."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from tests.engine.small_cubes import EPSG, TIMES
from tests.process_vectors import run_through_engine


def _cube(values: Any, dims: tuple[str, ...], x: Any, y: Any, **coords: Any) -> xr.DataArray:
    cube = xr.DataArray(values, dims=dims, coords={**coords, "x": x, "y": y})
    cube.attrs = {"crs": f"EPSG:{EPSG}", "epsg": EPSG}
    return cube


#: a 10 m grid of 8 x 8 pixels from (500000, 5001000) and the 20 m grid of the same area
X10, Y10 = 500005.0 + 10 * np.arange(8), 5000995.0 - 10 * np.arange(8)
X20, Y20 = 500010.0 + 20 * np.arange(4), 5000990.0 - 20 * np.arange(4)
RNG = np.random.default_rng(7)


def _ten(band: str = "B04") -> xr.DataArray:
    values = RNG.uniform(0, 1000, size=(3, 1, 8, 8))
    return _cube(values, ("t", "bands", "y", "x"), X10, Y10, t=TIMES, bands=[band])


def _twenty(band: str = "B11", t: bool = True) -> xr.DataArray:
    if not t:
        return _cube(RNG.uniform(0, 1000, size=(1, 4, 4)), ("bands", "y", "x"), X20, Y20,
                     bands=[band])  # fmt: skip
    values = RNG.uniform(0, 1000, size=(3, 1, 4, 4))
    return _cube(values, ("t", "bands", "y", "x"), X20, Y20, t=TIMES, bands=[band])


def test_a_coarser_second_cube_goes_onto_the_first_cubes_10m_pixels() -> None:
    ten, twenty = _ten(), _twenty()
    out = run_through_engine("merge_cubes", {"cube1": ten, "cube2": twenty})
    np.testing.assert_array_equal(out["x"].values, X10)
    np.testing.assert_array_equal(out["y"].values, Y10)
    assert list(out["bands"].values) == ["B04", "B11"]
    np.testing.assert_array_equal(out.sel(bands="B04").values, ten.values[:, 0])
    upsampled = np.repeat(np.repeat(twenty.values[:, 0], 2, axis=1), 2, axis=2)
    np.testing.assert_array_equal(out.sel(bands="B11").values, upsampled)


def test_a_finer_second_cube_goes_onto_the_first_cubes_20m_pixels() -> None:
    twenty, ten = _twenty(), _ten()
    out = run_through_engine("merge_cubes", {"cube1": twenty, "cube2": ten})
    np.testing.assert_array_equal(out["x"].values, X20)
    np.testing.assert_array_equal(out["y"].values, Y20)
    # a 20 m centre lies on a 10 m pixel edge: the pixel right of / below it
    # ([left, right) in x, (bottom, top] in y, as geotrellis' floor of the offset)
    np.testing.assert_array_equal(out.sel(bands="B04").values, ten.values[:, 0, 1::2, 1::2])
    np.testing.assert_array_equal(out.sel(bands="B11").values, twenty.values[:, 0])


def test_the_second_cubes_extent_is_kept_on_the_first_cubes_grid() -> None:
    ten = _ten().isel(x=slice(0, 4))  # the western half only
    twenty = _twenty()
    out = run_through_engine("merge_cubes", {"cube1": ten, "cube2": twenty})
    np.testing.assert_array_equal(out["x"].values, X10)
    assert np.isnan(out.sel(bands="B04").values[..., 4:]).all()
    np.testing.assert_array_equal(out.sel(bands="B04").values[..., :4], ten.values[:, 0])


def test_a_cube_without_time_goes_onto_the_layout_of_the_cube_with_time() -> None:
    static, ten = _twenty("DEM", t=False), _ten()
    out = run_through_engine("merge_cubes", {"cube1": static, "cube2": ten})
    out = out.transpose("t", "bands", "y", "x")
    np.testing.assert_array_equal(out["x"].values, X10)
    assert list(out["bands"].values) == ["DEM", "B04"]
    upsampled = np.repeat(np.repeat(static.values[0], 2, axis=0), 2, axis=1)
    for i in range(len(TIMES)):
        np.testing.assert_array_equal(out.sel(bands="DEM").values[i], upsampled)


def test_a_second_cube_in_another_crs_is_reprojected_onto_the_first() -> None:
    """A 10 m grid in EPSG:32631 about 200 m east of the first cube: the result spans both
    extents on the first cube's 10 m grid, the second's pixels taken by nearest
    neighbour, nodata between them."""
    from pyproj import Transformer

    ten = _ten()
    east, north = Transformer.from_crs(EPSG, 32631, always_xy=True).transform(500205.0, 5000995.0)
    other = _cube(ten.values, ("t", "bands", "y", "x"), round(east) + 10 * np.arange(8),
                  round(north) - 10 * np.arange(8), t=TIMES, bands=["B08"])  # fmt: skip
    other.attrs = {"crs": "EPSG:32631", "epsg": 32631}
    out = run_through_engine("merge_cubes", {"cube1": ten, "cube2": other})
    assert out.attrs["epsg"] == EPSG
    xs = out["x"].values
    np.testing.assert_array_equal(xs[:8], X10)
    np.testing.assert_allclose(np.diff(xs), 10.0)
    assert 500_250 < xs.max() < 500_350
    b08 = out.sel(bands="B08").values
    assert np.isin(b08[np.isfinite(b08)], other.values).all() and np.isfinite(b08).any()
    assert np.isnan(out.sel(bands="B08", x=X10).values).all()


def test_cubes_whose_extents_do_not_touch_merge_on_one_regular_grid() -> None:
    """Copernicus joins both onto one layout whose extent is the bounding box of both
    (OpenEOProcesses.scala ``mergeCubes`` L943 ``extent.combine``): one regular 10 m grid
    from the first cube's west edge to the second's east edge, nodata between them."""
    ten = _ten()
    far = _cube(RNG.uniform(0, 1000, size=(3, 1, 8, 8)), ("t", "bands", "y", "x"),
                X10 + 150, Y10 - 40, t=TIMES, bands=["B08"])  # fmt: skip
    out = run_through_engine("merge_cubes", {"cube1": ten, "cube2": far})
    out = out.transpose("t", "bands", "y", "x")
    xs, ys = 500005.0 + 10 * np.arange(23), 5000995.0 - 10 * np.arange(12)
    np.testing.assert_array_equal(out["x"].values, xs)
    np.testing.assert_array_equal(out["y"].values, ys)
    expected = np.full((3, 2, 12, 23), np.nan)
    expected[:, 0, :8, :8] = ten.values[:, 0]
    expected[:, 1, 4:, 15:] = far.values[:, 0]
    np.testing.assert_array_equal(out.values, expected)
