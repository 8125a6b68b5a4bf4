"""What a load_collection loads, inferred from the graph like the Copernicus dry run
(openeo-python-driver openeo_driver/dry_run.py): the extents, bands and pixel buffers
traced along each load's paths.
"""

from __future__ import annotations

import copy

import pytest

from hybrid.backends.local.extents import infer_loads
from hybrid.backends.local.load_arguments import with_extents
from hybrid.grid import BBox
from tests.engine.extent_graphs import BOX, _chain, _load, _node

OTHER = {"west": 6.66, "south": 45.25, "east": 6.67, "north": 45.26}

FIELDS = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[6.656, 45.231], [6.66, 45.231], [6.66, 45.235], [6.656, 45.231]]],
            },
        },
        {
            "type": "Feature",
            "properties": {},
            "geometry": {
                "type": "MultiPolygon",
                "coordinates": [
                    [[[6.661, 45.236], [6.664, 45.236], [6.664, 45.239], [6.661, 45.236]]]
                ],
            },
        },
    ],
}


def test_filters_after_a_bare_load_narrow_it():
    graph = _chain(
        ("filter_temporal", {"extent": ["2023-06-01", "2023-07-01"]}),
        ("filter_bbox", {"extent": BOX}),
        ("filter_bands", {"bands": ["B08", "B04"]}),
    )
    load = infer_loads(graph)["load"]
    assert load.spatial == BBox(**BOX)
    assert load.spatial_from == "filter_bbox 'n1'"
    assert load.temporal == ("2023-06-01", "2023-07-01")
    assert load.bands == ("B08", "B04")


def test_the_loads_own_arguments_win_over_later_filters():
    load = _load(bands=["B02"])
    load["arguments"].update(spatial_extent=OTHER, temporal_extent=["2023-05-01", "2023-06-01"])
    graph = _chain(
        ("filter_temporal", {"extent": ["2023-06-01", "2023-07-01"]}),
        ("filter_bbox", {"extent": BOX}),
        ("filter_bands", {"bands": ["B04"]}),
        load=load,
    )
    found = infer_loads(graph)["load"]
    assert (found.spatial, found.spatial_from) == (BBox(**OTHER), "load_collection")
    assert found.temporal == ("2023-05-01", "2023-06-01")
    assert found.bands == ("B02",)


def test_the_filter_closest_to_the_load_wins():
    graph = _chain(
        ("filter_bbox", {"extent": OTHER}),
        ("filter_temporal", {"extent": ["2023-05-01", "2023-09-01"]}),
        ("filter_bbox", {"extent": BOX}),
        ("filter_temporal", {"extent": ["2023-06-01", "2023-07-01"]}),
    )
    load = infer_loads(graph)["load"]
    assert load.spatial == BBox(**OTHER)
    assert load.temporal == ("2023-05-01", "2023-09-01")


def test_aggregate_spatial_geometries_bound_the_load():
    graph = _chain(
        ("filter_temporal", {"extent": ["2023-06-01", "2023-07-01"]}),
        ("aggregate_spatial", {"geometries": FIELDS, "reducer": "mean"}),
    )
    load = infer_loads(graph)["load"]
    assert load.spatial == BBox(6.656, 45.231, 6.664, 45.239)
    assert load.spatial_from == "aggregate_spatial 'n1'"


def test_a_bbox_anywhere_on_the_path_beats_geometries():
    graph = _chain(
        ("mask_polygon", {"mask": FIELDS}),
        ("filter_bbox", {"extent": BOX}),
    )
    assert infer_loads(graph)["load"].spatial == BBox(**BOX)


def test_geometries_through_load_geojson_and_filter_spatial():
    graph = _chain(("filter_spatial", {"geometries": {"from_node": "fields"}}))
    graph["fields"] = {"process_id": "load_geojson", "arguments": {"data": FIELDS}}
    assert infer_loads(graph)["load"].spatial == BBox(6.656, 45.231, 6.664, 45.239)


def test_geometries_through_vector_buffer_bound_the_load_buffered():
    """aggregate_spatial over vector_buffer(FIELDS, 100 m) loads the buffered bbox
    (Copernicus's dry run evaluates vector_buffer); without it a bare load is refused."""
    graph = _chain(("aggregate_spatial", {"geometries": {"from_node": "grown"}}))
    graph["fields"] = {"process_id": "load_geojson", "arguments": {"data": FIELDS}}
    graph["grown"] = _node("vector_buffer", geometries={"from_node": "fields"}, distance=100)
    box = infer_loads(graph)["load"].spatial
    assert box is not None
    assert box.north - 45.239 == pytest.approx(100 / 111_200, rel=0.02)
    assert 6.656 - box.west == pytest.approx(100 / 111_200 / 0.7046, rel=0.02)


def test_a_point_is_buffered_by_ten_metres():
    point = {"type": "Point", "coordinates": [6.66, 45.235]}
    box = infer_loads(_chain(("aggregate_spatial", {"geometries": point})))["load"].spatial
    assert box is not None
    assert box.east - box.west == pytest.approx(2 * 10 / 111_320 / 0.7046, rel=0.01)
    assert box.north - box.south == pytest.approx(2 * 10 / 111_320 / 0.7046, rel=0.01)


def test_mask_polygon_inside_or_with_replacement_does_not_bound():
    for extra in ({"inside": True}, {"replacement": 0}):
        graph = _chain(("mask_polygon", {"mask": FIELDS, **extra}))
        assert infer_loads(graph)["load"].spatial is None


def test_bands_are_not_pushed_past_a_reduce_dimension():
    graph = _chain(
        ("filter_bbox", {"extent": BOX}),
        ("reduce_dimension", {"dimension": "t", "reducer": {"process_graph": {}}}),
        ("filter_bands", {"bands": ["B04"]}),
    )
    assert infer_loads(graph)["load"].bands is None


def test_kernels_set_the_pixel_buffer():
    kernel = [[1] * 11 for _ in range(11)]
    graph = _chain(("filter_bbox", {"extent": BOX}), ("apply_kernel", {"kernel": kernel}))
    assert infer_loads(graph)["load"].buffer == 6
    graph = _chain(("filter_bbox", {"extent": BOX}), ("to_scl_dilation_mask", {}))
    assert infer_loads(graph)["load"].buffer == 101  # ceil(kernel2_size 201 / 2)
    graph = _chain(("filter_bbox", {"extent": BOX}), ("mask_scl_dilation", {"kernel2_size": 77}))
    # none: a custom cloud mask, read around each key while loading (dry_run.py L956-957)
    assert infer_loads(graph)["load"].buffer == 0


def test_apply_neighborhood_overlap_sets_the_pixel_buffer():
    # dry_run.py L909-924: the x/y overlap itself (px), rounded up; t is no buffer
    def graph(overlap: object) -> dict:
        size = [{"dimension": d, "value": 32, "unit": "px"} for d in ("x", "y")]
        args = {"process": {"process_graph": {}}, "size": size, "overlap": overlap}
        return _chain(("filter_bbox", {"extent": BOX}), ("apply_neighborhood", args))

    xy = [{"dimension": "x", "value": 8, "unit": "px"}, {"dimension": "y", "value": 4.5}]
    assert infer_loads(graph(xy))["load"].buffer == 8
    assert infer_loads(graph([{"dimension": "y", "value": 4.5, "unit": "px"}]))["load"].buffer == 5
    assert infer_loads(graph([{"dimension": "t", "value": "P1D"}]))["load"].buffer == 0
    assert infer_loads(graph(None))["load"].buffer == 0
    kernel = [[1] * 21 for _ in range(21)]
    both = _chain(
        ("filter_bbox", {"extent": BOX}),
        ("apply_neighborhood", {"process": {"process_graph": {}}, "size": [], "overlap": xy}),
        ("apply_kernel", {"kernel": kernel}),
    )
    # the first on the path, not the largest (dry_run.py L531-545 ``args_list[:1]``)
    assert infer_loads(both)["load"].buffer == 8
    # an x overlap of 0 px is a pixel_buffer too ([0.0, 0.0]): the kernel after it adds none
    none = [{"dimension": "x", "value": 0, "unit": "px"}]
    both["n1"]["arguments"]["overlap"] = none
    assert infer_loads(both)["load"].buffer == 0
    # a t overlap is none: the kernel after it sets the buffer
    both["n1"]["arguments"]["overlap"] = [{"dimension": "t", "value": "P1D"}]
    assert infer_loads(both)["load"].buffer == 11


def _two_loads() -> dict:
    return {
        "a": _load(),
        "b": _load(bands=["SCL"]),
        "fa": _node("filter_bbox", "a", extent=BOX),
        "ta": _node("filter_temporal", "fa", extent=["2023-06-01", "2023-07-01"]),
        "fb": _node("filter_bbox", "b", extent=OTHER),
        "tb": _node("filter_temporal", "fb", extent=["2023-05-01", "2023-06-01"]),
        "merge": _node("merge_cubes", None, cube1={"from_node": "ta"}, cube2={"from_node": "tb"}),
        "bands": _node("filter_bands", "merge", bands=["B04"]),
        "save": {**_node("save_result", "bands", format="netCDF"), "result": True},
    }


def test_several_loads_are_bounded_each_by_their_own_path():
    loads = infer_loads(_two_loads())
    assert (loads["a"].spatial, loads["a"].temporal) == (BBox(**BOX), ("2023-06-01", "2023-07-01"))
    assert (loads["b"].spatial, loads["b"].temporal) == (
        BBox(**OTHER),
        ("2023-05-01", "2023-06-01"),
    )
    # merge_cubes blocks band push-down (dry_run.py:140)
    assert (loads["a"].bands, loads["b"].bands) == (None, ("SCL",))


def test_a_load_feeding_two_branches_loads_their_union():
    graph = {
        "load": _load(),
        "f1": _node("filter_bbox", "load", extent=BOX),
        "t1": _node("filter_temporal", "f1", extent=["2023-06-01", "2023-07-01"]),
        "f2": _node("filter_bbox", "load", extent=OTHER),
        "t2": _node("filter_temporal", "f2", extent=["2023-05-01", "2023-06-15"]),
        "s1": _node("save_result", "t1", format="netCDF"),
        "s2": {**_node("save_result", "t2", format="GTiff"), "result": True},
    }
    load = infer_loads(graph)["load"]
    assert load.spatial == BBox(6.655, 45.23, 6.67, 45.26)
    assert load.temporal == ("2023-05-01", "2023-07-01")


def test_with_extents_fills_only_null_arguments():
    graph = _chain(("filter_bbox", {"extent": BOX}), ("filter_bands", {"bands": ["B04"]}))
    before = copy.deepcopy(graph)
    filled = with_extents(graph, infer_loads(graph))
    assert graph == before
    args = filled["load"]["arguments"]
    assert args["spatial_extent"] == {**BOX, "crs": "EPSG:4326"}
    assert args["temporal_extent"] is None  # open: 2000-01-01 until now, as Copernicus
    assert args["bands"] == ["B04"]
