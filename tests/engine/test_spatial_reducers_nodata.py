"""aggregate_spatial's ``ignore_nodata: false``: Copernicus's Spark aggregates skip null
cells whatever the argument (SparkAggregateScriptBuilder.scala L105, L129-146 at
openeo-geotrellis-extensions 2a25a26e: only ``first``/``last`` get ``ignoreNulls``), so a
field with a masked pixel still gets the statistic of its valid pixels."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from hybrid.backends.local.spatial_reducers import mark_spatial_reducers
from tests.engine.test_spatial_reducers import DATA, _graph, _reducer


def _masked(reducer: dict[str, Any]) -> dict[str, Any]:
    """The sample's B04 with the pixels above 1000 masked, per field and date."""
    graph = _graph(reducer)
    above = {"process_id": "gt", "arguments": {"x": {"from_parameter": "x"}, "y": 1000}}
    graph["cut"] = {
        "process_id": "apply",
        "arguments": {
            "data": {"from_node": "load"},
            "process": {"process_graph": {"g": {**above, "result": True}}},
        },
    }
    graph["masked"] = {
        "process_id": "mask",
        "arguments": {"data": {"from_node": "load"}, "mask": {"from_node": "cut"}},
    }
    graph["agg"]["arguments"]["data"] = {"from_node": "masked"}
    return graph


def test_ignore_nodata_false_is_dropped_but_for_first_and_last() -> None:
    names = ["mean", "min", "max", "sum", "median", "sd", "variance", "product", "first", "last"]
    reducer = _reducer(*[(n, {"data": DATA, "ignore_nodata": False}) for n in names])
    graph = copy.deepcopy(_graph(reducer))
    mark_spatial_reducers(graph)
    steps = graph["agg"]["arguments"]["reducer"]["process_graph"]
    kept = {
        s["process_id"]: s["arguments"].get("ignore_nodata")
        for s in steps.values()
        if s["process_id"] != "array_create"
    }
    assert kept == {n: (False if n in ("first", "last") else None) for n in names}


@pytest.mark.slow
@pytest.mark.parametrize("process", ["max", "min", "sum", "median", "sd"])
def test_a_field_with_masked_pixels_gets_the_statistic_of_the_others(
    sample_catalog: Path, tmp_path: Path, process: str
) -> None:
    from hybrid.backends.local import LocalBackend, LocalSettings

    backend = LocalBackend(LocalSettings(stac=str(sample_catalog)))

    def series(arguments: dict[str, Any], out: str) -> Any:
        reducer = _reducer((process, {"data": DATA, **arguments}))
        (path,) = backend.execute(_masked(reducer), out_dir=tmp_path / out).files
        return json.loads(path.read_text())

    default = series({}, "default")
    strict = series({"ignore_nodata": False}, "strict")
    assert any(v is not None for features in default.values() for f in features for v in f)
    assert strict == default
