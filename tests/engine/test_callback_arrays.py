"""Arrays an array_create builds inside a callback, used by the processes after it, on
small cubes through the engine's registry (tests/process_vectors.py
``run_through_engine``); expected values from numpy on the cube's own values."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

from hybrid.errors import ProcessParameterInvalid
from tests.engine.small_cubes import DATA, bands_cube, callback, node
from tests.process_vectors import run_through_engine

#: openEO reducer -> numpy over the array's values (axis 0)
REDUCERS = {
    "max": lambda v: np.max(v, axis=0),
    "min": lambda v: np.min(v, axis=0),
    "median": lambda v: np.median(v, axis=0),
    "mean": lambda v: np.mean(v, axis=0),
    "sum": lambda v: np.sum(v, axis=0),
    "product": lambda v: np.prod(v, axis=0),
    "sd": lambda v: np.std(v, axis=0, ddof=1),
    "first": lambda v: v[0],
    "last": lambda v: v[-1],
    "count": lambda v: np.full(v.shape[1:], float(len(v))),
}


def _built_then_reduced(reducer: str, *, keep_red: bool) -> dict[str, Any]:
    """red = data[0], nir = data[1]; ``reducer(array_create([red, nir + red, 1.5]))``,
    with red beside it (``array_create([reduced, red])``) when ``keep_red``."""
    nodes = {
        "red": node("array_element", data=DATA, index=0),
        "nir": node("array_element", data=DATA, index=1),
        "total": node("add", x={"from_node": "nir"}, y={"from_node": "red"}),
        "built": node("array_create", data=[{"from_node": "red"}, {"from_node": "total"}, 1.5]),
        "reduced": node(reducer, data={"from_node": "built"}),
    }
    if not keep_red:
        return callback("reduced", **nodes)
    pair = node("array_create", data=[{"from_node": "reduced"}, {"from_node": "red"}])
    return callback("out", **nodes, out=pair)


def _members(values: np.ndarray, axis: int) -> np.ndarray:
    red, nir = np.take(values, 0, axis=axis), np.take(values, 1, axis=axis)
    return np.stack([red, nir + red, np.full(red.shape, 1.5)])


@pytest.mark.parametrize("lazy", [False, True])
@pytest.mark.parametrize("reducer", sorted(REDUCERS))
def test_a_reducer_of_an_array_the_band_callback_built(reducer: str, lazy: bool) -> None:
    """``max(array_create([red, nir + red, 1.5]))`` in an apply_dimension over bands is
    the largest of the three per pixel, not a reduction over the callback's band axis
    (which failed: "inhomogeneous shape", "Chunks do not add up"). Copernicus reduces the
    tiles the array evaluates to (geotrellis-extensions OpenEOProcessScriptBuilder.scala
    ``reduceFunction`` L573-585, ``applyListFunction`` L589 for median/first/count)."""
    data = bands_cube(lazy=lazy)
    process = _built_then_reduced(reducer, keep_red=True)
    out = run_through_engine(
        "apply_dimension",
        {"data": data, "dimension": "bands", "process": process},
    )
    values = data.values.astype(np.float32)  # a callback over bands computes in float32
    np.testing.assert_allclose(out.values[:, 0], REDUCERS[reducer](_members(values, 1)), rtol=1e-6)
    np.testing.assert_array_equal(out.values[:, 1], values[:, 0])


@pytest.mark.parametrize("reducer", ["max", "median", "last"])
def test_a_reducer_of_an_array_the_reducer_callback_built(reducer: str) -> None:
    """The same in reduce_dimension over bands, whose callback reduces axis 1 of the
    cube (t, bands, y, x): the array it builds is reduced over its own values."""
    data = bands_cube(lazy=True)
    reducer_graph = _built_then_reduced(reducer, keep_red=False)
    out = run_through_engine(
        "reduce_dimension",
        {"data": data, "dimension": "bands", "reducer": reducer_graph},
    )
    assert out.dims == ("t", "y", "x")
    np.testing.assert_allclose(out.values, REDUCERS[reducer](_members(data.values, 1)))


@pytest.mark.parametrize("lazy", [False, True])
@pytest.mark.parametrize("dimension", ["t", "bands"])
def test_a_reducer_returning_one_quantile_reduces(dimension: str, lazy: bool) -> None:
    """``reduce_dimension(reducer=quantiles(probabilities=[0.5]))``, a one-element array
    per pixel, is that element (it failed: "dimensions ... must have the same length as
    the number of data dimensions"); Copernicus keeps the one result per pixel."""
    data = bands_cube(lazy=lazy)
    process = callback("q", q=node("quantiles", data=DATA, probabilities=[0.5]))
    got = run_through_engine(
        "reduce_dimension", {"data": data, "dimension": dimension, "reducer": process}
    )
    assert dimension not in got.dims and got.ndim == data.ndim - 1
    axis = data.dims.index(dimension)
    np.testing.assert_allclose(np.asarray(got.values), np.median(data.values, axis=axis))


def test_a_reducer_returning_several_values_is_refused() -> None:
    """Two quantiles per pixel are no reduction: one line that names apply_dimension."""
    from hybrid.errors import ProcessParameterInvalid

    process = callback("q", q=node("quantiles", data=DATA, probabilities=[0.25, 0.75]))
    with pytest.raises(ProcessParameterInvalid, match="returns 2 values per pixel over 't'"):
        run_through_engine(
            "reduce_dimension", {"data": bands_cube(), "dimension": "t", "reducer": process}
        )


@pytest.mark.parametrize("lazy", [False, True])
def test_a_temporal_aggregation_with_one_quantile_reduces(lazy: bool) -> None:
    """aggregate_temporal_period's reducer ``quantiles([0.5])`` gives the median of each
    period (it failed as in reduce_dimension)."""
    data = bands_cube(lazy=lazy)
    process = callback("q", q=node("quantiles", data=DATA, probabilities=[0.5]))
    got = run_through_engine(
        "aggregate_temporal_period", {"data": data, "period": "month", "reducer": process}
    )
    assert got.dims == data.dims and got.sizes["t"] == 1
    np.testing.assert_allclose(np.asarray(got.values)[0], np.median(data.values, axis=0), rtol=1e-6)


def _nd_appended(**label: str) -> dict[str, Any]:
    """``array_append(data, normalized_difference(B08, B04))``: the usual way to add an
    index band in an apply_dimension over bands."""
    return callback(
        "out",
        red=node("array_element", data=DATA, label="B04"),
        nir=node("array_element", data=DATA, label="B08"),
        nd=node("normalized_difference", x={"from_node": "nir"}, y={"from_node": "red"}),
        out=node("array_append", data=DATA, value={"from_node": "nd"}, **label),
    )


@pytest.mark.parametrize("label", [{}, {"label": "NDVI"}])
@pytest.mark.parametrize("lazy", [False, True])
def test_array_append_of_a_value_per_pixel_adds_a_band(lazy: bool, label: dict[str, str]) -> None:
    """It failed ("operands could not be broadcast together with shapes (3,4,5)
    (3,4,5,1)": openeo-processes-dask's array_append multiplies the kept-dimension value
    with the array minus that dimension); Copernicus appends the tile
    (geotrellis-extensions OpenEOProcessScriptBuilder.scala ``arrayAppendFunction``
    L1387-1396, ``data ++ values``), a ``label`` ignored (SNOWCOP/openeo_mountains_snow
    appends ``"NDVI"`` so; it failed the same way)."""
    data = bands_cube(lazy=lazy)
    out = run_through_engine(
        "apply_dimension", {"data": data, "dimension": "bands", "process": _nd_appended(**label)}
    )
    values = data.values.astype(np.float32)
    red, nir = values[:, 0], values[:, 1]
    assert out.sizes["bands"] == 3
    np.testing.assert_array_equal(out.values[:, :2], values)
    np.testing.assert_allclose(out.values[:, 2], (nir - red) / (nir + red), rtol=1e-6)


def test_array_concat_of_the_callback_array_with_itself_doubles_the_bands() -> None:
    """``array_concat(data, data)`` over bands is B04, B08, B04, B08 (Copernicus
    ``arrayConcatFunction`` L1417-1427, ``array1 ++ array2``); it was read as an
    array_create of the dates and refused. Over time the values beyond the dates are
    dropped, the dates paired with the first ones, as Copernicus pairs them."""
    data = bands_cube(lazy=True)
    doubled = callback("out", out=node("array_concat", array1=DATA, array2=DATA))
    out = run_through_engine(
        "apply_dimension", {"data": data, "dimension": "bands", "process": doubled}
    )
    values = data.values.astype(np.float32)
    np.testing.assert_array_equal(out.values, np.concatenate([values, values], axis=1))
    over_time = run_through_engine(
        "apply_dimension", {"data": data, "dimension": "t", "process": doubled}
    )
    np.testing.assert_array_equal(over_time["t"].values, data["t"].values)
    np.testing.assert_array_equal(over_time.values, data.values)


def test_array_labels_in_a_reducer_are_the_dimension_labels() -> None:
    """``count(array_labels(data))`` over bands is 2 and over time the number of dates;
    it was the stock implementation's "The truth value of an array ... is ambiguous". A
    reducer answering one number fills the reduced cube; one answering a text (a label)
    is refused in one line."""
    data = bands_cube(lazy=True)
    labels = node("array_labels", data=DATA)
    counted = callback("c", l=labels, c=node("count", data={"from_node": "l"}))
    for dimension, want in (("bands", 2), ("t", data.sizes["t"])):
        out = run_through_engine(
            "reduce_dimension", {"data": data, "dimension": dimension, "reducer": counted}
        )
        assert dimension not in out.dims and out.shape == data.isel({dimension: 0}).shape
        assert np.unique(out.values).tolist() == [want]
    second = callback("e", l=labels, e=node("array_element", data={"from_node": "l"}, index=1))
    with pytest.raises(ProcessParameterInvalid, match="returns the text 'B08'"):
        run_through_engine(
            "reduce_dimension", {"data": data, "dimension": "bands", "reducer": second}
        )


def _above(threshold: float) -> dict[str, Any]:
    return callback("f", f=node("gt", x={"from_parameter": "x"}, y=threshold))


@pytest.mark.parametrize("lazy", [False, True])
def test_array_filter_keeps_each_pixels_own_elements(lazy: bool) -> None:
    """``mean(array_filter(data, x > 1.6))`` over time is each pixel's mean of its values
    above 1.6; apply_dimension of the filter keeps the dates, the others nodata. It
    kept the dates where every pixel passed, and an empty cube when none did."""
    data = bands_cube(lazy=lazy)
    values = data.values
    masked = np.where(values > 1.6, values, np.nan)
    filtered = node("array_filter", data=DATA, condition=_above(1.6))
    mean = callback("m", f=filtered, m=node("mean", data={"from_node": "f"}))
    out = run_through_engine("reduce_dimension", {"data": data, "dimension": "t", "reducer": mean})
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        want = np.nanmean(masked, axis=0)
    np.testing.assert_allclose(out.values, want, rtol=1e-6)
    kept = run_through_engine(
        "apply_dimension", {"data": data, "dimension": "t", "process": callback("f", f=filtered)}
    )
    np.testing.assert_array_equal(kept["t"].values, data["t"].values)
    np.testing.assert_allclose(kept.values, masked, rtol=1e-6)


@pytest.mark.parametrize("lazy", [False, True])
@pytest.mark.parametrize(("process", "fold"), [("any", np.logical_or), ("all", np.logical_and)])
def test_any_and_all_of_a_list_of_comparisons_fold_it(process: str, fold: Any, lazy: bool) -> None:
    """``any([x[0] > 1.5, x[1] > 1.5])`` (SNOWCOP/openeo_mountains_snow's ``any([x == v
    for v in cloud_values])``) in a reducer over bands is the ``or`` of the comparisons
    per pixel, ``all`` their ``and``, as Copernicus folds the list's tiles
    (OpenEOProcessScriptBuilder.scala ``reduceFunction`` L573-585, ``"any"`` L1137); it
    was a 400 ("The truth value of an array ... is ambiguous")."""
    data = bands_cube(lazy=lazy)
    nodes = {f"e{i}": node("array_element", data=DATA, index=i) for i in (0, 1)}
    nodes |= {f"c{i}": node("gt", x={"from_node": f"e{i}"}, y=1.5) for i in (0, 1)}
    listed = [{"from_node": "c0"}, {"from_node": "c1"}]
    reducer = callback("r", **nodes, r=node(process, data=listed))
    out = run_through_engine(
        "reduce_dimension", {"data": data, "dimension": "bands", "reducer": reducer}
    )
    values = data.values
    want = fold(values[:, 0] > 1.5, values[:, 1] > 1.5)
    assert want.any() and not want.all()
    np.testing.assert_array_equal(np.asarray(out.values).astype(bool), want)
