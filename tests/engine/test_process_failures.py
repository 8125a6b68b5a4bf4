"""A process failing on its arguments is a 4xx openEO error naming the node and the
parameters (backends/local/failures.py), through the real parser and registry, and
through the whole engine on the embedded sample."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hybrid.backends.local.failures import name_node
from hybrid.errors import HybridError, ProcessParameterInvalid


def _run(graph: dict[str, Any]) -> Any:
    from openeo_pg_parser_networkx import OpenEOProcessGraph

    from hybrid.backends.local.registry import registry_for_run

    call = OpenEOProcessGraph({"process_graph": graph}).to_callable(
        process_registry=registry_for_run({})
    )
    try:
        return call()
    except HybridError as exc:
        raise name_node(exc, graph) from None


def test_a_process_type_error_names_process_node_and_parameters() -> None:
    graph = {
        "concat": {"process_id": "text_concat", "arguments": {"data": 5}, "result": True},
    }
    with pytest.raises(ProcessParameterInvalid) as info:
        _run(graph)
    message = str(info.value)
    assert info.value.status == 400 and info.value.node == "concat"
    assert message.startswith("text_concat: TypeError")
    assert "data: int" in message and "(process node 'concat')" in message


def test_our_own_errors_keep_their_message_and_learn_the_node() -> None:
    graph = {
        "pick": {
            "process_id": "array_element",
            "arguments": {"data": [1, 2], "index": 5},
            "result": True,
        }
    }
    with pytest.raises(ProcessParameterInvalid, match="ArrayElementNotAvailable") as info:
        _run(graph)
    assert info.value.node == "pick"


def test_the_innermost_failing_process_inside_a_callback_is_named() -> None:
    graph = {
        "each": {
            "process_id": "array_apply",
            "arguments": {
                "data": [1, 2],
                "process": {
                    "process_graph": {
                        "bad": {
                            "process_id": "text_concat",
                            "arguments": {"data": {"from_parameter": "x"}},
                            "result": True,
                        }
                    }
                },
            },
            "result": True,
        }
    }
    with pytest.raises(ProcessParameterInvalid) as info:
        _run(graph)
    assert info.value.node == "each/bad", str(info.value)
    assert str(info.value).startswith("text_concat: TypeError")


def test_a_process_used_twice_names_both_nodes() -> None:
    graph = {
        "a": {"process_id": "text_concat", "arguments": {"data": ["x"]}},
        "b": {"process_id": "text_concat", "arguments": {"data": 5}, "result": True},
    }
    with pytest.raises(ProcessParameterInvalid) as info:
        _run(graph)
    assert info.value.node == "a or b"


@pytest.mark.slow
def test_engine_reports_a_bad_callback_argument_as_400_with_the_node(
    sample_catalog: Path, tmp_path: Path
) -> None:
    """The whole engine: load the sample, apply ``add(x, "a")``: a 400 naming the node,
    not a 500 with a traceback."""
    from hybrid.backends.local import LocalBackend, LocalSettings
    from hybrid.sample import SEED_AOI

    west, south, east, north = _box_inside(SEED_AOI)
    graph = {
        "load": {
            "process_id": "load_collection",
            "arguments": {
                "id": "SENTINEL2_L2A",
                "spatial_extent": {"west": west, "south": south, "east": east, "north": north},
                "temporal_extent": ["2023-06-01", "2023-06-10"],
                "bands": ["B04"],
            },
        },
        "plus": {
            "process_id": "apply",
            "arguments": {
                "data": {"from_node": "load"},
                "process": {
                    "process_graph": {
                        "add1": {
                            "process_id": "add",
                            "arguments": {"x": {"from_parameter": "x"}, "y": "a"},
                            "result": True,
                        }
                    }
                },
            },
        },
        "save": {
            "process_id": "save_result",
            "arguments": {"data": {"from_node": "plus"}, "format": "netCDF"},
            "result": True,
        },
    }
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(HybridError) as info:
        LocalBackend(LocalSettings(stac=str(sample_catalog))).execute(
            json.loads(json.dumps(graph)), out_dir=out
        )
    assert info.value.status == 400, repr(info.value)
    assert info.value.node == "plus/add1", str(info.value)
    assert "y: str" in str(info.value)


def _box_inside(aoi: dict[str, Any]) -> tuple[float, float, float, float]:
    """A small box around the centre of the seed AOI (west, south, east, north)."""
    from shapely.geometry import shape

    geometry = shape(aoi)
    x, y = geometry.centroid.x, geometry.centroid.y
    return x - 0.002, y - 0.002, x + 0.002, y + 0.002


def test_a_bare_exception_from_openeo_processes_dask_is_an_argument_error():
    from hybrid.backends.local.failures import _is_argument_error

    def from_upstream() -> None:
        exec(  # a frame whose module is openeo_processes_dask, as array_apply raises it
            "raise Exception('Could not apply process as it is not callable.')",
            {"__name__": "openeo_processes_dask.process_implementations.arrays"},
        )

    try:
        from_upstream()
    except Exception as exc:
        assert _is_argument_error(exc)
    try:
        raise Exception("a bug of ours")
    except Exception as exc:
        assert not _is_argument_error(exc)
