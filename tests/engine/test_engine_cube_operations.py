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


def _cube(bands: list[str]) -> Any:
    from openeo import DataCube

    return DataCube.load_collection(
        "SENTINEL2_L2A",
        spatial_extent=SEED_BBOX,
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


def test_a_reprojected_result_is_cropped_to_the_load_extent_as_on_copernicus(
    tmp_path: Path, sample_catalog: Path
) -> None:
    """Copernicus crops at save_result to the load's extent, its four corners
    reprojected into the cube's CRS (geopysparkdatacube.py L2093-2106,
    ``_reproject_extent``): the pixels an 11 x 11 kernel's buffer loads around it are
    cut off after resample_spatial too (they were written here); and a second
    save_result of the same cube writes it again (the first took its CRS away)."""
    kernel = np.ones((11, 11)).tolist()
    plain = _cube(["B04"]).resample_spatial(resolution=20, projection=3035, method="near")
    buffered = (
        _cube(["B04"])
        .apply_kernel(kernel, factor=1 / 121)
        .resample_spatial(resolution=20, projection=3035, method="near")
    )
    got = _run(plain, tmp_path / "plain", sample_catalog)
    smoothed = _run(buffered, tmp_path / "buffered", sample_catalog)
    to_3035 = pyproj.Transformer.from_crs(4326, 3035, always_xy=True)
    corners = [(SEED_BBOX[a], SEED_BBOX[b]) for a in ("west", "east") for b in ("south", "north")]
    xs, ys = to_3035.transform(*zip(*corners, strict=True))
    for axis, low, high in (("x", min(xs), max(xs)), ("y", min(ys), max(ys))):
        centres = np.sort(got[axis].values)
        assert centres[0] - 10 <= low < centres[0] + 10, axis  # the first pixel overlapping
        assert centres[-1] - 10 < high <= centres[-1] + 10, axis  # the last
        np.testing.assert_array_equal(smoothed[axis].values, got[axis].values)

    from hybrid.backends.local import LocalBackend, LocalSettings

    graph = plain.save_result(format="GTiff").flat_graph()
    (first,) = [k for k, node in graph.items() if node.pop("result", False)]
    again = {"data": {"from_node": first}, "format": "netCDF", "options": {}}
    graph["again"] = {"process_id": "save_result", "arguments": again, "result": True}
    backend = LocalBackend(LocalSettings(stac=str(sample_catalog)))
    result = backend.execute(graph, out_dir=tmp_path / "twice")
    assert sorted(p.suffix for p in result.files) == [".nc", *[".tif"] * got.sizes["t"]]


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
