"""Small cubes (a grid, bands, a series) and graph nodes for the cube-operation tests, run
through openeo-pg-parser-networkx with the engine's registry (other engine tests use them
too)."""

from __future__ import annotations

from typing import Any

import dask.array as da
import numpy as np
import xarray as xr

EPSG = 32632

TIMES = np.array(["2023-06-02", "2023-06-07", "2023-06-12"], dtype="datetime64[ns]")


def grid_cube(values: Any, dims: tuple[str, ...], **coords: Any) -> xr.DataArray:
    full = dict(coords)
    shape = values.shape
    full["x"] = 500005.0 + 10.0 * np.arange(shape[dims.index("x")])
    full["y"] = 5000995.0 - 10.0 * np.arange(shape[dims.index("y")])
    cube = xr.DataArray(values, dims=dims, coords=full)
    cube.attrs = {"crs": f"EPSG:{EPSG}", "epsg": EPSG}
    return cube


def bands_cube(lazy: bool = False) -> xr.DataArray:
    values: Any = np.random.default_rng(1).uniform(1, 2, size=(3, 2, 4, 5))
    if lazy:
        values = da.from_array(values, chunks=(1, 2, 4, 5))
    return grid_cube(values, ("t", "bands", "y", "x"), t=TIMES, bands=["B04", "B08"])


def series_cube(times: Any = TIMES, offset: float = 0.0) -> xr.DataArray:
    values = np.arange(len(times) * 20, dtype=float).reshape(len(times), 4, 5) + offset
    return grid_cube(values, ("t", "y", "x"), t=times)


def node(process_id: str, **arguments: Any) -> dict[str, Any]:
    return {"process_id": process_id, "arguments": arguments}


def callback(result: str, **nodes: dict[str, Any]) -> dict[str, Any]:
    graph = {name: dict(n) for name, n in nodes.items()}
    graph[result]["result"] = True
    return {"process_graph": graph}


DATA = {"from_parameter": "data"}
