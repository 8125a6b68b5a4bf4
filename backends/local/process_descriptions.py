"""The openEO process descriptions the local engine serves (``GET /processes``).

Source: the openeo-processes JSON that openeo-processes-dask ships
(``openeo_processes_dask/specs/openeo-processes``), the descriptions of the processes
it implements. That copy is openeo-processes 2.0.0-rc.1 for 106 of the 113
non-experimental rc.1 processes the engine offers. 2.0.0-rc.1 is also what Copernicus
serves under openEO API 1.2: openeo-python-driver ``openeo_driver/processgraph/registry.py``
builds ``process_registry_2xx`` from ``openeo-processes/2.x`` with
``target_version="2.0.0-rc.1"`` (L42-45) and ``ConcreteProcessing.get_process_registry``
picks it for API >= 1.2.0 (L252-255); the 1.x (= 1.2.0) descriptions are only for API
1.0/1.1. So the engine serves rc.1, not 1.2.0 (nor 2.0.0-rc.2, which no package ships).

Where the bundled copy is a later draft that the engine does not follow, the
description is corrected here (:data:`CORRECTIONS`), each for the reason given; the
test ``tests/server/test_process_descriptions.py`` fails once a correction is no longer
needed. The descriptions of the processes openeo-processes-dask has none of (Copernicus's
own, ``apply_neighborhood``, the random forests) come from the engine's modules
(:func:`own_description`).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

Spec = dict[str, Any]


def _save_result_returns_true(spec: Spec) -> None:
    """The bundled draft says save_result returns a STAC object; the engine's save_result
    returns ``True`` (``hybrid.backends.local.run.Run.save_result``), as openeo-processes
    2.0.0-rc.1 and 1.2.0 describe it; so its category is not ``stac`` either."""
    spec["categories"] = [c for c in spec.get("categories", []) if c != "stac"]
    spec["returns"] = {
        "description": "`true`: an error aborts the execution instead.",
        "schema": {"type": "boolean", "const": True},
    }


def _resample_spatial_align(spec: Spec) -> None:
    """The bundled draft dropped ``align``; the engine accepts it and, as Copernicus,
    ignores it (``hybrid.backends.local.processes.resampling``), and openeo-processes
    2.0.0-rc.1 and 1.2.0 have it (optional, default ``upper-left``)."""
    if any(p["name"] == "align" for p in spec["parameters"]):
        return
    corners = ["lower-left", "upper-left", "lower-right", "upper-right"]
    spec["parameters"].append(
        {
            "name": "align",
            "description": "The corner of the spatial extent the resampled data is aligned "
            "to. Accepted and ignored, as on Copernicus.",
            "schema": {"type": "string", "enum": corners},
            "default": "upper-left",
            "optional": True,
        }
    )


def _apply_polygon_geometries(spec: Spec) -> None:
    """The bundled draft names the polygons ``polygons``; the openeo client's
    ``DataCube.apply_polygon`` sends ``geometries`` (openeo-python-client
    rest/datacube.py), the later name Copernicus reads first (openeo-python-driver
    processgraph/process_implementations/cubes.py L140-150). The engine takes both
    (``hybrid.backends.local.processes.polygons``)."""
    for param in spec["parameters"]:
        if param["name"] == "polygons":
            param["name"] = "geometries"


def _predict_random_forest_in_a_reducer(spec: Spec) -> None:
    """openeo-processes-dask's description adds a required ``dimension``: its own
    predict_random_forest applies itself over a dimension. Copernicus's runs in a
    reducer (``reduce_dimension`` over ``bands``) on ``data`` and ``model`` only, as the
    openeo client's ``DataCube.predict_random_forest`` calls it
    (:mod:`hybrid.backends.local.processes.machine_learning`)."""
    spec["parameters"] = [p for p in spec["parameters"] if p["name"] != "dimension"]


#: process id -> what changes its bundled description (the docstring says why)
CORRECTIONS: dict[str, Callable[[Spec], None]] = {
    "save_result": _save_result_returns_true,
    "resample_spatial": _resample_spatial_align,
    "apply_polygon": _apply_polygon_geometries,
    "predict_random_forest": _predict_random_forest_in_a_reducer,
}


def described(spec: Spec) -> Spec:
    """A copy of ``spec`` with this module's correction for its process applied."""
    out = copy.deepcopy(spec)
    fix = CORRECTIONS.get(out.get("id", ""))
    if fix is not None:
        fix(out)
    return out


def own_description(pid: str) -> Spec | None:
    """A copy of the description the engine's module of ``pid`` writes, for the processes
    without one in openeo-processes-dask (Copernicus's own and a few others); None for
    the others."""
    from hybrid.backends.local.processes import (
        cell_conversion,
        dates,
        flow,
        geojson_load,
        machine_learning,
        neighborhood,
        rasterize,
        resolution_merge,
        scl_dilation,
        stac_query,
        terrain,
        vector_files,
        vectorize,
    )

    own = {
        **dates.SPECS,
        **flow.SPECS,
        **scl_dilation.SPECS,
        **terrain.SPECS,
        **machine_learning.SPECS,
        "apply_neighborhood": neighborhood.SPEC,
        "vector_to_raster": rasterize.SPEC,
        "raster_to_vector": vectorize.SPEC,
        "convert_data_type": cell_conversion.SPEC,
        "query_stac": stac_query.SPEC,
        "resolution_merge": resolution_merge.SPEC,
        "to_vector_cube": geojson_load.TO_VECTOR_CUBE_SPEC,
        "read_vector": vector_files.READ_VECTOR_SPEC,
        "get_geometries": vector_files.GET_GEOMETRIES_SPEC,
    }
    return copy.deepcopy(own[pid]) if pid in own else None
