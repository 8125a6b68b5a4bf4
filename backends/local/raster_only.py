"""Processes Copernicus runs on raster cubes only: a vector cube handed to them is a 400.

Copernicus's process implementations read their cube with ``args.get_required("data",
expected_type=DriverDataCube)`` (openeo-python-driver 9e5b49b2,
openeo_driver/processgraph/process_implementations/cubes.py, e.g. ``reduce_dimension``
L229, ``drop_dimension`` L300, ``rename_labels`` L315, ``filter_labels`` L339), which
refuses anything else with ``ProcessParameterInvalid`` (400): "Expected raster cube but
got ..." (openeo_driver/processes.py ``_check_value`` L489-497). Its vector cubes are no
``DriverDataCube``: load_geojson's, load_url's and raster_to_vector's are a
``DriverVectorCube`` (openeo_driver/datacube.py L271), aggregate_spatial's result an
``AggregateSpatialResultCSV`` (with ``t``) or ``AggregateSpatialVectorCube`` (without),
both save results (openeo-geopyspark-driver geopysparkdatacube.py ``zonal_statistics``
L1915, L1939-1960; openeogeotrellis/vectorcube.py L19), read_vector's a ``DelayedVector``.
The dry run passes such graphs (its aggregate_spatial returns a ``DryRunDataCube``,
dry_run.py L675-697); the run refuses them.

``apply_dimension`` and ``filter_bands`` also take a ``DriverVectorCube`` (cubes.py L112,
L380-381), but not aggregate_spatial's result nor read_vector's geometries.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from hybrid.errors import ProcessParameterInvalid

_DATA = ("data",)

#: process -> its parameters Copernicus reads as a raster cube (``DriverDataCube``):
#: cubes.py L104-472 (``merge_cubes`` L240-241, ``mask`` L255-256, ``resample_cube_spatial``
#: L403-404, ``linear_scale_range`` ``x`` L431), geometry.py L192 (raster_to_vector),
#: L217 (vector_to_raster's ``target``), terrain.py L25, L46, L69, ml.py L105, sar.py
#: L56-147; aggregate_temporal and aggregate_temporal_period at 510c6827
#: openeo_driver/ProcessGraphDeserializer.py L1409, L1427
RASTER_PARAMETERS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(
        (
            "apply",
            "apply_neighborhood",
            "apply_polygon",
            "chunk_polygon",
            "reduce_dimension",
            "mask_polygon",
            "add_dimension",
            "drop_dimension",
            "rename_dimension",
            "rename_labels",
            "dimension_labels",
            "filter_temporal",
            "filter_labels",
            "filter_bbox",
            "filter_spatial",
            "resample_spatial",
            "ndvi",
            "apply_kernel",
            "aggregate_spatial",
            "aggregate_spatial_window",
            "aggregate_temporal",
            "aggregate_temporal_period",
            "raster_to_vector",
            "aspect",
            "slope",
            "convert_data_type",
            "predict_onnx",
            "atmospheric_correction",
            "sar_backscatter",
            "resolution_merge",
            "mask_scl_dilation",
            "to_scl_dilation_mask",
            "mask_l1c",
        ),
        _DATA,
    ),
    "merge_cubes": ("cube1", "cube2"),
    "mask": ("data", "mask"),
    "resample_cube_spatial": ("data", "target"),
    "linear_scale_range": ("x",),
    "vector_to_raster": ("target",),
}

#: process -> its parameters Copernicus reads as a raster cube or a ``DriverVectorCube``
RASTER_OR_VECTOR_PARAMETERS: dict[str, tuple[str, ...]] = {
    "apply_dimension": _DATA,
    "filter_bands": _DATA,
}


def vector_kind(value: Any) -> str | None:
    """What Copernicus holds for ``value`` when it is a vector cube, else None: its
    ``DriverVectorCube`` ("a vector cube"), aggregate_spatial's result or read_vector's
    geometries (see :mod:`hybrid.io.vector`)."""
    from hybrid.io.vector import FILE_GEOMETRIES, is_aggregate_result

    dims = getattr(value, "dims", None)
    if dims is None or "geometries" not in dims or not hasattr(value, "attrs"):
        return None
    if value.attrs.get(FILE_GEOMETRIES):
        return "read_vector's geometries"
    if is_aggregate_result(value):
        return "an aggregate_spatial result"
    return "a vector cube"


def _refusal(pid: str, name: str, kind: str, accepted: str) -> ProcessParameterInvalid:
    return ProcessParameterInvalid(
        f"{pid}: the value passed for parameter '{name}' is invalid: expected {accepted} "
        f"but got {kind}, as Copernicus answers; apply {pid} to the raster cube before "
        "aggregate_spatial, or process the vector cube with run_udf"
    )


def raster_only(pid: str, implementation: Callable[..., Any]) -> Callable[..., Any]:
    """``implementation``, refusing a vector cube where Copernicus wants a raster cube."""
    strict = RASTER_PARAMETERS.get(pid, ())
    lenient = RASTER_OR_VECTOR_PARAMETERS.get(pid, ())
    if not strict and not lenient:
        return implementation

    @functools.wraps(implementation)
    def run(*args: Any, **kwargs: Any) -> Any:
        for name in strict:
            kind = vector_kind(kwargs.get(name))
            if kind is not None:
                raise _refusal(pid, name, kind, "a raster cube")
        for name in lenient:
            kind = vector_kind(kwargs.get(name))
            if kind is not None and kind != "a vector cube":
                raise _refusal(pid, name, kind, "a raster cube or vector cube")
        return implementation(*args, **kwargs)

    return run
