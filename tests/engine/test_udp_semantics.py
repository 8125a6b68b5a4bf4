"""What the APEx UDPs (tests/workflows/test_apex_algorithms.py) need of the engine, on
small cubes: arrays built in ``apply`` are per pixel, a band dimension under another
name is still the band dimension for mask and merge_cubes, and a top-level ``if`` with
a known value runs one branch only."""

from __future__ import annotations

from typing import Any

import dask.array as da
import numpy as np
import pytest
import xarray as xr

from tests.process_vectors import run_through_engine

#: SCL-like values of 1 date x 2 x 2 pixels, one of them nodata
SCL = np.array([[[3.0, 4.0], [8.0, np.nan]]])


def _cube(values: np.ndarray, **extra: Any) -> xr.DataArray:
    dims = [*extra, "t", "y", "x"]
    coords = {**extra, "t": np.array(["2023-06-01"], dtype="datetime64[ns]"),
              "y": [1.0, 0.0], "x": [0.0, 1.0]}  # fmt: skip
    return xr.DataArray(da.from_array(values), dims=dims, coords=coords)


def _apply(nodes: dict[str, Any]) -> np.ndarray:
    out = run_through_engine("apply", {"data": _cube(SCL), "process": {"process_graph": nodes}})
    return np.asarray(out.values, dtype=np.float64).ravel()


def _eq(value: float) -> dict[str, Any]:
    return {"process_id": "eq", "arguments": {"x": {"from_parameter": "x"}, "y": value}}


@pytest.mark.parametrize(
    ("reducer", "want"),
    [("any", [1, 0, 1, 0]), ("all", [0, 0, 0, 0]), ("sum", [1, 0, 1, 0]), ("max", [1, 0, 1, 0])],
)
def test_arrays_built_in_apply_are_per_pixel(reducer: str, want: list[float]) -> None:
    """``any(array_create([x == 3, x == 8]))`` (APEx max_ndvi_composite's SCL mask) is
    one answer per pixel, as Copernicus's per-pixel callbacks give, not one for the cube."""
    nodes = {
        "a": _eq(3), "b": _eq(8),
        "c": {"process_id": "array_create",
              "arguments": {"data": [{"from_node": "a"}, {"from_node": "b"}]}},
        "r": {"process_id": reducer, "arguments": {"data": {"from_node": "c"}}, "result": True},
    }  # fmt: skip
    np.testing.assert_array_equal(_apply(nodes), want)


def test_lists_and_elements_in_apply() -> None:
    """``sum([x, 2])`` and ``array_element(array_create([x, 2]), 1)`` per pixel."""
    total = {"r": {"process_id": "sum", "arguments": {"data": [{"from_parameter": "x"}, 2]},
                   "result": True}}  # fmt: skip
    np.testing.assert_array_equal(_apply(total), [5, 6, 10, 2])
    element = {
        "c": {"process_id": "array_create", "arguments": {"data": [{"from_parameter": "x"}, 2]}},
        "r": {"process_id": "array_element", "arguments": {"data": {"from_node": "c"}, "index": 1},
              "result": True},
    }  # fmt: skip
    np.testing.assert_array_equal(_apply(element), [2, 2, 2, 2])


def test_mask_and_merge_take_any_band_dimension() -> None:
    """A mask with a ``bands2`` dimension (add_dimension type bands) merged with a
    ``bands`` cube is one band dimension [rank, SCL]; one data band is masked by band 0,
    two bands band by band (DatacubeSupport.scala rasterMaskGeneric)."""
    rank = _cube(np.array([[[[1.0, 0.0], [0.0, 0.0]]]]), bands2=["ndvi"])
    clouds = _cube(np.array([[[[0.0, 0.0], [1.0, 0.0]]]]), bands=["SCL"])
    merged = run_through_engine("merge_cubes", {"cube1": rank, "cube2": clouds})
    assert merged.dims[0] == "bands2" and list(merged["bands2"].values) == ["ndvi", "SCL"]
    one = _cube(np.full((1, 1, 2, 2), 5.0), bands=["B04"])
    got = run_through_engine("mask", {"data": one, "mask": merged}).values
    np.testing.assert_array_equal(got.ravel(), [np.nan, 5, 5, 5])
    two = _cube(np.full((2, 1, 2, 2), 5.0), bands=["B04", "B03"])
    got = run_through_engine("mask", {"data": two, "mask": merged}).values
    np.testing.assert_array_equal(got.ravel(), [np.nan, 5, 5, 5, 5, 5, np.nan, 5])


def _if_graph(period: Any) -> dict[str, Any]:
    load = {"process_id": "load_collection", "arguments": {"id": "S2"}}
    return {
        "load": load,
        "valid": {"process_id": "is_valid", "arguments": {"x": period}},
        "per": {"process_id": "aggregate_temporal_period",
                "arguments": {"data": {"from_node": "load"}, "period": period, "reducer": "x"}},
        "whole": {"process_id": "max", "arguments": {"data": {"from_node": "load"}}},
        "if": {"process_id": "if", "arguments": {"value": {"from_node": "valid"},
               "accept": {"from_node": "per"}, "reject": {"from_node": "whole"}}},
        "save": {"process_id": "save_result", "arguments": {"data": {"from_node": "if"}},
                 "result": True},
    }  # fmt: skip


def test_top_level_if_keeps_the_branch_it_takes() -> None:
    """APEx timeseries_statistics: ``if(is_valid(period), per-period, whole extent)``
    runs one branch; the other (``aggregate_temporal_period`` with a null period) is
    dropped, as Copernicus evaluates only the branch taken (evaluator.py L329-334)."""
    from hybrid.backends.local.if_branches import chosen_branches

    for period, kept, dropped in ((None, "whole", "per"), ("month", "per", "whole")):
        graph = chosen_branches(_if_graph(period))
        assert graph["if"]["arguments"] == {"value": True, "accept": {"from_node": kept}}
        assert dropped not in graph and "valid" not in graph and "load" in graph
    data_driven = _if_graph(None)
    data_driven["valid"]["arguments"]["x"] = {"from_node": "load"}  # computed from data
    assert chosen_branches(data_driven) == data_driven
