"""load_collection for SENTINEL2_L2A: STAC items -> odc-stac -> the Copernicus cube.

The cube has dims (t, bands, y, x), float32 harmonised digital numbers with NaN for
nodata, on the UTM grid Copernicus chooses (hybrid.grid), optionally grown by a pixel
buffer for a following kernel. Everything stays lazy (dask).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hybrid.errors import BandNotFound, DataSourceError, NoDataAvailable
from hybrid.grid import BBox, Grid, output_grid
from hybrid.stac.providers import detect_layout
from hybrid.stac.selection import DailyScenes, select_scenes
from hybrid.stac.source import SceneQuery, search

if TYPE_CHECKING:
    import xarray as xr

#: bands of SENTINEL2_L2A as Copernicus names them
S2_BANDS = (
    "B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B11", "B12",
    "SCL", "AOT", "WVP",
)  # fmt: skip
#: default spatial chunk (pixels) when the COG block size is unknown
DEFAULT_CHUNK = 1024


@dataclass(frozen=True)
class LoadRequest:
    """The arguments of one load_collection call, resolved."""

    bbox: BBox
    start: str
    end: str
    bands: tuple[str, ...]
    max_cloud_cover: float | None
    #: pixels loaded around the extent (for a following kernel)
    buffer: int = 0


@dataclass(frozen=True)
class LoadedCube:
    cube: xr.DataArray
    #: the grid the result is cropped back to
    grid: Grid
    scenes: tuple[DailyScenes, ...]


def lonlat_envelope(grid: Grid) -> BBox:
    """The lon/lat bbox enclosing a projected grid (for the catalog search)."""
    from pyproj import Transformer

    tr = Transformer.from_crs(grid.crs, "EPSG:4326", always_xy=True)
    xs, ys = tr.transform(
        [grid.xmin, grid.xmax, grid.xmax, grid.xmin], [grid.ymin, grid.ymin, grid.ymax, grid.ymax]
    )
    return BBox(min(xs), min(ys), max(xs), max(ys))


def load_s2(source: Any, request: LoadRequest) -> LoadedCube:
    """Search, select and lazily load the Sentinel-2 cube of ``request``."""
    unknown = [b for b in request.bands if b not in S2_BANDS]
    if unknown:
        raise BandNotFound(
            f"SENTINEL2_L2A has no band {', '.join(unknown)}; available: {', '.join(S2_BANDS)}"
        )
    grid = output_grid(request.bbox)
    load_grid = grid.buffered(request.buffer)
    query = SceneQuery(
        lonlat_envelope(load_grid), request.start, request.end, request.max_cloud_cover
    )
    items = search(source, query)
    if not items:
        raise NoDataAvailable(
            f"no data available: no Sentinel-2 L2A scene in {source or 'the embedded sample'} "
            f"intersects {request.bbox.west:.5f},{request.bbox.south:.5f},"
            f"{request.bbox.east:.5f},{request.bbox.north:.5f} between {request.start} and "
            f"{request.end} (end excluded) with cloud cover <= {request.max_cloud_cover}; "
            "widen the dates, the area or the cloud limit"
        )
    scenes = select_scenes(items, target_epsg=grid.epsg)
    days = [_load_day(day, request.bands, load_grid) for day in scenes]
    import xarray as xr

    cube = xr.concat(days, dim="t", join="exact")
    cube = cube.assign_coords(
        t=[_midnight(d.date) for d in scenes], bands=list(request.bands)
    ).transpose("t", "bands", "y", "x")
    cube.attrs = {"crs": grid.crs, "epsg": grid.epsg}
    return LoadedCube(cube, grid, tuple(scenes))


def _midnight(date: dt.date) -> Any:
    import numpy as np

    return np.datetime64(date.isoformat(), "ns")


def _load_day(day: DailyScenes, bands: tuple[str, ...], grid: Grid) -> xr.DataArray:
    """One date's mosaic: the first item's valid pixels win, the others fill gaps."""
    mosaic = None
    for item in day.items:
        layer = _load_item(item, bands, grid)
        mosaic = layer if mosaic is None else mosaic.fillna(layer)
    assert mosaic is not None
    return mosaic


def _load_item(item: Any, bands: tuple[str, ...], grid: Grid) -> xr.DataArray:
    import numpy as np
    import odc.stac
    import xarray as xr
    from odc.geo.geobox import GeoBox

    layout = detect_layout(item)
    keys = [layout.asset_key(item, b) for b in bands]
    item = item.full_copy()
    item.make_asset_hrefs_absolute()
    _check_assets(item, keys)
    geobox = GeoBox.from_bbox(
        (grid.xmin, grid.ymin, grid.xmax, grid.ymax), crs=grid.crs, resolution=grid.resolution
    )
    chunk = _chunk_size(grid)
    nodata = {k: layout.nodata(item, b) for k, b in zip(keys, bands, strict=True)}
    cfg = {"*": {"assets": {k: {"nodata": nodata[k]} for k in keys}}}
    try:
        ds = odc.stac.load(
            [item],
            bands=keys,
            geobox=geobox,
            resampling="nearest",
            chunks={"x": chunk, "y": chunk},
            groupby="id",
            stac_cfg=cfg,
            fail_on_error=True,
        )
    except (ValueError, KeyError, RuntimeError) as exc:
        raise DataSourceError(f"cannot load item {item.id}: {exc}") from exc
    layers = []
    for key, band in zip(keys, bands, strict=True):
        raw = ds[key].isel(time=0, drop=True)
        valid = raw != nodata[key]
        offset = layout.dn_offset(item, band)
        value = raw.astype(np.float32)
        if offset:
            value = value + np.float32(offset)
        layers.append(value.where(valid))
    out = xr.concat(layers, dim="bands", join="exact")
    return out.drop_vars([c for c in out.coords if c not in ("x", "y")])


def _check_assets(item: Any, keys: list[str]) -> None:
    """Fail early, naming item and asset, when an asset is missing or unreadable."""
    from hybrid.stac.access import check_assets

    check_assets(item, keys)


def _chunk_size(grid: Grid) -> int:
    side = max(grid.width, grid.height)
    if side <= DEFAULT_CHUNK:
        return side
    return DEFAULT_CHUNK * math.ceil(side / DEFAULT_CHUNK / math.ceil(side / DEFAULT_CHUNK))
