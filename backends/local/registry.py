"""The process registry of the local engine.

openeo-processes-dask's implementations and specs, with the processes that behave
differently from the Copernicus backend replaced by this project's own
(hybrid.backends.local.processes). Built on first use, never at import time.

The project's own processes (those, plus the callback processes and the element-wise
math) also form a registry of their own (:func:`own_registry`): a graph that uses
nothing else runs on it (:func:`covering`) without importing openeo-processes-dask's
implementations, about a second of every run (:mod:`hybrid.backends.local.stock`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any


def _specs() -> Any:
    """openeo-processes-dask's process descriptions (JSON files only)."""
    import openeo_processes_dask.specs as specs

    return specs


def overrides() -> dict[str, Callable[..., Any]]:
    """process id -> this project's implementation (where Copernicus differs, and where
    owning it spares a graph the import of openeo-processes-dask's implementations)."""
    return {
        **_cube_overrides(),
        **_vector_overrides(),
        **_comparison_overrides(),
        **_array_overrides(),
        **_scalar_overrides(),
        **_model_overrides(),
    }


def _model_overrides() -> dict[str, Callable[..., Any]]:
    """Random forests (save_ml_model is the run's: :data:`RUN_PROCESSES`)."""
    from hybrid.backends.local.processes import machine_learning

    return {
        "fit_class_random_forest": machine_learning.fit_class_random_forest,
        "predict_random_forest": machine_learning.predict_random_forest,
        "load_ml_model": machine_learning.load_ml_model,
    }


def _cube_overrides() -> dict[str, Callable[..., Any]]:
    """Processes on whole cubes: callbacks, kernels, masks, time, merging."""
    from hybrid.backends.local.processes import (
        cell_conversion,
        dimensions,
        flow,
        indices,
        inspection,
        kernel,
        label_renames,
        labels,
        masking,
        merging,
        neighborhood,
        resampling,
        resolution_merge,
        scl_dilation,
        temporal,
        terrain,
        udf,
    )

    return {
        "apply": udf.apply,
        "apply_dimension": udf.apply_dimension,
        "reduce_dimension": udf.reduce_dimension,
        "apply_neighborhood": neighborhood.apply_neighborhood,
        "apply_kernel": kernel.apply_kernel,
        "mask": masking.mask,
        "ndvi": indices.ndvi,
        "aggregate_temporal_period": temporal.aggregate_temporal_period,
        "aggregate_temporal": temporal.aggregate_temporal,
        "filter_labels": labels.filter_labels,
        "filter_bands": labels.filter_bands,
        "filter_temporal": labels.filter_temporal,
        "dimension_labels": labels.dimension_labels,
        "array_create": dimensions.array_create,
        "rename_labels": label_renames.rename_labels,
        "add_dimension": dimensions.add_dimension,
        "merge_cubes": merging.merge_cubes,
        "resample_spatial": resampling.resample_spatial,
        "resample_cube_spatial": resampling.resample_cube_spatial,
        "to_scl_dilation_mask": scl_dilation.to_scl_dilation_mask,
        "inspect": inspection.inspect,
        "sleep": flow.sleep,
        "mask_scl_dilation": scl_dilation.mask_scl_dilation,
        "convert_data_type": cell_conversion.convert_data_type,
        "aspect": terrain.aspect,
        "slope": terrain.slope,
        "resolution_merge": resolution_merge.resolution_merge,
    }


def _vector_overrides() -> dict[str, Callable[..., Any]]:
    """Processes with geometries: vector cubes, their loads, polygons over a raster cube."""
    from hybrid.backends.local.processes import (
        buffering,
        geojson_load,
        polygons,
        rasterize,
        spatial_aggregation,
        stac_query,
        url_load,
        vector,
        vector_files,
        vector_udf,
        vectorize,
    )

    return {
        "run_udf": vector_udf.run_udf,
        "apply_polygon": polygons.apply_polygon,
        "aggregate_spatial": spatial_aggregation.aggregate_spatial,
        "load_geojson": geojson_load.load_geojson,
        "to_vector_cube": geojson_load.to_vector_cube,
        "load_url": url_load.load_url,
        "read_vector": vector_files.read_vector,
        "get_geometries": vector_files.get_geometries,
        "vector_buffer": buffering.vector_buffer,
        "filter_spatial": vector.filter_spatial,
        "filter_bbox": vector.filter_bbox,
        "mask_polygon": vector.mask_polygon,
        "vector_to_raster": rasterize.vector_to_raster,
        "raster_to_vector": vectorize.raster_to_vector,
        "query_stac": stac_query.query_stac,
    }


def _comparison_overrides() -> dict[str, Callable[..., Any]]:
    """Comparisons and logic."""
    from hybrid.backends.local.processes import comparison, logic

    return {
        "eq": comparison.eq,
        "neq": comparison.neq,
        "gt": comparison.gt,
        "gte": comparison.gte,
        "lt": comparison.lt,
        "lte": comparison.lte,
        "between": comparison.between,
        "is_nan": comparison.is_nan,
        "is_nodata": comparison.is_nodata,
        "is_valid": comparison.is_valid,
        "is_infinite": comparison.is_infinite,
        "and": logic.and_,
        "or": logic.or_,
        "xor": logic.xor,
        "not": logic.not_,
        "any": logic.any_,
        "all": logic.all_,
    }


def _array_overrides() -> dict[str, Callable[..., Any]]:
    """Array processes, reducers and cumulative processes."""
    from hybrid.backends.local.processes import (
        array_callbacks,
        arrays,
        cumulative,
        quantiles,
        statistics,
    )

    return {
        "if": arrays.if_,
        "quantiles": quantiles.quantiles,
        "array_find": arrays.array_find,
        "array_element": arrays.array_element,
        "array_concat": arrays.array_concat,
        "array_labels": arrays.array_labels,
        "array_append": arrays.array_append,
        "first": arrays.first,
        "last": arrays.last,
        "order": arrays.order,
        "count": arrays.count,
        "sum": statistics.sum_,
        "product": statistics.product,
        "min": statistics.min_,
        "max": statistics.max_,
        "mean": statistics.mean,
        "median": statistics.median,
        "sd": statistics.sd,
        "variance": statistics.variance,
        "extrema": statistics.extrema,
        "array_interpolate_linear": arrays.array_interpolate_linear,
        "array_modify": arrays.array_modify,
        "array_apply": array_callbacks.array_apply,
        "array_filter": array_callbacks.array_filter,
        "cumsum": cumulative.cumsum,
        "cumproduct": cumulative.cumproduct,
        "cummax": cumulative.cummax,
        "cummin": cumulative.cummin,
    }


def _scalar_overrides() -> dict[str, Callable[..., Any]]:
    """Arithmetic, dates and texts."""
    from hybrid.backends.local.processes import arithmetic, dates, elementwise, indices, texts

    return {
        **elementwise.processes(),
        "divide": indices.divide,
        "normalized_difference": indices.normalized_difference,
        "power": arithmetic.power,
        "mod": arithmetic.mod,
        "log": arithmetic.log,
        "date_between": dates.date_between,
        "date_shift": dates.date_shift,
        "date_difference": dates.date_difference,
        "date_replace_component": dates.date_replace_component,
        "text_begins": texts.text_begins,
        "text_ends": texts.text_ends,
        "text_contains": texts.text_contains,
        "text_concat": texts.text_concat,
    }


#: openeo-processes-dask processes the local engine does not offer (GET /processes), as
#: they cannot work here: not openEO processes Copernicus offers (ddmc,
#: apply_neighborhood_intertwin), or are broken in openeo-processes-dask 2026.9.1
#: (create_data_cube returns a NaN scalar instead of an empty cube). load_stac is the
#: run's own (local STAC documents; hybrid.backends.local.stac_load). load_result is not
#: offered: Copernicus registers it for API 1.0/1.1 only (openeo-python-driver
#: process_implementations/io.py:265, ``process_registry_100``).
NOT_ADVERTISED = frozenset({"ddmc", "apply_neighborhood_intertwin", "create_data_cube"})


#: processes every run implements itself (hybrid.backends.local.run)
RUN_PROCESSES = ("load_collection", "load_stac", "save_result", "discard_result", "save_ml_model")


@functools.cache
def base_registry() -> Any:
    """Every process: openeo-processes-dask's, with this project's own in place of those
    that behave differently on Copernicus (computing with a constant in float64 where
    Copernicus does: hybrid.backends.local.double_constants); load_collection/save_result
    are added per run."""
    return _registry(with_stock=True)


@functools.cache
def own_registry() -> Any:
    """This project's own processes only: all a graph of them needs, without importing
    openeo-processes-dask's implementations."""
    return _registry(with_stock=False)


def covering(process_ids: Iterable[str]) -> Any:
    """The registry for a graph of ``process_ids``: the own one when it has them all."""
    own = own_registry()
    if set(process_ids) <= own.store["predefined"].keys():
        return own
    return base_registry()


def _registry(*, with_stock: bool) -> Any:
    from openeo_pg_parser_networkx import ProcessRegistry
    from openeo_pg_parser_networkx.process_registry import Process

    from hybrid.backends.local.double_constants import in_doubles
    from hybrid.backends.local.parameter_references import resolving

    registry = ProcessRegistry(wrap_funcs=[resolving])
    if with_stock:
        from hybrid.backends.local.stock import stock_processes

        for pid, spec, stock in stock_processes():
            if pid not in NOT_ADVERTISED:
                registry["predefined", pid] = Process(spec=spec, implementation=stock)
    for pid, func in overrides().items():
        implementation = in_doubles(pid, func)
        registry["predefined", pid] = Process(spec=process_spec(pid), implementation=implementation)
    for pid in RUN_PROCESSES:
        registry["predefined", pid] = Process(spec=process_spec(pid), implementation=None)
    return registry


def process_spec(pid: str) -> dict[str, Any]:
    """The openEO 1.2 description of process ``pid`` (KeyError if unknown)."""
    from hybrid.backends.local.process_descriptions import described, own_description

    own = own_description(pid)
    if own is not None:
        return own
    specs = _specs()
    spec = getattr(specs, pid, None) or getattr(specs, f"_{pid}", None)
    if spec is None:
        raise KeyError(pid)
    # the parameter the client sends is 'geometries'; the reducer has no 'dimension'
    if pid in ("apply_polygon", "predict_random_forest"):
        return described(spec)
    return dict(spec)


def registry_for_run(
    implementations: dict[str, Callable[..., Any]],
    *,
    collect: str | None = None,
    process_ids: Iterable[str] | None = None,
) -> Any:
    """A copy of the base registry (:func:`covering` ``process_ids``, the processes of
    the graph, when given) with run-specific implementations added, and ``collect``: a
    process that takes a list of node results and returns nothing.
    Every process gets its arguments as written (hybrid.backends.local.written_values),
    passes null through where its spec says so (hybrid.backends.local.nulls), refuses a
    vector cube where Copernicus wants a raster cube (hybrid.backends.local.raster_only) and reports
    its failures as a 4xx error naming it (hybrid.backends.local.failures)."""
    from openeo_pg_parser_networkx import ProcessRegistry
    from openeo_pg_parser_networkx.process_registry import Process

    from hybrid.backends.local.parameter_references import resolving

    base = base_registry() if process_ids is None else covering(process_ids)
    registry = ProcessRegistry(wrap_funcs=[resolving])
    registry.store = {ns: dict(procs) for ns, procs in base.store.items()}
    registry.aliases = {ns: dict(a) for ns, a in base.aliases.items()}
    for pid, func in implementations.items():
        registry["predefined", pid] = Process(spec=process_spec(pid), implementation=func)
    if collect:
        spec = {"id": collect, "parameters": [{"name": "data", "schema": {"type": "array"}}]}
        registry["predefined", collect] = Process(spec=spec, implementation=_collect)
    from hybrid.backends.local.failures import reporting
    from hybrid.backends.local.nulls import (
        nodata_list_parameters,
        nodata_lists_as_nan,
        null_passing_parameters,
        nulls_pass_through,
    )
    from hybrid.backends.local.raster_only import raster_only
    from hybrid.backends.local.written_values import plain_arguments

    store = registry.store["predefined"]
    for pid, proc in store.items():
        if proc.implementation is not None:
            implementation = nulls_pass_through(
                null_passing_parameters(proc.spec), proc.implementation
            )
            implementation = nodata_lists_as_nan(nodata_list_parameters(proc.spec), implementation)
            implementation = plain_arguments(pid, raster_only(pid, implementation))
            store[pid] = Process(spec=proc.spec, implementation=reporting(pid, implementation))
    return registry


def _collect(data: Any = None, **_ignored: Any) -> None:
    """Every end node has run once its result reached here."""
    return None


def supported_process_ids() -> list[str]:
    return sorted(base_registry().store["predefined"])


#: required by the spec, but Copernicus runs the process without them as if null:
#: load_collection needs only ``id`` (openeo-python-driver
#: openeo_driver/processgraph/process_implementations/io.py ``load_collection``
#: L103-114 reads the extents with ``args.get``), e.g. the APEx timeseries_statistics
#: UDP loads with id, bands and temporal_extent and aggregates over its geometry
_ABSENT_IS_NULL = {"load_collection": {"spatial_extent", "temporal_extent", "bands"}}


def required_parameters(registry: Any = None) -> dict[str, set[str]]:
    """process id -> the parameters its spec marks as required (not optional, no
    default) and Copernicus requires, for every process of ``registry`` (the base
    registry by default)."""
    store = (base_registry() if registry is None else registry).store["predefined"]
    return {
        pid: {
            p["name"]
            for p in proc.spec.get("parameters", [])
            if not p.get("optional") and "default" not in p
        }
        - _ABSENT_IS_NULL.get(pid, set())
        for pid, proc in store.items()
    }
