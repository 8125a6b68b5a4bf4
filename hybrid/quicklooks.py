"""RGB quicklooks of every loaded scene, before and after the cloud mask, and the mask.

The scenes are re-loaded with the local engine's own loader (B04, B03, B02 and SCL over
the workflow's area, dates and cloud-cover filter) and the cloud mask is computed with
the engine's own processes, exactly as the graph does it: SCL in the cloud classes,
convolved with the Gaussian kernel (``apply_kernel``), ``> threshold``, then ``mask``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hybrid.figures import (
    NODATA_COLOUR,
    TITLE2_IN,
    TITLE3_IN,
    aoi_rings,
    draw_rings,
    map_axes,
    new_figure,
    panel_grid,
)

if TYPE_CHECKING:
    import numpy as np
    import xarray as xr
    from matplotlib.figure import Figure

    from hybrid.params import Workflow

#: the bands of a quicklook, and the DN stretch of the original workflow
RGB_BANDS = ("B04", "B03", "B02")
STRETCH_DN = (0.0, 2000.0)
#: colours of the cloud-mask figures
MASKED_COLOUR = "#e7298a"
CLOUD_COLOUR = "#2171b5"
DILATION_COLOUR = "#fd8d3c"


@dataclass(frozen=True)
class SceneStack:
    """The loaded scenes of a run, on the result's grid, computed (numpy)."""

    #: acquisition dates, ``YYYY-MM-DD``
    dates: tuple[str, ...]
    #: (t, 3, y, x) harmonised DN of B04, B03, B02; NaN = no data
    rgb: np.ndarray
    #: (t, y, x) SCL in the cloud classes
    cloud: np.ndarray
    #: (t, y, x) the dilated cloud mask the graph applies
    mask: np.ndarray
    #: (t, 3, y, x) ``rgb`` after the engine's ``mask`` process
    masked_rgb: np.ndarray
    #: (left, right, bottom, top) in ``epsg``
    extent: tuple[float, float, float, float]
    epsg: int
    #: eo:cloud_cover of each date's first item (percent of the tile), None if unknown
    cloud_cover: tuple[float | None, ...] = ()


def load_scenes(
    workflow: Workflow,
    *,
    stac: str | None = None,
    dates: set[str] | None = None,
    progress: bool = False,
) -> SceneStack:
    """Load the workflow's scenes (only ``dates`` if given) and compute the cloud mask."""
    import dask
    import numpy as np

    from hybrid.backends.local.loader import load_s2
    from hybrid.backends.local.processes.kernel import apply_kernel
    from hybrid.backends.local.processes.masking import mask as mask_process
    from hybrid.kernel import gaussian_kernel
    from hybrid.progress import DaskProgress, step

    kernel = gaussian_kernel(workflow.kernel_size, workflow.kernel_std)
    with step("searching and opening scenes for the quicklooks", enabled=progress):
        loaded = load_s2(stac, _scene_request(workflow, kernel))
    keep = _kept_scenes(loaded.scenes, workflow, dates)
    cube = loaded.cube.isel(t=keep)
    scenes = [loaded.scenes[i] for i in keep]
    cloud = cube.sel(bands="SCL", drop=True).isin(list(workflow.cloud_classes))
    dilated = apply_kernel(cloud, kernel) > workflow.threshold
    masked = mask_process(cube, dilated)
    grid = loaded.grid
    window = {"x": slice(grid.xmin, grid.xmax), "y": slice(grid.ymax, grid.ymin)}
    parts = (
        cube.sel(bands=list(RGB_BANDS)).sel(window),
        cloud.sel(window),
        dilated.sel(window),
        masked.sel(bands=list(RGB_BANDS)).sel(window),
    )
    with DaskProgress(desc="quicklooks", enabled=progress), np.errstate(all="ignore"):
        rgb, cloud_np, mask_np, masked_np = dask.compute(*(p.data for p in parts))
    return SceneStack(
        dates=tuple(day.date.isoformat() for day in scenes),
        rgb=np.asarray(rgb, dtype="float32"),
        cloud=np.asarray(cloud_np, dtype=bool),
        mask=np.asarray(mask_np, dtype=bool),
        masked_rgb=np.asarray(masked_np, dtype="float32"),
        extent=(grid.xmin, grid.xmax, grid.ymin, grid.ymax),
        epsg=grid.epsg,
        cloud_cover=tuple(_cloud_cover(day.items) for day in scenes),
    )


def _scene_request(workflow: Workflow, kernel: Any) -> Any:
    """What to load for the quicklooks: RGB and SCL over the workflow's area and dates,
    with the kernel's buffer."""
    from hybrid.aoi import geometry_bbox
    from hybrid.backends.local.loader import LoadRequest
    from hybrid.grid import kernel_buffer

    return LoadRequest(
        bbox=geometry_bbox(workflow.aoi),
        start=workflow.start,
        end=workflow.end,
        bands=(*RGB_BANDS, "SCL"),
        max_cloud_cover=workflow.max_cloud_cover,
        buffer=kernel_buffer((len(kernel), len(kernel[0]))),
    )


def _kept_scenes(scenes: Sequence[Any], workflow: Workflow, dates: set[str] | None) -> list[int]:
    """Indices of the scenes not excluded by the workflow and among ``dates`` (if given)."""
    keep = [
        i
        for i, day in enumerate(scenes)
        if day.date.isoformat() not in workflow.exclude_dates
        and (dates is None or day.date.isoformat() in dates)
    ]
    if not keep:
        from hybrid.errors import NoDataAvailable

        raise NoDataAvailable("none of the result's scenes was found in the STAC source")
    return keep


def _cloud_cover(items: tuple[Any, ...]) -> float | None:
    value = items[0].properties.get("eo:cloud_cover") if items else None
    return float(value) if value is not None else None


def result_scene_dates(cube: xr.DataArray) -> set[str] | None:
    """The scene dates a local result records (attribute ``hybrid_scenes``), if any."""
    text = str(cube.attrs.get("hybrid_scenes") or "")
    dates = {part.strip()[:10] for part in text.split(";") if part.strip()}
    return dates or None


def scenes_for_result(
    cube: xr.DataArray,
    *,
    workflow: Workflow | None = None,
    stac: str | None = None,
    aoi: dict[str, Any] | None = None,
    progress: bool = False,
) -> SceneStack:
    """The scenes behind a result: the workflow's, else :func:`workflow_for_result`'s;
    only the dates the result records having used, when it records them."""
    dates = result_scene_dates(cube)
    if workflow is None:
        workflow = workflow_for_result(cube, aoi=aoi)
    return load_scenes(workflow, stac=stac, dates=dates, progress=progress)


def workflow_for_result(
    cube: xr.DataArray,
    *,
    aoi: dict[str, Any] | None = None,
    start: str | None = None,
    end: str | None = None,
) -> Workflow:
    """A workflow matching a result, with the default cloud settings.

    The AOI is ``aoi``, else the seed AOI when the result lies on the seed AOI's grid,
    else the result's extent. Dates are ``start``/``end``, else the span of the scenes
    the result records, else its first period to one period past its last.
    """
    import numpy as np

    from hybrid.errors import UsageError
    from hybrid.params import Workflow

    if aoi is None:
        aoi = _aoi_of(cube)
    dates = sorted(result_scene_dates(cube) or ())
    if dates:
        last = dt.date.fromisoformat(dates[-1]) + dt.timedelta(days=1)
        start, end = start or dates[0], end or last.isoformat()
    elif "t" in cube.dims and np.issubdtype(cube["t"].dtype, np.datetime64):
        days = cube["t"].values.astype("datetime64[D]")
        step = days[-1] - days[-2] if len(days) > 1 else np.timedelta64(1, "D")
        start, end = start or str(days[0]), end or str(days[-1] + step)
    if start is None or end is None:
        raise UsageError("the result has no dates: pass --start and --end for the quicklooks")
    return Workflow(aoi=aoi, start=start, end=end)


def _aoi_of(cube: xr.DataArray) -> dict[str, Any]:
    """The seed AOI if the result is on its grid, else the result's extent (lon/lat)."""
    from pyproj import Transformer
    from shapely.geometry import box, mapping

    from hybrid.aoi import geometry_bbox
    from hybrid.errors import UsageError
    from hybrid.figures import extent_of
    from hybrid.grid import output_grid
    from hybrid.io.cube import cube_crs
    from hybrid.sample import SEED_AOI

    crs = cube_crs(cube)
    if crs is None:
        raise UsageError("the result has no CRS: pass --aoi for the quicklooks")
    left, right, bottom, top = extent_of(cube)
    seed = output_grid(geometry_bbox(SEED_AOI))
    if crs.to_epsg() == seed.epsg and all(
        abs(a - b) < 1e-3
        for a, b in zip(
            (left, right, bottom, top), (seed.xmin, seed.xmax, seed.ymin, seed.ymax), strict=True
        )
    ):
        return dict(SEED_AOI)
    inset = 1.0  # metres: stay inside the result's outer pixels
    tr = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    xs, ys = tr.transform(
        [left + inset, right - inset, right - inset, left + inset],
        [bottom + inset, bottom + inset, top - inset, top - inset],
    )
    return dict(mapping(box(min(xs), min(ys), max(xs), max(ys))))


def rgb_image(dn: np.ndarray, *, stretch: tuple[float, float] = STRETCH_DN) -> np.ndarray:
    """(3, y, x) DN as a (y, x, 4) RGBA float image, linear stretch; NaN transparent."""
    import numpy as np

    lo, hi = stretch
    rgb = np.clip((np.moveaxis(dn, 0, -1) - lo) / (hi - lo), 0.0, 1.0)
    valid = np.all(np.isfinite(rgb), axis=-1)
    out = np.zeros((*rgb.shape[:2], 4), dtype="float32")
    out[..., :3] = np.where(valid[..., None], rgb, 0.0)
    out[..., 3] = valid
    return out


def _paint(image: np.ndarray, where: np.ndarray, colour: str) -> None:
    from matplotlib.colors import to_rgba

    image[where] = to_rgba(colour)


def _title(stack: SceneStack, i: int, extra: str = "", *, sep: str = ", ") -> str:
    """``2023-05-03`` over ``tile 17 %`` (and ``extra``, joined by ``sep``)."""
    cover = stack.cloud_cover[i] if i < len(stack.cloud_cover) else None
    parts = [f"tile {cover:.0f}%"] if cover is not None else []
    if extra:
        parts.append(extra)
    return stack.dates[i] + ("\n" + sep.join(parts) if parts else "")


#: panels narrower than this (inches) get three-line titles
NARROW_PANEL_IN = 1.3


def _panels(stack: SceneStack, *, extra_height: float = 0.9) -> tuple[Figure, list[Any], str]:
    """Figure and panels for every scene, and the separator of the title's details
    (a new line when panels are narrow)."""
    n = len(stack.dates)
    left, right, bottom, top = stack.extent
    aspect = (top - bottom) / max(right - left, 1.0)
    grid = panel_grid(n, aspect=aspect, extra_height=extra_height, title_height=TITLE2_IN)
    sep = ", "
    if grid.panel_width < NARROW_PANEL_IN:
        sep = "\n"
        grid = panel_grid(n, aspect=aspect, extra_height=extra_height, title_height=TITLE3_IN)
    fig = new_figure(grid.figsize)
    return fig, map_axes(fig, grid, n), sep


def _finish_panel(ax: Any, stack: SceneStack, rings: list[Any]) -> None:
    draw_rings(ax, rings)
    ax.set_xlim(stack.extent[0], stack.extent[1])
    ax.set_ylim(stack.extent[2], stack.extent[3])


def _legend(fig: Figure, entries: list[tuple[str, str]]) -> None:
    from matplotlib.patches import Patch

    handles = [Patch(facecolor=colour, edgecolor="none", label=text) for text, colour in entries]
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize="small",
               frameon=False)  # fmt: skip


def quicklook_figure(
    stack: SceneStack,
    *,
    masked: bool,
    aoi: dict[str, Any] | None = None,
    titles: Sequence[str] | None = None,
) -> Figure:
    """RGB (B04/B03/B02, 0..2000 DN) of every scene; ``masked``: after the cloud mask,
    with the masked pixels in :data:`MASKED_COLOUR`. Both variants share one layout.
    ``titles`` replace the panel titles (default: date, tile cloud cover)."""
    fig, axes, sep = _panels(stack)
    rings = aoi_rings(aoi, f"EPSG:{stack.epsg}") if aoi is not None else []
    for i, ax in enumerate(axes):
        raw = rgb_image(stack.rgb[i])
        if masked:
            image = rgb_image(stack.masked_rgb[i])
            removed = (raw[..., 3] > 0) & (image[..., 3] == 0)
            _paint(image, removed, MASKED_COLOUR)
            share = removed.sum() / max(int((raw[..., 3] > 0).sum()), 1)
            title = _title(stack, i, f"{share:.0%} masked", sep=sep)
        else:
            image = raw
            title = _title(stack, i)
        ax.imshow(image, extent=stack.extent, interpolation="antialiased")
        _finish_panel(ax, stack, rings)
        ax.set_title(titles[i] if titles is not None else title, fontsize="small")
    what = "after the cloud mask" if masked else "before the cloud mask"
    fig.suptitle(
        f"Sentinel-2 RGB (B04, B03, B02; 0-{STRETCH_DN[1]:.0f} DN) {what}",
        fontsize="medium",
    )
    entries = [("no data", NODATA_COLOUR)]
    if masked:
        entries.insert(0, ("masked as cloud", MASKED_COLOUR))
    _legend(fig, entries)
    return fig


def cloud_mask_figure(stack: SceneStack, *, aoi: dict[str, Any] | None = None) -> Figure:
    """The cloud mask per scene over a grey RGB: SCL cloud classes and what the Gaussian
    dilation adds."""
    import numpy as np

    fig, axes, _sep = _panels(stack)
    rings = aoi_rings(aoi, f"EPSG:{stack.epsg}") if aoi is not None else []
    for i, ax in enumerate(axes):
        image = rgb_image(stack.rgb[i])
        grey = image[..., :3].mean(axis=-1, keepdims=True) * 0.6 + 0.2
        image[..., :3] = np.where(image[..., 3:] > 0, grey, 0.0)
        valid = image[..., 3] > 0
        cloud = stack.cloud[i] & valid
        added = stack.mask[i] & ~stack.cloud[i] & valid
        _paint(image, cloud, CLOUD_COLOUR)
        _paint(image, added, DILATION_COLOUR)
        share = (stack.mask[i] & valid).sum() / max(int(valid.sum()), 1)
        ax.imshow(image, extent=stack.extent, interpolation="antialiased")
        _finish_panel(ax, stack, rings)
        ax.set_title(f"{stack.dates[i]}\n{share:.0%} masked", fontsize="small")
    fig.suptitle("Cloud mask: SCL cloud classes, dilated by the Gaussian kernel",
                 fontsize="medium")  # fmt: skip
    _legend(
        fig,
        [("SCL cloud class", CLOUD_COLOUR), ("added by dilation", DILATION_COLOUR),
         ("no data", NODATA_COLOUR)],
    )  # fmt: skip
    return fig
