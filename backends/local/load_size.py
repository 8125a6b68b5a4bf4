"""Copernicus's size check of a load_collection, made before anything is searched or read.

Copernicus refuses a load_collection whose estimated pixel count is too large before it
evaluates it (openeo-geopyspark-driver 9baf2e10 ``layercatalog.py`` ``load_collection``
L97-121, ``extra_validation_load_collection`` L1234-1360, ``is_layer_too_large``
L1362-1465), from the load's parameters alone:

- estimated pixels = the extent's area / a cell's area x observations x bands (L1434);
- observations are not counted from a search but estimated
  (``estimate_number_of_temporal_observations`` L949-975): the load's period, clamped to
  the collection's (``derive_temporal_extent`` L898-947; an open start 2000-01-01, an open
  end now: ``utils.py`` L139-144), divided by the collection's t ``step``, 10 days (P10D)
  when it has none, as SENTINEL2_L2A (its CDSE catalog entry), rounded down, at least 1;
- bands: the load's, else every band of the collection (19 for SENTINEL2_L2A, L1290-1296);
- a cell: the mean of the bands' ``gsd`` (1/sqrt of the mean of 1/gsd^2, bands without
  one left out: L1311-1331), in the UTM zone of the extent (Auto42001); a resample_spatial
  the dry run hands the load gives its resolution and projection instead (L1402-1410);
- the threshold is 1e11 pixels (``LARGE_LAYER_THRESHOLD_IN_PIXELS``, L78), 1e10 for a
  collection Sentinel Hub may serve (L79, L1246-1256; ``potential_sentinelhub``
  L1223-1231: ``provider:backend`` "sentinelhub", itself or a merged collection). CDSE's
  SENTINEL2_L2A has ``"provider:backend": "creodias"`` and no merged collections, so 1e11;
- over it, aggregate_spatial's (else filter_spatial's) geometries are counted instead:
  their rough area (the sum of every polygon's bbox, in degrees) over a cell reprojected
  to degrees at the CRS's origin (L1437-1461);
- a synchronous request (``sync_job``, openeo-python-driver 9e5b49b2 ``views.py`` L723)
  also refuses an extent over 20000 pixels a side, unless such geometries follow
  (L1431-1432).

The refusal is a 400 ``ProcessGraphComplexity`` (L111-121). A batch job makes the check
when it runs (``deploy/batch_job.py`` L348-356 hand the job option ``do_extent_check`` to
its evaluation): its start is accepted and the job fails with the error in its log. A
synchronous request cannot turn it off: its job options stay under the evaluation's
``job_options`` (views.py L722), which the check does not read. A failure of the
estimate itself refuses nothing (L102-109). load_stac has no such check
(``load_stac.py``). Not here: a resample_cube_spatial handed to the load (the target
cube's grid) is not estimated, and an extent wider than hybrid's own limit
(:data:`hybrid.limits.MAX_SPAN_DEG`) is left to that limit's refusal ("split the area").
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hybrid.backends.local.size_hints import SizeHint
from hybrid.errors import ExtentTooLarge
from hybrid.limits import MAX_PIXELS, SYNC_MAX_SIDE, load_check_kind

if TYPE_CHECKING:
    from hybrid.backends.local.extents import LoadExtent
    from hybrid.grid import BBox

_log = logging.getLogger(__name__)

#: the collection's time step when its ``cube:dimensions`` gives none (L964)
_STEP_SECONDS = 10 * 86400.0
#: the extent's open start (openeo-geopyspark-driver ``utils.py`` L142)
_OPEN_START = "2000-01-01"


def check_load_sizes(loads: Mapping[str, LoadExtent]) -> None:
    """Refuse a load_collection Copernicus refuses for its size in the kind of request
    :func:`hybrid.limits.load_check` set (nothing when "off")."""
    kind = load_check_kind()
    if kind == "off":
        return
    for load in loads.values():
        if load.process != "load_collection" or load.spatial is None:
            continue
        for hint in sorted(load.sizes or {SizeHint()}, key=repr):
            try:
                problem = _problem(load, hint, sync=kind == "sync")
            except Exception as exc:  # the estimate failing refuses nothing (L102-109)
                _log.warning("load %s: no size estimate: %r", load.node, exc)
                continue
            if problem is not None:
                raise ExtentTooLarge(f"load_collection SENTINEL2_L2A: {problem}", node=load.node)


def _problem(load: LoadExtent, hint: SizeHint, *, sync: bool) -> str | None:
    """Why the load is too large for Copernicus, with the way through; None if it is not."""
    from hybrid.backends.local.extents import UNKNOWN

    bands = _bands(load.bands)
    grid = _grid(hint, bands)
    if grid is None or load.spatial is None or load.spatial is UNKNOWN:
        return None
    if _beyond_span(load.spatial):  # hybrid's own limit refuses it when the load runs
        return None
    cell_x, cell_y, crs = grid
    width, height, epsg = _extent_size(load.spatial, crs)
    columns, rows = width / cell_x, height / cell_y
    unit = "m" if crs is None else f"units of EPSG:{epsg}"
    if hint.resample is not None and (cell_x, cell_y, crs) != _grid(SizeHint(), bands):
        unit += ", the resolution resample_spatial hands the load"
    if sync and (columns > SYNC_MAX_SIDE or rows > SYNC_MAX_SIDE) and not hint.geometries:
        return (
            f"the extent is {columns:.0f} x {rows:.0f} pixels of {cell_x:g} {unit}, more than "
            f"the {SYNC_MAX_SIDE} x {SYNC_MAX_SIDE} a synchronous request loads on Copernicus "
            "(ProcessGraphComplexity there): make the extent smaller, or run the graph as a "
            "batch job"
        )
    dates = observations(load.temporal)
    pixels = width * height / (cell_x * cell_y) * dates * len(bands)
    if pixels <= MAX_PIXELS:
        return None
    if hint.geometries and hint.rough_area is not None:
        pixels = hint.rough_area / _degree_cell(cell_x, cell_y, epsg) * dates * len(bands)
        if pixels <= MAX_PIXELS:
            return None
    way = (
        "or run it as a batch job with the job option do_extent_check: false"
        if sync
        else "or, in a batch job, set the job option do_extent_check: false"
    )
    return (
        f"the load is an estimated {pixels:.2e} pixels ({columns:.0f} x {rows:.0f} of "
        f"{cell_x:g} {unit} x {dates} dates, one per 10 days, x {len(bands)} bands), more than "
        f"the {MAX_PIXELS:.0e} Copernicus loads (ProcessGraphComplexity there): make the "
        f"extent smaller, the period shorter or the bands fewer, {way}"
    )


def _beyond_span(bbox: BBox) -> bool:
    """Whether ``bbox`` is wider than hybrid's own limit of a load,
    :data:`hybrid.limits.MAX_SPAN_DEG` (``load_extents.load_bbox``), which answers it."""
    from hybrid.grid import lonlat_bbox
    from hybrid.limits import MAX_SPAN_DEG

    box = lonlat_bbox(bbox)
    return box.east - box.west > MAX_SPAN_DEG or box.north - box.south > MAX_SPAN_DEG


def observations(temporal: tuple[Any, Any] | None) -> int:
    """Copernicus's estimate of a load's observations: its period within the collection's
    (from 2015-07-04, compared as texts as there), in steps of 10 days, at least 1."""
    import datetime as dt

    from hybrid.collection import sentinel2_l2a
    from hybrid.rfc3339 import aware_datetime

    first = sentinel2_l2a()["extent"]["temporal"]["interval"][0][0]
    start, end = temporal if temporal is not None else (None, None)
    begin = max(first, start) if isinstance(start, str) else first
    since = aware_datetime(begin or _OPEN_START)
    until = aware_datetime(end) if isinstance(end, str) else dt.datetime.now(dt.UTC)
    return max(math.floor((until - since).total_seconds() / _STEP_SECONDS), 1)


def _bands(bands: tuple[str, ...] | None) -> list[str]:
    """The load's bands by their names (aliases resolved), else every band."""
    from hybrid.collection import band_names, collection_band

    if not bands:
        return band_names()
    return [str((collection_band(b) or {"name": b})["name"]) for b in bands]


def _grid(hint: SizeHint, bands: list[str]) -> tuple[float, float, Any] | None:
    """(cell width, cell height, CRS: None for the extent's UTM zone) Copernicus counts
    the load in; None when not known here (a resample_cube_spatial's target)."""
    from hybrid.collection import eo_bands

    if hint.resample is not None and hint.resample[0] == "resample_cube_spatial":
        return None
    if hint.resample is not None:
        resolution, projection = hint.resample[1], hint.resample[2]
        sizes = resolution if isinstance(resolution, list | tuple) else [resolution, resolution]
        if len(sizes) == 2 and all(_number(v) for v in sizes) and 0 not in sizes:
            return abs(float(sizes[0])), abs(float(sizes[1])), projection
    gsd = {b["name"]: b["gsd"] for b in eo_bands() if b.get("gsd")}
    sizes = [float(gsd[b]) for b in bands if b in gsd] or [50000.0]  # L1312, L1317-1318
    step = 1 / math.sqrt(sum(1 / (s * s) for s in sizes) / len(sizes))
    return step, step, None


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _extent_size(bbox: BBox, crs: Any) -> tuple[float, float, int]:
    """The extent's width and height in ``crs`` (None: its UTM zone) and that CRS's EPSG
    code: its corners reprojected (python-driver ``util/geometry.py``
    ``reproject_bounding_box`` L200-215)."""
    import pyproj

    from hybrid.grid import corner_envelope, target_epsg

    epsg = target_epsg(bbox) if crs is None else pyproj.CRS.from_user_input(crs).to_epsg()
    if epsg is None:  # Copernicus reads no EPSG code either (L1420)
        raise ValueError(f"no EPSG code for the CRS {crs!r}")
    bounds = (bbox.west, bbox.south, bbox.east, bbox.north)
    if pyproj.CRS.from_user_input(bbox.crs).to_epsg() != epsg:
        bounds = corner_envelope(bounds, bbox.crs, f"EPSG:{epsg}")
    west, south, east, north = bounds
    return east - west, north - south, int(epsg)


def _degree_cell(cell_x: float, cell_y: float, epsg: int) -> float:
    """A cell's area in square degrees, as Copernicus reprojects the cell at the origin of
    its CRS (L1450-1455)."""
    if epsg == 4326:
        return cell_x * cell_y
    from hybrid.grid import BBox

    width, height, _ = _extent_size(BBox(0.0, 0.0, cell_x, cell_y, crs=f"EPSG:{epsg}"), 4326)
    return width * height
