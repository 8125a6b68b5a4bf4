"""Which masks Copernicus applies while loading (openeo-python-driver evaluator.py
``check_subgraph_for_data_mask_optimization`` L278-303, ``apply_process`` L315-326), in a
job's graph and in a user-defined process's own: :mod:`hybrid.backends.local.data_masks`."""

from __future__ import annotations

from typing import Any

import numpy as np

from hybrid.backends.local.data_masks import decide, masks_in_load
from hybrid.backends.local.load_paths import IN_LOAD
from hybrid.backends.local.processes.masking import mask
from tests.engine.process_cubes import cube, times


def _load(bands: list[str]) -> dict[str, Any]:
    return {"process_id": "load_collection", "arguments": {"id": "SENTINEL2_L2A", "bands": bands}}


def _node(pid: str, /, **arguments: Any) -> dict[str, Any]:
    return {"process_id": pid, "arguments": arguments}


def _ref(node: str) -> dict[str, str]:
    return {"from_node": node}


def test_a_mask_right_after_a_load_from_another_load_is_applied_in_the_load() -> None:
    graph = {
        "data": _load(["B04"]),
        "bands": _node("filter_bands", data=_ref("data"), bands=["B04"]),
        "scl": _load(["SCL"]),
        "flag": _node("to_scl_dilation_mask", data=_ref("scl")),
        "m1": _node("mask", data=_ref("bands"), mask=_ref("flag")),
        "m2": _node("mask", data=_ref("data"), mask=_ref("flag"), replacement=0),
        "apply": _node("apply", data=_ref("data"), process={}),
        "m3": _node("mask", data=_ref("apply"), mask=_ref("flag")),
        "own": _node("gt", x=_ref("data"), y=3),
        "m4": _node("mask", data=_ref("data"), mask=_ref("own")),
        "m5": _node("mask", data=_ref("data"), mask=_ref("m1")),
    }
    # a replacement, a process between (apply), a mask from the data's own load, a
    # mask reading the data's nodes: computed as a mask
    assert masks_in_load(graph) == {"m1"}


def test_a_process_s_own_graph_is_decided_as_copernicus_evaluates_it() -> None:
    """Before inlining: a call of a user-defined process passes no mask into a load (its
    id is no passing process), a parameter is no node. Copernicus fails on a parameter
    as data or (data passing) as mask (KeyError, evaluator.py L248, L265) and returns
    the data unmasked when filters lead to a parameter (L322-326): computed here, noted."""
    parameter = {"from_parameter": "data"}
    graph = {
        "load": _load(["B04"]),
        "scl": _load(["SCL"]),
        "flag": _node("to_scl_dilation_mask", data=_ref("scl")),
        "own": _node("mask", data=_ref("load"), mask=_ref("flag")),
        "call": _node("load_b04", extent={"west": 6}),
        "of_call": _node("mask", data=_ref("call"), mask=_ref("flag")),
        "of_param": _node("mask", data=parameter, mask=_ref("flag")),
        "by_param": _node("mask", data=_ref("load"), mask={"from_parameter": "m"}),
        "bands": _node("filter_bands", data=parameter, bands=["B04"]),
        "of_bands": _node("mask", data=_ref("bands"), mask=_ref("flag")),
    }
    decided, notes = decide(graph, "p")
    marks = {k: v["arguments"][IN_LOAD] for k, v in decided.items() if IN_LOAD in v["arguments"]}
    assert marks == {
        "own": True, "of_call": False, "of_param": False, "by_param": False,
        "of_bands": False,
    }  # fmt: skip
    assert decided["of_bands"]["arguments"]["data"] == _ref("bands") and "load" in decided
    assert [note.split(" ", 3)[2] for note in notes] == ["'of_param'", "'by_param'", "'of_bands'"]
    assert all("in user-defined process 'p'" in note for note in notes)
    assert "fails the job" in notes[0] and "unmasked" in notes[2]
    # the engine keeps the marks, and decides the masks left unmarked
    kept = _node("mask", data=_ref("load"), mask=_ref("flag"), **{IN_LOAD: False})
    assert masks_in_load(decided) == set()
    assert masks_in_load({**graph, "kept": kept}) == {"own"}


def test_a_mask_applied_in_the_load_keeps_only_the_dates_the_mask_has() -> None:
    data = cube(
        np.ones((3, 1, 2)), ("t", "y", "x"), t=times("2023-05-01", "2023-05-02", "2023-05-03")
    )
    flags = cube(np.zeros((2, 1, 2)), ("t", "y", "x"), t=times("2023-05-02", "2023-05-09"))
    flags[0, 0, 0] = 1
    out = mask(data, flags, in_load=True)
    np.testing.assert_array_equal(out["t"].values, times("2023-05-02"))
    np.testing.assert_array_equal(out.values[0, 0], [np.nan, 1])
    assert mask(data, flags).sizes["t"] == 3


def test_a_mask_applied_in_the_load_drops_the_dates_it_masks_everywhere() -> None:
    # Copernicus keeps only the mask's tiles with a 0 in their first band
    # (DatacubeSupport.scala prepareMask L288-293): a date masked all over is gone
    days = times("2023-05-01", "2023-05-02", "2023-05-03", "2023-05-04")
    data = cube(np.ones((4, 1, 2)), ("t", "y", "x"), t=days)
    flags = cube(np.array([[[1, 0]], [[1, 1]], [[np.nan, 1]], [[0, 0]]]), ("t", "y", "x"), t=days)
    out = mask(data, flags, in_load=True)
    np.testing.assert_array_equal(out["t"].values, times("2023-05-01", "2023-05-04"))
    np.testing.assert_array_equal(out.values[:, 0], [[np.nan, 1], [1, 1]])
    # booleans too, lazily computed masks as well; the mask process keeps every date
    clouds = (flags.fillna(1) != 0).chunk({"t": 1})
    assert list(mask(data, clouds, in_load=True)["t"].values) == list(out["t"].values)
    assert mask(data, flags)["t"].size == 4


def test_the_first_band_of_a_mask_applied_in_the_load_decides_the_dates() -> None:
    days = times("2023-05-01", "2023-05-02")
    data = cube(np.ones((2, 2, 1, 2)), ("t", "bands", "y", "x"), t=days, bands=["B04", "B08"])
    values = np.array([[[[1, 1]], [[0, 0]]], [[[0, 1]], [[1, 1]]]])
    flags = cube(values, ("t", "bands", "y", "x"), t=days, bands=["a", "b"])
    out = mask(data, flags, in_load=True)
    np.testing.assert_array_equal(out["t"].values, times("2023-05-02"))


def test_a_fraction_in_a_mask_applied_in_the_load_keeps_its_date_as_a_zero() -> None:
    # prepareMask reads band(0).toArray(): integers, so 0.5 is a 0 and the date stays
    # (its pixel is still masked: v2 != 0.0); NaN is nodata
    days = times("2023-05-01", "2023-05-02", "2023-05-03")
    data = cube(np.ones((3, 1, 2)), ("t", "y", "x"), t=days)
    flags = cube(np.array([[[0.5, 1]], [[np.nan, -1.0]], [[-0.9, 2]]]), ("t", "y", "x"), t=days)
    out = mask(data, flags, in_load=True)
    np.testing.assert_array_equal(out["t"].values, times("2023-05-01", "2023-05-03"))
    assert np.isnan(out.values).all()


def test_a_mask_applied_in_the_load_and_the_empty_tiles_decide_each_key_together() -> None:
    # Copernicus decides per 256-px layout key: prepareMask (DatacubeSupport.scala
    # L279-293) drops the keys whose mask has no 0, the load drops those whose bands hold
    # no value (FileLayerProvider.scala L708); a date is gone when none of its keys is
    # left. On 2023-05-01 the west key has data but is masked all over and the east key is
    # clear but empty: no key survives, although the date has data and a clear pixel.
    days = times("2023-05-01", "2023-05-02", "2023-05-03")
    values = np.ones((3, 1, 16, 512))
    values[0, :, :, 256:] = np.nan
    data = cube(values, ("t", "bands", "y", "x"), t=days, bands=["B04"])
    flags = np.zeros((3, 16, 512))
    flags[0, :, :256] = 1
    flags[2, :, :256] = 1  # masked where it has data, clear where it has data too
    clouds = cube(flags, ("t", "y", "x"), t=days)
    data.attrs["epsg"] = clouds.attrs["epsg"] = 32632
    out = mask(data, clouds, in_load=True)
    np.testing.assert_array_equal(out["t"].values, times("2023-05-02", "2023-05-03"))
    assert np.isnan(out.values[1, 0, :, :256]).all() and (out.values[1, 0, :, 256:] == 1).all()


def test_a_mask_without_space_applied_in_the_load_decides_its_dates_as_one_key() -> None:
    days = times("2023-05-01", "2023-05-02")
    data = cube(np.ones((2, 1, 2)), ("t", "y", "x"), t=days)
    out = mask(data, cube(np.array([1, 0]), ("t",), t=days), in_load=True)
    np.testing.assert_array_equal(out["t"].values, times("2023-05-02"))
