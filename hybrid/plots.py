"""The figures users look at: NDVI maps and time series of a result, A/B comparisons,
and (through :mod:`hybrid.quicklooks`) the RGB quicklooks and the cloud mask.

:func:`plot_result` writes them all (``hybrid run --plots``, ``hybrid plot``);
:func:`plot_comparison` draws A, B and A - B per period. Drawing primitives (layouts,
PNG writing) are in :mod:`hybrid.figures`.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hybrid.figures import (
    NODATA_COLOUR,
    aoi_rings,
    draw_rings,
    extent_of,
    map_axes,
    new_figure,
    panel_grid,
    save_png,
)

if TYPE_CHECKING:
    import xarray as xr
    from matplotlib.figure import Figure

    from hybrid.params import Workflow

#: the shared NDVI colour scale and colour map
NDVI_RANGE = (-0.2, 1.0)
NDVI_CMAP = "RdYlGn"

#: the files :func:`plot_result` writes, in order
FIGURE_NAMES = (
    "quicklooks.png",
    "quicklooks_masked.png",
    "cloud_mask.png",
    "ndvi_maps.png",
    "ndvi_timeseries.png",
)


def period_label(value: Any) -> str:
    text = str(value)
    return text[:10] if len(text) >= 10 and text[4] == "-" else text


def _ndvi_layers(cube: xr.DataArray) -> tuple[xr.DataArray, str]:
    """The (t, y, x) layer to map, and a note when a band was picked."""
    if "bands" in cube.dims:
        band = str(cube["bands"].values[0])
        cube = cube.isel(bands=0, drop=True)
        note = f" (band {band})"
    else:
        note = ""
    if "t" not in cube.dims:
        cube = cube.expand_dims(t=["all"])
    return cube, note


def ndvi_maps_figure(cube: xr.DataArray, *, aoi: dict[str, Any] | None = None) -> Figure:
    """One NDVI map per period on one colour scale (RdYlGn, -0.2..1), AOI outlined."""
    import numpy as np

    from hybrid.io.cube import cube_crs

    cube, note = _ndvi_layers(cube)
    n = cube.sizes["t"]
    aspect = cube.sizes["y"] / max(cube.sizes["x"], 1)
    grid = panel_grid(n, aspect=aspect, extra_width=1.0)
    fig = new_figure(grid.figsize)
    axes = map_axes(fig, grid, n)
    extent = extent_of(cube)
    crs = cube_crs(cube)
    rings = aoi_rings(aoi, crs) if aoi is not None and crs is not None else []
    image = None
    for i, ax in enumerate(axes):
        values = np.asarray(cube.isel(t=i).values, dtype="float64")
        valid = np.isfinite(values)
        image = ax.imshow(
            values, cmap=NDVI_CMAP, vmin=NDVI_RANGE[0], vmax=NDVI_RANGE[1], extent=extent,
            interpolation="nearest",
        )  # fmt: skip
        draw_rings(ax, rings)
        ax.set_xlim(extent[0], extent[1])
        ax.set_ylim(extent[2], extent[3])
        label = period_label(cube["t"].values[i])
        ax.set_title(f"{label}  {valid.mean():.0%} valid", fontsize="small")
    assert image is not None
    fig.colorbar(image, ax=axes, shrink=min(0.9, 3.0 / grid.figsize[1] + 0.4), label="NDVI")
    where = f", {crs.name}" if crs is not None else ""
    fig.suptitle(f"NDVI per period{note}{where}; grey: no valid pixel", fontsize="medium")
    return fig


@dataclass(frozen=True)
class PeriodStats:
    """Spatial statistics of one period."""

    label: str
    mean: float
    p10: float
    p90: float
    valid_fraction: float


def period_stats(cube: xr.DataArray) -> list[PeriodStats]:
    """Mean, 10th/90th percentile and valid-pixel fraction per period."""
    import numpy as np

    cube, _note = _ndvi_layers(cube)
    rows = []
    for i in range(cube.sizes["t"]):
        values = np.asarray(cube.isel(t=i).values, dtype="float64")
        finite = values[np.isfinite(values)]
        if finite.size:
            p10, p90 = (float(v) for v in np.percentile(finite, [10, 90]))
            mean = float(finite.mean())
        else:
            mean = p10 = p90 = float("nan")
        fraction = finite.size / values.size if values.size else 0.0
        rows.append(PeriodStats(period_label(cube["t"].values[i]), mean, p10, p90, fraction))
    return rows


def ndvi_timeseries_figure(cube: xr.DataArray) -> Figure:
    """Spatial mean NDVI per period with its 10-90 % spread; valid fraction as bars."""
    import matplotlib.dates as mdates
    import numpy as np

    stats = period_stats(cube)
    fig = new_figure((9.0, 4.2))
    ax = fig.subplots()
    share = ax.twinx()
    times = cube["t"].values if "t" in cube.dims else None
    dated = times is not None and np.issubdtype(times.dtype, np.datetime64)
    if dated:
        assert times is not None
        xs: Any = times.astype("datetime64[D]").astype("datetime64[ns]")
        steps = np.diff(xs).astype("timedelta64[D]").astype(int) if len(xs) > 1 else [20]
        width: Any = np.timedelta64(max(1, int(0.6 * min(steps))), "D")
        locator = mdates.AutoDateLocator(minticks=2, maxticks=10)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    else:
        xs = np.arange(len(stats))
        width = 0.6
        ax.set_xticks(xs, [s.label for s in stats])
    fractions = [s.valid_fraction for s in stats]
    share.bar(xs, fractions, width=width, color="#9ecae1", alpha=0.45, label="valid pixels")
    share.set_ylim(0, 1)
    share.set_ylabel("valid-pixel fraction")
    share.yaxis.set_major_formatter(lambda v, _pos: f"{v:.0%}")
    ax.set_zorder(share.get_zorder() + 1)
    ax.patch.set_visible(False)
    mean = np.array([s.mean for s in stats])
    low = np.array([s.p10 for s in stats])
    high = np.array([s.p90 for s in stats])
    ax.fill_between(xs, low, high, color="#31a354", alpha=0.25, label="10-90 % of pixels")
    ax.plot(xs, mean, color="#006d2c", marker="o", linewidth=1.5, label="spatial mean")
    if len(stats) == 1:
        ax.errorbar(xs, mean, yerr=[mean - low, high - mean], color="#006d2c", capsize=6)
        if dated:
            pad = np.timedelta64(30, "D")
            ax.set_xlim(xs[0] - pad, xs[0] + pad)
    empty = [x for x, s in zip(xs, stats, strict=True) if s.valid_fraction == 0]
    if empty:
        ax.scatter(empty, [NDVI_RANGE[0]] * len(empty), marker="x", color="#b2182b",
                   label="no valid pixel", zorder=3)  # fmt: skip
    ax.set_ylim(NDVI_RANGE[0], NDVI_RANGE[1])
    ax.set_ylabel("NDVI")
    ax.grid(True, axis="y", alpha=0.3)
    handles = ax.get_legend_handles_labels()
    bars = share.get_legend_handles_labels()
    ax.legend(handles[0] + bars[0], handles[1] + bars[1], loc="lower center", ncols=4,
              fontsize="small", framealpha=0.8)  # fmt: skip
    ax.set_title("NDVI over the area per period")
    return fig


def comparison_figure(a: xr.DataArray, b: xr.DataArray) -> Figure:
    """A, B and A - B side by side for each period; one colour scale for A and B, one
    symmetric scale for the difference; black where only one of them has data."""
    import numpy as np

    from hybrid.comparison import align

    aligned_a, aligned_b, problems = align(a, b)
    if aligned_a is None or aligned_b is None:
        from hybrid.errors import UsageError

        raise UsageError(f"nothing to compare: {'; '.join(problems)}")
    la, _ = _ndvi_layers(aligned_a)
    lb, _ = _ndvi_layers(aligned_b)
    n = la.sizes["t"]
    aspect = la.sizes["y"] / max(la.sizes["x"], 1)
    grid = panel_grid(n, aspect=aspect / 3, extra_width=1.6, extra_height=1.0)
    fig = new_figure(grid.figsize)
    cells = fig.subplots(grid.nrows, grid.ncols * 3, squeeze=False)
    for ax in cells.ravel():
        ax.set_visible(False)
    va = np.asarray(la.values, dtype="float64")
    vb = np.asarray(lb.values, dtype="float64")
    scales = _ComparisonScales(_value_range(va, vb), _difference_limit(va - vb), extent_of(la))
    value_axes: list[Any] = []
    diff_axes: list[Any] = []
    images: tuple[Any, Any] | None = None
    for i in range(n):
        row, block = divmod(i, grid.ncols)
        label = period_label(la["t"].values[i])
        axes = cells[row, block * 3 : block * 3 + 3]
        images = _draw_comparison_period(axes, label, va[i], vb[i], scales)
        value_axes += list(axes[:2])
        diff_axes.append(axes[2])
    assert images is not None
    _finish_comparison(fig, value_axes + diff_axes, images, problems)
    return fig


@dataclass(frozen=True)
class _ComparisonScales:
    """The colour scales of a comparison figure: (low, high) of A and B, the symmetric
    limit of A - B, and the map extent."""

    values: tuple[float, float]
    diff_limit: float
    extent: Any


def _value_range(va: Any, vb: Any) -> tuple[float, float]:
    """NDVI_RANGE, or the 1st-99th percentiles when a value lies outside [-1, 1]."""
    import numpy as np

    both = np.concatenate([va[np.isfinite(va)], vb[np.isfinite(vb)]])
    lo, hi = NDVI_RANGE
    if both.size and (both.min() < -1.0 or both.max() > 1.0):
        lo, hi = (float(v) for v in np.percentile(both, [1, 99]))
    return lo, hi


def _difference_limit(diff: Any) -> float:
    """The 99th percentile of |A - B| (never 0)."""
    import numpy as np

    finite = np.abs(diff[np.isfinite(diff)])
    lim = float(np.percentile(finite, 99)) if finite.size else 0.0
    return lim or 1e-6


def _draw_comparison_period(
    axes: Any, label: str, a: Any, b: Any, scales: _ComparisonScales
) -> tuple[Any, Any]:
    """A, B and A - B of one period into three axes; returns (value image, diff image)."""
    import numpy as np

    lo, hi = scales.values
    lim, extent = scales.diff_limit, scales.extent
    value_image = None
    for ax, title, data in ((axes[0], "A", a), (axes[1], "B", b)):
        value_image = ax.imshow(data, cmap=NDVI_CMAP, vmin=lo, vmax=hi, extent=extent,
                                interpolation="nearest")  # fmt: skip
        ax.set_title(f"{title} {label}", fontsize="small")
    ax = axes[2]
    diff = a - b
    diff_image = ax.imshow(diff, cmap="RdBu_r", vmin=-lim, vmax=lim, extent=extent,
                           interpolation="nearest")  # fmt: skip
    only_one = np.isnan(a) != np.isnan(b)
    if only_one.any():
        overlay = np.ma.masked_where(~only_one, np.ones_like(diff))
        ax.imshow(overlay, cmap="Greys", vmin=0, vmax=1, extent=extent, interpolation="nearest")
    ax.set_title(f"A - B  {int(only_one.sum())} px one-sided", fontsize="small")
    return value_image, diff_image


def _finish_comparison(
    fig: Figure, panels: list[Any], images: tuple[Any, Any], problems: list[str]
) -> None:
    """Show the drawn panels without ticks, add both colour bars and the title."""
    for ax in panels:
        ax.set_visible(True)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_facecolor(NODATA_COLOUR)
    fig.colorbar(images[0], ax=panels, shrink=0.7, label="A, B")
    fig.colorbar(images[1], ax=panels, shrink=0.7, label="A - B")
    title = "A, B and A - B per period; black: data in one only, grey: in neither"
    if problems:
        title += f"\n{problems[0][:110]}"
    fig.suptitle(title, fontsize="medium")


def plot_comparison(a: xr.DataArray | str | Path, b: xr.DataArray | str | Path,
                    out_path: str | Path) -> Path:  # fmt: skip
    """Write A, B and A - B side by side per period into one PNG (two aggregate_spatial
    time series: A and B per feature over the dates, :mod:`hybrid.series_plots`);
    returns its path."""
    from hybrid.frame_comparison import refuse_plots
    from hybrid.io.reader import open_any
    from hybrid.io.series import is_series

    cube_a = open_any(a) if isinstance(a, str | Path) else a
    cube_b = open_any(b) if isinstance(b, str | Path) else b
    refuse_plots(cube_a, cube_b)
    if is_series(cube_a) and is_series(cube_b):
        from hybrid.series_plots import series_comparison_figure

        return save_png(series_comparison_figure(cube_a, cube_b), out_path)
    return save_png(comparison_figure(cube_a, cube_b), out_path)


def plot_result(
    result: str | Path | xr.DataArray,
    out_dir: str | Path,
    *,
    workflow: Workflow | None = None,
    stac: str | None = None,
    aoi: dict[str, Any] | None = None,
    progress: bool = False,
) -> list[Path]:
    """Write the figures of a result (a path, or a cube from
    :func:`hybrid.io.reader.open_result`) into ``out_dir`` (see :data:`FIGURE_NAMES`).

    The NDVI maps and time series come from the result itself. The quicklooks and the
    cloud mask re-load the scenes from ``stac`` (default: the embedded sample) for the
    ``workflow``'s area, dates and cloud settings; without a workflow they use
    :func:`hybrid.quicklooks.workflow_for_result` (``aoi``, else the seed AOI or the
    result's extent; the result's dates; the default cloud settings). When the scenes
    cannot be loaded, those three figures are skipped with a note on stderr.
    """
    from hybrid.errors import DataSourceError, NoDataAvailable, UsageError
    from hybrid.io.reader import open_result

    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create the figure folder {out}: {exc.strerror}") from None
    cube = open_result(result) if isinstance(result, str | Path) else result
    from hybrid import quicklooks

    written: list[Path] = []
    outline = aoi
    try:
        if workflow is None:
            workflow = quicklooks.workflow_for_result(cube, aoi=aoi)
        outline = workflow.aoi if aoi is None else aoi
        stack = quicklooks.scenes_for_result(cube, workflow=workflow, stac=stac, progress=progress)
    except (NoDataAvailable, DataSourceError, UsageError) as exc:
        print(f"hybrid: no quicklooks ({exc})", file=sys.stderr)
    else:
        figures = (
            quicklooks.quicklook_figure(stack, masked=False, aoi=outline),
            quicklooks.quicklook_figure(stack, masked=True, aoi=outline),
            quicklooks.cloud_mask_figure(stack, aoi=outline),
        )
        # photographs need more colours than the grey cloud-mask figure
        for name, fig, colors in zip(FIGURE_NAMES[:3], figures, (192, 192, 96), strict=True):
            written.append(save_png(fig, out / name, colors=colors))
    written.append(save_png(ndvi_maps_figure(cube, aoi=outline), out / FIGURE_NAMES[3]))
    written.append(save_png(ndvi_timeseries_figure(cube), out / FIGURE_NAMES[4]))
    return written
