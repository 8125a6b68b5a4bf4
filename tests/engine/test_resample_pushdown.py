"""resample_spatial of an integer cube as Copernicus stores it: whole numbers in the
cube's type, rounded half up where the dry run resamples in the load (GDAL's warper into
the files' integer type) or geotrellis resamples the tiles, truncated for ``average`` on
the tiles (``backends/local/resample_pushdown.py``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from hybrid.backends.local.cell_types import result_cell_type, with_cell_types
from hybrid.backends.local.resample_pushdown import (
    IN_LOAD,
    INTEGER_RESAMPLING,
    ROUND,
    TRUNCATE,
    pushed_into_load,
    stored,
)


def _load() -> dict[str, Any]:
    return {"process_id": "load_collection", "arguments": {"id": "S", "bands": ["B04", "B08"]}}


def _resample(data: str, method: str) -> dict[str, Any]:
    arguments = {"data": {"from_node": data}, "resolution": 20, "method": method}
    return {"process_id": "resample_spatial", "arguments": arguments}


def _mask(data: str) -> dict[str, Any]:
    arguments = {"data": {"from_node": data}, "mask": {"from_node": data}}
    return {"process_id": "mask", "arguments": arguments}


def _filter(data: str) -> dict[str, Any]:
    return {
        "process_id": "filter_bands",
        "arguments": {"data": {"from_node": data}, "bands": ["B04"]},
    }


@pytest.mark.parametrize(
    ("graph", "pushed"),
    [
        ({"load": _load(), "rs": _resample("load", "average")}, True),
        ({"load": _load(), "f": _filter("load"), "rs": _resample("f", "average")}, True),
        ({"load": _load(), "m": _mask("load"), "rs": _resample("m", "average")}, False),
        (
            {
                "load": _load(),
                "other": _load(),
                "m": _mask("other"),
                "merged": {
                    "process_id": "merge_cubes",
                    "arguments": {"cube1": {"from_node": "load"}, "cube2": {"from_node": "m"}},
                },
                "rs": _resample("merged", "average"),
            },
            False,  # one path is blocked
        ),
        ({"rs": _resample("nowhere", "average")}, False),
    ],
)
def test_pushed_into_the_load_unless_a_blocker_is_on_a_path(graph: Any, pushed: bool) -> None:
    assert pushed_into_load(graph, "rs") is pushed


@pytest.mark.parametrize(
    ("between", "method", "rule"),
    [
        (None, "average", ROUND),  # GDAL's warper into the files' uint16: floor(v + 0.5)
        (None, "bilinear", ROUND),
        ("mask", "average", TRUNCATE),  # geotrellis AverageResample: toInt
        ("mask", "bilinear", ROUND),  # geotrellis BilinearResample: math.round
        ("mask", "cubic", ROUND),
    ],
)
def test_the_rule_marked_on_the_graph(between: str | None, method: str, rule: str) -> None:
    graph: dict[str, Any] = {"load": _load()}
    source = "load"
    if between == "mask":
        graph["m"], source = _mask("load"), "m"
    graph["rs"] = _resample(source, method)
    marked = with_cell_types(graph)
    assert marked["rs"]["arguments"][INTEGER_RESAMPLING] == rule
    assert result_cell_type(graph, {"from_node": "rs"}) == ("int16", -32768)


def test_near_and_float_cubes_are_not_marked() -> None:
    graph = {"load": _load(), "rs": _resample("load", "near")}
    assert INTEGER_RESAMPLING not in with_cell_types(graph)["rs"]["arguments"]
    floats = {
        "load": _load(),
        "n": {"process_id": "ndvi", "arguments": {"data": {"from_node": "load"}}},
        "rs": _resample("n", "average"),
    }
    assert INTEGER_RESAMPLING not in with_cell_types(floats)["rs"]["arguments"]
    assert result_cell_type(floats, {"from_node": "rs"})[0] == "float32"


def test_stored_values() -> None:
    values = np.array([1.5, 2.5, -2.5, -1.2, 1549.75, np.nan])
    np.testing.assert_array_equal(stored(values, ROUND), [2.0, 3.0, -2.0, -1.0, 1550.0, np.nan])
    np.testing.assert_array_equal(stored(values, TRUNCATE), [1.0, 2.0, -2.0, -1.0, 1549.0, np.nan])


def test_the_engine_stores_whole_numbers() -> None:
    """The engine's resample_spatial on a small int16-valued cube: 2 x 2 means, rounded."""
    import xarray as xr

    from hybrid.backends.local.processes.resampling import resample_spatial

    values = np.array([[1, 2, 10, 10], [2, 2, 11, 10], [0, 0, 7, 8], [0, 1, 8, 8]], np.float32)
    cube = xr.DataArray(
        values[None],
        dims=("bands", "y", "x"),
        coords={"bands": ["B04"], "y": [35.0, 25.0, 15.0, 5.0], "x": [5.0, 15.0, 25.0, 35.0]},
        attrs={"crs": "EPSG:32632"},
    )
    means = resample_spatial(cube, resolution=20, method="average")
    np.testing.assert_allclose(means.values[0], [[1.75, 10.25], [0.25, 7.75]])
    whole = resample_spatial(cube, resolution=20, method="average", integer_resampling=ROUND)
    np.testing.assert_array_equal(whole.values[0], [[2, 10], [0, 8]])
    cut = resample_spatial(cube, resolution=20, method="average", integer_resampling=TRUNCATE)
    np.testing.assert_array_equal(cut.values[0], [[1, 10], [0, 7]])


def test_resample_cube_spatial_too() -> None:
    """resample_cube_spatial onto a 20 m cube: marked like resample_spatial, and the
    engine's (openeo-processes-dask's, wrapped) stores whole numbers."""
    import rioxarray  # noqa: F401  (the .rio accessor)
    import xarray as xr

    from hybrid.backends.local.processes.resampling import resample_cube_spatial

    target = {"process_id": "resample_spatial", "arguments": {"data": {"from_node": "other"}}}
    graph = {
        "load": _load(),
        "other": _load(),
        "target": target,
        "rcs": {
            "process_id": "resample_cube_spatial",
            "arguments": {
                "data": {"from_node": "load"},
                "target": {"from_node": "target"},
                "method": "average",
            },
        },
    }
    assert with_cell_types(graph)["rcs"]["arguments"][INTEGER_RESAMPLING] == ROUND
    assert result_cell_type(graph, {"from_node": "rcs"}) == ("int16", -32768)

    def cube(values: Any, step: float) -> xr.DataArray:
        n = values.shape[-1]
        centres = [step / 2 + step * i for i in range(n)]
        return xr.DataArray(
            values[None],
            dims=("bands", "y", "x"),
            coords={"bands": ["B04"], "y": centres[::-1], "x": centres},
        ).rio.write_crs("EPSG:32632")

    fine = cube(np.array([[1, 2, 10, 10], [2, 2, 11, 10], [0, 0, 7, 8], [0, 1, 8, 8]], "f4"), 10)
    coarse = cube(np.zeros((2, 2), "f4"), 20)
    means = resample_cube_spatial(fine, coarse, method="average")
    np.testing.assert_allclose(means.values[0], [[1.75, 10.25], [0.25, 7.75]])
    whole = resample_cube_spatial(fine, coarse, method="average", integer_resampling=ROUND)
    np.testing.assert_array_equal(whole.values[0], [[2, 10], [0, 8]])


def test_the_path_to_a_pushed_resample_reads_the_load_resampled() -> None:
    """An ndvi between the load and the resample reads a copy of the resample right after
    the load; a reader of the load on another path (a reduce_dimension) reads it as it
    is, callbacks are not rewired, and a resample reading the load directly is left."""
    from hybrid.backends.local.resample_pushdown import push_down

    graph = {
        "load": _load(),
        "n": {"process_id": "ndvi", "arguments": {"data": {"from_node": "load"}}},
        "rs": _resample("n", "average"),
        "other": {
            "process_id": "reduce_dimension",
            "arguments": {"data": {"from_node": "load"}, "dimension": "t", "reducer": {}},
        },
    }
    out = push_down(graph)
    assert out["n"]["arguments"]["data"] == {"from_node": "load_read_resampled"}
    copied = out["load_read_resampled"]
    assert copied["process_id"] == "resample_spatial"
    assert copied["arguments"]["data"] == {"from_node": "load"}
    assert copied["arguments"]["method"] == "average"
    assert copied["arguments"][IN_LOAD] is True
    assert out["other"]["arguments"]["data"] == {"from_node": "load"}
    assert out["rs"] == _in_load(graph["rs"])
    assert graph["n"]["arguments"]["data"] == {"from_node": "load"}  # the input is kept
    direct = {"load": _load(), "rs": _resample("load", "average")}
    assert push_down(direct) == {**direct, "rs": _in_load(direct["rs"])}
    blocked = {"load": _load(), "m": _mask("load"), "rs": _resample("m", "average")}
    assert push_down(blocked) == blocked


def _in_load(node: dict[str, Any]) -> dict[str, Any]:
    """``node`` (a resample_spatial) marked as done in the load."""
    return {**node, "arguments": {**node["arguments"], IN_LOAD: True}}


def _onto(data: str, target: str, method: str) -> dict[str, Any]:
    arguments = {"data": {"from_node": data}, "target": {"from_node": target}, "method": method}
    return {"process_id": "resample_cube_spatial", "arguments": arguments}


def test_a_resample_cube_spatial_is_read_in_the_load_at_the_targets_pixel_size() -> None:
    """The dry run's "resample" rule takes resample_cube_spatial too, with the target's
    metadata (10 m after a load, a resample_spatial's resolution) and the method: the
    data's load reads a pushed resample_spatial; not past a blocker, nor with ``near``
    (the load's own read), nor onto a target in another CRS."""
    from hybrid.backends.local.resample_pushdown import push_down

    graph = {"load": _load(), "other": _load(), "rcs": _onto("load", "other", "bilinear")}
    out = push_down(graph)
    assert out["rcs"]["arguments"]["data"] == {"from_node": "load_read_resampled"}
    read = out["load_read_resampled"]
    assert read == {
        "process_id": "resample_spatial",
        "arguments": {
            "data": {"from_node": "load"}, "resolution": 10.0, "method": "bilinear", IN_LOAD: True
        },
    }  # fmt: skip
    coarse = {
        **graph,
        "target": _resample("other", "near"),
        "rcs": _onto("load", "target", "cubic"),
    }
    assert push_down(coarse)["load_read_resampled"]["arguments"]["resolution"] == 20
    assert push_down({**graph, "rcs": _onto("load", "other", "near")}) == {
        **graph,
        "rcs": _onto("load", "other", "near"),
    }
    blocked = {**graph, "m": _mask("load"), "rcs": _onto("m", "other", "bilinear")}
    assert push_down(blocked) == blocked
    projected = _resample("other", "near")
    projected["arguments"]["projection"] = 3035
    elsewhere = {**graph, "target": projected, "rcs": _onto("load", "target", "bilinear")}
    assert push_down(elsewhere)["rcs"] == elsewhere["rcs"]  # the target's own push-down only
    assert "load_read_resampled" not in push_down(elsewhere)


@pytest.mark.parametrize("outer_first", [True, False])
def test_of_two_resample_cube_spatial_on_a_path_the_one_nearer_the_load_is_pushed(
    outer_first: bool,
) -> None:
    """The dry run takes the first resample on the path (``args_list[:1]``, dry_run.py
    L534): ``rcs(rcs(load, t10, bilinear), t20, cubic)`` reads the load at 10 m with
    ``bilinear``, whatever the order of the nodes in the graph."""
    from hybrid.backends.local.resample_pushdown import push_down

    inner = {"inner": _onto("load", "t10", "bilinear")}
    outer = {"outer": _onto("inner", "t20", "cubic")}
    nodes = {**outer, **inner} if outer_first else {**inner, **outer}
    graph = {"load": _load(), "t10": _load(), "other": _load(), "t20": _resample("other", "near")}
    out = push_down({**graph, **nodes})
    read = out["load_read_resampled"]["arguments"]
    assert (read["resolution"], read["method"]) == (10.0, "bilinear")
    assert out["outer"] == outer["outer"]


def test_a_resample_cube_spatial_read_in_the_load_reads_a_margin_of_its_targets_pixel() -> None:
    """The load reads one target pixel beyond the extent when resampled at the target's
    pixel size, plus the cubic kernel's two target pixels (GDAL widens it when
    shrinking): 91 px of 10 m for a 300 m target, not the 10 m target's 13."""
    from hybrid.backends.local.resample_pushdown import cube_resample_margin

    coarse = _resample("other", "near")
    coarse["arguments"]["resolution"] = 300
    graph = {"load": _load(), "other": _load(), "target": coarse}
    onto = _onto("load", "target", "cubic")["arguments"]
    assert cube_resample_margin({**graph, "rcs": _onto("load", "target", "cubic")}, onto) == 91
    native = _onto("load", "other", "cubic")["arguments"]
    assert cube_resample_margin({**graph, "rcs": _onto("load", "other", "cubic")}, native) == 13


@pytest.mark.parametrize(
    ("resolution", "method", "margin"),
    [(60, "cubic", 19), (60, "lanczos", 25), (60, "bilinear", 13), (300, "bilinear", 61),
     (60, "average", 13), (60, "near", 7), (20, "cubic", 13)],
)  # fmt: skip
def test_a_shrinking_kernel_reads_its_reach_beyond_the_extent(
    resolution: int, method: str, margin: int
) -> None:
    """One new pixel (the snapped extent) plus one, plus the kernel's radius in new
    pixels (cubic: 2, lanczos: 3), at least the 13 px two 60 m file pixels need."""
    from hybrid.backends.local.resample_pushdown import resample_margin

    assert resample_margin(resolution, method) == margin
