"""Which node's cube holds the tiles an aggregate_spatial gets
(:mod:`hybrid.backends.local.tile_sources`): the load, a mask applied in it, or none."""

from __future__ import annotations

from typing import Any

from hybrid.backends.local.load_paths import IN_LOAD
from hybrid.backends.local.tile_sources import TILE_SOURCE, mark_tile_sources


def _node(process: str, data: str | None = None, **arguments: Any) -> dict[str, Any]:
    if data is not None:
        arguments["data"] = {"from_node": data}
    return {"process_id": process, "arguments": arguments}


def _marked(**nodes: dict[str, Any]) -> Any:
    graph = {
        "load": _node("load_collection", id="SENTINEL2_L2A", bands=["B04", "B08", "SCL"]),
        "scl": _node("filter_bands", "load", bands=["SCL"]),
        **nodes,
    }
    mark_tile_sources(graph)
    return graph["agg"]["arguments"].get(TILE_SOURCE)


def test_band_maths_and_a_plain_mask_keep_the_loads_tiles() -> None:
    got = _marked(
        ndvi=_node("reduce_dimension", "load", dimension="bands", reducer={}),
        masked=_node("mask", "ndvi", mask={"from_node": "scl"}, replacement=0),
        agg=_node("aggregate_spatial", "masked", geometries={}, reducer={}),
    )
    assert got == {"from_node": "load"}


def test_a_mask_applied_in_the_load_is_the_source() -> None:
    got = _marked(
        masked=_node("mask", "load", mask={"from_node": "scl"}, **{IN_LOAD: True}),
        agg=_node("aggregate_spatial", "masked", geometries={}, reducer={}),
    )
    assert got == {"from_node": "masked"}


def test_a_reducer_over_t_or_a_merge_has_no_source() -> None:
    assert (
        _marked(
            dekads=_node("aggregate_temporal_period", "load", period="dekad", reducer={}),
            agg=_node("aggregate_spatial", "dekads", geometries={}, reducer={}),
        )
        is None
    )
    assert (
        _marked(
            merged=_node("merge_cubes", None, cube1={"from_node": "load"}),
            agg=_node("aggregate_spatial", "merged", geometries={}, reducer={}),
        )
        is None
    )
