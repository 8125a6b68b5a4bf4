"""Generate the whole sample: render every granule, write its COGs and STAC JSON."""

from __future__ import annotations

import datetime as dt
import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from shapely.geometry import Polygon, mapping
from shapely.geometry.polygon import orient

from hybrid.errors import UsageError
from hybrid.sample import scene
from hybrid.sample.cog import write_cog
from hybrid.sample.extra_bands import render_extra_bands
from hybrid.sample.grid import (
    FRAME_EPSG,
    RES_BANDS,
    RES_SCL,
    Layout,
    Window,
    densify,
    make_layout,
    reproject_geometry,
    window_outline,
)
from hybrid.sample.schedule import Acquisition, acquisitions
from hybrid.sample.stac import BANDS, ItemFacts, collection_json, item_json
from hybrid.sample.weather import (
    Sky,
    earth_sun_factor,
    make_sky,
    sample_sky,
    valid_half_plane,
)

#: 32TLR reaches this far east of the AOI margin, 31TGL this far west: the tiles'
#: extents differ, so their cloud covers can too.
EAST_EXTRA_M = 1800.0
WEST_EXTRA_M = 600.0
#: 31TGL granules are stamped a few seconds apart from 32TLR ones, like real granules.
_TGL_TIME_SHIFT = dt.timedelta(seconds=-3, milliseconds=-372)


def _footprint(window: Window, sky: Sky) -> Polygon:
    """Valid-data outline of a granule in lon/lat."""
    outline = window_outline(window)
    corners = valid_half_plane(sky.edge, outline.bounds)
    if corners is not None:
        outline = outline.intersection(Polygon(corners))
    simple = densify(outline.simplify(1.0), 1000.0)
    return orient(reproject_geometry(simple, FRAME_EPSG, 4326), sign=1.0)


def _geojson(poly: Polygon) -> dict[str, Any]:
    geo = mapping(poly)
    rings = [[[round(x, 9), round(y, 9)] for x, y in ring] for ring in geo["coordinates"]]
    return {"type": "Polygon", "coordinates": rings}


def _rounded_bounds(poly: Polygon) -> tuple[float, float, float, float]:
    left, bottom, right, top = poly.bounds
    return (round(left, 9), round(bottom, 9), round(right, 9), round(top, 9))


def _write_json(path: Path, obj: dict[str, Any]) -> None:
    path.write_text(json.dumps(obj, indent=2) + "\n", encoding="utf-8")


class _Grids:
    """Static landscape per (tile, resolution), built on first use."""

    def __init__(self, layout: Layout, seed: int) -> None:
        self.layout = layout
        self.seed = seed
        self.noise = scene.static_noise(layout, seed=seed)
        self._cache: dict[tuple[str, int], scene.Grid] = {}

    def get(self, tile: str, res: int) -> scene.Grid:
        key = (tile, res)
        if key not in self._cache:
            window = self.layout.windows[tile]
            self._cache[key] = scene.make_grid(window, res, self.layout, self.noise, seed=self.seed)
        return self._cache[key]


def _write_assets(folder: Path, window: Window, rasters: dict[str, np.ndarray]) -> None:
    """One COG per band (named as in ``BANDS``) at the band's own resolution."""
    for band in BANDS:
        write_cog(
            folder / band.file,
            rasters[band.name],
            transform=window.transform(band.res),
            crs=window.tile.epsg,
            nodata=0,
            resampling="nearest",
        )


def _render_acquisition(
    root: Path, acq: Acquisition, grids: _Grids, *, seed: int
) -> list[dict[str, Any]]:
    sky = make_sky(acq, grids.layout, seed=seed)
    hours = acq.sensing.hour + acq.sensing.minute / 60
    doy = acq.sensing.timetuple().tm_yday + hours / 24
    items = []
    for code in acq.tiles:
        g10, g20 = grids.get(code, RES_BANDS), grids.get(code, RES_SCL)
        window = g10.window
        at = sample_sky(sky, g10.coords, g10.east, g10.north)
        gr = scene.ground(g10, doy, sky.sun)  # shared by the 10 m bands and the others
        bands = scene.render_bands(g10, doy, sky, at, gr)
        extra = render_extra_bands(g10, doy, sky, at, gr)
        variants = [(0, scene.render_scl(g20, doy, sky))]
        if acq.reprocessed and code == "32TLR":
            variants.append((1, scene.render_scl(g20, doy, sky, cautious=True)))
        poly = _footprint(window, sky)
        for sequence, scl in variants:
            facts = ItemFacts(
                acq=acq,
                tile=window.tile,
                window=window,
                sequence=sequence,
                sensing=acq.sensing + (_TGL_TIME_SHIFT if code == "31TGL" else dt.timedelta()),
                sun=sky.sun,
                scl_counts=np.bincount(scl.ravel(), minlength=12),
                footprint=_geojson(poly),
                bbox=_rounded_bounds(poly),
                reflectance_factor=earth_sun_factor(acq.date),
            )
            folder = root / facts.id
            folder.mkdir(parents=True, exist_ok=True)
            rasters = {b.name: bands[k] for k, b in enumerate(BANDS[:4])}
            _write_assets(folder, window, {**rasters, "SCL": scl, **extra})
            item = item_json(facts)
            _write_json(folder / f"{facts.id}.json", item)
            items.append(item)
    return items


def generate_sample(
    root: Path,
    *,
    seed: int = 0,
    n_dates: int | None = None,
    margin_m: float = 1600.0,
) -> Path:
    """Write the sample into ``root`` and return the path of its ``collection.json``.

    ``seed`` draws the clouds and the parcels' details; ``n_dates`` keeps only the first
    n acquisitions of the season (fewer dates, faster); ``margin_m`` is the distance
    kept around the AOI (smaller is faster, larger makes bigger rasters). The special
    cases listed in :mod:`hybrid.sample.schedule` are guaranteed for the defaults only.
    """
    schedule = acquisitions()
    if n_dates is not None:
        if not 1 <= n_dates <= len(schedule):
            raise UsageError(
                f"n_dates must be between 1 and {len(schedule)}, got {n_dates}; "
                "the sample season has no more acquisitions"
            )
        schedule = schedule[:n_dates]
    if margin_m < 0:
        raise UsageError(f"margin_m must be >= 0 metres, got {margin_m}")
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    layout = make_layout(margin_m=margin_m, east_extra_m=EAST_EXTRA_M, west_extra_m=WEST_EXTRA_M)
    grids = _Grids(layout, seed)
    for code in sorted({code for acq in schedule for code in acq.tiles}):
        grids.get(code, RES_BANDS), grids.get(code, RES_SCL)  # built once, before the threads
    # acquisitions are independent (each draws from its own seeded generator) and the
    # work is numpy, scipy and GDAL, which release the GIL: render them on all cores
    with ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
        rendered = pool.map(lambda acq: _render_acquisition(root, acq, grids, seed=seed), schedule)
        items = [item for acq_items in rendered for item in acq_items]
    collection = root / "collection.json"
    _write_json(collection, collection_json(items))
    return collection
