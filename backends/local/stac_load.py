"""load_stac of a STAC Collection, Catalog or Item, as Copernicus runs it.

openeo-python-driver ``process_implementations/io.py`` L295-335 hands load_stac its own
``spatial_extent``, ``temporal_extent``, ``bands`` and ``properties`` on top of what the
dry run found after it (filter_bbox, filter_temporal, filter_bands: the same rules as for
load_collection, ``dry_run.py`` L459-481; :mod:`hybrid.backends.local.extents`); unlike
load_collection nothing has to bound it: without a spatial extent the items' extent is
loaded (openeogeotrellis/load_stac.py L569). Open temporal bounds are 2000-01-01 and now
(L230, ``normalize_temporal_extent``). No item meeting the extents is NoDataAvailable
(L268-269) unless the ``featureflags`` say ``allow_empty_cube``: then the cube has the
requested bands and no date, on the grid of the spatial extent (L212, L816-822,
L842-846). What is read and how:
:mod:`~hybrid.backends.local.stac_items`, :mod:`~hybrid.backends.local.stac_source`,
:mod:`~hybrid.backends.local.stac_cube`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hybrid.grid import BBox, Grid

if TYPE_CHECKING:
    import xarray as xr


@dataclass(frozen=True)
class LoadedStac:
    cube: xr.DataArray
    #: the grid the result is cropped back to
    grid: Grid
    #: ids of the items read
    items: tuple[str, ...]


def load_stac(
    url: Any,
    *,
    bbox: BBox | None,
    interval: tuple[str, str],
    bands: list[str] | None,
    properties: tuple[Any, ...] = (),
    buffer: int = 0,
    allow_empty: bool = False,
) -> LoadedStac:
    """The lazy cube of a STAC document (see the module docstring); ``properties``: the
    load's property conditions (:func:`~hybrid.backends.local.property_filters.
    stac_property_conditions`); ``allow_empty``: no item is a cube without dates."""
    from hybrid.backends.local.stac_cube import (
        choose_grid,
        empty_cube,
        lazy_cube,
        stac_without_empty_dates,
    )
    from hybrid.backends.local.stac_documents import read_stac
    from hybrid.backends.local.stac_items import Extent, stac_items
    from hybrid.backends.local.stac_source import (
        cube_bands,
        listed_bands,
        no_data,
        scenes_of,
        stac_location,
    )
    from hybrid.grid import lonlat_bbox
    from hybrid.stac.query import parse_instant

    stac = read_stac(stac_location(url))
    extent = Extent(
        start=parse_instant(interval[0], what="temporal_extent start"),
        end=parse_instant(interval[1], what="temporal_extent end"),
        lonlat=None if bbox is None else lonlat_bbox(bbox),
    )
    items = stac_items(stac, extent, tuple(properties or ()))
    scenes = scenes_of(items, list(bands) if bands else None)
    if not scenes and allow_empty:
        names = list(bands) if bands else cube_bands(None, listed_bands(stac), [], str(url))
        grid = choose_grid([], names, bbox)
        return LoadedStac(empty_cube(names, grid.buffered(buffer)), grid, ())
    if not scenes:
        raise no_data(str(url))
    names = cube_bands(list(bands) if bands else None, listed_bands(stac), scenes, str(url))
    grid = choose_grid(scenes, names, bbox)
    cube = lazy_cube(scenes, names, grid.buffered(buffer))
    cube, scenes = stac_without_empty_dates(cube, scenes, names, grid.buffered(buffer))
    return LoadedStac(cube, grid, tuple(s.id for s in scenes))
