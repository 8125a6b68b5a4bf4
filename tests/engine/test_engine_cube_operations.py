"""Cube operations through the whole local engine on the embedded sample: graphs as the
openeo client writes them, results read back from the files save_result wrote."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyproj
import pytest

from tests.server_helpers import SEED_BBOX

pytestmark = pytest.mark.slow


def _cube(bands: list[str], bbox: dict[str, float] = SEED_BBOX) -> Any:
    from openeo import DataCube

    return DataCube.load_collection(
        "SENTINEL2_L2A",
        spatial_extent=bbox,
        temporal_extent=["2023-06-01", "2023-06-10"],
        bands=bands,
        connection=None,
    )


def _run(cube: Any, out_dir: Path, sample_catalog: Path) -> Any:
    from hybrid.backends.local import LocalBackend, LocalSettings
    from hybrid.io.reader import open_result

    graph = cube.save_result(format="netCDF").flat_graph()
    result = LocalBackend(LocalSettings(stac=str(sample_catalog))).execute(graph, out_dir=out_dir)
    (path,) = result.files
    return open_result(path)


def test_reprojected_result_is_written_in_the_target_crs(
    tmp_path: Path, sample_catalog: Path
) -> None:
    native = _run(_cube(["B04"]), tmp_path / "native", sample_catalog)
    lonlat = _run(
        _cube(["B04"]).resample_spatial(resolution=0, projection=4326, method="near"),
        tmp_path / "lonlat",
        sample_catalog,
    )
    assert pyproj.CRS.from_wkt(lonlat.attrs["crs_wkt"]).to_epsg() == 4326
    x, y = lonlat["x"].values, lonlat["y"].values
    assert SEED_BBOX["west"] - 0.01 < x.min() < x.max() < SEED_BBOX["east"] + 0.01
    assert SEED_BBOX["south"] - 0.01 < y.min() < y.max() < SEED_BBOX["north"] + 0.01
    # nearest resampling: the pixel at the centre equals the native pixel under it
    to_native = pyproj.Transformer.from_crs(
        4326, pyproj.CRS.from_wkt(native.attrs["crs_wkt"]), always_xy=True
    )
    xi, yi = x.size // 2, y.size // 2
    ex, ny = to_native.transform(x[xi], y[yi])
    want = native.isel(t=0).sel(x=ex, y=ny, method="nearest")
    got = lonlat.isel(t=0, x=xi, y=yi)
    np.testing.assert_allclose(float(got), float(want))


def _corners_in(crs: int | str, box: dict[str, float], source: int | str = 4326) -> tuple:
    """The envelope of ``box``'s four corners (west, south, east, north) in ``crs``."""
    to = pyproj.Transformer.from_crs(source, crs, always_xy=True)
    xs, ys = to.transform(
        [box["west"], box["east"], box["west"], box["east"]],
        [box["south"], box["north"], box["north"], box["south"]],
    )
    return min(xs), min(ys), max(xs), max(ys)


def _assert_on_lattice_and_cropped(cube: Any, origin: tuple, crop: tuple, res: float) -> None:
    """Pixel centres on the lattice from ``origin`` (x, y) and exactly the pixels
    overlapping ``crop`` (xmin, ymin, xmax, ymax)."""
    bounds = (("x", origin[0], crop[0], crop[2]), ("y", origin[1], crop[1], crop[3]))
    for axis, start, low, high in bounds:
        centres = np.sort(cube[axis].values)
        steps = (centres - start) / res - 0.5
        np.testing.assert_allclose(steps, np.round(steps), atol=1e-6, err_msg=axis)
        assert centres[0] - res / 2 <= low < centres[0] + res / 2, axis
        assert centres[-1] - res / 2 < high <= centres[-1] + res / 2, axis


def test_a_reprojected_result_is_on_copernicus_grid_and_cropped_to_the_load_extent(
    tmp_path: Path, sample_catalog: Path
) -> None:
    """resample_spatial to EPSG:3035 at 20 m. Right after the load, the dry run puts it
    in the load: 20 m pixels on multiples of 20 m. After a blocker (an 11 x 11 kernel,
    6 px of buffer), Copernicus reprojects its load layout's extent (whole 256-px tiles)
    by its four corners and lays the pixels from that envelope's south-west corner
    (geopysparkdatacube.py L1558-1590, ``_layout_for_resolution`` L1661-1692). Both are
    cropped at save_result to the load extent's corners in EPSG:3035 (L2093-2106,
    ``_reproject_extent``); the buffer was written here before. A second save_result of
    the cube writes it again (the first took its CRS away)."""
    kernel = np.ones((11, 11)).tolist()
    pushed = _cube(["B04"]).resample_spatial(resolution=20, projection=3035, method="near")
    blocked = (
        _cube(["B04"])
        .apply_kernel(kernel, factor=1 / 121)
        .resample_spatial(resolution=20, projection=3035, method="near")
    )
    crop = _corners_in(3035, SEED_BBOX)
    _assert_on_lattice_and_cropped(_run(pushed, tmp_path / "a", sample_catalog), (0, 0), crop, 20)
    # the load grid: the extent's corners in UTM 32N snapped outward to 10 m, 6 px more
    xmin, ymin, xmax, ymax = _corners_in(32632, SEED_BBOX)
    west, north = np.floor(xmin / 10) * 10 - 60, np.ceil(ymax / 10) * 10 + 60
    cols = round((np.ceil(xmax / 10) * 10 + 60 - west) / 10)
    rows = round((north - (np.floor(ymin / 10) * 10 - 60)) / 10)
    tiles = {"west": west, "north": north, "east": west + np.ceil(cols / 256) * 2560}
    tiles["south"] = north - np.ceil(rows / 256) * 2560
    layout = _corners_in(3035, tiles, source=32632)
    got = _run(blocked, tmp_path / "b", sample_catalog)
    _assert_on_lattice_and_cropped(got, layout[:2], crop, 20)
    assert np.isfinite(got.values).mean() > 0.9

    from hybrid.backends.local import LocalBackend, LocalSettings

    graph = blocked.save_result(format="GTiff").flat_graph()
    (first,) = [k for k, node in graph.items() if node.pop("result", False)]
    again = {"data": {"from_node": first}, "format": "netCDF", "options": {}}
    graph["again"] = {"process_id": "save_result", "arguments": again, "result": True}
    backend = LocalBackend(LocalSettings(stac=str(sample_catalog)))
    result = backend.execute(graph, out_dir=tmp_path / "twice")
    assert sorted(p.suffix for p in result.files) == [".nc", *[".tif"] * got.sizes["t"]]


def test_resample_cube_spatial_onto_a_target_in_another_crs(
    tmp_path: Path, sample_catalog: Path
) -> None:
    """The result is in the target's CRS and on its pixels (it was saved as if still in
    the data's CRS: "the result has no pixels")."""
    target = _cube(["B11"]).resample_spatial(resolution=20, projection=32631, method="near")
    moved = _cube(["B04"]).resample_cube_spatial(target, method="near")
    want = _run(target, tmp_path / "target", sample_catalog)
    got = _run(moved, tmp_path / "moved", sample_catalog)
    assert pyproj.CRS.from_wkt(got.attrs["crs_wkt"]).to_epsg() == 32631
    np.testing.assert_array_equal(got["x"].values, want["x"].values)
    np.testing.assert_array_equal(got["y"].values, want["y"].values)
    assert np.isfinite(got.values).mean() > 0.5


def test_band_callback_with_new_band_count_then_renamed(
    tmp_path: Path, sample_catalog: Path
) -> None:
    from openeo.processes import array_create

    def indices(x: Any) -> Any:
        red, nir, blue = x.array_element(0), x.array_element(1), x.array_element(2)
        return array_create([(nir - red) / (nir + red), (nir - blue) / (nir + blue)])

    raw = _run(_cube(["B04", "B08", "B02"]), tmp_path / "raw", sample_catalog)
    cube = _cube(["B04", "B08", "B02"]).apply_dimension(dimension="bands", process=indices)
    out = _run(cube.rename_labels("bands", ["NDVI", "NBVI"]), tmp_path / "idx", sample_catalog)
    assert list(out["bands"].values) == ["NDVI", "NBVI"]
    np.testing.assert_array_equal(out["t"].values, raw["t"].values)
    red, nir, blue = (raw.sel(bands=b).values for b in ("B04", "B08", "B02"))
    with np.errstate(all="ignore"):
        np.testing.assert_allclose(
            out.sel(bands="NDVI").values, (nir - red) / (nir + red), rtol=1e-5
        )
        np.testing.assert_allclose(
            out.sel(bands="NBVI").values, (nir - blue) / (nir + blue), rtol=1e-5
        )


def test_apply_kernel_at_the_edge_convolves_the_real_neighbours(
    tmp_path: Path, sample_catalog: Path
) -> None:
    """Copernicus loads a pixel buffer for apply_kernel (dry_run.py L873-876,
    load_params.py L157-170) and crops the result back to the requested extent at
    save_result (geopysparkdatacube.py L2093-2106): edge pixels see the real
    neighbours beyond the extent, not a zero border."""
    raw = _run(_cube(["B04"]), tmp_path / "raw", sample_catalog)
    out = _run(
        _cube(["B04"]).apply_kernel(kernel=np.ones((3, 3)), factor=1 / 9),
        tmp_path / "kernel",
        sample_catalog,
    )
    from openeo import DataCube

    pad = 0.001  # > 1 pixel of 10 m in every direction
    wide_box = {**SEED_BBOX, "west": SEED_BBOX["west"] - pad, "east": SEED_BBOX["east"] + pad,
                "south": SEED_BBOX["south"] - pad, "north": SEED_BBOX["north"] + pad}  # fmt: skip
    wide_cube = DataCube.load_collection(
        "SENTINEL2_L2A", spatial_extent=wide_box, temporal_extent=["2023-06-01", "2023-06-10"],
        bands=["B04"], connection=None,
    )  # fmt: skip
    wide = _run(wide_cube, tmp_path / "wide", sample_catalog)
    assert out.shape == raw.shape
    np.testing.assert_array_equal(out["x"].values, raw["x"].values)
    x, y = raw["x"].values, raw["y"].values
    res = float(x[1] - x[0])
    shifts = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
    windows = np.stack([wide.sel(x=x + dx * res, y=y + dy * res).values for dy, dx in shifts])
    # the direct path skips nodata cells; a window of nodata only stays nodata
    expected = np.where(np.isnan(windows).all(0), np.nan, np.nansum(windows, 0) / 9)
    got = out.values
    # the first and last rows and columns: real neighbours, not zeros
    for edge in (np.s_[..., 0, :], np.s_[..., -1, :], np.s_[..., :, 0], np.s_[..., :, -1]):
        np.testing.assert_allclose(got[edge], expected[edge], rtol=1e-5)
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_rename_labels_on_time_then_netcdf_keeps_the_dates(
    tmp_path: Path, sample_catalog: Path
) -> None:
    """As the conformance suite's rename_labels_time graph: Copernicus renames only its
    metadata (geopysparkdatacube.py L499-511) and writes the tiles' dates to ``t``."""
    raw = _run(_cube(["B04", "B08"]), tmp_path / "raw", sample_catalog)
    renamed = _cube(["B04", "B08"]).rename_labels(
        dimension="t", target=[f"date{i}" for i in range(raw["t"].size)]
    )
    out = _run(renamed, tmp_path / "renamed", sample_catalog)
    np.testing.assert_array_equal(out["t"].values, raw["t"].values)
    np.testing.assert_array_equal(out.values, raw.values)
