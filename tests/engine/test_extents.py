"""What a load_collection loads, inferred from the graph like the Copernicus dry run
(openeo-python-driver openeo_driver/dry_run.py), and loads nothing bounds refused."""

from __future__ import annotations

import copy

import pytest

from hybrid.backends.local.extents import UnboundedLoad, infer_loads
from hybrid.backends.local.load_arguments import with_extents
from hybrid.errors import FormatUnsuitable, ProcessParameterInvalid
from hybrid.grid import BBox

BOX = {"west": 6.655, "south": 45.23, "east": 6.665, "north": 45.24}
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


def _node(pid: str, data: str | None = None, **args) -> dict:
    arguments = {"data": {"from_node": data}} if data else {}
    arguments.update(args)
    return {"process_id": pid, "arguments": arguments}


def _load(**args) -> dict:
    return _node("load_collection", id="SENTINEL2_L2A", spatial_extent=None,
                 temporal_extent=None, **args)  # fmt: skip


def _chain(*steps: tuple[str, dict], load: dict | None = None) -> dict:
    graph = {"load": load or _load()}
    previous = "load"
    for index, (pid, args) in enumerate(steps):
        graph[f"n{index}"] = _node(pid, previous, **args)
        previous = f"n{index}"
    graph["save"] = _node("save_result", previous, format="netCDF")
    graph["save"]["result"] = True
    return graph


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


def test_a_load_nothing_bounds_is_refused_naming_what_to_add():
    from hybrid.backends.local import LocalBackend

    graph = _chain(("filter_temporal", {"extent": ["2023-06-01", "2023-07-01"]}))
    with pytest.raises(UnboundedLoad) as info:
        LocalBackend().validate(graph)
    text = str(info.value)
    assert "spatial_extent" in text and "filter_bbox" in text and "'load'" in text
    assert info.value.status == 400 and info.value.code == "MissingSpatialFilter"


def test_one_unbounded_branch_makes_the_load_unbounded():
    graph = {
        "load": _load(),
        "f1": _node("filter_bbox", "load", extent=BOX),
        "s1": _node("save_result", "f1", format="netCDF"),
        "s2": {**_node("save_result", "load", format="GTiff"), "result": True},
    }
    assert infer_loads(graph)["load"].spatial is None


def _bare_graph(explicit: bool) -> dict:
    load = _load()
    if explicit:
        load["arguments"].update(
            spatial_extent=BOX, temporal_extent=["2023-06-01", "2023-07-01"], bands=["B04", "B08"]
        )
    graph = _chain(
        ("filter_temporal", {"extent": ["2023-06-01", "2023-07-01"]}),
        ("filter_bbox", {"extent": BOX}),
        ("filter_bands", {"bands": ["B04", "B08"]}),
        load=load,
    )
    graph["tif"] = _node("save_result", "n2", format="GTiff", options={"filename_prefix": "raw"})
    return graph


@pytest.mark.slow
def test_a_bare_load_gives_what_the_explicit_load_gives(sample_catalog, tmp_path):
    """A bare load narrowed by later filters runs, gives the same cube as the explicit
    load, and every save_result writes its files (filename_prefix honoured)."""
    import xarray as xr

    from hybrid.backends.local import LocalBackend
    from hybrid.backends.local.engine import LocalSettings

    backend = LocalBackend(LocalSettings(stac=str(sample_catalog)))
    results = {}
    for explicit in (True, False):
        out = tmp_path / str(explicit)
        files = backend.execute(_bare_graph(explicit), out_dir=out).files
        names = sorted(f.name for f in files)
        assert names[0] == "openEO.nc" and len(names) > 2
        assert all(n.startswith("raw_2023-06-") and n.endswith("Z.tif") for n in names[1:])
        assert sorted(p.name for p in out.iterdir()) == names
        with xr.open_dataset(out / "openEO.nc") as ds:
            results[explicit] = (ds["B04"].values.copy(), ds["B08"].values.copy(), names)
    assert results[True][2] == results[False][2]
    for a, b in zip(results[True][:2], results[False][:2], strict=True):
        assert a.shape == b.shape and a.size > 0
        assert (a == b)[~(a != a)].all() and ((a != a) == (b != b)).all()


def test_an_unbounded_load_fails_before_any_data_is_read(tmp_path):
    from hybrid.backends.local import LocalBackend
    from hybrid.backends.local.engine import LocalSettings

    missing = tmp_path / "no-catalog-here"
    graph = _chain(("filter_temporal", {"extent": ["2023-06-01", "2023-07-01"]}))
    with pytest.raises(UnboundedLoad, match="spatial_extent"):
        LocalBackend(LocalSettings(stac=str(missing))).execute(graph, out_dir=tmp_path / "o")
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_save_results_writing_the_same_file_are_run_the_later_replacing(sample_catalog, tmp_path):
    """Two save_results writing ``openEO.nc``: Copernicus runs both, in the order it
    evaluates the end nodes (sorted ids: evaluator.py L56-92), each writing its files into
    the job folder (batch_job.py L438-515), so the later one's file stays; they were
    refused. As the APEx worldcover_statistics notebook saves its UDP's CSV again."""
    import xarray as xr

    from hybrid.backends.local import LocalBackend
    from hybrid.backends.local.engine import LocalSettings
    from hybrid.errors import HybridWarning

    graph = _bare_graph(explicit=True)
    graph["b08"] = _node("filter_bands", "n2", bands=["B08"])
    graph["tif"] = _node("save_result", "b08", format="netCDF", options={})
    backend = LocalBackend(LocalSettings(stac=str(sample_catalog)))
    with pytest.warns(HybridWarning, match="openEO.nc again"):
        files = backend.execute(graph, out_dir=tmp_path / "o").files
    assert [f.name for f in files] == ["openEO.nc"]
    with xr.open_dataset(tmp_path / "o" / "openEO.nc") as ds:
        assert [v for v in ds.data_vars if v != "crs"] == ["B08"]  # "tif" after "save"


@pytest.mark.parametrize("prefix", ["../up", "a/b", ".hidden", ""])
def test_a_filename_prefix_must_be_a_plain_name(prefix):
    from hybrid.backends.local import LocalBackend

    graph = _bare_graph(explicit=True)
    graph["tif"]["arguments"]["options"] = {"filename_prefix": prefix}
    with pytest.raises(ProcessParameterInvalid, match="filename_prefix"):
        LocalBackend().validate(graph)


def test_an_unsuitable_format_is_refused_before_running():
    from hybrid.backends.local import LocalBackend

    graph = _bare_graph(explicit=True)
    graph["tif"]["arguments"]["format"] = "PNGX"
    with pytest.raises(FormatUnsuitable, match="PNGX") as info:
        LocalBackend().validate(graph)
    assert info.value.node == "tif"


def test_load_stac_takes_its_extents_from_the_filters_after_it_and_needs_none():
    """The dry run traces load_stac like load_collection (dry_run.py:459-481); without a
    spatial constraint it loads its items' extent (load_stac.py:569): not refused."""
    from hybrid.backends.local.extents import require_bounded
    from hybrid.backends.local.load_arguments import LOAD_NODE

    graph = {
        "l": {"process_id": "load_stac", "arguments": {"url": "/c.json"}},
        "b": {
            "process_id": "filter_bbox",
            "arguments": {"data": {"from_node": "l"}, "extent": BOX},
        },
        "t": {
            "process_id": "filter_temporal",
            "arguments": {"data": {"from_node": "b"}, "extent": ["2023-06-01", "2023-07-01"]},
            "result": True,
        },
    }
    (load,) = infer_loads(graph).values()
    assert (load.process, load.spatial, load.temporal) == (
        "load_stac",
        BBox(6.655, 45.23, 6.665, 45.24),
        ("2023-06-01", "2023-07-01"),
    )
    args = with_extents(graph, infer_loads(graph))["l"]["arguments"]
    assert args["temporal_extent"] == ["2023-06-01", "2023-07-01"]
    # marked without properties too: the call finds its buffer and mask_scl_dilation by it
    assert args["properties"] == {LOAD_NODE: "l"}
    lone = {"l": {**graph["l"], "result": True}}
    require_bounded(infer_loads(lone))  # no error
    with_properties = copy.deepcopy(lone)
    with_properties["l"]["arguments"]["properties"] = {"p": {"process_graph": {}}}
    args = with_extents(with_properties, infer_loads(with_properties))["l"]["arguments"]
    assert args["properties"] == {LOAD_NODE: "l"}
