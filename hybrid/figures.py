"""Drawing primitives shared by the figures: panel layouts, map axes, AOI outlines, PNGs.

Figures are drawn on :class:`matplotlib.figure.Figure` with the Agg canvas directly, so
nothing touches matplotlib's global backend. PNGs are written at :data:`DPI`, quantised
to a 256-colour palette (small files, same look), and replaced atomically. Layouts adapt
to the number of panels (1 to dozens of dates) and to the shape of the area.
"""

from __future__ import annotations

import io
import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hybrid.grid import PIXEL_SIZE, pixel_step

if TYPE_CHECKING:
    import numpy as np
    import xarray as xr
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: resolution of every PNG
DPI = 90
#: shown where a map has no data (NaN)
NODATA_COLOUR = "#d9d9d9"
#: largest figure (inches) a grid of panels may take
MAX_WIDTH_IN = 14.0
MAX_HEIGHT_IN = 10.0
#: largest side of one panel (inches), reached with few panels
MAX_PANEL_IN = 4.5
#: room for a panel's title of one / two / three lines (inches)
TITLE_IN = 0.32
TITLE2_IN = 0.5
TITLE3_IN = 0.68


@dataclass(frozen=True)
class PanelGrid:
    """Rows and columns of a grid of map panels, and the figure size (inches)."""

    nrows: int
    ncols: int
    panel_width: float
    figsize: tuple[float, float]


def panel_grid(
    n: int,
    *,
    aspect: float,
    extra_width: float = 0.0,
    extra_height: float = 0.6,
    title_height: float = TITLE_IN,
) -> PanelGrid:
    """The layout of ``n`` panels of ``aspect`` (height / width) with the largest panels
    that fit :data:`MAX_WIDTH_IN` x :data:`MAX_HEIGHT_IN` (plus colour bar/legend room)."""
    n = max(1, n)
    aspect = min(max(aspect, 0.1), 10.0)
    best: PanelGrid | None = None
    for ncols in range(1, n + 1):
        nrows = math.ceil(n / ncols)
        width = min(
            MAX_PANEL_IN / max(aspect, 1.0),
            (MAX_WIDTH_IN - extra_width) / ncols,
            ((MAX_HEIGHT_IN - extra_height) / nrows - title_height) / aspect,
        )
        if width <= 0:
            continue
        figsize = (
            max(ncols * width + extra_width, 3.0),
            nrows * (width * aspect + title_height) + extra_height,
        )
        if best is None or width > best.panel_width + 1e-9:
            best = PanelGrid(nrows, ncols, width, figsize)
    assert best is not None
    return best


def new_figure(figsize: tuple[float, float]) -> Figure:
    """A Figure on its own Agg canvas, with constrained layout."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save_png(fig: Figure, path: str | Path, *, colors: int = 256) -> Path:
    """Write ``fig`` as a PNG of ``colors`` palette colours at :data:`DPI`, atomically;
    returns the path. The PNG's text chunk holds the digest of the data it plots
    (:func:`hybrid.figure_digest.figure_digest`)."""
    from PIL import Image, PngImagePlugin

    from hybrid.figure_digest import DIGEST_KEY, figure_digest

    info = PngImagePlugin.PngInfo()
    info.add_text(DIGEST_KEY, figure_digest(fig))
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, facecolor="white")
    buffer.seek(0)
    with Image.open(buffer) as image:
        palette = image.convert("RGB").quantize(colors=colors, method=Image.Quantize.MEDIANCUT)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    try:
        palette.save(tmp, format="PNG", optimize=True, pnginfo=info)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return target


def map_axes(fig: Figure, grid: PanelGrid, n: int) -> list[Axes]:
    """``n`` map panels (no ticks, light grey = no data); unused cells are hidden."""
    axes = fig.subplots(grid.nrows, grid.ncols, squeeze=False).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    used = list(axes[:n])
    for ax in used:
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_facecolor(NODATA_COLOUR)
    return used


def extent_of(cube: xr.DataArray) -> tuple[float, float, float, float]:
    """imshow extent (left, right, bottom, top) from pixel-centre x/y coordinates."""
    x = cube["x"].values
    y = cube["y"].values
    dx, dy = abs(pixel_step(x, PIXEL_SIZE)) / 2, abs(pixel_step(y, PIXEL_SIZE)) / 2
    return (float(x.min()) - dx, float(x.max()) + dx, float(y.min()) - dy, float(y.max()) + dy)


def aoi_rings(aoi: dict[str, Any], crs: Any) -> list[np.ndarray]:
    """The AOI polygon's rings (lon/lat GeoJSON) in ``crs``, as (n, 2) arrays."""
    import numpy as np
    from pyproj import Transformer
    from shapely.geometry import shape

    geom = shape(aoi).segmentize(0.0005)
    polygons = list(getattr(geom, "geoms", [geom]))
    transformer = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    rings = []
    for polygon in polygons:
        for ring in (polygon.exterior, *polygon.interiors):
            lon, lat = np.asarray(ring.coords).T
            x, y = transformer.transform(lon, lat)
            rings.append(np.column_stack([x, y]))
    return rings


def draw_rings(ax: Axes, rings: list[np.ndarray]) -> None:
    for ring in rings:
        ax.plot(ring[:, 0], ring[:, 1], color="black", linewidth=1.0)
