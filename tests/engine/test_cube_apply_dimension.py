"""apply and apply_dimension on cubes of any shape, run through openeo-pg-parser-networkx
with the engine's registry (tests/process_vectors.py ``run_through_engine``); expected
values from numpy.
"""

from __future__ import annotations

from typing import Any

import dask.array as da
import numpy as np
import pytest

from hybrid.errors import ProcessParameterInvalid
from tests.engine.small_cubes import DATA, TIMES, bands_cube, callback, grid_cube, node, series_cube
from tests.process_vectors import run_through_engine

# ---------------------------------------------------------------- apply


@pytest.mark.parametrize("lazy", [False, True])
@pytest.mark.parametrize(
    ("process", "expected"),
    [
        (callback("c", c=node("constant", x=7)), 7),
        # a comparison with a non-number is false for every pixel (openEO 1.2 gt)
        (callback("c", c=node("gt", x={"from_parameter": "x"}, y="text")), False),
    ],
)
def test_apply_with_a_single_value_result_fills_the_cube(
    process: dict[str, Any], expected: Any, lazy: bool
) -> None:
    data = bands_cube(lazy=lazy)
    out = run_through_engine("apply", {"data": data, "process": process})
    assert isinstance(out.data, da.Array) == lazy
    assert out.dims == data.dims and out.shape == data.shape
    np.testing.assert_array_equal(out["t"].values, TIMES)
    assert (out.values == expected).all()


@pytest.mark.parametrize("lazy", [False, True])
def test_apply_and_band_reductions_compute_a_float64_cube_in_float32(lazy: bool) -> None:
    """Copernicus converts the cube to float32 before apply or a callback over bands
    (geopysparkdatacube.py _apply_bands_dimension L407-408): after apply_kernel
    (float64) 0.1000000020 is 0.10000000149 (float32), not greater than the float32
    0.1; 0.1000000100 stays above it."""
    values: Any = np.array([0.1000000020, 0.1000000100, 0.05, np.nan]).reshape(1, 1, 2, 2)
    values = np.concatenate([values, values], axis=1)  # two bands
    if lazy:
        values = da.from_array(values, chunks=1)
    data = grid_cube(values, ("t", "bands", "y", "x"), t=TIMES[:1], bands=["B04", "B08"])
    x = {"from_parameter": "x"}
    out = run_through_engine(
        "apply", {"data": data, "process": callback("g", g=node("gt", x=x, y=0.1))}
    )
    np.testing.assert_array_equal(out.values[0, 0].ravel(), [False, True, False, False])
    first = node("array_element", data=DATA, index=0)
    reduced = run_through_engine(
        "reduce_dimension",
        {"data": data, "dimension": "bands",
         "reducer": callback("g", b=first, g=node("gt", x={"from_node": "b"}, y=0.1))},
    )  # fmt: skip
    np.testing.assert_array_equal(reduced.values[0].ravel(), [False, True, False, False])
    over_time = run_through_engine(
        "reduce_dimension",
        {"data": data, "dimension": "t", "reducer": callback("m", m=node("max", data=DATA))},
    )
    assert over_time.dtype == np.float64  # a callback over time gets the cube as it is


@pytest.mark.parametrize("lazy", [False, True])
def test_apply_nested_array_create_is_flattened_as_copernicus(lazy: bool) -> None:
    """``array_create([array_create([x, 1]), 2])`` is the three values x, 1, 2 for every
    pixel: Copernicus concatenates the tiles of an array's members, a number one tile
    (geotrellis-extensions OpenEOProcessScriptBuilder.scala ``arrayEnd`` L1038-1075)."""
    x = {"from_parameter": "x"}
    nested = {"inner": node("array_create", data=[x, 1]),
              "outer": node("array_create", data=[{"from_node": "inner"}, 2, x])}  # fmt: skip
    data = bands_cube(lazy=lazy)
    for reducer, want in (
        (node("sum", data={"from_node": "outer"}), 2 * data.values + 3),
        (node("count", data={"from_node": "outer"}), np.full(data.shape, 4)),
        (node("array_element", data={"from_node": "outer"}, index=2), np.full(data.shape, 2)),
    ):
        process = callback("r", r=reducer, **nested)
        out = run_through_engine("apply", {"data": data, "process": process})
        assert isinstance(out.data, da.Array) == lazy and out.dims == data.dims
        np.testing.assert_allclose(out.values, want)


# ---------------------------------------------------------------- apply_dimension


def test_apply_dimension_over_time_keeps_time_labels() -> None:
    data = bands_cube()
    out = run_through_engine(
        "apply_dimension",
        {"data": data, "dimension": "t", "process": callback("c", c=node("cumsum", data=DATA))},
    )
    assert out.dims == data.dims
    np.testing.assert_array_equal(out["t"].values, TIMES)
    np.testing.assert_allclose(out.values, np.cumsum(data.values, axis=0))


def _over_red_and_nir(**nodes: dict[str, Any]) -> dict[str, Any]:
    """A callback over bands ending at node ``out``: ``red`` (band 0), ``nir`` (band 1),
    their sum ``total``, then ``nodes``."""
    red = node("array_element", data=DATA, index=0)
    nir = node("array_element", data=DATA, index=1)
    total = node("add", x={"from_node": "nir"}, y={"from_node": "red"})
    return callback("out", red=red, nir=nir, total=total, **nodes)


@pytest.mark.parametrize("lazy", [False, True])
def test_array_element_of_an_array_the_band_callback_built(lazy: bool) -> None:
    """``array_element(array_create([a, b, c]), 1)`` in an apply_dimension over bands is
    ``b`` (ESA-APEx wildfire_visualization), not the callback's band 1: Copernicus takes
    the element of the tiles the array evaluates to (geotrellis-extensions
    OpenEOProcessScriptBuilder.scala ``arrayElementFunction`` L1608-1650)."""
    data = bands_cube(lazy=lazy)
    process = _over_red_and_nir(
        built=node("array_create", data=[{"from_node": "red"}, {"from_node": "total"}, 7]),
        second=node("array_element", data={"from_node": "built"}, index=1),
        third=node("array_element", data={"from_node": "built"}, index=2),
        out=node("array_create", data=[{"from_node": "second"}, {"from_node": "third"}]),
    )
    out = run_through_engine(
        "apply_dimension", {"data": data, "dimension": "bands", "process": process}
    )
    r, n = data.values[:, 0], data.values[:, 1]
    np.testing.assert_allclose(out.values[:, 0], n + r)
    np.testing.assert_allclose(out.values[:, 1], np.full(r.shape, 7.0))


def test_reducer_array_element_of_a_missing_band_fails_with_return_nodata() -> None:
    """As on Copernicus, whose script builder ignores ``return_nodata``
    (OpenEOProcessScriptBuilder.scala L1644-1646); the stock implementation gave NaN."""
    reducer = callback("e", e=node("array_element", data=DATA, label="B02", return_nodata=True))
    with pytest.raises(ProcessParameterInvalid, match="Could not find label B02"):
        run_through_engine(
            "reduce_dimension", {"data": bands_cube(), "dimension": "bands", "reducer": reducer}
        )


def test_band_callback_changing_the_band_count_stays_lazy() -> None:
    data = bands_cube(lazy=True)
    process = _over_red_and_nir(
        nd=node("normalized_difference", x={"from_node": "nir"}, y={"from_node": "red"}),
        ratio=node("divide", x={"from_node": "nir"}, y={"from_node": "red"}),
        out=node(
            "array_create",
            data=[{"from_node": "nd"}, {"from_node": "ratio"}, {"from_node": "total"}],
        ),
    )
    out = run_through_engine(
        "apply_dimension", {"data": data, "dimension": "bands", "process": process}
    )
    assert isinstance(out.data, da.Array)
    assert out.dims == data.dims and list(out["bands"].values) == [0, 1, 2]
    np.testing.assert_array_equal(out["t"].values, TIMES)
    floats = data.values.astype(np.float32)  # a callback over bands computes in float32
    r, n = floats[:, 0], floats[:, 1]
    np.testing.assert_array_equal(out.values[:, 0], (n - r) / (n + r))
    np.testing.assert_array_equal(out.values[:, 1], n / r)
    np.testing.assert_array_equal(out.values[:, 2], n + r)


def test_apply_dimension_reducer_gets_the_first_date_a_new_dimension_is_a_rename() -> None:
    """Fewer values along time get the first dates, as on Copernicus
    (openeo-geotrellis-extensions ``createTemporalCallback``: ``labels.zip(resultTiles)``),
    where the spec says integers; a new ``target_dimension`` is the same result with the
    dimension renamed, its labels kept (openeo-python-driver
    ``process_implementations/cubes.py`` L111-125), where the spec says integers too."""
    data = bands_cube()
    mean = callback("m", m=node("mean", data=DATA))
    out = run_through_engine("apply_dimension", {"data": data, "dimension": "t", "process": mean})
    np.testing.assert_array_equal(out["t"].values, data["t"].values[:1])
    np.testing.assert_allclose(out.values[0], data.values.mean(axis=0))
    moved = run_through_engine(
        "apply_dimension",
        {"data": data, "dimension": "t", "process": callback("c", c=node("cumsum", data=DATA)),
         "target_dimension": "steps"},
    )  # fmt: skip
    assert moved.dims == ("steps", "bands", "y", "x")
    np.testing.assert_array_equal(moved["steps"].values, data["t"].values)
    np.testing.assert_allclose(moved.values, np.cumsum(data.values, axis=0))


def test_a_new_target_dimension_over_bands_keeps_the_band_labels() -> None:
    """``apply_dimension(dimension="bands", target_dimension="newbands")`` is the bands
    renamed, B04 and B08 kept (geopysparkdatacube.py ``_apply_bands_dimension`` keeps the
    band metadata; the driver renames the dimension after); a ``target_dimension`` the
    cube has (``t`` for a callback over bands) renames nothing there."""
    data = bands_cube()
    twice = callback("m", m=node("multiply", x=DATA, y=2))
    out = run_through_engine(
        "apply_dimension",
        {"data": data, "dimension": "bands", "process": twice, "target_dimension": "newbands"},
    )
    assert out.dims == ("t", "newbands", "y", "x")
    assert list(out["newbands"].values) == ["B04", "B08"]
    np.testing.assert_allclose(out.values, data.values * 2)
    same = run_through_engine(
        "apply_dimension",
        {"data": data, "dimension": "bands", "process": twice, "target_dimension": "t"},
    )
    assert same.dims == data.dims and list(same["bands"].values) == ["B04", "B08"]


def test_apply_dimension_time_into_the_bands_dimension_as_copernicus() -> None:
    data = bands_cube()
    graph = callback(
        "a",
        lo=node("min", data=DATA),
        hi=node("max", data=DATA),
        a=node("array_create", data=[{"from_node": "lo"}, {"from_node": "hi"}]),
    )
    out = run_through_engine(
        "apply_dimension",
        {"data": data, "dimension": "t", "process": graph, "target_dimension": "bands"},
    )
    assert out.dims == ("bands", "y", "x") and list(out["bands"].values) == [0, 1, 2, 3]
    v = data.values
    want = np.stack([v[:, 0].min(0), v[:, 0].max(0), v[:, 1].min(0), v[:, 1].max(0)])
    np.testing.assert_allclose(out.values, want)
    mean = run_through_engine(
        "apply_dimension",
        {"data": data, "dimension": "t", "process": callback("m", m=node("mean", data=DATA)),
         "target_dimension": "bands"},
    )  # fmt: skip
    assert list(mean["bands"].values) == ["B04", "B08"]
    np.testing.assert_allclose(mean.values, v.mean(axis=0))


def test_apply_dimension_unknown_dimension() -> None:
    with pytest.raises(ProcessParameterInvalid, match="DimensionNotAvailable"):
        run_through_engine(
            "apply_dimension",
            {"data": series_cube(), "dimension": "bands",
             "process": callback("c", c=node("cumsum", data=DATA))},
        )  # fmt: skip


def test_array_apply_over_time_gets_each_label() -> None:
    """The BAP notebook's day of month: 15 + date_difference(date_replace_component(
    label, 15, "day"), label, "day") per date."""
    day = callback(
        "add",
        replace=node("date_replace_component", date={"from_parameter": "label"}, value=15,
                     component="day"),
        diff=node("date_difference", date1={"from_node": "replace"},
                  date2={"from_parameter": "label"}, unit="day"),
        add=node("add", x=15, y={"from_node": "diff"}),
    )  # fmt: skip
    process = callback("apply", apply=node("array_apply", data=DATA, process=day))
    cube = series_cube()
    out = run_through_engine(
        "apply_dimension", {"data": cube, "process": process, "dimension": "t"}
    )
    assert out.dims == cube.dims
    np.testing.assert_array_equal(out.values[:, 0, 0], [2, 7, 12])
    assert (out.values == np.array([2, 7, 12])[:, None, None]).all()
