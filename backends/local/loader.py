"""load_collection for SENTINEL2_L2A: STAC items -> odc-stac -> the Copernicus cube.

The cube has dims (t, bands, y, x), float32 harmonised digital numbers with NaN for
nodata, on the UTM grid Copernicus chooses (hybrid.grid), optionally grown by a pixel
buffer for a following kernel, whose pixels come only from the items found in the extent
itself: Copernicus buffers the layout, not its search (load_params.py L156-169, L224;
load_stac.py L226-239, L1543). Everything stays lazy (dask).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, cast

from hybrid.backends.local.chunking import TARGET_CHUNK, load_chunks
from hybrid.backends.local.empty_dates import Reads, without_empty_dates
from hybrid.backends.local.file_pixels import FILE_PIXELS, item_file_pixels
from hybrid.backends.local.item_reads import band_keys, band_nodata, load_item
from hybrid.backends.local.label_pushdown import SCENE_TIMES, scene_times
from hybrid.backends.local.shared_loads import current as current_shared
from hybrid.errors import BandNotFound, DataSourceError, NoDataAvailable
from hybrid.grid import BBox, Grid, described_bbox, output_grid, search_box
from hybrid.stac.access import check_assets
from hybrid.stac.providers import band_path, detect_layout
from hybrid.stac.query import Condition, SceneQuery, parse_instant
from hybrid.stac.selection import DailyScenes, item_epsg, nominal_datetime, select_scenes
from hybrid.stac.source import search

if TYPE_CHECKING:
    import xarray as xr

#: bands of SENTINEL2_L2A as Copernicus names them
S2_BANDS = (
    "B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B11", "B12",
    "SCL", "AOT", "WVP",
)  # fmt: skip


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
    #: the output grid's CRS; None: the UTM zone of the bbox (as Copernicus picks it)
    epsg: int | None = None
    #: further property conditions (load_collection ``properties``)
    conditions: tuple[Condition, ...] = ()
    #: the box items are searched in, when not ``bbox`` (extents.LoadExtent.search)
    search: BBox | None = None
    #: no scene is a cube without dates, not NoDataAvailable (``allow_empty_cube``)
    allow_empty: bool = False


@dataclass(frozen=True)
class LoadedCube:
    cube: xr.DataArray
    #: the grid the result is cropped back to
    grid: Grid
    scenes: tuple[DailyScenes, ...]


def load_s2(source: Any, request: LoadRequest) -> LoadedCube:
    """Search, select and lazily load the Sentinel-2 cube of ``request``."""
    from hybrid.backends.local.angle_bands import ANGLE_BANDS

    _check_bands(request.bands, S2_BANDS + ANGLE_BANDS)
    if set(request.bands) & set(ANGLE_BANDS):
        return _with_angle_bands(source, request)
    grid = output_grid(request.bbox, epsg=request.epsg)
    load_grid = grid.buffered(request.buffer)
    box = search_box(request.bbox, request.search, grid.epsg)
    query = SceneQuery(box, request.start, request.end, request.max_cloud_cover, request.conditions)
    shared = current_shared()
    items = (
        search(source, query)
        if shared is None
        else shared.search(_search_key(source, query), lambda: search(source, query))
    )
    if not items and request.allow_empty:  # load_stac.py L212, L816-822, L842-846
        from hybrid.backends.local.stac_cube import empty_cube

        return LoadedCube(empty_cube(list(request.bands), load_grid), grid, ())
    if not items:
        raise _no_scenes(source, request, query)
    if source is None:
        from hybrid.sample.coverage import warn_beyond_sample

        warn_beyond_sample(items, request.bbox, request.start, request.end)
    scenes = select_scenes(items, lambda item: band_path(item, request.bands[0]))
    epsg = request.epsg or single_native_epsg(scenes)
    if epsg is not None and epsg != grid.epsg:
        grid = output_grid(request.bbox, epsg=epsg)
        load_grid = grid.buffered(request.buffer)
    kept = None
    if shared is not None and set(request.bands) <= set(shared.bands):
        order = tuple(item.id for day in scenes for item in day.items)  # the merge order
        kept = shared.load(
            (_search_key(source, query), load_grid, order),
            lambda bands: _kept_cube(scenes, bands, load_grid, shared.max_bytes),
        )
    if kept is None:
        cube = _lazy_cube(scenes, request.bands, load_grid)
    else:
        values, chunks = kept
        cube = values.sel(bands=list(request.bands)).chunk(
            {**chunks, "bands": (1,) * len(request.bands)}
        )
    # a load in memory is probed there, else a small window is read first
    reads = Reads(_load_items, _lazy_cube) if kept is None else None
    cube, scenes = without_empty_dates(cube, scenes, request.bands, load_grid, reads)
    times = scene_times((d.date, map(nominal_datetime, d.items)) for d in scenes)
    files = item_file_pixels([i for d in scenes for i in d.items], request.bands)
    cube.attrs = {"crs": grid.crs, "epsg": grid.epsg, SCENE_TIMES: times, FILE_PIXELS: files}
    return LoadedCube(cube, grid, tuple(scenes))


def _no_scenes(source: Any, request: LoadRequest, query: SceneQuery) -> NoDataAvailable:
    """The error of a load that finds no scene, naming what it searched."""
    if request.conditions:
        limit = query.describe_filter()
    elif request.max_cloud_cover is not None:
        limit = f"cloud cover <= {request.max_cloud_cover}"
    else:
        limit = "any cloud cover"
    return NoDataAvailable(
        f"no data available: no Sentinel-2 L2A scene in {source or 'the embedded sample'} "
        f"intersects {described_bbox(request.bbox)} between {request.start} and "
        f"{request.end} (end excluded) with {limit}; widen the dates, the area or the "
        "cloud limit"
    )


def _check_bands(bands: tuple[str, ...], known: tuple[str, ...]) -> None:
    unknown = [b for b in bands if b not in known]
    if unknown:
        raise BandNotFound(
            f"SENTINEL2_L2A has no band {', '.join(unknown)}; available: {', '.join(known)}"
        )


def _with_angle_bands(source: Any, request: LoadRequest) -> LoadedCube:
    """The spectral bands as usual (SCL's load, never computed, when only angles are
    asked: it gives the scenes and the grid) with the angle bands, in the asked order."""
    import xarray as xr

    from hybrid.backends.local.angle_bands import ANGLE_BANDS, angle_cube

    spectral = tuple(b for b in request.bands if b not in ANGLE_BANDS)
    base = load_s2(source, replace(request, bands=spectral or ("SCL",)))
    angles = angle_cube(base.scenes, [b for b in request.bands if b in ANGLE_BANDS], base.cube)
    parts = [base.cube, angles] if spectral else [angles]
    cube = xr.concat(parts, dim="bands", join="exact").sel(bands=list(request.bands))
    cube.attrs = dict(base.cube.attrs)
    return LoadedCube(cube, base.grid, base.scenes)


def _search_key(source: Any, query: SceneQuery) -> tuple[Any, ...]:
    """What makes two searches the same: the source, and the query with its dates as
    instants (``2023-05-01`` and ``2023-05-01T00:00:00Z`` select the same items)."""
    start = parse_instant(query.start, what="start")
    end = parse_instant(query.end, what="end")
    return (str(source), query.bbox, start, end, query.max_cloud_cover, query.conditions)


def _lazy_cube(
    scenes: list[DailyScenes], bands: tuple[str, ...], grid: Grid, side: int | None = None
) -> xr.DataArray:
    """(t, bands, y, x) of the scenes, labelled, lazy (``side``: of the layout keys, when
    not the grid's own, :func:`hybrid.stac.overlap.key_size`)."""
    cube = _load_scenes(scenes, bands, grid, side)
    return cube.assign_coords(t=[_midnight(d.date) for d in scenes], bands=list(bands)).transpose(
        "t", "bands", "y", "x"
    )


def _kept_cube(
    scenes: list[DailyScenes], bands: tuple[str, ...], grid: Grid, max_bytes: int
) -> tuple[xr.DataArray, dict[str, tuple[int, ...]]] | None:
    """The scenes' ``bands`` read into memory, and the chunks of a fresh load's t, y and
    x (:mod:`hybrid.backends.local.shared_loads`); None when larger than ``max_bytes``."""
    lazy = _lazy_cube(scenes, bands, grid)
    if lazy.size * lazy.dtype.itemsize > max_bytes:
        return None
    chunks = {d: tuple(lazy.chunksizes[d]) for d in ("t", "y", "x")}
    return lazy.compute(), chunks


def single_native_epsg(scenes: list[DailyScenes]) -> int | None:
    """The CRS of the load when every selected item shares one, else None (the UTM zone
    of the bbox's representative point then).

    Copernicus's load_stac takes the one EPSG of the items' finest assets of the
    requested bands as target CRS and falls back to ``best_utm()`` only when they are
    in several UTM zones [openeo-geopyspark-driver openeogeotrellis/load_stac.py
    L621-638 at 9baf2e10]. FIELD_NOTES section 1 says "the UTM zone of the bbox's
    representative point" for every load; the two differ only when all scenes found
    lie in a neighbouring zone's tiles.
    """
    epsgs = {item_epsg(item) for day in scenes for item in day.items}
    return epsgs.pop() if len(epsgs) == 1 and None not in epsgs else None


def _midnight(date: dt.date) -> Any:
    import numpy as np

    return np.datetime64(date.isoformat(), "ns")


def _load_scenes(
    scenes: list[DailyScenes], bands: tuple[str, ...], grid: Grid, side: int | None
) -> xr.DataArray:
    """(t, bands, y, x): every date's mosaic, in one odc-stac load when possible.

    All items go into one ``odc.stac.load`` (one graph layer per band instead of one per
    item) when they share asset keys and nodata values. Each date's mosaic is then, per
    layout key, the first valid value of the items serving that key
    (:func:`hybrid.stac.overlap.serving_keys`), in the date's merge order. Where one
    item serves every key (the usual case) nothing is masked.
    """
    import numpy as np
    import xarray as xr

    from hybrid.stac.overlap import serving_keys

    masks = [serving_keys(day.items, grid, side) for day in scenes]
    items = [item for day in scenes for item in day.items]
    layouts = [detect_layout(item) for item in items]
    keys = band_keys(items, layouts, bands)
    nodata = [band_nodata(lay, i, bands, k) for lay, i, k in zip(layouts, items, keys, strict=True)]
    chunks = load_chunks(items[0], layouts[0], bands, grid)
    if len(set(keys)) > 1 or len(set(nodata)) > 1:
        days = [
            _load_day(day, day_masks, bands, grid, chunks, side)
            for day, day_masks in zip(scenes, masks, strict=True)
        ]
        return xr.concat(days, dim="t", join="exact")
    offsets = np.array(
        [[lay.dn_offset(i, b) for b in bands] for lay, i in zip(layouts, items, strict=True)],
        dtype=np.float32,
    )
    # one key tuple for all items: it names every band (band_keys refuses a band no item has)
    shared = cast(tuple[str, ...], keys[0])
    stack = _load_items(items, shared, nodata[0], offsets, grid, chunks)
    position, start = [], 0
    for day in scenes:
        position.append(list(range(start, start + len(day.items))))
        start += len(day.items)
    mosaic = None
    for j in range(max(len(p) for p in position)):
        layer = stack.isel(t=[p[j] if len(p) > j else p[0] for p in position])
        serves = np.stack([m[j] if len(m) > j else np.zeros_like(m[0]) for m in masks])
        if not serves.all():
            layer = layer.where(_pixel_mask(serves, grid, layer, ("t", "y", "x"), side))
        mosaic = layer if mosaic is None else mosaic.fillna(layer)
    assert mosaic is not None
    return mosaic


def _pixel_mask(
    keys: Any, grid: Grid, layer: xr.DataArray, dims: tuple[str, ...], side: int | None
) -> Any:
    """The serving ``keys`` (layout keys) as a lazy pixel mask chunked like ``layer``."""
    import xarray as xr

    from hybrid.stac.overlap import key_mask, key_size

    chunks = tuple(layer.chunksizes[d] for d in dims)
    side = side or key_size(grid.width, grid.height)
    return xr.DataArray(key_mask(keys, side, chunks), dims=dims)


def _load_items(
    items: list[Any],
    keys: tuple[str, ...],
    nodata: tuple[float, ...],
    offsets: Any,
    grid: Grid,
    chunks: dict[str, Any],
) -> xr.DataArray:
    """(t, bands, y, x) of ``items`` (one per t, in order) in one odc-stac load."""
    import numpy as np
    import xarray as xr
    from odc.geo.geobox import GeoBox

    from hybrid.backends.local.aligned_reads import (
        block_aligned,
        repeatable_keys,
        repeated_layer,
        values_block,
    )

    # search() hands out detached copies with absolute hrefs
    prepared = list(items)
    headers = [check_assets(item, list(keys)) for item in prepared]
    aligned = block_aligned(grid, headers, keys, TARGET_CHUNK)
    if aligned is not None:
        grid, chunks = aligned.grid, aligned.chunks
    geobox = GeoBox.from_bbox(
        (grid.xmin, grid.ymin, grid.xmax, grid.ymax), crs=grid.crs, resolution=grid.resolution
    )
    repeated = repeatable_keys(prepared, keys, nodata, headers, geobox, grid.epsg)
    warped = [k for k in keys if k not in repeated]
    ds = _odc_load(prepared, warped, keys, nodata, geobox, chunks) if warped else None
    layers = []
    for b, key in enumerate(keys):
        if key in repeated:
            layers.append(repeated_layer(repeated[key], geobox, chunks, ds, offsets[:, b]))
            continue
        assert ds is not None
        raw = ds[key].rename(time="t")
        values = raw.data.map_blocks(
            values_block, offsets[:, b], nodata[b], meta=np.empty((0, 0, 0), np.float32)
        )
        layers.append(xr.DataArray(values, dims=raw.dims, coords=raw.coords))
    out = xr.concat(layers, dim="bands", join="exact", coords="minimal", compat="override")
    out = out.drop_vars([c for c in out.coords if c not in ("x", "y")])
    out = out.transpose("t", "bands", "y", "x")
    return out if aligned is None else aligned.unpadded(out)


def _odc_load(
    items: list[Any],
    bands: list[str],
    keys: tuple[str, ...],
    nodata: tuple[float, ...],
    geobox: Any,
    chunks: dict[str, Any],
) -> Any:
    """odc-stac's lazy load of ``bands`` of ``items`` (one per time) on ``geobox``."""
    import odc.stac

    cfg = {"*": {"assets": {k: {"nodata": n} for k, n in zip(keys, nodata, strict=True)}}}
    try:
        return odc.stac.load(
            items,
            bands=bands,
            geobox=geobox,
            resampling="nearest",
            chunks={"time": 1, **chunks},
            groupby=lambda _item, _parsed, index: index,
            stac_cfg=cfg,
            fail_on_error=True,
        )
    except (ValueError, KeyError, RuntimeError) as exc:
        hint = _metadata_hint(str(exc))
        raise DataSourceError(f"cannot load items {items[0].id}...: {exc}{hint}") from exc


def _metadata_hint(message: str) -> str:
    """Which item field odc-stac's terse message is about, where it is known."""
    if "for shape" in message:
        return (
            " (the assets' proj:shape must be two integers, as the STAC projection extension says)"
        )
    return ""


def _load_day(
    day: DailyScenes,
    masks: list[Any],
    bands: tuple[str, ...],
    grid: Grid,
    chunks: dict[str, Any],
    side: int | None,
) -> xr.DataArray:
    """One date's mosaic: per key, the first valid value of the items serving it."""

    mosaic = None
    for item, serves in zip(day.items, masks, strict=True):
        layer = load_item(item, bands, grid, chunks)
        if not serves.all():
            layer = layer.where(_pixel_mask(serves, grid, layer, ("y", "x"), side))
        mosaic = layer if mosaic is None else mosaic.fillna(layer)
    assert mosaic is not None
    return mosaic
