"""The pixels a load reads around its extent for a kernel, as Copernicus's dry run sets
them: in pixels of the resolution a ``resample_spatial`` hands to the load
(openeo-python-driver ``processgraph/load_params.py`` L152-168: ``target_resolution *
ceil(buffer)``; the "resample" rule, ``dry_run.py`` L155-171), and for a kernel given by
an ``array_create`` node (APEx dlr/scmap ``apply_kernel(kernel=array_create(...))``),
which the dry run sees evaluated. Found by ``tests/workflows/test_apex_scmap.py``: the
SCL cloud dilation at 20 m was zero-padded at the edges of the extent."""

from __future__ import annotations

from typing import Any

from hybrid.backends.local.extents import infer_loads

BOX = {"west": 6.655, "south": 45.23, "east": 6.665, "north": 45.24}
BOXCAR = [[1] * 11 for _ in range(11)]


def _graph(*steps: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    load = {"id": "SENTINEL2_L2A", "spatial_extent": BOX, "temporal_extent": None}
    graph: dict[str, Any] = {"load": {"process_id": "load_collection", "arguments": load}}
    previous = "load"
    for index, (pid, args) in enumerate(steps):
        graph[f"n{index}"] = {
            "process_id": pid,
            "arguments": {"data": {"from_node": previous}, **args},
        }
        previous = f"n{index}"
    saved = {"data": {"from_node": previous}, "format": "netCDF"}
    graph["save"] = {"process_id": "save_result", "result": True, "arguments": saved}
    return graph


def _buffer(graph: dict[str, Any]) -> int:
    return infer_loads(graph)["load"].wide


def test_a_kernel_after_a_resample_buffers_in_the_resampled_pixels():
    """11 x 11 after ``resample_spatial(20)``: 6 pixels of 20 m = 12 of the 10 m load;
    ``[60, 60]`` with ``average``: 36; ``to_scl_dilation_mask`` the same way."""
    kernel = ("apply_kernel", {"kernel": BOXCAR})
    assert _buffer(_graph(("resample_spatial", {"resolution": 20}), kernel)) == 12
    resample = ("resample_spatial", {"resolution": [60, 60], "method": "average"})
    assert _buffer(_graph(resample, kernel)) == 36
    dilation = ("to_scl_dilation_mask", {"kernel2_size": 77})
    assert _buffer(_graph(("resample_spatial", {"resolution": 20}), dilation)) == 78


def test_a_resample_past_a_blocker_or_keeping_the_pixels_does_not_scale_it():
    """The resample is handed to the load only before any blocker (apply, mask,
    reduce_dimension, a kernel...); resolution 0, or one in a named CRS, leaves 10 m."""
    kernel = ("apply_kernel", {"kernel": BOXCAR})
    apply = ("apply", {"process": {"process_graph": {}}})
    assert _buffer(_graph(apply, ("resample_spatial", {"resolution": 20}), kernel)) == 6
    assert _buffer(_graph(("resample_spatial", {"resolution": 0}), kernel)) == 6
    named = ("resample_spatial", {"resolution": 20, "projection": 4326})
    assert _buffer(_graph(named, kernel)) == 6
    assert _buffer(_graph(kernel)) == 6


def test_a_kernel_from_an_array_create_node_buffers_the_load():
    graph = _graph(("apply_kernel", {"kernel": {"from_node": "kernel"}}))
    graph["kernel"] = {"process_id": "array_create", "arguments": {"data": BOXCAR}}
    assert _buffer(graph) == 6
    graph["n0"]["arguments"]["kernel"] = {"from_parameter": "kernel"}
    assert _buffer(graph) == 0  # a parameter's value is not known before the run
