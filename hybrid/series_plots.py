"""A and B of two aggregate_spatial time series in one figure (``hybrid compare --plots``).

One panel per band (the first :data:`MAX_BANDS`, matched by position as
:mod:`hybrid.series_comparison` matches them): each of at most :data:`MAX_FEATURES`
features over the dates, A solid with dots, B dashed with crosses, in the feature's
colour; the features that differ most come first. A result without dates is drawn over
the features instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hybrid.figures import new_figure

if TYPE_CHECKING:
    import xarray as xr
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: the bands and features drawn at most
MAX_BANDS = 4
MAX_FEATURES = 6


def series_comparison_figure(a: xr.DataArray, b: xr.DataArray) -> Figure:
    """The figure of two series (:func:`hybrid.io.series.series`), matched as
    :func:`hybrid.series_comparison.aligned` matches them."""
    from hybrid.series_comparison import aligned

    a, b = (s.isel(bands=slice(0, MAX_BANDS)) for s in aligned(a, b))
    bands = a.sizes["bands"]
    fig = new_figure((9.0, 3.2 * max(bands, 1)))
    axes = fig.subplots(max(bands, 1), 1, squeeze=False)[:, 0]
    features = _most_different(a, b)
    for band, ax in enumerate(axes[:bands]):
        _draw_band(ax, a.isel(bands=band), b.isel(bands=band), features)
        ax.set_ylabel(f"band {band + 1}")
        ax.grid(True, alpha=0.3)
    axes[0].legend(loc="best", fontsize="small", ncols=2, framealpha=0.8)
    shown = f"{len(features)} of {a.sizes['feature']} features"
    fig.suptitle(f"A (solid) and B (dashed) per feature ({shown}, most different first)")
    return fig


def _most_different(a: xr.DataArray, b: xr.DataArray) -> list[int]:
    """The features to draw: the largest max |A - B| first (a value in one result only
    counts as the largest), then the others in index order."""
    import numpy as np

    va, vb = a.values.reshape(a.sizes["feature"], -1), b.values.reshape(b.sizes["feature"], -1)
    with np.errstate(invalid="ignore"):
        diff = np.where(np.isnan(va) != np.isnan(vb), np.inf, np.abs(va - vb))
    worst = np.nanmax(np.where(np.isnan(diff), -1.0, diff), axis=1, initial=-1.0)
    order = sorted(range(len(worst)), key=lambda i: (-worst[i], i))[:MAX_FEATURES]
    return [int(a["feature"].values[i]) for i in order]


def _draw_band(ax: Axes, a: xr.DataArray, b: xr.DataArray, features: list[int]) -> None:
    """A and B of ``features`` over the dates; without dates, every feature's value."""
    import matplotlib

    styles = ((a, "-o", "A"), (b, "--x", "B"))
    if "t" not in a.dims:
        for s, style, name in styles:
            ax.plot(s["feature"].values, s.values, style, markersize=4, label=name)
        ax.set_xlabel("feature")
        return
    colours = matplotlib.colormaps["tab10"]
    for n, feature in enumerate(features):
        for s, style, name in styles:
            one = s.sel(feature=feature)
            ax.plot(one["t"].values, one.values, style, color=colours(n % 10),
                    markersize=4, label=f"{name}, feature {feature}")  # fmt: skip
