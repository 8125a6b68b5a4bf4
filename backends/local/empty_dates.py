"""The dates a load keeps: those with a value in some band, as Copernicus drops the rest.

Copernicus reads a load per layout tile ("key", 256 px) and date, and drops every tile
whose bands are all no data before anything else sees the cube (openeo-geotrellis-
extensions 2a25a26e FileLayerProvider.scala ``rasterRegionsToTiles`` L708, and L664 on
the load-per-product path: ``retainNoDataTiles`` is false, its default, L332, for the
``file.PyramidFactory`` that load_stac and load_collection build, PyramidFactory.scala
L68-82; geopyspark-driver 9baf2e10 load_stac.py L709-718). A cube's dates are the dates
of its tiles, so a date whose products reach the extent but hold no data there (a swath
edge inside a product's footprint) is no date of the cube: the netCDF writer lists the
dates of the tiles it has (NetCDFRDDWriter.scala L136-146), a time series the dates of
its rows (python-driver save_result.py ``AggregatePolygonResultCSV.get_data`` L717-723),
aggregate_temporal makes a period only from the tiles it has (OpenEOProcesses.scala
``aggregateTemporal`` L480-491, L512-527), and every process over ``t`` sees the dates
left (positions for ``array_element``, ``count``, interpolation).

Here each date is tested without reading anything twice in the common case: first a
small window of the band with the coarsest files in the centre layout key (a date
holding a value there keeps), then, for the dates still undecided, every band over the
grid grown east and south to whole keys, as Copernicus reads them
(:func:`hybrid.stac.overlap.whole_keys`: a date with a value only in that margin keeps,
all-NaN inside the extent). A date with no value there is dropped, unless no date would
be left (the cube is kept: an empty cube has no form here).

Not followed: a load ``hybrid run`` keeps in memory, and load_stac, are tested over
their grid only; Copernicus's keys start at the corner of its global extent
(:mod:`hybrid.stac.overlap`), only the keys the polygons touch are read for a load
aggregate_spatial alone reads (L1060-1092: a date with a value only between sparse
fields is dropped there), and it decides per key (a date dropped in some keys keeps in
the others: a process over ``t`` sees fewer dates in those keys there).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hybrid.backends.local.surviving_keys import computed

if TYPE_CHECKING:
    from hybrid.grid import Grid
    from hybrid.stac.selection import DailyScenes

    #: the loader's read of items on a grid (:class:`Reads`)
    Reader = Callable[..., Any]

#: the side (pixels) of the window a load_stac probe reads at the grid's centre
PROBE_SIDE = 256
#: the side (pixels) of the window a load_collection probe reads in the centre key
WINDOW = 32


@dataclass(frozen=True)
class Reads:
    """The loader's reads the probes use: ``items`` (items, asset keys, nodata, offsets,
    grid, chunks) and ``dates`` (scenes, bands, grid, key side), each a lazy (t, bands,
    y, x)."""

    items: Reader
    dates: Reader


def without_empty_dates(
    cube: Any,
    scenes: list[DailyScenes],
    bands: tuple[str, ...],
    grid: Grid,
    reads: Reads | None,
) -> tuple[Any, list[DailyScenes]]:
    """The cube and its scenes without the dates holding no value in any band over
    whole layout keys, as Copernicus drops them (module docstring): a small window of
    the coarsest band in the centre key is read first (the centre chunk when the items'
    assets differ), a date with a value there keeps; the others are read over whole keys
    (:func:`hybrid.stac.overlap.whole_keys`). ``reads`` None: a cube in memory, probed
    there and over its grid only."""
    from hybrid.collection import file_resolutions

    band = coarsest_band(bands, file_resolutions())
    surely = None if reads is None else _window_probe(scenes, bands[band], grid, reads.items)
    if surely is None:
        surely = probed(centre_chunk(cube, band))
    check = None if reads is None else _over_whole_keys(scenes, bands, grid, reads.dates)
    keep = kept_dates(cube, surely, check)
    if len(keep) == len(scenes):
        return cube, scenes
    return cube.isel(t=keep), [scenes[i] for i in keep]


def _window_probe(
    scenes: list[DailyScenes], band: str, grid: Grid, read: Reader
) -> list[bool] | None:
    """Per date, whether an item serving the centre key has a value of ``band`` in
    :func:`centre_window`; None when the items' assets or nodata differ."""
    import numpy as np

    from hybrid.backends.local.chunking import load_chunks
    from hybrid.backends.local.item_reads import band_keys, band_nodata
    from hybrid.stac.overlap import key_size, serving_keys
    from hybrid.stac.providers import detect_layout

    items = [item for day in scenes for item in day.items]
    layouts = [detect_layout(item) for item in items]
    keys = band_keys(items, layouts, (band,))
    nodata = [
        band_nodata(lay, i, (band,), k) for lay, i, k in zip(layouts, items, keys, strict=True)
    ]
    if len(set(keys)) > 1 or len(set(nodata)) > 1:
        return None
    window, (row, col) = centre_window(grid, key_size(grid.width, grid.height))
    offsets = np.array([[lay.dn_offset(i, band)] for lay, i in zip(layouts, items, strict=True)])
    chunks = load_chunks(items[0], layouts[0], (band,), window)
    values = read(items, keys[0], nodata[0], offsets.astype(np.float32), window, chunks)
    valid = iter(computed(values.notnull().any(dim=("bands", "y", "x"))))
    return [
        any([bool(next(valid)) and bool(m[row, col]) for m in serving_keys(day.items, grid)])
        for day in scenes
    ]


def _over_whole_keys(
    scenes: list[DailyScenes], bands: tuple[str, ...], grid: Grid, load: Reader
) -> Callable[[list[int]], Any]:
    """Per date of the positions given, whether it holds a value in some band over the
    whole layout keys of ``grid`` (``load``: the loader's lazy load of dates): a key of
    it survives (:mod:`hybrid.backends.local.surviving_keys`)."""
    from hybrid.backends.local.surviving_keys import KeyLayout, per_key, surviving, with_data
    from hybrid.stac.overlap import whole_keys
    from hybrid.stac.providers import detect_layout

    grown, side = whole_keys(grid)
    step = side * grid.resolution
    layout = KeyLayout(grown.xmin, grown.ymax, step, grown.height // side, grown.width // side)

    def check(positions: list[int]) -> Any:
        days = [scenes[i] for i in positions]
        # the bands these dates' items have (a product without SCL gives none)
        items = [item for day in days for item in day.items]
        had = tuple(b for b in bands if any(detect_layout(i).find_key(i, b) for i in items))
        if not had:
            return [False] * len(days)
        return surviving(per_key(with_data(load(days, had, grown, side)), layout))

    return check


def kept_dates(
    cube: Any, surely: Sequence[bool], check: Callable[[list[int]], Any] | None = None
) -> list[int]:
    """The positions along ``t`` of the dates of the (t, bands, y, x) ``cube`` holding a
    value in some band (see the module docstring); all of them when none holds one.
    ``surely``: per date, whether a probe already found a value (those keep unread);
    ``check``: per date of the positions given, whether it holds one (else the cube's,
    its grid as one key: :mod:`hybrid.backends.local.surviving_keys`)."""
    from hybrid.backends.local.surviving_keys import (
        kept_positions,
        per_key,
        surviving,
        with_data,
    )

    survives = [bool(s) for s in surely]
    undecided = [i for i, sure in enumerate(survives) if not sure]
    if undecided:
        if check is None:
            some = surviving(per_key(with_data(cube.isel(t=undecided)), None))
        else:
            some = check(undecided)
        for position, value in zip(undecided, some, strict=True):
            survives[position] = bool(value)
    return kept_positions(survives, keep_all_if_none=True)


def probed(part: Any) -> Any:
    """Per date, whether ``part`` (t first: a part of a cube's values) holds a value."""
    return computed(part.notnull().any(dim=[d for d in part.dims if d != "t"]))


def centre_window(grid: Grid, side: int) -> tuple[Grid, tuple[int, int]]:
    """At most :data:`WINDOW` x :data:`WINDOW` pixels of ``grid`` around its centre, inside
    the layout key (``side`` pixels from the grid's upper-left corner) holding the centre,
    and that key's (row, col)."""
    from hybrid.grid import Grid

    ranges = []
    for size in (grid.height, grid.width):
        centre = size // 2
        key = centre // side
        low = max(key * side, centre - WINDOW // 2)
        ranges.append((key, low, min((key + 1) * side, size, low + WINDOW)))
    (row, top, bottom), (col, left, right) = ranges
    res = grid.resolution
    west, north = grid.xmin + left * res, grid.ymax - top * res
    window = Grid(
        grid.epsg, west, north - (bottom - top) * res, west + (right - left) * res, north, res
    )
    return window, (row, col)


def coarsest_band(bands: Sequence[str], resolutions: dict[str, int]) -> int:
    """The position of the band whose files have the largest pixels (the cheapest to
    read), the first of equals; 0 for bands of unknown resolution."""
    sizes = [resolutions.get(band, 0) for band in bands]
    return sizes.index(max(sizes)) if sizes else 0


def centre_chunk(cube: Any, band: int) -> Any:
    """(t, y, x): band ``band`` of the (t, bands, y, x) ``cube`` in the chunk holding the
    grid's centre (all of it when the cube is not chunked)."""
    return cube.isel(bands=band, y=_centre_slice(cube, "y"), x=_centre_slice(cube, "x"))


def centre_grid(grid: Grid, side: int = PROBE_SIDE) -> Grid:
    """The ``side`` x ``side`` pixels (fewer on a smaller grid) at the centre of ``grid``,
    on its pixels."""
    from hybrid.grid import Grid

    width, height = min(side, grid.width), min(side, grid.height)
    col, row = (grid.width - width) // 2, (grid.height - height) // 2
    res = grid.resolution
    west, north = grid.xmin + col * res, grid.ymax - row * res
    return Grid(grid.epsg, west, north - height * res, west + width * res, north, res)


def _centre_slice(cube: Any, dim: str) -> slice:
    """The slice of ``dim`` of the chunk holding the grid's centre (the dimension when
    the cube is not chunked)."""
    size = cube.sizes[dim]
    chunks = cube.chunksizes.get(dim) if cube.chunks is not None else None
    if not chunks:
        return slice(0, size)
    start = 0
    for length in chunks:
        if start + length > size // 2:
            return slice(start, start + length)
        start += length
    return slice(0, size)
