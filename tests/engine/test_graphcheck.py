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
