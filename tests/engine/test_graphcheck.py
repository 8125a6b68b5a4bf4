"""Static checks of process graphs before anything runs (local backend and emulator)."""

from __future__ import annotations

import copy

import pytest

from hybrid.backends.local import LocalBackend
from hybrid.errors import (
    CollectionNotFound,
    ProcessGraphInvalid,
    ProcessParameterInvalid,
    ProcessUnsupported,
)
from hybrid.params import Workflow
from hybrid.sample import SEED_AOI
from hybrid.workflow_graph import build_graph


@pytest.fixture(scope="module")
def graph() -> dict:
    return build_graph(Workflow(aoi=SEED_AOI, start="2023-06-01", end="2023-07-01"))


def _broken(graph: dict, change) -> dict:
    g = copy.deepcopy(graph)
    change(g)
    return g


CASES = {
    "dangling-from-node": (
        lambda g: g["ndvi1"]["arguments"].update(data={"from_node": "nowhere"}),
        ProcessGraphInvalid,
        "nowhere",
    ),
    "two-result-nodes": (
        lambda g: g["ndvi1"].update(result=True),
        ProcessGraphInvalid,
        "exactly one result node",
    ),
    "missing-required-argument": (
        lambda g: g["applykernel1"]["arguments"].pop("kernel"),
        ProcessParameterInvalid,
        "kernel",
    ),
    "unknown-process": (
        lambda g: g["ndvi1"].update(process_id="ndwi_magic"),
        ProcessUnsupported,
        "ndwi_magic",
    ),
    # Copernicus's words, naming where it was looked for (a file URL is no namespace)
    "unknown-process-in-a-namespace": (
        lambda g: g["ndvi1"].update(process_id="s28_add", namespace="file:///tmp/add.json"),
        ProcessUnsupported,
        r"Process with identifier 's28_add' is not available in namespace 'file:///tmp/add.json'",
    ),
    "unknown-collection": (
        lambda g: g["loadcollection1"]["arguments"].update(id="LANDSAT9"),
        CollectionNotFound,
        "LANDSAT9",
    ),
    "border-not-zero": (
        lambda g: g["applykernel1"]["arguments"].update(border="replicate"),
        ProcessParameterInvalid,
        "border",
    ),
    "child-graph-dangling": (
        lambda g: g["reducedimension1"]["arguments"]["reducer"]["process_graph"]["or1"][
            "arguments"
        ].update(y={"from_node": "eq9"}),
        ProcessGraphInvalid,
        "eq9",
    ),
    "cloud-filter-not-a-comparison": (
        lambda g: g["loadcollection1"]["arguments"]["properties"]["eo:cloud_cover"][
            "process_graph"
        ]["lte1"].update(process_id="is_nan"),
        ProcessParameterInvalid,
        "eo:cloud_cover",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_invalid_graphs_are_refused_before_running(graph, case):
    change, error, word = CASES[case]
    with pytest.raises(error, match=word):
        LocalBackend().validate(_broken(graph, change))


def test_the_workflow_graph_is_valid(graph):
    facts = LocalBackend().validate(graph)
    assert facts.buffer == 6
    assert facts.max_cloud_cover == 20.0


def test_ndvi_accepts_common_band_names():
    import numpy as np
    import xarray as xr

    from hybrid.backends.local.processes.indices import ndvi

    cube = xr.DataArray(
        np.array([[[[2.0]], [[6.0]]]]),
        dims=("t", "bands", "y", "x"),
        coords={"bands": ["B04", "B08"]},
    )
    assert float(ndvi(cube).values.ravel()[0]) == pytest.approx(0.5)


@pytest.mark.parametrize("pid", ["sort", "order", "rearrange"])
def test_sort_order_rearrange_in_a_cube_callback_are_refused_as_on_copernicus(pid):
    """OpenEOProcessScriptBuilder.scala L1214: no ``sort``, ``order`` or ``rearrange`` in
    callbacks (Unsupported operation); a plain ``sort`` of a list outside cube callbacks
    stays allowed."""
    from hybrid.backends.local import LocalBackend
    from hybrid.errors import ProcessUnsupported

    graph = {
        "load": {
            "process_id": "load_collection",
            "arguments": {
                "id": "SENTINEL2_L2A",
                "spatial_extent": {"west": 6.66, "south": 45.236, "east": 6.668, "north": 45.244},
                "temporal_extent": ["2023-06-01", "2023-07-01"],
            },
        },
        "ad": {
            "process_id": "apply_dimension",
            "arguments": {
                "data": {"from_node": "load"},
                "dimension": "t",
                "process": {
                    "process_graph": {
                        "s": {
                            "process_id": pid,
                            "arguments": {"data": {"from_parameter": "data"}}
                            | ({"order": [1, 0]} if pid == "rearrange" else {}),
                            "result": True,
                        }
                    }
                },
            },
        },
        "save": {
            "process_id": "save_result",
            "arguments": {"data": {"from_node": "ad"}, "format": "netCDF"},
            "result": True,
        },
    }
    with pytest.raises(ProcessUnsupported, match=f"'{pid}' cannot be used in the callback "
                       "of apply_dimension") as info:  # fmt: skip
        LocalBackend().validate(graph)
    assert info.value.status == 400 and "ad/s" in str(info.value)


def _merged(resolver: dict) -> dict:
    bbox = {"west": 6.66, "south": 45.236, "east": 6.668, "north": 45.244}
    load = {
        "process_id": "load_collection",
        "arguments": {"id": "SENTINEL2_L2A", "spatial_extent": bbox,
                      "temporal_extent": ["2023-06-01", "2023-07-01"], "bands": ["B04"]},
    }  # fmt: skip
    merge = {
        "process_id": "merge_cubes",
        "arguments": {"cube1": {"from_node": "a"}, "cube2": {"from_node": "b"},
                      "overlap_resolver": {"process_graph": resolver}},
    }  # fmt: skip
    save = {"process_id": "save_result", "result": True,
            "arguments": {"data": {"from_node": "m"}, "format": "netCDF"}}  # fmt: skip
    return {"a": load, "b": copy.deepcopy(load), "m": merge, "s": save}


def _node(pid: str, result: bool = False, **arguments: object) -> dict:
    return {"process_id": pid, "arguments": arguments} | ({"result": True} if result else {})


X, Y = {"from_parameter": "x"}, {"from_parameter": "y"}


@pytest.mark.parametrize(
    ("resolver", "message"),
    [
        (
            {"s": _node("add", x=X, y=Y), "h": _node("divide", True, x={"from_node": "s"}, y=2)},
            "has 2 processes; Copernicus only supports overlap resolvers with exactly one",
        ),
        ({"m": _node("mean", True, data=[X, Y])}, "the operator 'mean' is not supported"),
    ],
)
def test_merge_cubes_resolvers_copernicus_cannot_run_are_refused(resolver, message):
    """python-driver cubes.py L239-250 takes one process, OpenEOProcesses.scala
    ``tileBinaryOp`` a few operators; ``max([x, y])`` (the client's "max") passes."""
    with pytest.raises(ProcessParameterInvalid, match=message):
        LocalBackend().validate(_merged(resolver))
    LocalBackend().validate(_merged({"m": _node("max", True, data=[X, Y])}))


@pytest.mark.parametrize(
    "extent",
    [
        ["2023-06-02T10:00:00Z", "2023-06-08"],  # a date-time against a date
        ["2023-06-02", "2023-06-08T00:00:00Z"],
        ["2023-06-02T00:00:00+02:00", "2023-06-08T00:00:00+02:00"],  # not UTC's Z
        ["2023-06-02T00:00:00", "2023-06-08T00:00:00"],
    ],
)
@pytest.mark.parametrize("pid", ["load_collection", "filter_temporal"])
def test_intervals_copernicus_cannot_compare_are_one_400(graph, extent, pid):
    """With both bounds, the driver compares ``rfc3339.parse_date_or_datetime`` of each
    (python-driver io.py L51-55, cubes.py L49-53): a date against a date-time is a
    TypeError there, an offset or a missing Z a ValueError, both a 500; they ran here."""

    def change(g: dict, extent: list = extent) -> None:
        if pid == "load_collection":
            g["loadcollection1"]["arguments"]["temporal_extent"] = extent
        else:
            data = {"from_node": "loadcollection1"}
            g["f"] = {
                "process_id": "filter_temporal",
                "arguments": {"data": data, "extent": extent},
            }

    with pytest.raises(ProcessParameterInvalid, match="both bounds as dates"):
        LocalBackend().validate(_broken(graph, change))
    if pid == "load_collection":  # not a date at all: that is the message
        with pytest.raises(ProcessParameterInvalid, match="'2023-06' is not a date") as got:
            LocalBackend().validate(_broken(graph, lambda g: change(g, ["2023-06", "2023-07"])))
        assert got.value.node == "loadcollection1"


@pytest.mark.parametrize("extent", [["2023-06", None], [None, "2023-06"], ["2023", None]])
def test_a_partial_date_beside_an_open_bound_is_a_400_not_a_day_of_the_calendar(graph, extent):
    """Copernicus checks nothing with one bound open (io.py L49-57) and reads ``2023-06``
    with dateutil, which takes the missing day from the day the job runs (load_stac.py
    L227-230, util/datetime.py L15-19): refused here, as with both bounds. The openeo
    client sends ``2023-06-01`` (openeo/dates.py ``_convert_abbreviated_date``)."""
    g = copy.deepcopy(graph)
    g["loadcollection1"]["arguments"]["temporal_extent"] = extent
    with pytest.raises(ProcessParameterInvalid, match="is not a date; use YYYY-MM-DD") as got:
        LocalBackend().validate(g)
    assert got.value.node == "loadcollection1"  # named as the other argument errors


@pytest.mark.parametrize(
    "extent",
    [
        ["2023-06-02T10:00:00Z", "2023-06-08T00:00:00.5Z"],
        ["2023-06-02", "2023-06-08"],
        ["2023-06-02T10:00:00+02:00", None],  # one bound: nothing compared there
    ],
)
def test_intervals_copernicus_compares_pass(graph, extent):
    g = copy.deepcopy(graph)
    g["loadcollection1"]["arguments"]["temporal_extent"] = extent
    LocalBackend().validate(g)


def test_an_empty_temporal_extent_of_a_load_is_none_as_on_copernicus(graph):
    """python-driver io.py L106 ``if args.get("temporal_extent")`` skips ``[]``: the load
    reads every date (it was a 400 here); filter_temporal's ``[]`` stays a 400 (cubes.py
    L40-44: not of length 2)."""
    from hybrid.backends.local.load_extents import interval_texts

    g = copy.deepcopy(graph)
    g["loadcollection1"]["arguments"]["temporal_extent"] = []
    (load,) = LocalBackend().validate(g).loads.values()
    assert load.temporal is None
    assert interval_texts([]) is None
    with pytest.raises(ProcessParameterInvalid, match=r"\[start, end\]"):
        interval_texts([], "filter_temporal")
    g["f"] = {"process_id": "filter_temporal",
              "arguments": {"data": {"from_node": "loadcollection1"}, "extent": []}}  # fmt: skip
    with pytest.raises(ProcessParameterInvalid, match=r"\[start, end\]"):
        LocalBackend().validate(g)
