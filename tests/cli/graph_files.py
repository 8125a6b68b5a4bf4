"""Graphs and graph files of the ``hybrid run --graph`` tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hybrid.cli import main

WINDOW = ["--start", "2023-06-01", "--end", "2023-06-15"]

FIELD = {
    "type": "Polygon",
    "coordinates": [[[6.656, 45.236], [6.662, 45.236], [6.662, 45.241], [6.656, 45.241],
                     [6.656, 45.236]]],
}  # fmt: skip


def _workflow_graph(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert main(["graph", *WINDOW]) == 0
    graph: dict[str, Any] = json.loads(capsys.readouterr().out)
    return graph


def _series_graph(save: bool) -> dict[str, Any]:
    """NDVI of a field per date, as a user writes it with the client (no mask)."""
    graph: dict[str, Any] = {
        "load": {"process_id": "load_collection", "arguments": {
            "id": "SENTINEL2_L2A", "bands": ["B04", "B08"],
            "spatial_extent": {"west": 6.65, "south": 45.23, "east": 6.67, "north": 45.25},
            "temporal_extent": ["2023-06-01", "2023-06-15"],
        }},
        "ndvi": {"process_id": "ndvi", "arguments": {"data": {"from_node": "load"}}},
        "fields": {"process_id": "aggregate_spatial", "arguments": {
            "data": {"from_node": "ndvi"}, "geometries": FIELD,
            "reducer": {"process_graph": {"mean": {
                "process_id": "mean", "arguments": {"data": {"from_parameter": "data"}},
                "result": True,
            }}},
        }, "result": not save},
    }  # fmt: skip
    if save:
        graph["save"] = {
            "process_id": "save_result",
            "arguments": {"data": {"from_node": "fields"}, "format": "CSV"},
            "result": True,
        }
    return graph


def _write(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document))
    return path
