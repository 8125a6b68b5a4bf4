"""Cube-level cases of advertised processes, for those whose descriptions have no examples
and for the element-wise math the examples only check on single values: expected values
from numpy/xarray, computed here. Each names its processes with ``@covers``
(tests/engine/advertised.py), which test_advertised_processes.py reads.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import pytest
import xarray as xr

from hybrid.errors import DivisionByZero
from tests.engine.advertised import _plain, covers
from tests.process_vectors import run_through_engine

# ---------------------------------------------------------------- cube-level cases

TIMES = np.array(["2023-06-02", "2023-06-07", "2023-06-12"], dtype="datetime64[ns]")

#: halves (rounding), domain edges of the inverse functions, nodata and infinity
VALUES = [-2.5, -1.0, -0.5, 0.0, 0.5, 1.5, 2.5, np.nan, np.inf, 0.3, 0.9, 3.7]


def _cube() -> xr.DataArray:
    """(t, bands, y, x) float32 with NaN, on a 10 m UTM grid, chunked (lazy)."""
    values = np.array(VALUES * 4, dtype=np.float32).reshape(3, 2, 2, 4)
    values[1] *= np.float32(0.5)
    cube = xr.DataArray(
        values,
        dims=("t", "bands", "y", "x"),
        coords={
            "t": TIMES,
            "bands": ["B04", "B08"],
            "y": [5000995.0, 5000985.0],
            "x": 500005.0 + 10.0 * np.arange(4),
        },
    ).chunk({"t": 1})
    cube.attrs = {"crs": "EPSG:32632", "epsg": 32632}
    return cube


def _child(pid: str, **arguments: Any) -> dict[str, Any]:
    node = {"process_id": pid, "arguments": arguments, "result": True}
    return {"process_graph": {"n": node}}


X = {"from_parameter": "x"}

DATA = {"from_parameter": "data"}


def _apply(child: dict[str, Any]) -> xr.DataArray:
    cube = _cube()
    with np.errstate(all="ignore"):
        out = run_through_engine("apply", {"data": cube, "process": child})
    assert out.dims == cube.dims and out.shape == cube.shape
    for dim in cube.dims:
        np.testing.assert_array_equal(out[dim].values, cube[dim].values)
    return out


def _f64() -> np.ndarray:
    return np.asarray(_cube().values, dtype=np.float64)


UNARY = {
    "absolute": np.abs, "arccos": np.arccos, "arcosh": np.arccosh, "arcsin": np.arcsin,
    "arctan": np.arctan, "arsinh": np.arcsinh, "artanh": np.arctanh, "ceil": np.ceil,
    "cos": np.cos, "cosh": np.cosh, "floor": np.floor, "int": np.trunc, "ln": np.log,
    "round": lambda v: np.floor(v + 0.5), "sgn": np.sign, "sin": np.sin, "sinh": np.sinh,
    "sqrt": np.sqrt, "tan": np.tan, "tanh": np.tanh,
}  # fmt: skip


@covers("apply", *UNARY)
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # out of domain on purpose: NaN
@pytest.mark.parametrize("pid", sorted(UNARY))
def test_unary_math_on_a_cube(pid: str) -> None:
    """Element-wise on every pixel, lazily, float32 kept, nodata (NaN) stays nodata;
    round takes halves up as Copernicus's callbacks (Java Math.round: 0.5 -> 1, -2.5 -> -2)
    and int truncates (-2.5 -> -2)."""
    out = _apply(_child(pid, x=X))
    assert isinstance(out.data, type(_cube().data)), "the result must stay lazy"
    assert out.dtype == np.float32
    with np.errstate(all="ignore"):
        want = UNARY[pid](_f64())
    np.testing.assert_allclose(out.values, want, rtol=2e-6, atol=1e-6, equal_nan=True)


@covers("exp", "power", "log", "mod", "clip", "linear_scale_range", "arctan2")
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # out of domain on purpose: NaN
def test_math_with_parameters_on_a_cube() -> None:
    x = _f64()
    with np.errstate(all="ignore"):
        cases = {
            "exp": (_child("exp", p=X), np.exp(x)),
            "power": (_child("power", base=X, p=2), x**2),
            "log": (_child("log", x=X, base=10), np.log10(x)),
            # the sign of the divisor (openEO mod), nodata and infinity give nodata
            "mod": (_child("mod", x=X, y=-2), np.mod(x, -2)),
            "clip": (_child("clip", x=X, min=0, max=1), np.clip(x, 0, 1)),
            # clipped to the input range first, then scaled
            "linear_scale_range": (
                _child("linear_scale_range", x=X, inputMin=0, inputMax=2, outputMax=100),
                np.clip(x, 0, 2) * 50,
            ),
            "arctan2": (_child("arctan2", y=X, x=-1), np.arctan2(x, -1)),
        }
    for pid, (child, want) in cases.items():
        out = _apply(child)
        assert out.dtype == np.float32, pid  # as the float32 cube (Copernicus: float tiles)
        np.testing.assert_allclose(
            out.values, want, rtol=2e-6, atol=2e-5, equal_nan=True, err_msg=pid
        )


@covers("e", "pi", "nan", "constant", "is_infinite", "inspect")
def test_constants_and_single_values() -> None:
    assert run_through_engine("e", {}) == math.e
    assert run_through_engine("pi", {}) == math.pi
    assert math.isnan(run_through_engine("nan", {}))
    assert run_through_engine("constant", {"x": [1, "a", None]}) == [1, "a", None]
    assert run_through_engine("is_infinite", {"x": -math.inf}) is True
    assert run_through_engine("is_infinite", {"x": None}) is False  # spec: null -> false
    # two numbers x / 0: DivisionByZero as Copernicus's Python division; null -> null
    for x in (-3, 0):
        with pytest.raises(DivisionByZero):
            run_through_engine("divide", {"x": x, "y": 0})
    assert run_through_engine("normalized_difference", {"x": None, "y": 1}) is None
    cube = _cube()
    out = run_through_engine("inspect", {"data": cube, "message": "look"})
    np.testing.assert_array_equal(out.values, cube.values)
    infinite = _apply(_child("is_infinite", x=X))
    np.testing.assert_array_equal(infinite.values, np.isinf(_f64()))


@covers("array_apply", "array_filter", "array_labels", "array_create_labeled", "array_find_label")
def test_array_processes_with_child_processes_and_labels() -> None:
    # each element gets its own run of the child process; nodata stays nodata (NaN)
    doubled = run_through_engine(
        "array_apply", {"data": [1, None, 3], "process": _child("multiply", x=X, y=2)}
    )
    assert _plain(doubled) == [2, None, 6]
    indexed = run_through_engine(
        "array_apply",
        {"data": [5, 5, 5], "process": _child("add", x=X, y={"from_parameter": "index"})},
    )
    assert _plain(indexed) == [5, 6, 7]
    kept = run_through_engine(
        "array_filter", {"data": [1, None, 5, 3], "condition": _child("gt", x=X, y=2)}
    )
    assert _plain(kept) == [5, 3]
    labeled = run_through_engine("array_create_labeled", {"data": [7, 8], "labels": ["a", "b"]})
    assert _plain(labeled) == [7, 8] and list(labeled[labeled.dims[0]].values) == ["a", "b"]
    assert _plain(run_through_engine("array_labels", {"data": [4, 5, 6]})) == [0, 1, 2]
    found = run_through_engine("array_find_label", {"data": labeled, "label": "b"})
    assert _plain(found) == 1
    by_label = run_through_engine(
        "array_filter", {"data": labeled, "condition": _child("gt", x=X, y=7)}
    )
    assert _plain(by_label) == [8] and list(by_label[by_label.dims[0]].values) == ["b"]


@covers("dimension_labels", "add_dimension", "drop_dimension", "rename_dimension")
def test_dimension_helpers() -> None:
    cube = _cube()
    labels = functools.partial(run_through_engine, "dimension_labels")
    assert labels({"data": cube, "dimension": "bands"}) == ["B04", "B08"]
    # time labels as RFC 3339 text (the stock version wrote nanoseconds)
    assert labels({"data": cube, "dimension": "t"}) == [
        "2023-06-02T00:00:00Z", "2023-06-07T00:00:00Z", "2023-06-12T00:00:00Z",
    ]  # fmt: skip
    added = run_through_engine("add_dimension", {"data": cube, "name": "run", "label": "a"})
    assert added.dims[0] == "run" and list(added["run"].values) == ["a"]
    np.testing.assert_array_equal(added.isel(run=0).values, cube.values)
    dropped = run_through_engine("drop_dimension", {"data": added, "name": "run"})
    assert dropped.dims == cube.dims
    np.testing.assert_array_equal(dropped.values, cube.values)
    renamed = run_through_engine(
        "rename_dimension", {"data": cube, "source": "bands", "target": "spectral"}
    )
    assert renamed.dims == ("t", "spectral", "y", "x")
    assert list(renamed["spectral"].values) == ["B04", "B08"]
    for process, arguments, word in (
        ("drop_dimension", {"data": cube, "name": "t"}, "DimensionLabelCountMismatch"),
        ("rename_dimension", {"data": cube, "source": "bands", "target": "t"}, "DimensionExists"),
        ("dimension_labels", {"data": cube, "dimension": "z"}, "DimensionNotAvailable"),
        # Copernicus lists only band and time labels (geopysparkdatacube.py L485-496)
        ("dimension_labels", {"data": cube, "dimension": "x"}, "only supported for dimension"),
    ):
        with pytest.raises(Exception, match=word):
            run_through_engine(process, arguments)


@covers("filter_bands", "filter_temporal", "filter_bbox", "normalized_difference")
# the stock filter_temporal parses its extent with pg_schema.TemporalInterval, which warns
# that numpy times have no time zone (the labels are UTC)
@pytest.mark.filterwarnings("ignore:no explicit representation of timezones:UserWarning")
def test_filters_and_normalized_difference() -> None:
    cube = _cube()
    bands = run_through_engine("filter_bands", {"data": cube, "bands": ["B08"]})
    np.testing.assert_array_equal(bands.values, cube.values[:, 1:])
    # the end of a temporal extent is excluded
    dates = run_through_engine(
        "filter_temporal", {"data": cube, "extent": ["2023-06-05", "2023-06-12"]}
    )
    assert list(dates["t"].values) == [TIMES[1]]
    west = {"west": 500000, "east": 500020, "south": 5000980, "north": 5001000, "crs": 32632}
    box = run_through_engine("filter_bbox", {"data": cube, "extent": west})
    assert list(box["x"].values) == [500005.0, 500015.0]
    np.testing.assert_array_equal(box.values, cube.values[..., :2])
    nir, red = _f64()[:, 1], _f64()[:, 0]
    ndi = run_through_engine(
        "normalized_difference",
        {"x": cube.sel(bands="B08", drop=True), "y": cube.sel(bands="B04", drop=True)},
    )
    with np.errstate(all="ignore"):  # 0 / 0 where both bands are 0: NaN, as expected
        want = (nir - red) / (nir + red)
        got = ndi.compute(scheduler="synchronous").values  # this thread's errstate
    np.testing.assert_allclose(got, want, rtol=1e-6, equal_nan=True)


@covers("reduce_spatial", "trim_cube", "resample_cube_spatial", "resample_cube_temporal")
def test_spatial_reduction_trimming_and_resampling_to_a_cube() -> None:
    cube = _cube()
    mean = run_through_engine(
        "reduce_spatial", {"data": cube, "reducer": _child("mean", data=DATA)}
    )
    assert mean.dims == ("t", "bands")
    # nodata is skipped; a window holding infinity has an infinite mean
    want = np.nanmean(_f64().reshape(3, 2, -1), axis=-1)
    assert np.isinf(want).any() and np.isfinite(want).any()
    np.testing.assert_allclose(mean.values, want, rtol=1e-6)
    padded = xr.concat([cube, cube.isel(t=[0]) * np.nan], dim="t")
    padded = padded.assign_coords(t=[*TIMES, np.datetime64("2023-06-20", "ns")])
    trimmed = run_through_engine("trim_cube", {"data": padded})
    assert trimmed.sizes["t"] == 3  # the all-nodata date is gone
    same = run_through_engine("resample_cube_spatial", {"data": cube, "target": cube.isel(t=[0])})
    np.testing.assert_array_equal(same.values, cube.values)
    target_times = np.array(["2023-06-03", "2023-06-11"], dtype="datetime64[ns]")
    target = cube.isel(t=[0, 1]).assign_coords(t=target_times)
    nearest = run_through_engine("resample_cube_temporal", {"data": cube, "target": target})
    # each target date takes the nearest source date (06-02 and 06-12)
    assert list(nearest["t"].values) == list(target_times)
    np.testing.assert_array_equal(nearest.values, cube.values[[0, 2]])
