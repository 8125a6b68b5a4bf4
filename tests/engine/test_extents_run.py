"""Loads whose extents come from the filters after them, run; loads nothing bounds refused
before any data is read; what save_result and load_stac check before running.
"""

from __future__ import annotations

import copy

import pytest

from hybrid.backends.local.extents import UnboundedLoad, infer_loads
from hybrid.backends.local.load_arguments import with_extents
from hybrid.errors import FormatUnsuitable, ProcessParameterInvalid
from hybrid.grid import BBox
from tests.engine.extent_graphs import BOX, _chain, _load, _node


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
