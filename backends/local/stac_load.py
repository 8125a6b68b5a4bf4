"""load_stac of a STAC Collection, Catalog or Item, as Copernicus runs it.

openeo-python-driver ``process_implementations/io.py`` L295-335 hands load_stac its own
``spatial_extent``, ``temporal_extent``, ``bands`` and ``properties`` on top of what the
dry run found after it (filter_bbox, filter_temporal, filter_bands: the same rules as for
load_collection, ``dry_run.py`` L459-481; :mod:`hybrid.backends.local.extents`); unlike
load_collection nothing has to bound it: without a spatial extent the items' extent is
loaded (openeogeotrellis/load_stac.py L569). An open temporal bound stays open for the
items (:func:`stac_interval`) and is the items' in the cube's temporal extent
(:attr:`LoadedStac.span`). No item meeting the extents is NoDataAvailable
(L268-269) unless the ``featureflags`` say ``allow_empty_cube`` (without it, a batch
job's option ``allow_empty_cubes``: :mod:`hybrid.server.job_options`): then the cube has the
requested bands and no date, on the grid of the spatial extent (L212, L816-822,
L842-846). What is read and how:
:mod:`~hybrid.backends.local.stac_items`, :mod:`~hybrid.backends.local.stac_source`,
:mod:`~hybrid.backends.local.stac_cube`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hybrid.backends.local.cell_types import FLOAT, LOAD_CELL_TYPE
from hybrid.grid import BBox, Grid

if TYPE_CHECKING:
    import xarray as xr

    from hybrid.backends.local.cell_types import TileType
    from hybrid.backends.local.stac_items import StacScene
    from hybrid.backends.local.stac_searches import StacSearches


@dataclass(frozen=True)
class LoadedStac:
    cube: xr.DataArray
    #: the grid the result is cropped back to
    grid: Grid
    #: ids of the items read
    items: tuple[str, ...]
    #: the found items' temporal extent (isoformat; None: no item), the cube's where the
    #: load leaves a bound open (load_stac.py L584-593, ``get_temporal_extent`` L1650-1660)
    span: tuple[str | None, str | None] = (None, None)


def stac_interval(temporal_extent: Any) -> tuple[str | None, str | None]:
    """The [start, end) a load_stac's items are filtered with, an open bound None:
    Copernicus filters them with the extent as given (load_stac.py ``_TemporalExtent``
    L1125-1145, ``intersects`` L1161-1185); the 2000-01-01 and now that
    ``normalize_temporal_extent`` puts in place of an open bound (L229-235) only reach
    the JVM, whose ``FixedFeaturesOpenSearchClient.getProducts`` hands back every item
    whatever the dates (openeo-geotrellis-extensions 2a25a26e
    ``FixedFeaturesOpenSearchClient.scala`` L46-47). Two bounds are read as a
    load_collection's (the same start and end: that whole day)."""
    from hybrid.backends.local.load_extents import interval_texts, load_interval

    start, end = interval_texts(temporal_extent, "load_stac") or (None, None)
    if start is not None and end is not None:
        return load_interval(temporal_extent, "load_stac")
    return start, end


def item_extent(interval: tuple[str | None, str | None], bbox: BBox | None) -> Any:
    """The :class:`~hybrid.backends.local.stac_items.Extent` the items must meet."""
    from hybrid.backends.local.stac_items import OPEN_END, OPEN_START, Extent
    from hybrid.grid import lonlat_bbox
    from hybrid.stac.query import parse_instant

    start, end = interval
    return Extent(
        start=OPEN_START if start is None else parse_instant(start, what="temporal_extent start"),
        end=OPEN_END if end is None else parse_instant(end, what="temporal_extent end"),
        lonlat=None if bbox is None else lonlat_bbox(bbox),
    )


def load_stac(
    url: Any,
    *,
    bbox: BBox | None,
    interval: tuple[str | None, str | None],
    bands: list[str] | None,
    properties: tuple[Any, ...] = (),
    buffer: int = 0,
    allow_empty: bool = False,
    cell_type: TileType | None = None,
    searches: StacSearches | None = None,
) -> LoadedStac:
    """The lazy cube of a STAC document (see the module docstring); ``properties``: the
    load's property conditions (:func:`~hybrid.backends.local.property_filters.
    stac_property_conditions`); ``interval``: :func:`stac_interval`; ``allow_empty``: no
    item is a cube without dates; ``cell_type``: the cube's, as :func:`mark_cell_types`
    found it before the run (its files' headers are not read again), else the first
    scene's; ``searches``: the run's, where :func:`mark_cell_types` searched the items
    (not searched again)."""
    from hybrid.backends.local.file_pixels import stac_read_attributes
    from hybrid.backends.local.stac_cell_types import holding_dtype
    from hybrid.backends.local.stac_cube import (
        choose_grid,
        empty_cube,
        lazy_cube,
        scene_cell_type,
        stac_without_empty_dates,
    )
    from hybrid.backends.local.stac_searches import StacSearches
    from hybrid.backends.local.stac_source import cube_bands, listed_bands, no_data, scenes_of

    finder = searches or StacSearches()
    stac, items = finder.found(url, item_extent(interval, bbox), tuple(properties or ()))
    span = _items_span(items)
    scenes = scenes_of(items, list(bands) if bands else None)
    if not scenes and allow_empty:
        names = list(bands) if bands else cube_bands(None, listed_bands(stac), [], str(url))
        grid = choose_grid([], names, bbox)
        return LoadedStac(empty_cube(names, grid.buffered(buffer)), grid, (), span)
    if not scenes:
        raise no_data(str(url))
    names = cube_bands(list(bands) if bands else None, listed_bands(stac), scenes, str(url))
    grid = choose_grid(scenes, names, bbox)
    dtype = holding_dtype(cell_type or scene_cell_type(scenes[0], names) or FLOAT)
    cube = lazy_cube(scenes, names, grid.buffered(buffer), dtype)
    cube, scenes = stac_without_empty_dates(cube, scenes, names, grid.buffered(buffer))
    cube.attrs.update(stac_read_attributes(scenes, names))
    return LoadedStac(cube, grid, tuple(s.id for s in scenes), span)


def _items_span(items: list[Any]) -> tuple[str | None, str | None]:
    """The earliest start and latest end of ``items`` (their start_datetime and
    end_datetime, else their datetime), as isoformat texts."""
    from hybrid.backends.local.stac_items import item_interval

    bounds = [item_interval(item) for item in items]
    starts = [start for start, _ in bounds if start is not None]
    ends = [end for _, end in bounds if end is not None]
    return (
        min(starts).isoformat() if starts else None,
        max(ends).isoformat() if ends else None,
    )


def mark_cell_types(
    graph: Mapping[str, Any],
    conditions: Mapping[str, tuple[Any, ...]] | None = None,
    searches: StacSearches | None = None,
) -> None:
    """Mark each load_stac node of the run's flat ``graph`` with the cell type of its
    cube under :data:`~hybrid.backends.local.cell_types.LOAD_CELL_TYPE`: its first
    item's (:func:`~hybrid.backends.local.stac_cube.scene_cell_type`), from its literal
    url, extents and bands and its property ``conditions`` (by load node id:
    GraphFacts.stac_conditions). Copernicus types the cube by the first item its search
    with those conditions found (openeo-geopyspark-driver 9baf2e10 ``load_stac.py``
    L218-222 and L249-263 search with them, L277 and L549 hand the items found to a
    ``FixedFeaturesOpenSearchClient``; openeo-geotrellis-extensions 2a25a26e
    FileLayerProvider.scala ``determineCelltype`` L997-1005 takes the first). The items
    are searched in the run's ``searches``, where the run takes them. No mark (float32)
    where they are not literal, nothing is found or a file cannot be read: the load
    itself then says why, and its warnings, so none is given here."""
    from hybrid.backends.local.load_arguments import load_node
    from hybrid.backends.local.stac_searches import StacSearches
    from hybrid.errors import HybridError
    from hybrid.run_warnings import warnings_to

    finder = searches or StacSearches()
    for node in graph.values():
        if not isinstance(node, dict) or node.get("process_id") != "load_stac":
            continue
        arguments = node.setdefault("arguments", {})
        own = (conditions or {}).get(load_node(arguments.get("properties")) or "", ())
        with warnings_to(lambda *_args, **_entry: None):
            try:
                tile = _first_item_cell_type(arguments, tuple(own), finder)
            except (HybridError, OSError, ValueError, TypeError, KeyError):
                tile = None
        if tile is not None:
            arguments[LOAD_CELL_TYPE] = list(tile)


def _first_item_cell_type(
    arguments: Mapping[str, Any], conditions: tuple[Any, ...], searches: StacSearches
) -> TileType | None:
    from hybrid.backends.local.load_extents import parse_bbox
    from hybrid.backends.local.stac_cube import scene_cell_type
    from hybrid.backends.local.stac_source import cube_bands, listed_bands, scenes_of

    url, spatial, asked = (arguments.get(k) for k in ("url", "spatial_extent", "bands"))
    interval = stac_interval(arguments.get("temporal_extent"))
    bbox = None if spatial is None else parse_bbox(spatial)
    stac, items = searches.found(url, item_extent(interval, bbox), conditions)
    selection = list(asked) if asked else None
    scenes: list[StacScene] = scenes_of(items, selection)
    if not scenes:
        return None
    return scene_cell_type(
        scenes[0], cube_bands(selection, listed_bands(stac), scenes[:1], str(url))
    )
