"""Every process GET /processes advertises is exercised by a test.

1. :func:`test_every_advertised_process_has_a_test` lists what the engine advertises
   (``LocalBackend.process_specs``, which ``GET /processes`` serves verbatim) and fails
   for a process without a test: a passing example of its served description (run
   below), a cube-level case here (``@covers``), or a named test elsewhere
   (:data:`ELSEWHERE`, checked to exist and to name the process).
2. The official examples of the served descriptions (openeo-processes 2.0.0-rc.1 as
   bundled with openeo-processes-dask) run through the engine's parser and registry.
3. Cube-level cases for the processes whose descriptions have no examples and for the
   element-wise math the examples only check on single values: expected values from
   numpy/xarray, computed here.
"""

from __future__ import annotations

import ast
import functools
import math
import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from hybrid.errors import DivisionByZero
from tests.process_vectors import run_through_engine

ROOT = Path(__file__).resolve().parents[2]


@functools.cache
def advertised() -> dict[str, dict[str, Any]]:
    from hybrid.backends.local.engine import LocalBackend

    return {spec["id"]: spec for spec in LocalBackend().process_specs()}


# ---------------------------------------------------------------- coverage

#: process -> the test elsewhere that runs it: (path under tests/, function)
ELSEWHERE: dict[str, tuple[str, str]] = {
    "aggregate_spatial": (
        "engine/test_vector_cubes.py",
        "test_mean_per_field_and_date_uses_pixel_centres",
    ),
    "aggregate_temporal": (
        "engine/test_processes.py",
        "test_aggregate_temporal_intervals_and_labels",
    ),
    "aggregate_temporal_period": (
        "engine/test_process_vectors.py",
        "test_aggregate_temporal_period_vector",
    ),
    "apply_dimension": (
        "engine/test_cube_operations.py",
        "test_apply_dimension_over_time_keeps_time_labels",
    ),
    "apply_kernel": (
        "engine/test_process_vectors.py",
        "test_apply_kernel_vector",
    ),
    "apply_neighborhood": (
        "server/test_udf_server.py",
        "test_apply_neighborhood_udf_with_overlap_matches_run_udf_code",
    ),
    "apply_polygon": (
        "engine/test_apply_polygon.py",
        "test_a_feature_collection_and_a_vector_cube_are_dissolved_into_one_chunk",
    ),
    "load_geojson": (
        "workflows/test_vector_cube_loads.py",
        "test_aggregate_spatial_over_a_loaded_geojson_without_spatial_extent",
    ),
    "load_stac": (
        "workflows/test_load_stac.py",
        "test_static_collection_with_temporal_extent_and_bands",
    ),
    "date_replace_component": (
        "engine/test_array_text_processes.py",
        "test_date_replace_component_and_refusals",
    ),
    "filter_labels": (
        "engine/test_processes.py",
        "test_filter_labels_text_begins_on_time_labels",
    ),
    "filter_spatial": (
        "engine/test_vector_cubes.py",
        "test_filter_spatial_masks_and_crops_to_bounds",
    ),
    "load_collection": (
        "project/test_sample_bands.py",
        "test_every_band_loads_with_plausible_values",
    ),
    "mask": (
        "engine/test_process_vectors.py",
        "test_mask_vector",
    ),
    "mask_polygon": (
        "engine/test_vector_cubes.py",
        "test_mask_polygon_through_engine_on_a_bandless_spatial_cube",
    ),
    "mask_scl_dilation": (
        "engine/test_scl_dilation.py",
        "test_mask_scl_dilation_masks_every_band",
    ),
    "merge_cubes": (
        "engine/test_cube_operations.py",
        "test_merge_cubes_overlap_uses_the_resolver_or_fails",
    ),
    "ndvi": (
        "engine/test_processes.py",
        "test_ndvi_uint16_does_not_wrap",
    ),
    "reduce_dimension": (
        "engine/test_graph_arguments.py",
        "test_time_labels_are_found_by_their_text_as_copernicus_writes_it",
    ),
    "rename_labels": (
        "engine/test_cube_operations.py",
        "test_rename_labels_bands_and_errors",
    ),
    "resample_spatial": (
        "engine/test_cube_operations.py",
        "test_resample_spatial_every_spec_method",
    ),
    "run_udf": (
        "engine/test_udf_units.py",
        "test_worker_runs_the_udf_and_is_confined",
    ),
    "save_result": (
        "engine/test_extents.py",
        "test_a_bare_load_gives_what_the_explicit_load_gives",
    ),
    "vector_buffer": (
        "engine/test_vector_buffer.py",
        "test_a_negative_distance_shrinks_a_field_by_that_many_metres",
    ),
    "vector_to_raster": (
        "engine/test_vector_cubes.py",
        "test_vector_to_raster_burns_each_value_into_the_pixels_whose_centre_is_inside",
    ),
    "to_scl_dilation_mask": (
        "engine/test_scl_dilation.py",
        "test_the_defaults_match_the_reference",
    ),
    "load_url": (
        "engine/test_url_load.py",
        "test_aggregate_spatial_over_the_url_gives_what_it_gives_over_the_fields_inline",
    ),
    "discard_result": (
        "server/test_server_graph_checks.py",
        "test_discard_result_ends_a_graph_without_a_result",
    ),
    "sleep": (
        "server/test_server_graph_checks.py",
        "test_sleep_passes_its_data_on_and_a_canceled_job_stops_sleeping",
    ),
    "raster_to_vector": (
        "engine/test_raster_to_vector.py",
        "test_each_zone_of_equal_4_connected_cells_is_one_polygon_per_date",
    ),
    "convert_data_type": (
        "engine/test_convert_data_type.py",
        "test_each_cell_is_narrowed_as_java_stores_it_in_the_tile",
    ),
    "aspect": ("engine/test_terrain.py", "test_the_drivers_own_test_values"),
    "slope": ("engine/test_terrain.py", "test_the_drivers_own_test_values"),
    "resolution_merge": (
        "engine/test_resolution_merge.py",
        "test_a_tile_is_predicted_as_improphe_computes_it",
    ),
    "read_vector": (
        "engine/test_vector_files.py",
        "test_each_file_is_a_vector_cube_of_the_geometries_without_properties",
    ),
    "get_geometries": (
        "engine/test_vector_files.py",
        "test_get_geometries_reads_a_file_or_gives_its_feature_collection",
    ),
    "to_vector_cube": (
        "workflows/test_vector_cube_loads.py",
        "test_to_vector_cube_is_load_geojson_with_the_numerical_properties",
    ),
    "query_stac": (
        "engine/test_query_stac.py",
        "test_the_items_within_the_dates_as_a_feature_collection",
    ),
    "fit_class_random_forest": (
        "engine/test_random_forest.py",
        "test_fit_class_random_forest_checks_as_copernicus",
    ),
    "predict_random_forest": (
        "engine/test_random_forest.py",
        "test_predict_over_bands_with_missing_values_numpy_and_dask",
    ),
    "load_ml_model": (
        "workflows/test_random_forest_served.py",
        "test_train_save_load_and_predict_as_on_copernicus",
    ),
    "save_ml_model": (
        "workflows/test_random_forest_served.py",
        "test_train_save_load_and_predict_as_on_copernicus",
    ),
}

#: process -> the test of this module that runs it (filled by @covers)
HERE: dict[str, str] = {}


def covers(*pids: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def mark(test: Callable[..., Any]) -> Callable[..., Any]:
        for pid in pids:
            HERE.setdefault(pid, test.__name__)
        return test

    return mark


def _runs(reference: tuple[str, str], pid: str) -> bool:
    """Whether the test function ``tests/<path>::<name>`` exists and it, or its module (where
    graphs are built by helpers), names
    ``pid`` as a process id or a call."""
    path, name = reference
    file = ROOT / "tests" / path
    if not file.is_file():
        return False
    text = file.read_text()
    found = [
        node
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.FunctionDef) and node.name == name
    ]
    if not found:
        return False
    body = "\n".join((ast.get_source_segment(text, n) or "") for n in found[0].body)
    return any(re.search(rf"(?<!\w){pid}(?=[\"'(])", part) for part in (body, text))


def _examples(pid: str) -> list[dict[str, Any]]:
    return [e for e in advertised()[pid].get("examples", []) if "returns" in e]


def test_every_advertised_process_has_a_test() -> None:
    missing, stale = [], []
    for pid in advertised():
        passing = [i for i, _ in enumerate(_examples(pid)) if (pid, i) not in EXAMPLE_DEVIATIONS]
        if passing or pid in HERE:
            continue
        reference = ELSEWHERE.get(pid)
        if reference is None or not _runs(reference, pid):
            missing.append(f"{pid} ({reference or 'no test'})")
    stale = sorted(set(ELSEWHERE) - set(advertised())) + sorted(set(HERE) - set(advertised()))
    assert not missing, f"advertised in GET /processes without a test: {', '.join(missing)}"
    assert not stale, f"tests listed for processes that are not advertised: {stale}"


def test_get_processes_serves_the_same_list(tmp_path: Path) -> None:
    import json
    import urllib.request

    from hybrid.backends.local import LocalBackend
    from hybrid.server.app import create_app
    from hybrid.server.settings import ServerSettings
    from tests.server_helpers import ThreadServer

    app = create_app(ServerSettings(data_dir=tmp_path), LocalBackend())
    with ThreadServer(app) as server, urllib.request.urlopen(f"{server.url}/processes") as r:
        served = json.load(r)["processes"]
    assert sorted(p["id"] for p in served) == sorted(advertised())


# ---------------------------------------------------------------- spec examples

#: (process, example index) -> why the example does not hold here
EXAMPLE_DEVIATIONS = {
    ("array_modify", 3): "the rc.1 example assumes length 1; rc.1's default (and Copernicus's "
    "insert, arrayModifyFunction) is 0, as example 2 of the same description uses",
    ("count", 4): "the rc.1 example's condition reads parameter 'element'; count passes 'x'",
    ("date_difference", 0): "15.5 s: Copernicus counts whole seconds (Duration.getSeconds in "
    "OpenEOProcessScriptBuilder.scala dateDifferenceProcess), 15",
}


def _callbacks(value: Any) -> Any:
    """A child process written as bare nodes (as some examples do) as a process graph."""
    if (
        isinstance(value, dict)
        and value
        and all(isinstance(node, dict) and "process_id" in node for node in value.values())
    ):
        return {"process_graph": value}
    return value


def _plain(value: Any) -> Any:
    """A result as JSON-like Python; NaN is the engine's nodata in numbers, written as
    null by the API (hybrid.io.json_text.jsonable), so it is None here."""
    if isinstance(value, xr.DataArray | np.ndarray):
        return _plain(np.asarray(value).tolist())
    if isinstance(value, np.generic):
        return _plain(value.item())
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _same(got: Any, want: Any) -> bool:
    if isinstance(want, list):
        return isinstance(got, list) and len(got) == len(want) and all(map(_same, got, want))
    if isinstance(want, bool) or isinstance(got, bool):
        return got is want
    if isinstance(want, int | float) and isinstance(got, int | float):
        return got == want or math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-12)
    return bool(got == want)


def _example_params() -> list[Any]:
    params = []
    for pid in sorted(advertised()):
        for i, _ in enumerate(_examples(pid)):
            reason = EXAMPLE_DEVIATIONS.get((pid, i))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            params.append(pytest.param(pid, i, id=f"{pid}[{i}]", marks=marks))
    return params


@pytest.mark.parametrize(("pid", "index"), _example_params())
def test_spec_example(pid: str, index: int) -> None:
    example = _examples(pid)[index]
    arguments = {name: _callbacks(v) for name, v in example.get("arguments", {}).items()}
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        got = _plain(run_through_engine(pid, arguments))
    want = example["returns"]
    assert _same(got, want), f"{pid}({example.get('arguments')}) = {got!r}, spec: {want!r}"


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
