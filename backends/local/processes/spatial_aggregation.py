"""aggregate_spatial: the statistics of the pixels each geometry covers, with the pixel
inclusion of :mod:`hybrid.backends.local.processes.vector` (centres in the polygon, a
point's pixel).

- one value per geometry and per label of every other dimension (t, bands);
- the reducer sees the values of the covered pixels; a geometry covering no pixel
  (outside the cube, or between pixel centres) gets no value (NaN), as Copernicus
  reindexes missing features to null (openeo-python-driver, openeo_driver/save_result.py,
  ``AggregatePolygonResultCSV.get_data``); its index is in ``attrs["uncovered"]``, as
  Copernicus's CSV has no row for it (only rasterised pixels make rows:
  AggregatePolygonProcess.scala ``aggregateSpatialGeneric`` L270-277);
- over ``t``, a geometry on a date where no layout key holding its pixels has a tile gets
  no value either, and the pair is in ``attrs["absent"]`` (no row there either:
  :mod:`hybrid.backends.local.processes.tile_rows`);
- a reducer returning several values (``array_create`` of mean, sd, ...) gives several
  columns per band, band after band, as Copernicus's SparkAggregateScriptBuilder builds
  them (``bandColumns.flatMap(col => builder(col))``); they are labelled ``band_0``,
  ``band_1``, ... as Copernicus labels unnamed columns (save_result.py, ``to_geoparquet``).

The result is a vector cube: an xarray DataArray with the dimension ``geometries``
first (labels 0..n-1, the feature index), then the cube's other dimensions; the
geometries (in their own CRS) are the ``geometry`` coordinate, their CRS and GeoJSON
properties are in ``attrs`` (``vector_crs``, ``vector_properties``).

The pixels are read once (the window around all geometries) and computed when
aggregate_spatial runs: the vector cube is small and its writers need numbers.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from hybrid.backends.local.processes.labels import callback_cache_entries, forget_results
from hybrid.backends.local.processes.tile_rows import missing_tiles
from hybrid.backends.local.processes.vector import covered_pixels, cube_crs, pixel_transform
from hybrid.errors import ProcessParameterInvalid
from hybrid.geometries import Features, read_features
from hybrid.io.vector import (
    ABSENT,
    CUBE_BANDS,
    INTEGER_COLUMNS,
    STATISTIC_COLUMNS,
    UNCOVERED,
)


def aggregate_spatial(
    data: Any,
    geometries: Any,
    reducer: Callable[..., Any],
    target_dimension: str | None = None,
    context: Any = None,
    integer_statistics: list[bool] | None = None,
    statistic_columns: list[str] | None = None,
    tile_source: Any = None,
) -> Any:
    """openEO aggregate_spatial; ``integer_statistics`` and ``statistic_columns`` (set from
    the graph by :mod:`hybrid.backends.local.spatial_reducers`) are kept for the writers;
    ``tile_source`` (:mod:`hybrid.backends.local.tile_sources`) decides the (geometry,
    date) pairs without a tile: NaN and in ``attrs[ABSENT]``
    (:mod:`hybrid.backends.local.processes.tile_rows`)."""
    import xarray as xr

    if target_dimension is not None:
        # as Copernicus (geopysparkdatacube.py, aggregate_spatial: FeatureUnsupported)
        raise ProcessParameterInvalid(
            "aggregate_spatial: target_dimension is not supported (as on Copernicus); leave it null"
        )
    features = read_features(geometries, process="aggregate_spatial")
    _warn_not_on_copernicus(features, timed="t" in data.dims)
    pixels = _pixels_per_geometry(data, features)
    others = [str(d) for d in data.dims if d not in ("x", "y")]
    values, index = _read_pixels(data, others, pixels)
    results = _reduce_each(values, index, reducer, context)
    count = next((r.shape[-1] for r in results if r is not None), 1)
    base = values.shape[:-1]
    stacked = np.stack([r if r is not None else np.full((*base, count), np.nan) for r in results])
    stacked, dims, coords = _statistics_laid_out(stacked, data, others, count)
    geometry = np.empty(len(features.geometries), dtype=object)
    geometry[:] = list(features.geometries)
    coords["geometries"] = np.arange(len(features.geometries))
    out = xr.DataArray(stacked, dims=dims, coords=coords).assign_coords(
        geometry=("geometries", geometry)
    )
    out.attrs = {
        "vector_crs": features.crs,
        "vector_properties": list(features.properties),
        UNCOVERED: [i for i, (rows, _) in enumerate(pixels) if len(rows) == 0],
    }
    if tile_source is not None:
        _without_tiles(out, missing_tiles(data, tile_source, pixels, values, index))
    if integer_statistics is not None and len(integer_statistics) == count:
        out.attrs[INTEGER_COLUMNS] = list(integer_statistics)  # per statistic
    if statistic_columns is not None and len(statistic_columns) == count:
        out.attrs[STATISTIC_COLUMNS] = list(statistic_columns)
    if "bands" in others:
        out.attrs[CUBE_BANDS] = [str(b) for b in data["bands"].values]
    return out


def _without_tiles(out: Any, pairs: list[tuple[int, int]]) -> None:
    """The statistics of the (geometry, t position) ``pairs`` NaN, and the pairs in
    ``attrs[ABSENT]``, in place: Copernicus has no row for them."""
    if not pairs:
        return
    for geometry, date in pairs:
        out[{"geometries": geometry, "t": date}] = np.nan
    out.attrs[ABSENT] = [[g, t] for g, t in pairs]


def _warn_not_on_copernicus(features: Features, *, timed: bool) -> None:
    """A warning for geometries Copernicus does not aggregate: a MultiPoint or a line
    fails its load, which reads the geometries as polygons (geopyspark-driver
    load_stac.py L730 and utils.py L215-230 hand all but Points to
    ``ProjectedPolygons.fromWkt``, which casts them to Polygon: ClassCastException); a
    Point, or a cube without ``t``, makes it aggregate the geometries' WKT as EPSG:4326
    whatever their CRS (geopysparkdatacube.py L1878, L1901-1903, L1944-1953): right for
    any lon/lat CRS (OGC:CRS84)."""
    import pyproj

    from hybrid.run_warnings import warn

    kinds = [g.geom_type for g in features.geometries]
    for index, kind in enumerate(kinds):
        if kind in ("MultiPoint", "LineString", "MultiLineString"):
            warn(
                f"aggregate_spatial: geometry {index} is a {kind}; Copernicus fails on "
                "MultiPoint, LineString and MultiLineString geometries (its load reads "
                "them as polygons): give Points or polygons (vector_buffer makes polygons)"
            )
            return
    if pyproj.CRS.from_user_input(features.crs).is_geographic:
        return
    if not timed:
        warn(
            f"aggregate_spatial: the geometries are in {features.crs} and the cube has no "
            "time dimension; Copernicus then reads them as longitude/latitude and finds no "
            "pixels: give them in EPSG:4326 or aggregate before reducing t"
        )
    elif "Point" in kinds:
        warn(
            f"aggregate_spatial: the geometries are in {features.crs} and include a Point; "
            "Copernicus then reads them as longitude/latitude and finds no pixels: give "
            "them in EPSG:4326 or buffer the points into polygons"
        )


def _statistics_laid_out(
    stacked: Any, data: Any, others: list[str], count: int
) -> tuple[Any, list[str], dict[str, Any]]:
    """(geometries, others..., statistic) values, their dims and coordinates: one statistic
    keeps the cube's bands; several become bands ``band_0``... band after band, each
    band's statistics together (Copernicus's column order)."""
    dims = ["geometries", *others]
    coords: dict[str, Any] = {
        d: data[d].values for d in others if d in data.coords and d != "bands"
    }
    if count == 1:
        if "bands" in others and "bands" in data.coords:
            coords["bands"] = data["bands"].values
        return stacked[..., 0], dims, coords
    if "bands" in others:
        axis = 1 + others.index("bands")
        stacked = np.moveaxis(stacked, axis, -2)
        stacked = stacked.reshape(*stacked.shape[:-2], -1)
        dims = ["geometries", *[d for d in others if d != "bands"], "bands"]
    else:
        dims = [*dims, "bands"]
    coords["bands"] = [f"band_{i}" for i in range(stacked.shape[-1])]
    return stacked, dims, coords


def _pixels_per_geometry(data: Any, features: Features) -> list[tuple[Any, Any]]:
    transform = pixel_transform(data, "aggregate_spatial")
    shape = (data.sizes["y"], data.sizes["x"])
    projected = features.to_crs(cube_crs(data, "aggregate_spatial"))
    return [covered_pixels(g, transform, shape) for g in projected]


def _read_pixels(
    data: Any, others: list[str], pixels: list[tuple[Any, Any]]
) -> tuple[Any, list[Any]]:
    """Values of every covered pixel once: (others..., pixel), and each geometry's columns."""

    nx = data.sizes["x"]
    flat = [rows * nx + cols for rows, cols in pixels]
    unique = np.unique(np.concatenate(flat)) if flat else np.zeros(0, np.int64)
    index = [np.searchsorted(unique, f) for f in flat]
    if unique.size == 0:
        shape = tuple(data.sizes[d] for d in others)
        return np.zeros((*shape, 0)), index
    rows, cols = unique // nx, unique % nx
    # one rectangular window around all covered pixels, computed once (slicing keeps the
    # dask graph small; pointwise indexing into it is then plain numpy)
    r0, r1, c0, c1 = int(rows.min()), int(rows.max()) + 1, int(cols.min()), int(cols.max()) + 1
    window = data.transpose(*others, "y", "x").isel(y=slice(r0, r1), x=slice(c0, c1))
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        block = np.asarray(window.values, dtype=np.float64)
    return block[..., rows - r0, cols - c0], index


def _reduce_each(
    values: Any, index: list[Any], reducer: Callable[..., Any], context: Any
) -> list[Any]:
    """The reducer once per geometry; each result has a trailing statistics axis."""
    entries = callback_cache_entries(reducer)
    base = values.shape[:-1]
    results: list[Any] = []
    for columns in index:
        if columns.size == 0:
            results.append(None)
            continue
        forget_results(entries)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            raw = reducer(
                np.moveaxis(values[..., columns], -1, 0),
                axis=0,
                positional_parameters={"data": 0},
                named_parameters={"context": context},
            )
        results.append(_statistics(raw, base))
    forget_results(entries)
    return results


def _statistics(raw: Any, base: tuple[int, ...]) -> Any:
    """A reducer result as (*base, k): one value, or k values from array_create."""
    result = np.asarray(getattr(raw, "values", raw), dtype=np.float64)
    if result.shape == base:
        return result[..., None]
    if result.ndim == len(base) + 1 and result.shape[1:] == base:
        return np.moveaxis(result, 0, -1)
    if not base and result.ndim == 1:
        return result
    raise ProcessParameterInvalid(
        f"aggregate_spatial: the reducer returned values of shape {result.shape}; "
        "it must return one value (or an array_create of values) per geometry"
    )
