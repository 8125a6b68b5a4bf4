"""Process graphs as array elements inside a callback, read inline as Copernicus's tile
script builder reads them (openeo-geopyspark-driver processgraphvisiting.py L72-74,
``_accept_dict`` visiting ``value['process_graph']``; the client's
``ProcessGraphVisitor._accept_argument_list``): APEx vito/worldcover_statistics builds
its class masks as ``array_create([{"process_graph": eq(data, 10)}, ...])``."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from hybrid.backends.local.inline_graphs import inline_element_graphs


def _eq(value: int) -> dict[str, Any]:
    eq = {"process_id": "eq", "arguments": {"x": {"from_parameter": "data"}, "y": value}}
    return {"process_graph": {"eq1": {**eq, "result": True}}}


def _classes(*values: int) -> dict[str, Any]:
    create = {"process_id": "array_create", "arguments": {"data": [_eq(v) for v in values]}}
    return {"process_graph": {"1": {**create, "result": True}}}


def test_array_elements_that_are_graphs_become_nodes_of_the_callback():
    graph = {
        "apply": {
            "process_id": "apply_dimension",
            "arguments": {"data": {"from_node": "load"}, "dimension": "bands",
                          "process": _classes(10, 20), "labels": [{"process_graph": {}}]},
        }
    }  # fmt: skip
    out = inline_element_graphs(graph)
    callback = out["apply"]["arguments"]["process"]["process_graph"]
    refs = callback["1"]["arguments"]["data"]
    assert [sorted(r) for r in refs] == [["from_node"], ["from_node"]]
    for ref, value in zip(refs, (10, 20), strict=True):
        node = callback[ref["from_node"]]
        assert node["process_id"] == "eq" and not node["result"]
        assert node["arguments"] == {"x": {"from_parameter": "data"}, "y": value}
    assert callback["1"]["result"] is True
    # a top-level list is left alone (the driver evaluates those itself)
    assert out["apply"]["arguments"]["labels"] == [{"process_graph": {}}]
    assert graph["apply"]["arguments"]["process"] == _classes(10, 20)  # not changed


def test_the_class_masks_per_pixel_through_the_engine():
    """``apply_dimension`` over one band: eleven bands, each ``band == class``."""
    from tests.process_vectors import run_through_engine

    values = np.array([[[10, 20], [100, 10]]], dtype=np.float32)
    cube = xr.DataArray(values, dims=("bands", "y", "x"),
                        coords={"bands": ["MAP"], "y": [1.0, 0.0], "x": [0.0, 1.0]})  # fmt: skip
    classes = (10, 20, 100)
    callback = inline_element_graphs({"n": {"arguments": {"p": _classes(*classes)}}})
    process = callback["n"]["arguments"]["p"]
    got = run_through_engine(
        "apply_dimension", {"data": cube, "process": process, "dimension": "bands"}
    )
    want = np.stack([values[0] == c for c in classes])
    np.testing.assert_array_equal(np.asarray(got.values).astype(bool), want)
