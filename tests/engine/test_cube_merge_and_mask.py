"""merge_cubes and mask on cubes of any shape, run through openeo-pg-parser-networkx with
the engine's registry (tests/process_vectors.py ``run_through_engine``); expected values
from numpy.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from hybrid.errors import OverlapResolverMissing, ProcessParameterInvalid
from tests.engine.small_cubes import TIMES, bands_cube, callback, grid_cube, node, series_cube
from tests.process_vectors import run_through_engine

# ---------------------------------------------------------------- merge_cubes


def test_merge_cubes_without_bands_joins_dates() -> None:
    early, late = series_cube(TIMES[:1]), series_cube(TIMES[1:], offset=100)
    out = run_through_engine("merge_cubes", {"cube1": late, "cube2": early})
    np.testing.assert_array_equal(out["t"].values, TIMES)
    np.testing.assert_array_equal(out.values[0], early.values[0])
    np.testing.assert_array_equal(out.values[1:], late.values)


def test_merge_cubes_overlap_uses_the_resolver_or_fails() -> None:
    one, two = series_cube(TIMES[:2]), series_cube(TIMES[1:], offset=1000)
    resolver = callback(
        "s", s=node("subtract", x={"from_parameter": "x"}, y={"from_parameter": "y"})
    )
    out = run_through_engine(
        "merge_cubes", {"cube1": one, "cube2": two, "overlap_resolver": resolver}
    )
    np.testing.assert_array_equal(out["t"].values, TIMES)
    np.testing.assert_array_equal(out.values[0], one.values[0])
    np.testing.assert_array_equal(out.values[1], one.values[1] - two.values[0])
    np.testing.assert_array_equal(out.values[2], two.values[1])
    with pytest.raises(ProcessParameterInvalid, match="OverlapResolverMissing"):
        run_through_engine("merge_cubes", {"cube1": one, "cube2": two})


def test_merge_cubes_sharing_a_band_need_a_resolver_whatever_the_dates() -> None:
    """Copernicus compares band names only (geopysparkdatacube.py merge_cubes L1068-1079):
    B04 of June 2 and B04 of June 7 and 12 do not overlap, yet need a resolver."""
    data = bands_cube()
    early, late = data.isel(t=slice(0, 1)), data.isel(t=slice(1, None))
    with pytest.raises(OverlapResolverMissing, match=r"share the band\(s\) B04, B08 "):
        run_through_engine("merge_cubes", {"cube1": early, "cube2": late})
    resolver = callback("m", m=node("max", data=[{"from_parameter": "x"},
                                                 {"from_parameter": "y"}]))  # fmt: skip
    out = run_through_engine(
        "merge_cubes", {"cube1": early, "cube2": late, "overlap_resolver": resolver}
    )
    np.testing.assert_array_equal(out.values, data.values)
    renamed = late.assign_coords(bands=["C04", "C08"])
    both = run_through_engine("merge_cubes", {"cube1": early, "cube2": renamed})
    assert list(both["bands"].values) == ["B04", "B08", "C04", "C08"]


def test_merge_cubes_bands_and_a_timeless_cube_broadcast_over_time() -> None:
    data = bands_cube()
    b04, b08 = data.sel(bands=["B04"]), data.sel(bands=["B08"])
    out = run_through_engine("merge_cubes", {"cube1": b04, "cube2": b08})
    assert list(out["bands"].values) == ["B04", "B08"]
    np.testing.assert_array_equal(out.values, data.values)
    weight = grid_cube(np.full((4, 5), 2.0), ("y", "x"))
    resolver = callback(
        "m", m=node("multiply", x={"from_parameter": "x"}, y={"from_parameter": "y"})
    )
    scaled = run_through_engine(
        "merge_cubes", {"cube1": series_cube(), "cube2": weight, "overlap_resolver": resolver}
    )
    assert scaled.dims == ("t", "y", "x")
    np.testing.assert_array_equal(scaled.values, series_cube().values * 2)


# ---------------------------------------------------------------- mask, array_apply


@pytest.mark.parametrize("lazy", [False, True])
def test_a_mask_on_a_coarser_grid_is_taken_by_nearest_neighbour(lazy: bool) -> None:
    data = bands_cube(lazy)
    coarse = np.array([[0, 1], [1, 0]], dtype=float)  # 20 m pixels, 40 m wide: one column short
    mask = xr.DataArray(
        coarse,
        dims=("y", "x"),
        coords={"x": 500010.0 + 20.0 * np.arange(2), "y": 5000990.0 - 20.0 * np.arange(2)},
        attrs=dict(data.attrs),
    )
    out = run_through_engine("mask", {"data": data, "mask": mask}).compute()
    rows, cols = np.arange(4) // 2, np.minimum(np.arange(5) // 2, 1)
    flags = coarse[rows][:, cols].astype(bool)
    flags[:, 4] = True  # beyond the mask: no data there, which masks
    want = np.where(flags, np.nan, data.values)
    np.testing.assert_array_equal(out.values, want)


def test_merge_cubes_keeps_longer_band_names_of_the_second_cube() -> None:
    """compute_and_rescale_indices merged back (DynamicLandCoverMapping notebook): the
    labels 'NDVI', 'ANIR' after 'B03' were cut to 'NDV', 'ANI'."""
    data = bands_cube()
    indices = data.assign_coords(bands=["NDVI", "ANIR"])
    out = run_through_engine("merge_cubes", {"cube1": data, "cube2": indices})
    assert list(out["bands"].values) == ["B04", "B08", "NDVI", "ANIR"]
