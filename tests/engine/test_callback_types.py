"""The cell type of a callback's result as Copernicus's script builder works it out
(hybrid.backends.local.callback_types), and the values an integer tile stores
(hybrid.backends.local.stored_integers)."""

from __future__ import annotations

from typing import Any

import dask.array as da
import numpy as np
import pytest
import xarray as xr

from hybrid.backends.local.callback_types import callback_type, constant_type, union
from hybrid.backends.local.stored_integers import stored_as

DATA = {"from_parameter": "data"}


def _callback(result: str, **nodes: dict[str, Any]) -> dict[str, Any]:
    graph = {name: dict(node) for name, node in nodes.items()}
    graph[result]["result"] = True
    return {"process_graph": graph}


def _band(index: int) -> dict[str, Any]:
    return {"process_id": "array_element", "arguments": {"data": DATA, "index": index}}


def _xy(process: str, x: Any, y: Any) -> dict[str, Any]:
    return {"process_id": process, "arguments": {"x": x, "y": y}}


NIR, RED = {"from_node": "nir"}, {"from_node": "red"}


@pytest.mark.parametrize(
    ("a", "b", "want"),
    [
        ("int16", "int16", "int16"),
        ("int16", "int32", "int32"),
        ("uint8", "int16", "int16"),
        ("uint8", "int8", "int16"),  # 8 bits, one unsigned: short
        ("uint16", "int16", "int32"),
        ("int32", "float32", "float32"),
        ("float32", "int32", "float32"),
        ("int16", "float64", "float64"),
        ("bool", "int16", "int16"),
    ],
)
def test_union_is_the_builders(a: str, b: str, want: str) -> None:
    assert union(a, b) == want


@pytest.mark.parametrize(
    ("value", "want"),
    [
        (2, "int32"),
        (2**31, "float64"),  # a Long: Java writes 2.147483648E9, 10 digits
        (2.0, "float32"),
        (0.0001, "float32"),  # "1.0E-4": 2 digits
        (0.1234567, "float32"),
        (0.12345678, "float64"),
        (1234567.0, "float64"),  # "1234567.0": 8 digits
        (3e9, "float32"),  # "3.0E9"
        (True, None),
        ("text", None),
    ],
)
def test_constants(value: Any, want: Any) -> None:
    assert constant_type(value) == want


def test_band_maths_take_the_union_of_their_inputs() -> None:
    difference = _callback("d", nir=_band(1), red=_band(0), d=_xy("subtract", NIR, RED))
    assert callback_type(difference, {"data": "int16"}) == "int16"
    assert callback_type(difference, {}) == "float32"  # data without a type
    twice = _callback("m", nir=_band(1), m=_xy("multiply", NIR, 2))
    assert callback_type(twice, {"data": "int16"}) == "int32"
    scaled = _callback("m", nir=_band(1), m=_xy("multiply", NIR, 0.0001))
    assert callback_type(scaled, {"data": "int16"}) == "float32"
    ratio = _callback("q", nir=_band(1), red=_band(0), q=_xy("divide", NIR, RED))
    assert callback_type(ratio, {"data": "int16"}) == "float32"


def test_apply_x_has_no_type() -> None:
    """Only ``data`` is typed (fromParameter L975-979): a callback on ``x`` keeps no
    integer type, except int (int32) and an integer linear_scale_range."""
    x = {"from_parameter": "x"}
    for process, want in (("absolute", "float32"), ("round", "float32"), ("int", "int32")):
        callback = _callback("r", r={"process_id": process, "arguments": {"x": x}})
        assert callback_type(callback, {"data": "int16"}) == want
    scale = {"x": x, "inputMin": 0, "inputMax": 1000, "outputMin": 0, "outputMax": 200}
    scaled = _callback("s", s={"process_id": "linear_scale_range", "arguments": scale})
    assert callback_type(scaled, {}) == "uint8"
    lsr = {"process_id": "linear_scale_range", "arguments": scale}
    doubled = _callback("m", s=lsr, m=_xy("multiply", {"from_node": "s"}, 2))
    assert callback_type(doubled, {}) == "int32"


@pytest.mark.parametrize(
    ("process", "want"),
    [("max", "int16"), ("median", "int16"), ("first", "int16"), ("count", "int32"),
     ("mean", "float32"), ("sum", "float32"), ("sd", "float32")],
)  # fmt: skip
def test_reducers(process: str, want: str) -> None:
    callback = _callback("r", r={"process_id": process, "arguments": {"data": DATA}})
    assert callback_type(callback, {"data": "int16"}) == want


def test_comparisons_are_bits_and_if_takes_the_union() -> None:
    greater = _callback("g", nir=_band(1), g=_xy("gt", NIR, 5))
    assert callback_type(greater, {"data": "int16"}) == "bool"
    arguments = {"value": {"from_node": "g"}, "accept": NIR, "reject": 0.5}
    choose = _callback(
        "i", nir=_band(1), g=_xy("gt", NIR, 5), i={"process_id": "if", "arguments": arguments}
    )
    assert callback_type(choose, {"data": "int16"}) == "float32"
    arguments["reject"] = 0
    assert callback_type(choose, {"data": "int16"}) == "int32"


def test_array_find_is_int16_and_array_joins_take_the_union() -> None:
    """``arrayFind`` sets ShortConstantNoData (L643); array_append, array_concat and
    array_modify the union of their arrays (L1372, L1391, L1421): over time of the int16
    load, ``array_concat(data, data)`` stays int16 and appending a ratio is float32.
    They were float32 and int16 arrays read "anything else"."""
    found = _callback(
        "f",
        m={"process_id": "max", "arguments": {"data": DATA}},
        f={"process_id": "array_find", "arguments": {"data": DATA, "value": {"from_node": "m"}}},
    )
    assert callback_type(found, {"data": "int16"}) == "int16"
    doubled = _callback(
        "c", c={"process_id": "array_concat", "arguments": {"array1": DATA, "array2": DATA}}
    )
    assert callback_type(doubled, {"data": "int16"}) == "int16"
    ratio = _xy("divide", NIR, RED)
    appended = _callback(
        "a", nir=_band(1), red=_band(0), q=ratio,
        a={"process_id": "array_append", "arguments": {"data": DATA, "value": {"from_node": "q"}}},
    )  # fmt: skip
    assert callback_type(appended, {"data": "int16"}) == "float32"
    first = _band(0)
    inserted = _callback(
        "m", first=first,
        m={"process_id": "array_modify",
           "arguments": {"data": DATA, "values": {"from_node": "first"}, "index": 0}},
    )  # fmt: skip
    assert callback_type(inserted, {"data": "int16"}) == "int16"


def test_no_result_node_or_a_cycle_is_float32() -> None:
    assert callback_type({"process_graph": {"a": _band(0)}}, {"data": "int16"}) == "float32"
    loop = _callback("a", a=_xy("add", {"from_node": "b"}, 1), b=_xy("add", {"from_node": "a"}, 1))
    assert callback_type(loop, {"data": "int16"}) == "float32"


@pytest.mark.parametrize("lazy", [False, True])
def test_stored_as_int16_truncates_wraps_and_reads_nodata(lazy: bool) -> None:
    values = np.array([1.9, -1.9, 32767.0, 32768.0, 35000.0, -32768.0, 98304.0, np.nan], np.float32)
    array = xr.DataArray(da.from_array(values, chunks=4) if lazy else values, dims=["x"])
    got = stored_as(array, "int16")
    assert got.dtype == np.float32 and isinstance(got.data, da.Array) == lazy
    np.testing.assert_array_equal(
        got.values, [1, -1, 32767, np.nan, -30536, np.nan, np.nan, np.nan]
    )  # 32768 and 98304 wrap to -32768: nodata


def test_stored_as_int32_and_other_types() -> None:
    values = xr.DataArray(np.array([2.5, -2.5, 3e9, np.nan]), dims=["x"])
    np.testing.assert_array_equal(stored_as(values, "int32").values, [2, -2, 2**31 - 1, np.nan])
    assert stored_as(values, "float32") is values
    assert stored_as(values, "uint8") is values
