"""Every callback gets its parent's ``context`` as its parameter of that name, as openEO
defines it (the processes' ``context`` parameter: "Additional data to be passed to the
reducer/process"): a reduction over time or bands, the temporal aggregations, apply and
apply_dimension. reduce_dimension and aggregate_temporal(_period) refused a reference
to it before ("has no value here"). Copernicus differs, which the run notes
(tests/engine/test_callback_support.py)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import xarray as xr

from tests.process_vectors import run_through_engine

DATA = {"from_parameter": "data"}
CONTEXT = {"from_parameter": "context"}


def _cube() -> xr.DataArray:
    values = np.arange(2 * 3 * 2 * 2, dtype=np.float32).reshape(2, 3, 2, 2)
    days = np.array(["2023-06-02", "2023-06-12", "2023-07-01"], dtype="datetime64[ns]")
    return xr.DataArray(
        values,
        dims=("bands", "t", "y", "x"),
        coords={"bands": ["B04", "B08"], "t": days, "y": [20.0, 10.0], "x": [0.0, 10.0]},
    )


def _single(process_id: str, **arguments: Any) -> dict[str, Any]:
    node = {"process_id": process_id, "arguments": arguments, "result": True}
    return {"process_graph": {"p": node}}


def _scaled_mean(factor: Any = CONTEXT) -> dict[str, Any]:
    nodes = {
        "m": {"process_id": "mean", "arguments": {"data": DATA}},
        "s": {"process_id": "multiply", "arguments": {"x": {"from_node": "m"}, "y": factor},
              "result": True},
    }  # fmt: skip
    return {"process_graph": nodes}


@pytest.mark.parametrize("dimension", ["t", "bands"])
def test_a_reducer_computes_with_the_context(dimension: str) -> None:
    cube = _cube()
    arguments = {"data": cube, "reducer": _scaled_mean(), "dimension": dimension, "context": 3}
    got = run_through_engine("reduce_dimension", arguments)
    want = cube.mean(dimension) * 3
    np.testing.assert_allclose(np.asarray(got.transpose(*want.dims)), want.values)


def test_the_temporal_aggregations_compute_with_the_context() -> None:
    cube = _cube()
    monthly = run_through_engine(
        "aggregate_temporal_period",
        {"data": cube, "period": "month", "reducer": _scaled_mean(), "context": 2},
    )
    june, july = cube.isel(t=[0, 1]).mean("t") * 2, cube.isel(t=2) * 2
    np.testing.assert_allclose(np.asarray(monthly.isel(t=0).transpose(*june.dims)), june)
    np.testing.assert_allclose(np.asarray(monthly.isel(t=1).transpose(*july.dims)), july)
    element = {"process_id": "array_element", "arguments": {"data": CONTEXT, "index": 1}}
    by_element = _scaled_mean({"from_node": "e"})
    by_element["process_graph"]["e"] = element
    intervals = run_through_engine(
        "aggregate_temporal",
        {"data": cube, "intervals": [["2023-06-01", "2023-07-01"]], "reducer": by_element,
         "context": [5, 4]},
    )  # fmt: skip
    np.testing.assert_allclose(np.asarray(intervals.isel(t=0).transpose(*june.dims)), june * 2)


def test_apply_and_apply_dimension_compute_with_the_context() -> None:
    cube = _cube()
    times = _single("multiply", x={"from_parameter": "x"}, y=CONTEXT)
    applied = run_through_engine("apply", {"data": cube, "process": times, "context": 4})
    np.testing.assert_allclose(np.asarray(applied), cube.values * 4)
    over_t = _single("add", x=DATA, y=CONTEXT)
    added = run_through_engine(
        "apply_dimension", {"data": cube, "process": over_t, "dimension": "t", "context": 1}
    )
    np.testing.assert_allclose(np.asarray(added.transpose(*cube.dims)), cube.values + 1)
