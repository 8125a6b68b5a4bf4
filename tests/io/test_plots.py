"""Figures: rendered headless from a real run on the sample and from synthetic stacks."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from hybrid.cli import main
from hybrid.figures import DPI, MAX_HEIGHT_IN, MAX_WIDTH_IN, panel_grid, save_png
from hybrid.params import Workflow
from hybrid.plots import FIGURE_NAMES, ndvi_maps_figure, ndvi_timeseries_figure, plot_comparison
from hybrid.quicklooks import SceneStack, cloud_mask_figure, load_scenes, quicklook_figure

#: a month of the sample: 06-02 clouded over the AOI, 06-07 clear, 06-09 a swath edge
START, END = "2023-06-01", "2023-07-01"
MAX_PX = (int(MAX_WIDTH_IN * DPI) + 2, int(MAX_HEIGHT_IN * DPI) + 2)


def _pixels(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0


def _check_png(path: Path, *, min_px: tuple[int, int] = (250, 200)) -> np.ndarray:
    assert path.is_file() and path.stat().st_size > 2000
    assert path.stat().st_size < 400_000
    pixels = _pixels(path)
    height, width = pixels.shape[:2]
    assert min_px[0] <= width <= MAX_PX[0], (path.name, width)
    assert min_px[1] <= height <= MAX_PX[1], (path.name, height)
    assert pixels.std() > 0.05, f"{path.name} is blank"
    return pixels


@pytest.fixture(scope="module")
def workflow(seed_aoi: dict) -> Workflow:
    return Workflow(aoi=seed_aoi, start=START, end=END)


@pytest.fixture(scope="module")
def run_output(sample_catalog: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``hybrid run --plots`` on a month of the embedded sample."""
    out = tmp_path_factory.mktemp("run")
    argv = ["run", "--start", START, "--end", END, "--stac", str(sample_catalog)]
    argv += ["--out", str(out / "ndvi.nc"), "--plots", str(out / "figures"), "--quiet"]
    assert main(argv) == 0
    return out


@pytest.fixture(scope="module")
def stack(workflow: Workflow, sample_catalog: Path) -> SceneStack:
    return load_scenes(workflow, stac=str(sample_catalog))


def test_run_plots_writes_every_figure(run_output: Path) -> None:
    figures = run_output / "figures"
    assert sorted(p.name for p in figures.iterdir()) == sorted(FIGURE_NAMES)
    for name in FIGURE_NAMES:
        _check_png(figures / name)


def test_masked_quicklook_file_differs_from_the_unmasked_one(run_output: Path) -> None:
    raw = _pixels(run_output / "figures" / "quicklooks.png")
    masked = _pixels(run_output / "figures" / "quicklooks_masked.png")
    assert raw.shape == masked.shape  # one layout for both
    differs = np.abs(raw - masked).max(axis=-1) > 0.2
    assert differs.mean() > 0.02  # 06-02 is mostly clouded over the AOI


def test_stack_follows_the_graph(stack: SceneStack) -> None:
    assert stack.dates[0] == "2023-06-02" and "2023-06-07" in stack.dates
    t = stack.dates.index("2023-06-02")
    assert stack.mask[t].mean() > 0.3
    # the dilation only grows the SCL clouds
    assert not (stack.cloud[t] & ~stack.mask[t]).any()
    assert stack.mask[t].sum() > stack.cloud[t].sum()
    # masked pixels are NaN after the engine's mask process, the others untouched
    assert np.isnan(stack.masked_rgb[t][:, stack.mask[t]]).all()
    keep = ~stack.mask[t] & np.isfinite(stack.rgb[t]).all(axis=0)
    np.testing.assert_array_equal(stack.masked_rgb[t][:, keep], stack.rgb[t][:, keep])


def _panel_pixels(fig: Any, path: Path, index: int) -> np.ndarray:
    """The pixels of panel ``index`` of a saved figure (axes in figure order)."""
    pixels = _pixels(path)
    axes = [ax for ax in fig.axes if ax.get_visible() and ax.images]
    box = axes[index].get_window_extent()
    height = pixels.shape[0]
    rows = slice(int(height - box.y1) + 2, int(height - box.y0) - 2)
    cols = slice(int(box.x0) + 2, int(box.x1) - 2)
    return pixels[rows, cols]


def test_masked_panels_differ_exactly_where_clouds_are(stack: SceneStack, tmp_path: Path) -> None:
    figures = {}
    for masked in (False, True):
        fig = quicklook_figure(stack, masked=masked)
        figures[masked] = (fig, save_png(fig, tmp_path / f"q{masked}.png"))
    cloudy = stack.dates.index("2023-06-02")
    clear = stack.dates.index("2023-06-07")
    assert stack.mask[clear].sum() == 0 and stack.mask[cloudy].mean() > 0.3
    for index, expect_change in ((cloudy, True), (clear, False)):
        before = _panel_pixels(*figures[False], index)
        after = _panel_pixels(*figures[True], index)
        changed = (np.abs(before - after).max(axis=-1) > 0.15).mean()
        if expect_change:
            assert changed > 0.25, changed
        else:
            assert changed < 0.01, changed


def test_cloud_mask_figure(stack: SceneStack, workflow: Workflow, tmp_path: Path) -> None:
    path = save_png(cloud_mask_figure(stack, aoi=workflow.aoi), tmp_path / "mask.png")
    _check_png(path)


def _synthetic_stack(n: int) -> SceneStack:
    rng = np.random.default_rng(n)
    shape = (n, 60, 24)
    rgb = rng.uniform(200, 1800, size=(n, 3, *shape[1:])).astype("float32")
    yy, xx = np.mgrid[: shape[1], : shape[2]]
    cloud = np.zeros(shape, dtype=bool)
    cloud[:, (yy - 30) ** 2 + (xx - 12) ** 2 < 40] = True
    mask = np.zeros(shape, dtype=bool)
    mask[:, (yy - 30) ** 2 + (xx - 12) ** 2 < 80] = True
    masked = np.where(mask[:, None], np.nan, rgb).astype("float32")
    rgb[:, :, :5, :] = np.nan  # a nodata strip
    dates = tuple(str(np.datetime64("2023-05-01") + np.timedelta64(5 * i, "D")) for i in range(n))
    return SceneStack(
        dates=dates,
        rgb=rgb,
        cloud=cloud,
        mask=mask,
        masked_rgb=masked,
        extent=(300000.0, 300240.0, 5000000.0, 5000600.0),
        epsg=32632,
        cloud_cover=(12.5,) * n,
    )


def _titles_overlap(fig: Any) -> bool:
    renderer = fig.canvas.get_renderer()
    boxes = [ax.title.get_window_extent(renderer) for ax in fig.axes if ax.get_title()]
    return any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])


@pytest.mark.parametrize("n", [1, 30])
@pytest.mark.slow
def test_quicklook_layouts_for_1_and_30_dates(n: int, tmp_path: Path) -> None:
    stack = _synthetic_stack(n)
    for masked in (False, True):
        fig = quicklook_figure(stack, masked=masked)
        path = save_png(fig, tmp_path / f"q{masked}.png")
        _check_png(path)
        assert not _titles_overlap(fig)
        assert sum(1 for ax in fig.axes if ax.images) == n
    _check_png(save_png(cloud_mask_figure(stack), tmp_path / "mask.png"))


def test_panel_grid_keeps_panels_readable() -> None:
    for n in (1, 2, 5, 19, 30, 60):
        for aspect in (0.3, 1.0, 2.6):
            grid = panel_grid(n, aspect=aspect)
            assert grid.nrows * grid.ncols >= n
            assert grid.figsize[0] <= MAX_WIDTH_IN + 1e-6
            assert grid.figsize[1] <= MAX_HEIGHT_IN + 1e-6
            if n <= 30:
                assert grid.panel_width >= 0.8, (n, aspect, grid)


def _result_cube(n: int) -> Any:
    import pyproj
    import xarray as xr

    rng = np.random.default_rng(7)
    values = rng.uniform(-0.1, 0.9, size=(n, 40, 20))
    values[:, :6, :] = np.nan
    if n > 1:
        values[1] = np.nan  # a period without any valid pixel
    t = np.array([np.datetime64("2023-01-01") + np.timedelta64(10 * i, "D") for i in range(n)])
    cube = xr.DataArray(
        values,
        dims=("t", "y", "x"),
        coords={
            "t": t.astype("datetime64[ns]"),
            "y": 5012905.0 - 10 * np.arange(40),
            "x": 316605.0 + 10 * np.arange(20),
        },
    )
    cube.attrs["crs_wkt"] = pyproj.CRS.from_epsg(32632).to_wkt()
    return cube


@pytest.mark.parametrize("n", [1, 30])
def test_ndvi_maps_and_time_series_for_1_and_30_periods(
    n: int, seed_aoi: dict, tmp_path: Path
) -> None:
    cube = _result_cube(n)
    fig = ndvi_maps_figure(cube, aoi=seed_aoi)
    _check_png(save_png(fig, tmp_path / "maps.png"))
    assert not _titles_overlap(fig)
    assert sum(1 for ax in fig.axes if ax.images) == n
    _check_png(save_png(ndvi_timeseries_figure(cube), tmp_path / "ts.png"))


@pytest.mark.parametrize("n", [1, 30])
@pytest.mark.slow
def test_comparison_for_1_and_30_periods(n: int, tmp_path: Path) -> None:
    a = _result_cube(n)
    b = a + 0.05
    b[0, 10:15, 5:10] = np.nan
    path = plot_comparison(a, b, tmp_path / "cmp.png")
    _check_png(path)


@pytest.mark.slow
def test_plot_cli_with_compare(run_output: Path, sample_catalog: Path, capsys: Any) -> None:
    result = run_output / "ndvi.nc"
    out = run_output / "plot-cli"
    argv = ["plot", str(result), "--out", str(out), "--stac", str(sample_catalog)]
    assert main([*argv, "--compare", str(result)]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""  # stderr is not a terminal: no progress
    assert sorted(p.name for p in out.iterdir()) == sorted([*FIGURE_NAMES, "comparison.png"])
    assert captured.out.count("figure: ") == len(FIGURE_NAMES) + 1
    same = _pixels(out / "quicklooks.png")
    np.testing.assert_allclose(same, _pixels(run_output / "figures" / "quicklooks.png"), atol=0.1)


def test_quicklooks_skipped_when_the_scenes_cannot_be_loaded(
    run_output: Path, sample_catalog: Path, workflow: Workflow, capsys: Any, tmp_path: Path
) -> None:
    from hybrid.plots import plot_result

    elsewhere = {
        "type": "Polygon",
        "coordinates": [[[10.0, 50.0], [10.01, 50.0], [10.01, 50.01], [10.0, 50.01], [10.0, 50.0]]],
    }
    away = dataclasses.replace(workflow, aoi=elsewhere)
    paths = plot_result(run_output / "ndvi.nc", tmp_path, workflow=away, stac=str(sample_catalog))
    assert [p.name for p in paths] == list(FIGURE_NAMES[3:])
    assert "no quicklooks" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--start", "2023-13-01"], "--start '2023-13-01' is not a date"),
        (["--end", "2023-02-30"], "--end '2023-02-30' is not a date"),
        (["--start", "2023-06-20", "--end", "2023-06-01"], "--end 2023-06-01 is before --start"),
        (["--compare", "missing.nc"], "result not found: missing.nc"),
    ],
)
def test_plot_refuses_bad_input_before_drawing_any_figure(
    args: list[str], message: str, run_output: Path, tmp_path: Path, capsys: Any
) -> None:
    """A mistyped date was a note ("no quicklooks") and exit 0; a missing --compare
    failed once the five other figures were drawn."""
    out = tmp_path / "figures"
    assert main(["plot", str(run_output / "ndvi.nc"), "--out", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
    assert not out.exists()
