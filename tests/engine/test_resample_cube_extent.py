"""resample_cube_spatial keeps the data's extent, on the target's layout, as Copernicus:
the data's tiles are reprojected onto the target's layout and the result keeps the
data's metadata, so save_result crops to the data's extent (openeo-geopyspark-driver
9baf2e10 geopysparkdatacube.py ``resample_cube_spatial`` L1447-1485,
``metadata=self.metadata``; crop L2093-2106; openeo-python-driver 9e5b49b2 dry_run.py
L797-808 keeps the data's spatial extent too)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.engine.test_engine_cube_operations import _cube, _run
from tests.server_helpers import SEED_BBOX

pytestmark = pytest.mark.slow

#: a box in the south-west of the seed box
SMALL = {"west": 6.6560, "south": 45.2300, "east": 6.6650, "north": 45.2400}


@pytest.mark.parametrize(("data_box", "target_box"), [(SMALL, SEED_BBOX), (SEED_BBOX, SMALL)])
def test_the_data_keeps_its_extent(
    tmp_path: Path, sample_catalog: Path, data_box: dict[str, float], target_box: dict[str, float]
) -> None:
    """A data cube smaller than the target is not padded, a larger one not cut."""
    data = _run(_cube(["B04"], data_box), tmp_path / "data", sample_catalog)
    target = _cube(["B11"], target_box)
    moved = _cube(["B04"], data_box).resample_cube_spatial(target, method="near")
    got = _run(moved, tmp_path / "moved", sample_catalog)
    np.testing.assert_array_equal(got["x"].values, data["x"].values)
    np.testing.assert_array_equal(got["y"].values, data["y"].values)
    np.testing.assert_array_equal(got.values, data.values)


def test_a_target_in_another_crs_gives_its_pixels_over_the_data(
    tmp_path: Path, sample_catalog: Path
) -> None:
    """The target's 20 m EPSG:32631 pixels (alignment kept), only those overlapping the
    data's extent reprojected by its corners."""
    import pyproj

    target = _cube(["B11"], SEED_BBOX).resample_spatial(resolution=20, projection=32631)
    want = _run(target, tmp_path / "target", sample_catalog)
    got = _run(
        _cube(["B04"], SMALL).resample_cube_spatial(target), tmp_path / "moved", sample_catalog
    )
    assert pyproj.CRS.from_wkt(got.attrs["crs_wkt"]).to_epsg() == 32631
    assert set(got["x"].values) < set(want["x"].values)
    assert set(got["y"].values) < set(want["y"].values)
    to_utm = pyproj.Transformer.from_crs(4326, 32631, always_xy=True).transform
    xs, ys = to_utm([SMALL["west"], SMALL["east"]] * 2, [SMALL["south"]] * 2 + [SMALL["north"]] * 2)
    assert min(xs) - 40 < got["x"].min() and got["x"].max() < max(xs) + 40
    assert min(ys) - 40 < got["y"].min() and got["y"].max() < max(ys) + 40
    assert np.isfinite(got.values).mean() > 0.5
