"""Examples of the openeo Python client's documentation (github.com/Open-EO/openeo-python-client,
docs/processes.rst, docs/process_mapping.rst) through the client against ``hybrid serve``:
callbacks in every form, generic process calls, refused processes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from tests.workflows.client_docs_loads import _band, _get, _load, _nc, _refused

# -- docs/processes.rst "Processes with child callbacks" ---------------------------------


def test_callbacks_as_strings_functions_and_lambdas(
    connection: Any, raw: xr.Dataset, tmp_path: Path
) -> None:
    """docs/processes.rst "Callback as string" and "Callback as a callable": ``apply``
    with ``"absolute"``, a function, a lambda, ``openeo.processes.absolute`` and a chained
    ``x.absolute().cos().add(y=1.23)``; ``reduce_dimension`` over ``t`` with ``"max"``,
    ``openeo.processes.max``, ``openeo.processes.sum`` and a ProcessBuilder function."""
    import openeo.processes
    from openeo.processes import ProcessBuilder, absolute

    cube = _load(connection, ["B04", "B08"])
    red = _band(raw, "B04")

    def transform(x: Any) -> Any:
        return x * 2 + 3

    def avg(data: ProcessBuilder) -> Any:
        return data.mean()

    applied = {
        "absolute": (cube.apply("absolute"), np.abs(red)),
        "function": (cube.apply(transform), red * 2 + 3),
        "lambda": (cube.apply(lambda x: x * 2 + 3), red * 2 + 3),
        "process": (cube.apply(absolute), np.abs(red)),
        "chained": (cube.apply(lambda x: x.absolute().cos().add(y=1.23)), np.cos(red) + 1.23),
        "max": (cube.reduce_dimension(reducer="max", dimension="t"), red.max(axis=0)),
        "pmax": (cube.reduce_dimension(reducer=openeo.processes.max, dimension="t"), red.max(0)),
        "sum": (cube.reduce_dimension(dimension="t", reducer=openeo.processes.sum), red.sum(0)),
        "avg": (cube.reduce_dimension(reducer=avg, dimension="t"), red.mean(axis=0)),
    }
    for name, (result, want) in applied.items():
        got = _get(result, tmp_path / f"{name}.nc")
        np.testing.assert_allclose(got, want, rtol=1e-5, err_msg=name)


def test_three_equivalent_reducer_callbacks(
    connection: Any, raw: xr.Dataset, tmp_path: Path
) -> None:
    """docs/processes.rst "Callback as a callable", "The following examples result in the
    same callback": chained methods, functions, methods mixed with operators (the page
    passes the lambda positionally, where the client's first parameter is ``dimension``:
    here as ``reducer=``). Copernicus computes in float32 cells."""
    from openeo.processes import add, cos, mean

    cube = _load(connection, ["B04"])
    want = np.cos(_band(raw, "B04").mean(axis=0)) + 1.23
    reducers = [
        lambda data: data.mean().cos().add(y=1.23),
        lambda data: add(x=cos(mean(data)), y=1.23),
        lambda data: cos(data.mean()) + 1.23,
    ]
    for index, reducer in enumerate(reducers):
        got = _get(cube.reduce_dimension(reducer=reducer, dimension="t"), tmp_path / f"{index}.nc")
        # cos of a mean near 2000: float32 rounding of the mean moves it by ~1e-4
        np.testing.assert_allclose(got, want, atol=5e-4, err_msg=str(index))


def test_callbacks_as_pgnodes(connection: Any, raw: xr.Dataset, tmp_path: Path) -> None:
    """docs/processes.rst "Callback as ``PGNode``": ``add(cos(absolute(x)), 1.23)`` in
    ``apply`` and ``max`` over ``bands`` in ``reduce_dimension`` (one band left: Copernicus
    writes it as the netCDF variable ``var``)."""
    from openeo.internal.graph_building import PGNode

    cube = _load(connection, ["B04", "B08"])
    red, nir = _band(raw, "B04"), _band(raw, "B08")
    applied = cube.apply(
        PGNode("add", x=PGNode("cos", x=PGNode("absolute", x={"from_parameter": "x"})), y=1.23)
    )
    got = _get(applied, tmp_path / "apply.nc")
    np.testing.assert_allclose(got, np.cos(np.abs(red)) + 1.23, rtol=1e-5)
    reduced = cube.reduce_dimension(
        reducer=PGNode("max", data={"from_parameter": "data"}), dimension="bands"
    )
    np.testing.assert_allclose(_get(reduced, tmp_path / "max.nc", "var"), np.maximum(red, nir))


def test_callbacks_with_array_element_if_and_statistics(
    connection: Any, raw: xr.Dataset, tmp_path: Path
) -> None:
    """docs/processes.rst "Callback as a callable" with the processes of
    docs/process_mapping.rst: ``array_element`` by index, ``x[1]`` and by label over
    ``bands``, ``if_(gt(x, v), x, 0)`` in ``apply``, ``median`` and ``sd`` over ``t``."""
    from openeo.processes import array_element, gt, if_, median, sd

    cube = _load(connection, ["B04", "B08"])
    red, nir = _band(raw, "B04"), _band(raw, "B08")
    threshold = float(np.median(red))
    cases = {
        "element": (lambda x: array_element(x, 1) - array_element(x, 0), nir - red),
        "getitem": (lambda x: x[1] / x[0], nir / red),
        "label": (lambda x: x.array_element(label="B08"), nir),
    }
    for name, (reducer, want) in cases.items():
        result = cube.reduce_dimension(dimension="bands", reducer=reducer)
        got = _get(result, tmp_path / f"{name}.nc", "var")
        np.testing.assert_allclose(got, want, rtol=1e-6, err_msg=name)
    got = _get(cube.apply(lambda x: if_(gt(x, threshold), x, 0)), tmp_path / "if.nc")
    np.testing.assert_array_equal(got, np.where(red > threshold, red, 0))
    got = _get(cube.reduce_dimension(dimension="t", reducer=median), tmp_path / "median.nc")
    np.testing.assert_array_equal(got, np.median(red, axis=0))
    got = _get(cube.reduce_dimension(dimension="t", reducer=sd), tmp_path / "sd.nc")
    np.testing.assert_allclose(got, np.std(red, axis=0, ddof=1), rtol=1e-5)


def test_apply_dimension_with_a_value_per_pixel_against_the_array(
    connection: Any, raw: xr.Dataset, tmp_path: Path
) -> None:
    """docs/processes.rst "Processes with child callbacks" (``apply_dimension``): the
    anomaly ``x - x.mean()`` and the change ``x - x[0]`` over ``t``, ``x / x.max()`` and
    ``array_concat(x, array_create([x.mean()]))`` over ``bands``; Copernicus
    applies the operator between the array and the one value to each element
    (openeo-geotrellis-extensions ``OpenEOProcessScriptBuilder.scala`` ``xyFunction``
    L919-925). It was refused: the reduced value lost the dimension."""
    from openeo.processes import array_concat, array_create

    cube = _load(connection, ["B04", "B08"])
    red, nir = _band(raw, "B04"), _band(raw, "B08")
    anomaly = cube.apply_dimension(dimension="t", process=lambda x: x - x.mean())
    got = _get(anomaly, tmp_path / "anomaly.nc")
    np.testing.assert_allclose(got, red - red.mean(axis=0), atol=1e-3)
    share = cube.apply_dimension(dimension="bands", process=lambda x: x / x.max())
    got = _get(share, tmp_path / "share.nc")
    np.testing.assert_allclose(got, red / np.maximum(red, nir), rtol=1e-6)
    change = cube.apply_dimension(dimension="t", process=lambda x: x - x.array_element(0))
    np.testing.assert_array_equal(_get(change, tmp_path / "change.nc"), red - red[0])
    more = cube.apply_dimension(
        dimension="bands", process=lambda x: array_concat(x, array_create([x.mean()]))
    ).rename_labels("bands", ["B04", "B08", "mean"])
    got = _get(more, tmp_path / "more.nc", "mean")
    np.testing.assert_allclose(got, (red + nir) / 2, rtol=1e-6)


def test_linear_scale_range_resample_spatial_and_filter_labels(
    connection: Any, raw: xr.Dataset, tmp_path: Path
) -> None:
    """docs/process_mapping.rst methods used on docs/processes.rst's ``cube``:
    ``linear_scale_range`` (method and in ``apply``), ``resample_spatial(resolution=20,
    method="average")`` (2 x 2 means of the 10 m pixels, stored as whole numbers in the
    int16 cube: Copernicus reads the files with that method into their integer type,
    ``backends/local/resample_pushdown.py``),
    ``filter_labels`` on ``t`` right after the load (Copernicus applies it to the
    scenes when loading, FIELD_NOTES section 5) and on ``bands``, which Copernicus
    ignores (geopysparkdatacube.py L298-301): the job keeps both bands and its log says
    so."""
    from openeo.processes import date_between

    cube = _load(connection, ["B04", "B08"])
    red = _band(raw, "B04")
    # integer output bounds: the integer part (Copernicus converts the tile to uint16,
    # OpenEOProcessScriptBuilder.scala linearScaleRangeFunction L1271-1322)
    want = np.trunc(np.clip(red, 0, 3000) * 255 / 3000)
    got = _get(cube.linear_scale_range(0, 3000, 0, 255), tmp_path / "lsr.nc")
    np.testing.assert_allclose(got, want, rtol=1e-5)
    scaled = cube.apply(lambda x: x.linear_scale_range(0, 3000, 0, 255))
    np.testing.assert_allclose(_get(scaled, tmp_path / "lsr_apply.nc"), want, rtol=1e-5)

    coarse = _nc_of(cube.resample_spatial(resolution=20, method="average"), tmp_path / "rs.nc")
    assert float(coarse["x"].values[1] - coarse["x"].values[0]) == 20
    # an inner 20 m pixel: the outer ones reach beyond the loaded 10 m pixels
    x0 = int(np.searchsorted(raw["x"].values, coarse["x"].values[1] - 5))
    y0 = int(np.searchsorted(-raw["y"].values, -(coarse["y"].values[1] + 5)))
    block = red[:, y0 : y0 + 2, x0 : x0 + 2].reshape(red.shape[0], -1).mean(axis=1)
    assert np.unique(block).size > 1
    assert np.unique(block % 1).size > 1  # some means are not whole: the rounding shows
    np.testing.assert_array_equal(coarse["B04"].values[:, 1, 1], np.floor(block + 0.5))
    assert coarse["B04"].encoding["dtype"] == np.int16

    job = cube.filter_labels(lambda b: b == "B08", "bands").create_job(out_format="netCDF")
    job.start_and_wait(max_poll_interval=0.2, show_error_logs=False)
    (asset,) = job.get_results().get_assets()
    both = _nc(Path(asset.download(tmp_path / "b.nc")))
    assert [str(v) for v in both.data_vars if v != "crs"] == ["B04", "B08"]
    (note,) = [e["message"] for e in job.logs() if "filter_labels on 'bands'" in e["message"]]
    assert "returns the cube unchanged" in note
    days = cube.filter_labels(lambda t: date_between(t, "2023-06-15", "2023-06-25"), "t")
    times = raw["t"].values
    want_t = times[(times >= np.datetime64("2023-06-15")) & (times < np.datetime64("2023-06-25"))]
    assert 0 < want_t.size < times.size
    np.testing.assert_array_equal(_nc_of(days, tmp_path / "t.nc")["t"].values, want_t)


def _nc_of(cube: Any, path: Path) -> xr.Dataset:
    cube.download(path, format="netCDF")
    return _nc(path)


# -- docs/processes.rst "Generic API for adding processes" ---------------------------------


def test_generic_process_calls(connection: Any, raw: xr.Dataset, tmp_path: Path) -> None:
    """docs/processes.rst "Basics" and "Passing data cube arguments": ``cube.process("mean",
    ...)`` on a literal list (dict and keyword form), ``process("ndvi", data=cube)`` and the
    ``THIS`` chain ``filter_bands`` -> ``mask`` -> ``ndvi``."""
    from openeo.rest.datacube import THIS

    cube = _load(connection, ["B04", "B08"])
    assert cube.process("mean", {"data": [1, 3, -1]}).execute() == 1
    assert cube.process("mean", data=[1, 3, -1]).execute() == 1

    red, nir = _band(raw, "B04"), _band(raw, "B08")
    ndvi = (nir - red) / (nir + red)
    got = _get(cube.process("ndvi", data=cube), tmp_path / "ndvi.nc", "var")
    np.testing.assert_allclose(got, ndvi, rtol=1e-5)

    threshold = float(np.median(red))
    mask = cube.band("B04") > threshold
    res = (
        cube.process("filter_bands", data=THIS, bands=["B04", "B08"])
        .process("mask", data=THIS, mask=mask)
        .process("ndvi", data=THIS)
    )
    want = np.where(red > threshold, np.nan, ndvi)
    assert np.isnan(want).any() and np.isfinite(want).any()
    got = _get(res, tmp_path / "masked.nc", "var")
    np.testing.assert_allclose(got, want, rtol=1e-5, equal_nan=True)


def test_unknown_and_backend_file_processes_are_refused(connection: Any) -> None:
    """docs/processes.rst "Passing results from other process calls as arguments"
    (``load_my_vector_cube``, a custom process): one 400 ProcessUnsupported; and
    docs/cookbook/tricks.rst "Legacy ``read_vector`` usage", a path on the back-end's file
    system that is not there: one 400 naming the path (read_vector reads a file that is:
    tests/workflows/test_vector_cube_loads.py)."""
    from openeo.processes import process

    cube = _load(connection, ["B04"])
    custom = process("load_my_vector_cube", url="https://geo.example/features.db")
    res = cube.aggregate_spatial(geometries=custom, reducer="mean")
    assert "load_my_vector_cube" in _refused(res.execute, "ProcessUnsupported").message
    legacy = process("read_vector", filename="/backend/path/to/geometries.json")
    res = cube.aggregate_spatial(geometries=legacy, reducer="mean")
    error = _refused(res.execute, "ProcessParameterInvalid")
    assert "there is no file /backend/path/to/geometries.json" in error.message


def test_update_arguments_with_a_non_standard_argument(
    connection: Any, raw: xr.Dataset, tmp_path: Path
) -> None:
    """docs/processes.rst "Advanced argument tweaking": ``feature_flags`` added to the
    ``load_collection`` node is ignored, as Copernicus reads only the arguments it knows
    (openeo-python-driver ``ProcessGraphDeserializer.py`` ``load_collection``)."""
    cube = _load(connection, ["B04"])
    cube.result_node().update_arguments(feature_flags="rXPk")
    assert "feature_flags" in cube.flat_graph()["loadcollection1"]["arguments"]
    np.testing.assert_array_equal(_get(cube, tmp_path / "ff.nc"), _band(raw, "B04"))
