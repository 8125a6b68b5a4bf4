"""filter_labels with labels handed to the condition as RFC 3339 text for time.

openeo-processes-dask hands the condition numpy datetime64 values, which text
processes such as text_begins cannot read.

The condition runs once per label. openeo-pg-parser-networkx caches the result of
every node of a callback after its first call (it re-runs callback nodes only under
aggregate_temporal_period and aggregate_spatial), so a plain second call would
return the first label's verdict for every label. Before each call the cached
results of the condition's own nodes are dropped (:func:`forget_results`).

filter_temporal with the same start and end keeps the labels at exactly that instant,
as Copernicus does (see :func:`filter_temporal`); other extents as openeo-processes-dask.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from hybrid.backends.local.processes.cube_dimensions import require_dimension
from hybrid.errors import ProcessParameterInvalid


def label_text(value: Any) -> Any:
    """A dimension label as the condition sees it: time as ``YYYY-MM-DDTHH:MM:SSZ``."""
    if isinstance(value, np.datetime64):
        return np.datetime_as_string(value.astype("datetime64[s]"), unit="s") + "Z"
    if isinstance(value, np.generic):
        return value.item()
    return value


def _callback_cells(func: Callable[..., Any]) -> dict[str, Any]:
    inner = getattr(func, "func", None)
    code = getattr(inner, "__code__", None)
    closure = getattr(inner, "__closure__", None)
    if code is None or closure is None:
        return {}
    return {name: cell.cell_contents for name, cell in zip(code.co_freevars, closure, strict=True)}


def callback_cache_entries(callback: Callable[..., Any]) -> list[tuple[dict[str, Any], str]]:
    """(results cache, node id) of every node of an openeo-pg-parser-networkx callback.

    Empty for plain Python callables. Raises if ``callback`` is a parser callback
    whose layout this code does not know (a parser upgrade changed it).
    """
    if not isinstance(callback, functools.partial):
        return []
    inner = callback.func
    if getattr(inner, "__name__", "") != "node_callable":
        return []
    cells = _callback_cells(callback)
    cache, node = cells.get("results_cache"), cells.get("node")
    if not isinstance(cache, dict) or not isinstance(node, str):
        raise ProcessParameterInvalid(
            "filter_labels: cannot run the condition once per label with this version of "
            "openeo-pg-parser-networkx (unknown callback layout); pin openeo-pg-parser-networkx"
        )
    entries = [(cache, node)]
    for parent in callback.keywords.get("parent_callables") or []:
        entries.extend(callback_cache_entries(parent))
    return entries


def forget_results(entries: list[tuple[dict[str, Any], str]]) -> None:
    for cache, node in entries:
        cache.pop(node, None)


def filter_labels(
    data: Any,
    condition: Callable[..., Any],
    dimension: str,
    context: Any = None,
    in_load: bool = False,
) -> Any:
    """The labels of ``dimension`` the condition keeps, as Copernicus filters them.

    Copernicus applies only a condition on ``t``: its dry run pushes it into the load
    (openeo-python-driver 9e5b49b2 dry_run.py L149, L509-551; load_params.py L221-223),
    which drops the scenes whose date fails it and fails the job when none is left
    (openeo-geotrellis-extensions FileLayerProvider.scala L1601-1617, "Could not find
    data"); the cube method itself returns the cube unchanged (openeo-geopyspark-driver
    9baf2e10 geopysparkdatacube.py L298-301), so a condition on any other dimension is
    ignored there, and here, with a warning. ``in_load``: Copernicus applies this one in
    the load or not at all (:mod:`hybrid.backends.local.label_pushdown`): the cube as it
    is.
    """
    if in_load:
        return data
    if dimension != "t":
        from hybrid.run_warnings import warn

        warn(
            f"filter_labels on '{dimension}': Copernicus applies a filter_labels condition "
            "only on 't' and returns the cube unchanged otherwise; kept every label as "
            "there (use filter_bands to select bands)"
        )
        return data
    require_dimension(data, dimension, "filter_labels")
    if not callable(condition):
        raise ProcessParameterInvalid(
            "filter_labels: 'condition' must be a child process "
            '({"process_graph": {...}}) that returns true for the labels to keep'
        )
    keep = _kept_dates(data, condition, context)
    if not keep:
        from hybrid.errors import NoDataAvailable

        raise NoDataAvailable(
            f"filter_labels: the condition keeps none of the {data.sizes[dimension]} dates "
            "of 't'; Copernicus applies it to the scenes when loading and fails the job "
            "then (Could not find data); widen the condition or the temporal extent"
        )
    return data.isel({dimension: keep})


def _kept_dates(data: Any, condition: Callable[..., Any], context: Any) -> list[int]:
    """The positions along ``t`` of the dates for which ``condition`` holds: for one of
    the scenes' sensing times where the load knows them (label_pushdown), else for the
    date's label."""
    from hybrid.backends.local.label_pushdown import SCENE_TIMES

    entries = callback_cache_entries(condition)
    times = data.attrs.get(SCENE_TIMES) or {}
    keep = []
    for i, raw in enumerate(data["t"].values):
        values = times.get(raw) if isinstance(raw, np.datetime64) else None
        values = values or (label_text(raw),)
        if any(_passes(condition, value, context, entries) for value in values):
            keep.append(i)
    forget_results(entries)
    return keep


def _passes(condition: Callable[..., Any], value: Any, context: Any, entries: Any) -> bool:
    """Whether ``condition`` holds for the label ``value`` (null: it does not)."""
    forget_results(entries)
    verdict = condition(
        value,
        positional_parameters={"value": 0},
        named_parameters={"value": value, "context": context},
    )
    verdict = np.asarray(verdict).item() if np.ndim(verdict) == 0 else verdict
    missing = verdict is None or (isinstance(verdict, float) and np.isnan(verdict))
    return not missing and bool(verdict)


def filter_bands(data: Any, bands: Any = None, wavelengths: Any = None) -> Any:
    """The bands named in ``bands``, in that order, found as Copernicus finds them (by
    common name, label or alias: ``nir`` is B08's band; python-driver
    ``cubes.py`` ``filter_bands`` L378-384 -> geopyspark-driver
    ``geopysparkdatacube.py`` L292-295, ``metadata.get_band_index``); they keep their
    labels. Copernicus reads only ``bands``: ``wavelengths`` is refused, not ignored."""
    from hybrid.backends.local.processes.cube_dimensions import band_origins
    from hybrid.collection import band_positions
    from hybrid.errors import BandNotFound

    if wavelengths is not None:
        raise ProcessParameterInvalid(
            "filter_bands: 'wavelengths' is not supported (Copernicus selects bands by "
            "name only); name the bands in 'bands' (common names such as 'nir' work)"
        )
    if not isinstance(bands, list | tuple) or not bands:
        raise ProcessParameterInvalid("filter_bands: 'bands' must be a non-empty list of names")
    dimension = _band_dimension(data)
    labels = [str(b) for b in data[dimension].values]
    positions, missing = band_positions(labels, bands, band_origins(data))
    if missing:
        raise BandNotFound(
            f"filter_bands: the cube has no band {', '.join(missing)}; its bands are "
            f"{', '.join(labels)}"
        )
    return data.isel({dimension: positions})


def _band_dimension(data: Any) -> str:
    """What filter_bands selects from: a raster cube's band dimension, a vector cube's
    ``properties`` (python-driver datacube.py ``DriverVectorCube.filter_bands`` L320-321;
    :mod:`hybrid.backends.local.raster_only` refuses aggregate_spatial's result)."""
    from hybrid.backends.local.processes.cube_dimensions import band_dimension

    if "geometries" in data.dims:
        if "properties" not in data.dims:
            raise ProcessParameterInvalid("filter_bands: the vector cube has no properties")
        return "properties"
    dimension = band_dimension(data)
    if dimension is None:
        raise ProcessParameterInvalid("filter_bands: the cube has no band dimension")
    return dimension


def dimension_labels(data: Any, dimension: str) -> list[Any]:
    """The labels of ``dimension``: band names, times as ``YYYY-MM-DDTHH:MM:SSZ`` (the
    stock version writes nanoseconds, ``2023-06-02T00:00:00.000000000Z``) that a JSON
    result writes as Copernicus writes its naive datetimes (:class:`DateLabel`). Copernicus
    returns only those two and refuses any other dimension, x and y included
    (openeo-geopyspark-driver 9baf2e10 geopysparkdatacube.py ``dimension_labels``
    L485-496): refused here too, in its words, so that a script does not pass here and
    fail there (the coordinates were returned, as the spec allows)."""
    from hybrid.backends.local.processes.cube_dimensions import band_dimension

    require_dimension(data, dimension, "dimension_labels")
    temporal = np.issubdtype(data[dimension].dtype, np.datetime64)
    if dimension != band_dimension(data) and not temporal and dimension != "t":
        raise ProcessParameterInvalid(
            f"dimension_labels: dimension '{dimension}' has no labels to list "
            "(DimensionNotAvailable): 'dimension_labels' is only supported for dimension "
            "types 'bands' and 'temporal' (as on Copernicus)"
        )
    if dimension not in data.coords:
        return list(range(data.sizes[dimension]))
    if temporal:  # naive datetimes there, written by the path's JSON rule
        from hybrid.io.json_text import DateLabel

        return [DateLabel(t.astype("datetime64[us]").item()) for t in data[dimension].values]
    return [label_text(value) for value in data[dimension].values]


def filter_temporal(data: Any, extent: Any, dimension: str | None = None) -> Any:
    """[start, end) of the time labels. Copernicus refuses an end before the start
    (openeo-python-driver processgraph/process_implementations/cubes.py L38-60, 400
    ProcessParameterInvalid) and, for the same start and end, only logs "invalid" and
    filters on the closed interval [start, start] (openeo-geopyspark-driver
    geopysparkdatacube.py L242-255 ``filter_by_times``): Sentinel-2 labels are days at
    00:00Z, so [d, d] keeps day d (a load given [d, d] reads day d, run.py). The cube's
    temporal extent is narrowed as Copernicus narrows its metadata's (L254), which
    aggregate_temporal_period's dekads start from (:func:`temporal.narrowed_extent`)."""
    from hybrid.backends.local.load_extents import interval_texts
    from hybrid.backends.local.processes.temporal import TEMPORAL_EXTENT, narrowed_extent

    out = _filtered_times(data, extent, dimension)
    texts = interval_texts(extent, "filter_temporal") or (None, None)
    out.attrs[TEMPORAL_EXTENT] = narrowed_extent(data.attrs.get(TEMPORAL_EXTENT), *texts)
    return out


def _filtered_times(data: Any, extent: Any, dimension: str | None) -> Any:
    from openeo_processes_dask.process_implementations.cubes._filter import (
        filter_temporal as stock,
    )

    bounds = _instants(extent)
    if bounds is None:
        from openeo_pg_parser_networkx.pg_schema import TemporalInterval

        interval = TemporalInterval.model_validate(extent)  # what the stock one reads
        return stock(data=data, extent=interval, dimension=dimension)
    dim = dimension or _time_dimension(data)
    require_dimension(data, dim, "filter_temporal")
    start, text = bounds
    from hybrid.run_warnings import warn

    warn(
        f"filter_temporal: extent [{text}, {text}] has the same start and end; kept the "
        f"labels at exactly {text} as Copernicus does (the end is excluded in openEO: "
        "give the next day as end)"
    )
    labels = data[dim].values.astype("datetime64[ns]")
    return data.isel({dim: np.flatnonzero(labels == start)})


def _instants(extent: Any) -> tuple[np.datetime64, str] | None:
    """The instant and its text when start and end are the same, else None; an end
    before the start is one 400, as on Copernicus."""
    from hybrid.stac.query import parse_instant

    if not isinstance(extent, list) or len(extent) != 2:
        raise ProcessParameterInvalid(
            f"filter_temporal: extent should be [start, end], got {extent!r}"
        )
    if any(v is None for v in extent):
        return None
    texts = [str(v) for v in extent]
    start, end = (parse_instant(t, what="filter_temporal extent") for t in texts)
    if end < start:
        raise ProcessParameterInvalid(
            f"filter_temporal: extent end '{texts[1]}' is before start '{texts[0]}'"
        )
    if end != start:
        return None
    return np.datetime64(start.replace(tzinfo=None), "ns"), texts[0]


def _time_dimension(data: Any) -> str:
    dims = [d for d in data.dims if np.issubdtype(data[d].dtype, np.datetime64)]
    if len(dims) != 1:
        raise ProcessParameterInvalid(
            f"filter_temporal: give `dimension`: the cube has {len(dims)} temporal "
            f"dimensions ({', '.join(map(str, data.dims))})"
        )
    return str(dims[0])
