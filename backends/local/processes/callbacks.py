"""apply and reduce_dimension with a callback of openEO processes (no UDF).

The callback is openeo-pg-parser-networkx's callable of the child graph. It is called
as openeo-processes-dask calls it, so that the processes inside it get what they expect
(:mod:`hybrid.backends.local.parameter_references`): apply calls it ONCE with the whole
(lazy) cube as ``x``; reduce_dimension hands it to xarray's ``reduce``, which calls it
once with the whole array as ``data`` and the ``axis`` of the dimension, the dimension's
labels as ``dim_labels`` (array_element by label) and the ``context``. The result stays
lazy, and the cube keeps its attributes.
"""

from __future__ import annotations

from typing import Any

from hybrid.backends.local.processes.cube_dimensions import require_dimension


def apply_values(data: Any, process: Any, context: Any = None) -> Any:
    """openEO apply: ``process`` on every value of ``data``.

    An array the callback builds (``any(array_create([x == 3, x == 8]))``) is one array
    per pixel: its elements are stacked along a new first axis, and the callback's
    processes with an ``axis`` reduce that one (``axis=0``), not the whole cube.
    Copernicus compiles the callback per pixel: array_create makes one tile per element
    and any/sum/max/... reduce those tiles (openeo-geotrellis-extensions
    OpenEOProcessScriptBuilder.scala ``arrayCreateFunction`` L1435-1446,
    ``reduceFunction`` L573-585 for any/all L1134-1137)."""
    import xarray as xr

    return xr.apply_ufunc(
        process,
        data,
        dask="allowed",
        keep_attrs=True,
        kwargs={
            "positional_parameters": {"x": 0},
            "named_parameters": {"context": context},
            "axis": 0,
        },
    )


def reduce_along(data: Any, reducer: Any, dimension: str, context: Any = None) -> Any:
    """openEO reduce_dimension: ``reducer`` over ``dimension``, which the result lacks."""
    require_dimension(data, dimension, "reduce_dimension")
    return data.reduce(
        reducer,
        dim=dimension,
        keep_attrs=True,
        positional_parameters={"data": 0},
        context=context,
        dim_labels=data[dimension].values,
    )
