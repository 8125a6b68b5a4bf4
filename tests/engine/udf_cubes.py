"""UDF code, graphs and cubes of the UDF machinery tests (test_udf_units.py,
test_udf_worker.py)."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

CODE = "def apply_datacube(cube, context):\n    return cube\n"


def _graph(callback: dict[str, Any], parent: str = "apply", arg: str = "process") -> dict:
    return {
        "load": {"process_id": "load_collection", "arguments": {"id": "SENTINEL2_L2A"}},
        "p": {
            "process_id": parent,
            "arguments": {"data": {"from_node": "load"}, arg: {"process_graph": callback}},
            "result": True,
        },
    }


def _run_udf(**arguments: Any) -> dict[str, Any]:
    args = {"data": {"from_parameter": "data"}, "udf": CODE, "runtime": "Python", **arguments}
    return {"u": {"process_id": "run_udf", "arguments": args, "result": True}}


def _cube(ny: int, nx: int, nt: int = 2) -> xr.DataArray:
    values = np.arange(nt * 2 * ny * nx, dtype=np.float32).reshape(nt, 2, ny, nx)
    return xr.DataArray(
        values,
        dims=("t", "bands", "y", "x"),
        coords={
            "t": np.array(["2023-06-02", "2023-06-07"][:nt], dtype="datetime64[ns]"),
            "bands": ["B04", "B08"],
            "y": 5000.0 - 10 * np.arange(ny),
            "x": 300.0 + 10 * np.arange(nx),
        },
    )
