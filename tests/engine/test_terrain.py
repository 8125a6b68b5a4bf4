"""aspect and slope as Copernicus computes them (backends/local/processes/terrain.py).

The first test is openeo-geopyspark-driver's own (9baf2e10 ``tests/test_apply_process.py``
``test_aspect``/``test_slope``: two elevation bands rising one unit a row and one a
column on a layer of 1-degree cells whose layout tile is centred at 2 degrees north);
the others check the chunked computation against a pixel-by-pixel walk written from
geotrellis's ``SurfacePointCalculation`` (a no-data or outside neighbour counts as the
pixel's own value), and the directions and units on planes.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import xarray as xr

from hybrid.backends.local.processes.terrain import aspect, slope


def _cube(values: np.ndarray, *, step: float, top: float, crs: str, left: float = 0.0) -> Any:
    bands, rows, cols = values.shape
    return xr.DataArray(
        values.astype(np.float64),
        dims=("bands", "y", "x"),
        coords={
            "bands": [f"band{n}" for n in range(bands)],
            "y": top - step / 2 - step * np.arange(rows),
            "x": left + step / 2 + step * np.arange(cols),
        },
        attrs={"crs": crs},
    )


def test_the_drivers_own_test_values() -> None:
    rows, cols = np.mgrid[0:10, 0:10]
    cube = _cube(np.stack([rows, cols]), step=1.0, top=10.0, crs="EPSG:4326")
    cube = cube.assign_coords(bands=["elevation_1", "elevation_2"])
    # ten rows of 1 degree, one 16-row layout tile from 10 N: its centre is at 2 N
    facing = aspect(cube).compute()
    steep = slope(cube).compute()
    assert list(facing["bands"].values) == ["elevation_1_aspect", "elevation_2_aspect"]
    assert list(steep["bands"].values) == ["elevation_1_slope", "elevation_2_slope"]
    assert facing.dtype == steep.dtype == np.float64
    assert facing.values[0, 2, 2] == math.pi / 2  # rising southwards: faces north
    assert facing.values[1, 2, 2] == math.pi  # rising eastwards: faces west
    assert steep.values[0, 5, 5] == 8.988587354220929e-06
    assert steep.values[1, 5, 5] == 8.988587354220929e-06


def _walk(values: np.ndarray, width: float, height: float) -> tuple[np.ndarray, np.ndarray]:
    """Aspect and the gradient's length pixel by pixel, as geotrellis's scan does."""
    rows, cols = values.shape
    facing, length = np.full(values.shape, np.nan), np.full(values.shape, np.nan)
    for r in range(rows):
        for c in range(cols):
            focal = float(values[r, c])
            if math.isnan(focal):
                continue

            def at(dr: int, dc: int, focal: float = focal, r: int = r, c: int = c) -> float:
                rr, cc = r + dr, c + dc
                inside = 0 <= rr < rows and 0 <= cc < cols
                value = float(values[rr, cc]) if inside else math.nan
                return focal if math.isnan(value) else value

            ne, e, se = at(-1, 1), at(0, 1), at(1, 1)
            nw, w, sw = at(-1, -1), at(0, -1), at(1, -1)
            n, s = at(-1, 0), at(1, 0)
            dx = (ne + 2 * e + se - nw - 2 * w - sw) / (8 * width)
            dy = (sw + 2 * s + se - nw - 2 * n - ne) / (8 * height)
            length[r, c] = math.sqrt(dx * dx + dy * dy)
            if dx == 0 and dy == 0:
                continue
            a = math.atan2(dy, -dx)
            a = a + 2 * math.pi if a < 0 else a
            facing[r, c] = 0.0 if a == 2 * math.pi else a
    return facing, length


@pytest.mark.parametrize("chunks", [None, {"y": 7, "x": 5}, {"y": 1, "x": 40}])
def test_chunked_results_equal_a_pixel_walk_with_gaps(chunks: dict[str, int] | None) -> None:
    rng = np.random.default_rng(7)
    dem = rng.normal(800, 40, size=(2, 23, 31)).round(1)
    dem[0, 0, 5] = dem[0, 11, 11] = dem[1, 22, 30] = np.nan  # an edge, inside, a corner
    dem[1, 4:6, 8:10] = 812.0  # a flat patch: NaN aspect inside it
    dem[1, 3:7, 7:11] = 812.0
    cube = _cube(dem, step=20.0, top=5_000_000.0, left=600_000.0, crs="EPSG:32632")
    if chunks:
        cube = cube.chunk(chunks)
    facing, steep = aspect(cube).values, slope(cube).values
    for band in range(2):
        want_facing, want_length = _walk(dem[band], 20.0, 20.0)
        np.testing.assert_allclose(facing[band], want_facing, rtol=1e-14, atol=0)
        np.testing.assert_allclose(steep[band], np.arctan(want_length), rtol=1e-14, atol=0)
    assert np.isnan(facing[0, 11, 11]) and np.isnan(steep[0, 11, 11])
    assert np.isnan(facing[1, 4, 8]) and steep[1, 4, 8] == 0.0
    # the gap's neighbour counts it as its own value: not NaN
    assert np.isfinite(steep[0, 11, 12]) and np.isfinite(steep[0, 1, 5])


@pytest.mark.parametrize(
    ("rise", "want"),
    [((1, 0), math.pi), ((-1, 0), 0.0), ((0, -1), 1.5 * math.pi), ((0, 1), 0.5 * math.pi)],
)
def test_aspect_is_the_downhill_direction_counter_clockwise_from_east(
    rise: tuple[int, int], want: float
) -> None:
    """``rise``: metres a column (east) and a row (south) higher."""
    rows, cols = np.mgrid[0:6, 0:6]
    plane = 100.0 + rise[0] * cols + rise[1] * rows
    cube = _cube(plane[None], step=10.0, top=5_000_000.0, crs="EPSG:32632")
    np.testing.assert_allclose(aspect(cube).values[0, 1:-1, 1:-1], want, atol=1e-12)


def test_slope_in_a_projected_crs_uses_the_pixel_size_in_metres() -> None:
    cols = np.mgrid[0:6, 0:6][1]
    plane = 10.0 * cols  # 10 m up per 10 m pixel: 45 degrees
    cube = _cube(plane[None], step=10.0, top=5_000_000.0, crs="EPSG:32632")
    np.testing.assert_allclose(slope(cube).values[0, 1:-1, 1:-1], math.pi / 4, rtol=1e-15)


def test_slope_in_degrees_takes_the_latitude_of_each_layout_tile() -> None:
    """600 rows of 1/3600 degree: 512-row tiles (:func:`hybrid.stac.overlap.key_size`),
    the first centred 256 rows below 46 N, the second 768 rows below it."""
    step = 1 / 3600
    cols = np.mgrid[0:600, 0:600][1]
    cube = _cube((0.5 * cols)[None], step=step, top=46.0, left=7.0, crs="EPSG:4326")
    steep = slope(cube.chunk({"y": 200, "x": 300})).values[0]
    gradient = 0.5 / step
    for row, centre in ((100, 256), (511, 256), (512, 768), (590, 768)):
        latitude = 46.0 - centre * step
        want = math.atan(gradient / (111320 * math.cos(math.radians(latitude))))
        assert steep[row, 300] == pytest.approx(want, rel=1e-14)
    assert steep[511, 300] != steep[512, 300]


def test_a_cube_without_bands_keeps_its_labels_and_no_raster_is_refused() -> None:
    from hybrid.errors import ProcessParameterInvalid

    cube = _cube(np.ones((1, 4, 4)), step=10.0, top=5e6, crs="EPSG:32632").isel(bands=0)
    assert slope(cube).dims == ("y", "x")
    with pytest.raises(ProcessParameterInvalid, match="aspect: data must be a raster"):
        aspect(xr.DataArray(np.ones(3), dims=("t",)))
