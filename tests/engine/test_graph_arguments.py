"""Arguments reach the processes as the graph wrote them, and null passes through.

Single-node graphs go through the engine's parser and the run registry as ``hybrid serve``
runs them, and through openeo-pg-parser-networkx's own parser (which re-types date-like
strings and ``[]``; the openEO test suite's dask runner uses it), with values from the
official process examples (openeo-processes tests/*.json5).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from hybrid.errors import ProcessParameterInvalid


def _run(process_id: str, *, stock_parser: bool = False, **arguments: Any) -> Any:
    from openeo_pg_parser_networkx import OpenEOProcessGraph

    from hybrid.backends.local.graph_parsing import parse_graph
    from hybrid.backends.local.registry import registry_for_run

    flat = {"node": {"process_id": process_id, "arguments": arguments, "result": True}}
    graph = OpenEOProcessGraph({"process_graph": flat}) if stock_parser else parse_graph(flat)
    return graph.to_callable(process_registry=registry_for_run({}))()


def _nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


@pytest.mark.parametrize(
    ("process_id", "arguments", "expected"),
    [
        ("eq", {"x": "2020-01-01", "y": "2020-01-01"}, True),
        ("eq", {"x": "2020-01-01T00:00:00Z", "y": "2020-01-02T00:00:00Z"}, False),
        ("array_element", {"data": ["2020-01-01", "2021-01-01"], "index": 1}, "2021-01-01"),
        ("array_concat", {"array1": [1], "array2": []}, [1]),
        ("array_labels", {"data": []}, []),
        ("count", {"data": []}, 0),
        ("constant", {"x": []}, []),
        ("date_shift", {"date": "2020-01-31", "value": 1, "unit": "month"}, "2020-02-29"),
        ("date_shift", {"date": "2018-01-01", "value": -1, "unit": "hour"}, "2017-12-31"),
        (
            "text_concat",
            {"data": ["2020-06-01", "06:00:00", 1], "separator": " "},
            "2020-06-01 06:00:00 1",
        ),
    ],
)
@pytest.mark.parametrize("stock_parser", [False, True])
def test_date_like_strings_and_empty_lists_arrive_as_written(
    process_id: str, arguments: dict[str, Any], expected: Any, stock_parser: bool
) -> None:
    got = _run(process_id, stock_parser=stock_parser, **arguments)
    assert (list(got) if isinstance(got, np.ndarray) else got) == expected


def test_the_engine_parser_keeps_the_text() -> None:
    # the stock parser makes both the same date-time, and cannot parse two years
    x, y = "2018-01-01T00:00:00Z", "2018-01-01T00:00:00+00:00"
    assert _run("eq", x=x, y=y) is False
    assert _run("neq", x=x, y=y) is True
    assert _run("text_concat", data=["2020", "2021"], separator="/") == "2020/2021"


def test_time_labels_are_found_by_their_text_as_copernicus_writes_it() -> None:
    """Copernicus's builder finds a date label by Java's ``ISO_INSTANT`` text only
    (OpenEOProcesses.scala L69; OpenEOProcessScriptBuilder.scala L1632-1647): a bare date
    or another writing of the same instant is not found (it was, as the same instant)."""
    import xarray as xr

    from hybrid.backends.local.graph_parsing import parse_graph
    from hybrid.backends.local.registry import registry_for_run

    days = np.array(["2020-06-01", "2020-06-03"], dtype="datetime64[ns]")
    cube = xr.DataArray([[1.0, 2.0], [3.0, 4.0]], dims=("t", "x"), coords={"t": days})
    registry = registry_for_run({"load_collection": lambda **_: cube})
    load = {"process_id": "load_collection", "arguments": {"id": "S2"}}

    def reduced(label: str) -> Any:
        element = {"process_id": "array_element", "result": True}
        element["arguments"] = {"data": {"from_parameter": "data"}, "label": label}
        reduce = {"data": {"from_node": "load"}, "dimension": "t"}
        reduce["reducer"] = {"process_graph": {"element": element}}
        graph = {"load": load, "r": {"process_id": "reduce_dimension", "arguments": reduce}}
        graph["r"]["result"] = True
        return parse_graph(graph).to_callable(process_registry=registry)()

    assert reduced("2020-06-03T00:00:00Z").values.tolist() == [3.0, 4.0]
    for other in ("2020-06-03", "2020-06-03T00:00:00+00:00", "2020-06-03T00:00:00.000Z"):
        with pytest.raises(ProcessParameterInvalid, match="Could not find label"):
            reduced(other)


@pytest.mark.parametrize("process_id", ["mean", "median", "sd", "variance", "min", "max"])
def test_reducers_of_an_empty_list_are_nodata(process_id: str) -> None:
    assert _nan(_run(process_id, data=[]))


@pytest.mark.parametrize(
    ("process_id", "arguments"),
    [
        ("sqrt", {"x": None}),
        ("absolute", {"x": None}),
        ("int", {"x": None}),
        ("exp", {"p": None}),
        ("add", {"x": None, "y": 1}),
        ("multiply", {"x": 1, "y": None}),
        ("divide", {"x": None, "y": 1}),
        ("arctan2", {"y": None, "x": 1}),
        ("log", {"x": None, "base": 10}),
        ("clip", {"x": None, "min": -1, "max": 1}),
        ("linear_scale_range", {"x": None, "inputMin": 0, "inputMax": 100}),
    ],
)
def test_null_passes_through_math(process_id: str, arguments: dict[str, Any]) -> None:
    assert _run(process_id, **arguments) is None


def test_null_in_lists_of_numbers_is_nodata() -> None:
    assert _run("mean", data=[9, 2.5, None, -2.5]) == 3
    assert _run("sd", data=[-1, 1, 3, None]) == 2
    assert _run("median", data=[-1, -0.5, None, 1]) == -0.5
    assert _run("sum", data=[None, -2, -2, 0]) == -4
    assert _nan(_run("max", data=[1, 0, 3, None, 2], ignore_nodata=False))
    assert _run("extrema", data=[5, 2.5, None, -0.7]) == [-0.7, 5]
    assert list(_run("sort", data=[6, -1, None, 2])) == [-1, 2, 6]
    interpolated = _run("array_interpolate_linear", data=[None, 1, None, 6, None, -8])
    assert _nan(interpolated[0]) and interpolated[1:] == [1, 3.5, 6, -1, -8]


def test_only_required_number_or_null_parameters_pass_null() -> None:
    from hybrid.backends.local.nulls import nodata_list_parameters, null_passing_parameters
    from hybrid.backends.local.registry import process_spec

    assert null_passing_parameters(process_spec("eq")) == {"x", "y"}  # not delta
    assert null_passing_parameters(process_spec("clip")) == {"x"}
    assert null_passing_parameters(process_spec("array_element")) == frozenset()
    assert nodata_list_parameters(process_spec("mean")) == {"data"}
    assert nodata_list_parameters(process_spec("text_concat")) == frozenset()


def test_interpolation_keeps_infinities() -> None:
    from hybrid.backends.local.processes.arrays import array_interpolate_linear

    got = array_interpolate_linear([-math.inf, math.nan, 0.1, math.nan, 0.2, math.nan, math.inf])
    assert got == [-math.inf, -math.inf, 0.1, pytest.approx(0.15), 0.2, math.inf, math.inf]


@pytest.mark.parametrize("lazy", [False, True])
def test_interpolation_on_cube_arrays_by_position_and_in_integers(lazy: bool) -> None:
    """Along an axis: gaps filled by position, leading and trailing ones kept,
    infinities are values; on an integer cube the filled values keep their integer part
    (Copernicus writes them into the int16 tile)."""
    import dask.array as da

    from hybrid.backends.local.processes.arrays import array_interpolate_linear

    rows = np.array(
        [
            [np.nan, 10.0, np.nan, np.nan, 13.0, np.nan],
            [10.0, np.nan, 11.0, np.nan, np.nan, -1.0],
            [1.0, np.nan, np.inf, np.nan, np.nan, np.nan],
        ]
    )
    data = da.from_array(rows.T, chunks=(2, 1)) if lazy else rows.T

    def filled(**integer: Any) -> np.ndarray:
        return np.asarray(array_interpolate_linear(data, axis=0, **integer)).T

    nan = np.nan
    np.testing.assert_array_equal(
        filled(),
        [[nan, 10, 11, 12, 13, nan], [10, 10.5, 11, 7, 3, -1], [1, np.inf, np.inf, nan, nan, nan]],
    )
    np.testing.assert_array_equal(
        filled(input_cell_type="int16")[:2],
        [[nan, 10, 11, 12, 13, nan], [10, 10, 11, 7, 3, -1]],
    )


def test_extrema_stacks_min_and_max_along_a_new_first_axis() -> None:
    from hybrid.backends.local.processes.statistics import extrema

    data = np.array([[1.0, 5.0], [np.nan, -2.0], [3.0, 0.0]])
    assert extrema(data, axis=0).tolist() == [[1.0, -2.0], [3.0, 5.0]]
    assert extrema([1, 0, 3, 2]) == [0, 3]


def test_json_results_keep_infinities_and_write_nan_as_null() -> None:
    import dask.array as da

    from hybrid.io.json_text import dumps

    assert dumps([math.inf, -math.inf, math.nan, 1]) == "[Infinity, -Infinity, null, 1]"
    assert dumps(da.from_array(np.array([0.0, 3.0]))) == "[0.0, 3.0]"


def test_add_dimension_temporal_label_is_a_time() -> None:
    import xarray as xr

    from hybrid.backends.local.processes.dimensions import add_dimension
    from hybrid.errors import ProcessParameterInvalid

    cube = xr.DataArray(np.zeros((2, 2)), dims=("y", "x"))
    added = add_dimension(cube, name="t2", label="2010-01-01T00:00:00.0Z", type="temporal")
    assert added.dims == ("t2", "y", "x")
    assert added["t2"].values.tolist() == [np.datetime64("2010-01-01", "ns").astype(int)]
    assert add_dimension(cube, name="var", label=1)["var"].values.tolist() == [1]
    with pytest.raises(ProcessParameterInvalid, match="RFC 3339"):
        add_dimension(cube, name="t2", label="soon", type="temporal")
