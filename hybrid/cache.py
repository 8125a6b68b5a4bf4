"""``hybrid cache``: take the scenes of an area and season offline.

The search is the one ``load_collection`` makes (AOI bbox on the Copernicus grid plus the
kernel's pixel buffer, dates end-exclusive, ``eo:cloud_cover <= max``). For every item
found, only the window of each band's COG that covers that area (with a margin of
:data:`MARGIN_PIXELS` source pixels) is copied, on the COG's own pixel grid - so a 20 m
SCL window starts on a 20 m pixel edge - into a local tiled COG with overviews, the
same dtype and nodata. A static STAC collection describes the copies
(:mod:`hybrid.cache_catalog`): items keep every
property, their footprint (geometry and bbox: Copernicus resolves duplicates and tile
overlap from them) and their provider's asset keys, asset hrefs become relative, and
the assets' ``proj:shape``/``proj:transform``/``proj:bbox`` describe the windows.
Nearest resampling of the copies therefore gives exactly what it gives on the
originals, and
``hybrid run --stac DIR`` later needs no network.

Resumable: each COG is written to a temporary file and renamed when complete; a rerun
skips COGs already present with the expected window. The collection JSON is written
last, so an interrupted or failed run leaves no catalog that looks complete.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hybrid.atomic import leftovers
from hybrid.cache_catalog import CATALOG_NAME, safe_name, write_collection, write_item
from hybrid.errors import DataSourceError, NoDataAvailable, UsageError
from hybrid.grid import BBox, kernel_buffer, output_grid
from hybrid.params import DEFAULT_BANDS
from hybrid.progress import progress_enabled

#: source pixels copied beyond the area on every side (safety for reprojection)
MARGIN_PIXELS = 2
#: parallel asset copies
COPY_THREADS = 4


@dataclass(frozen=True)
class CacheRequest:
    """What to take offline."""

    #: lon/lat bbox of the AOI
    aoi: BBox
    start: str
    #: first day excluded
    end: str
    #: static catalog, STAC API URL or provider name; None = the embedded sample
    source: str | None = None
    max_cloud_cover: float | None = None
    bands: tuple[str, ...] = DEFAULT_BANDS
    #: pixels loaded around the grid (ceil(kernel / 2) of the workflow's kernel)
    buffer: int = kernel_buffer((11, 11))


@dataclass(frozen=True)
class CacheReport:
    catalog: Path
    items: int
    copied: int
    skipped: int


@dataclass(frozen=True)
class _Task:
    item: Any
    key: str
    target: Path


def cache_scenes(
    request: CacheRequest, out_dir: Path, *, progress: bool | None = None
) -> CacheReport:
    """Copy the windows of the scenes ``request`` needs into ``out_dir``; returns a report."""
    from hybrid.grid import search_box
    from hybrid.stac.providers import detect_layout
    from hybrid.stac.query import SceneQuery
    from hybrid.stac.source import search

    grid = output_grid(request.aoi).buffered(request.buffer)
    # the products a run finds (backends.local.loader), not those reaching the buffer only
    box = search_box(request.aoi, None, grid.epsg)
    query = SceneQuery(box, request.start, request.end, request.max_cloud_cover)
    items = search(request.source, query)
    if not items:
        limit = request.max_cloud_cover
        cloud = "any cloud cover" if limit is None else f"cloud cover <= {limit}"
        raise NoDataAvailable(
            f"no Sentinel-2 L2A scene in {request.source or 'the embedded sample'} for "
            f"{request.start} .. {request.end} (end excluded) with {cloud}: nothing to cache; "
            "widen the dates or the cloud limit"
        )
    out_dir = Path(out_dir)
    tasks: list[_Task] = []
    for item in items:  # an item without a band fails before the folder is made
        layout = detect_layout(item)
        for band in request.bands:
            key = layout.asset_key(item, band)
            tasks.append(_Task(item, key, out_dir / safe_name(item.id) / f"{safe_name(key)}.tif"))
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        # a failed run must not leave an older catalog that looks complete, nor a
        # killed one its half-written temporary file
        for stale in [out_dir / CATALOG_NAME, *leftovers(out_dir / CATALOG_NAME)]:
            stale.unlink(missing_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot use the cache folder {out_dir}: {exc.strerror}") from exc
    bounds = (grid.xmin, grid.ymin, grid.xmax, grid.ymax)
    show = progress_enabled() if progress is None else progress
    results = _run(tasks, lambda t: _copy_window(t, bounds, grid.crs), show)
    windows: dict[tuple[str, str], dict[str, Any]] = {}
    for task, (meta, copied) in zip(tasks, results, strict=True):
        windows[(task.item.id, task.key)] = {**meta, "copied": copied}
    item_paths = [
        write_item(item, out_dir, {k: v for (i, k), v in windows.items() if i == item.id})
        for item in items
    ]
    catalog = write_collection(items, item_paths, out_dir, _description(request))
    copied = sum(1 for w in windows.values() if w["copied"])
    return CacheReport(catalog, len(items), copied, len(windows) - copied)


def _description(request: CacheRequest) -> str:
    """The cached collection's description: what was taken offline, from where."""
    aoi = request.aoi
    return (
        f"Windows of the Sentinel-2 L2A scenes of {request.source or 'the embedded sample'} "
        f"for bbox {aoi.west},{aoi.south},{aoi.east},{aoi.north} (+{request.buffer} px), "
        f"{request.start} to {request.end} (end excluded), cloud cover <= "
        f"{request.max_cloud_cover}, bands {', '.join(request.bands)}; made by 'hybrid cache'."
    )


def _run(tasks: list[_Task], work: Callable[[_Task], Any], show: bool) -> list[Any]:
    from hybrid.progress import bar as progress_bar

    results: list[Any] = [None] * len(tasks)
    with (
        progress_bar(len(tasks), desc="caching", enabled=show, unit="asset") as bar,
        ThreadPoolExecutor(COPY_THREADS) as pool,
    ):
        futures = {pool.submit(work, t): n for n, t in enumerate(tasks)}
        try:
            for future in futures:
                results[futures[future]] = future.result()
                bar.update(1)
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    return results


def _copy_window(
    task: _Task, bounds: tuple[float, float, float, float], crs: str
) -> tuple[dict[str, Any], bool]:
    """Copy one asset's window; returns its grid metadata and whether it was copied."""
    import rasterio
    from rasterio.errors import RasterioError

    from hybrid.stac.access import local_path, reading_env

    item, key = task.item, task.key
    href = item.assets[key].href
    where = f"item {item.id}: asset '{key}' ({href.split('?', 1)[0]})"
    path = local_path(href)
    if path is not None and not path.is_file():
        raise DataSourceError(f"{where} file is missing; fix the catalog and rerun hybrid cache")
    tmp = task.target.with_name(f".{task.target.stem}.part.tif")
    try:
        with reading_env([href]), rasterio.open(str(path or href)) as src:
            window = _window(src, bounds, crs)
            meta = _grid_meta(src, window)
            if _complete(task.target, meta):
                return meta, False
            data = src.read(window=window)
            task.target.parent.mkdir(parents=True, exist_ok=True)
            _write(tmp, data, src, meta, resampling=_overview_resampling(src, key))
        os.replace(tmp, task.target)
        return meta, True
    except (RasterioError, OSError) as exc:
        tmp.unlink(missing_ok=True)
        raise DataSourceError(
            f"{where} is unreadable: {' '.join(str(exc).split())[:300]}; "
            "check the source (or drop the item) and rerun hybrid cache, which resumes"
        ) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _window(src: Any, bounds: tuple[float, float, float, float], crs: str) -> Any:
    """The source-pixel window covering ``bounds`` (in ``crs``), plus the margin."""
    from rasterio.warp import transform_bounds
    from rasterio.windows import Window

    left, bottom, right, top = transform_bounds(crs, src.crs, *bounds, densify_pts=21)
    inv = ~src.transform
    corners = [(x, y) for x in (left, right) for y in (bottom, top)]
    cols = [inv.a * x + inv.b * y + inv.c for x, y in corners]
    rows = [inv.d * x + inv.e * y + inv.f for x, y in corners]
    c0 = max(math.floor(min(cols) + 1e-9) - MARGIN_PIXELS, 0)
    r0 = max(math.floor(min(rows) + 1e-9) - MARGIN_PIXELS, 0)
    c1 = min(math.ceil(max(cols) - 1e-9) + MARGIN_PIXELS, src.width)
    r1 = min(math.ceil(max(rows) - 1e-9) + MARGIN_PIXELS, src.height)
    # an asset that does not reach the area still gets one pixel (all of it nodata
    # around the area): the item and its date stay in the catalog, as in the source
    c0, r0 = min(c0, src.width - 1), min(r0, src.height - 1)
    return Window(c0, r0, max(c1 - c0, 1), max(r1 - r0, 1))


def _grid_meta(src: Any, window: Any) -> dict[str, Any]:
    from affine import Affine

    s = src.transform
    col, row = int(window.col_off), int(window.row_off)
    t = Affine(s.a, s.b, s.c + col * s.a + row * s.b, s.d, s.e, s.f + col * s.d + row * s.e)
    h, w = int(window.height), int(window.width)
    return {
        "shape": [h, w],
        "transform": [t.a, t.b, t.c, t.d, t.e, t.f],
        "bbox": [t.c, t.f + h * t.e, t.c + w * t.a, t.f],
        "epsg": src.crs.to_epsg() if src.crs else None,
        "dtype": src.dtypes[0],
        "nodata": src.nodata,
        "count": src.count,
    }


def _complete(target: Path, meta: dict[str, Any]) -> bool:
    """Whether ``target`` is a finished copy of exactly this window."""
    if not target.is_file():
        return False
    import rasterio
    from rasterio.errors import RasterioError

    try:
        with rasterio.open(target) as done:
            t = done.transform
            return (
                [done.height, done.width] == meta["shape"]
                and all(
                    math.isclose(a, b, abs_tol=1e-6)
                    for a, b in zip([t.a, t.b, t.c, t.d, t.e, t.f], meta["transform"], strict=True)
                )
                and done.dtypes[0] == meta["dtype"]
                and done.nodata == meta["nodata"]
            )
    except RasterioError:
        return False


def _overview_resampling(src: Any, key: str) -> str:
    classes = key.lower().startswith("scl") or src.dtypes[0] == "uint8"
    return "nearest" if classes else "average"


def _write(tmp: Path, data: Any, src: Any, meta: dict[str, Any], *, resampling: str) -> None:
    from affine import Affine

    from hybrid.sample.cog import write_cog

    write_cog(
        tmp,
        data,
        transform=Affine(*meta["transform"]),
        crs=src.crs,
        nodata=src.nodata,
        blocksize=256,
        resampling=resampling,
    )
