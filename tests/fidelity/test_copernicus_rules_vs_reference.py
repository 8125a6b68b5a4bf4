"""The local backend against tests/reference where the corrected Copernicus rules bite.

A tiny catalog (40 x 40 px COGs, Earth Search layout, baseline 05.09 so -1000 DN is
added) with patterned bands: an L-shaped cloud that moves from date to date, SCL and
reflectance nodata, and a block where B08 + B04 == 0 after the offset. Each case runs
the same process graph through the engine and the independent reference and demands
identical labels, an identical NaN pattern and max |dNDVI| <= 1e-6:

- asymmetric kernels on both of Copernicus's paths (5 x 5: geotrellis Convolve,
  11 x 11: FFTConvolve), so a correlation instead of a convolution would show;
- week and dekad periods on an extent starting on the 13th (Sunday weeks; no dekad in
  the first month).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from tests.reference import reference_ndvi
from tests.stac_fixtures import (
    TINY_SIZE,
    TINY_X0,
    TINY_Y0,
    TinyScene,
    tiny_bbox,
    write_tiny_band,
    write_tiny_catalog,
)

DATES = ("2023-05-14", "2023-05-20", "2023-05-30", "2023-06-04", "2023-06-12", "2023-06-25")
#: rows/cols (10 m) where the harmonised B08 + B04 is 0 on every date
ZERO_SUM = (slice(18, 21), slice(24, 27))


def _kernel(size: int) -> np.ndarray:
    """A normalised blob off the kernel's centre (up and to the left): asymmetric."""
    i, j = np.mgrid[0:size, 0:size]
    c = size // 2
    k = np.exp(-((i - c + size // 4) ** 2 + (j - c + 1) ** 2) / (0.3 * size) ** 2)
    return k / k.sum()


def _bands(day: int) -> dict[str, np.ndarray]:
    rows, cols = np.mgrid[0:TINY_SIZE, 0:TINY_SIZE]
    red = (1100 + 7 * cols + 3 * rows + 11 * day).astype(np.uint16)
    nir = (2600 + 20 * rows + 5 * cols).astype(np.uint16)
    red[ZERO_SUM], nir[ZERO_SUM] = 500, 1500  # -500 + 500 == 0 after the offset
    red[2, 5 + day % 7] = 0  # reflectance nodata
    scl = np.full((TINY_SIZE // 2, TINY_SIZE // 2), 4, np.uint8)
    r0, c0 = 4 + day % 9, 3 + (2 * day) % 11
    scl[r0 : r0 + 5, c0 : c0 + 2] = 9  # an L-shaped cloud, moving
    scl[r0 + 4 : r0 + 6, c0 : c0 + 5] = 8
    scl[15:17, 0:3] = 0  # SCL nodata: not cloud
    return {"red": red, "nir": nir, "scl": scl}


def _patterned_catalog(root: Path, layouts: tuple[str, ...]) -> Path:
    """The patterned surface of every date in DATES, date n stored in ``layouts[n % len]``
    (Earth Search keys red/nir/scl, Planetary Computer B04/B08/SCL)."""
    scenes = [
        TinyScene(
            f"S2B_32TLR_{d.replace('-', '')}_0_L2A", f"{d}T10:30:00Z", 5.0,
            layout=layouts[n % len(layouts)],
        )
        for n, d in enumerate(DATES)
    ]  # fmt: skip
    path = write_tiny_catalog(root / "cat", scenes)
    for scene, day in zip(scenes, DATES, strict=True):
        es = scene.layout.startswith("earth-search")
        for key, array in _bands(dt.date.fromisoformat(day).toordinal()).items():
            name = key if es else {"red": "B04", "nir": "B08", "scl": "SCL"}[key]
            write_tiny_band(
                path.parent / scene.id / f"{name}.tif", array, 20 if key == "scl" else 10
            )
    return path


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _patterned_catalog(tmp_path_factory.mktemp("rules"), ("earth-search",))


def _aoi() -> dict[str, Any]:
    west, south, east, north = tiny_bbox()
    dx, dy = (east - west) / 4, (north - south) / 4
    w, s, e, n = west + dx, south + dy, east - dx, north - dy
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}


def _graph(start: str, period: str, kernel: np.ndarray) -> dict[str, Any]:
    from hybrid.params import Workflow
    from hybrid.workflow_graph import build_graph

    workflow = Workflow(
        aoi=_aoi(),
        start=start,
        end="2023-07-01",
        period=period,
        kernel_size=kernel.shape[0],
        bands=("B04", "B08", "SCL"),
    )
    graph = build_graph(workflow)
    nodes = graph.get("process_graph", graph)
    (node,) = [n for n in nodes.values() if n["process_id"] == "apply_kernel"]
    node["arguments"]["kernel"] = kernel.tolist()
    return graph


CASES = {
    "asymmetric-5x5-direct": ("2023-05-01", "month", 5),
    "asymmetric-11x11-fft": ("2023-05-01", "month", 11),
    "week-from-13th": ("2023-05-13", "week", 11),
    "dekad-from-13th": ("2023-05-13", "dekad", 5),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CASES))
def test_local_equals_reference_on_copernicus_rules(
    case: str, catalog: Path, tmp_path: Path
) -> None:
    from hybrid.backends.local import LocalBackend, LocalSettings

    start, period, size = CASES[case]
    kernel = _kernel(size)
    assert not np.allclose(kernel, kernel[::-1, ::-1]), "the kernel must be asymmetric"
    result = LocalBackend(LocalSettings(stac=str(catalog))).execute(
        _graph(start, period, kernel), out_dir=tmp_path
    )
    (nc,) = result.files
    with xr.open_dataset(nc, engine="h5netcdf") as ds:
        local = ds["var"].load()
    ref = reference_ndvi(
        catalog, _aoi(), start, "2023-07-01", kernel=kernel, kernel_size=size, period=period
    )
    labels = [np.datetime_as_string(t, unit="s") + "Z" for t in local["t"].values]
    assert labels == ref.labels
    a, b = np.asarray(local.values, np.float64), np.asarray(ref.data, np.float64)
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    valid = ~np.isnan(a)
    assert valid.sum() > a.size // 2, "most pixels must be valid, or the test says little"
    assert np.isnan(a).any(), "clouds and B08 + B04 == 0 must leave NaN"
    assert np.max(np.abs(a[valid] - b[valid])) <= 1e-6
    if period == "week":
        assert labels[0] == "2023-05-14T00:00:00Z"  # Sunday 14 May, 20 May (Sat) with it
        assert "2023-05-28T00:00:00Z" in labels  # 30 May: the week from Sunday 28 May
    if period == "dekad":
        assert labels[0] == "2023-06-01T00:00:00Z"  # extent from the 13th: May skipped


@pytest.mark.slow
def test_zero_sum_pixels_are_nan_and_kernel_orientation_matters(
    catalog: Path, tmp_path: Path
) -> None:
    """B08 + B04 == 0 gives NaN (not +-inf); flipping the kernel changes the result."""
    from hybrid.backends.local import LocalBackend, LocalSettings

    kernel = _kernel(11)
    out = {}
    for name, k in (("kernel", kernel), ("flipped", kernel[::-1, ::-1].copy())):
        result = LocalBackend(LocalSettings(stac=str(catalog))).execute(
            _graph("2023-05-01", "day", k), out_dir=tmp_path / name
        )
        (nc,) = result.files
        with xr.open_dataset(nc, engine="h5netcdf") as ds:
            out[name] = ds["var"].load()
    daily = out["kernel"]
    assert np.isfinite(daily.values).sum() > 0 and not np.isinf(daily.values).any()
    ref = reference_ndvi(
        catalog, _aoi(), "2023-05-01", "2023-07-01", kernel=kernel, kernel_size=11, period="day"
    )
    np.testing.assert_array_equal(np.isnan(daily.values), np.isnan(ref.data))
    # the zero-sum block lies inside the output: NaN on every date there
    x0 = TINY_X0 + 10 * ZERO_SUM[1].start + 5
    y0 = TINY_Y0 - 10 * ZERO_SUM[0].start - 5
    block = daily.sel(x=slice(x0, x0 + 20), y=slice(y0, y0 - 20))
    assert block.sizes["x"] == 3 and block.sizes["y"] == 3
    assert np.isnan(block.values).all()
    assert not np.array_equal(np.isnan(daily.values), np.isnan(out["flipped"].values))


#: per date, the provider layout the same surface is stored in (cycled)
LAYOUTS = ("earth-search", "earth-search-v1", "planetary-computer")


@pytest.fixture(scope="module")
def mixed_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _patterned_catalog(tmp_path_factory.mktemp("layouts"), LAYOUTS)


def _local_ndvi(catalog: Path, graph: dict[str, Any], out: Path) -> xr.DataArray:
    from hybrid.backends.local import LocalBackend, LocalSettings

    (nc,) = LocalBackend(LocalSettings(stac=str(catalog))).execute(graph, out_dir=out).files
    with xr.open_dataset(nc, engine="h5netcdf") as ds:
        return ds["var"].load()


@pytest.mark.slow
def test_provider_layouts_harmonise_alike(
    mixed_catalog: Path, catalog: Path, tmp_path: Path
) -> None:
    """Earth Search Collection-1 and v1 (raster:bands -0.1; v1 also flagged
    ``earthsearch:boa_offset_applied``, which does not change the rule) and Planetary
    Computer (baseline 05.09, no raster extension) dates of one surface: the engine
    equals the reference and the all-Collection-1 catalog."""
    kernel = _kernel(5)
    graph = _graph("2023-05-01", "day", kernel)
    mixed = _local_ndvi(mixed_catalog, graph, tmp_path / "mixed")
    ref = reference_ndvi(
        mixed_catalog, _aoi(), "2023-05-01", "2023-07-01", kernel=kernel, kernel_size=5,
        period="day",
    )  # fmt: skip
    a, b = np.asarray(mixed.values, np.float64), np.asarray(ref.data, np.float64)
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    valid = ~np.isnan(a)
    assert valid.sum() > a.size // 2
    assert np.max(np.abs(a[valid] - b[valid])) <= 1e-6
    same = _local_ndvi(catalog, graph, tmp_path / "c1")
    c = np.asarray(same.values, np.float64)
    np.testing.assert_array_equal(np.isnan(a), np.isnan(c))
    assert np.max(np.abs(a[valid] - c[valid])) <= 1e-6
