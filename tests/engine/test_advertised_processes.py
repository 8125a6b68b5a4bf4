"""Every process GET /processes advertises is exercised by a test.

1. :func:`test_every_advertised_process_has_a_test` lists what the engine advertises
   (``LocalBackend.process_specs``, which ``GET /processes`` serves verbatim) and fails
   for a process without a test: a passing example of its served description (run
   below), a cube-level case (``@covers``, test_advertised_cube_cases.py), or a named
   test elsewhere (:data:`ELSEWHERE`, checked to exist and to name the process).
2. The official examples of the served descriptions (openeo-processes 2.0.0-rc.1 as
   bundled with openeo-processes-dask) run through the engine's parser and registry.
3. Cube-level cases, in test_advertised_cube_cases.py (imported here: its ``@covers``
   fill :data:`HERE` whichever worker runs this module).
"""

from __future__ import annotations

import ast
import functools
import math
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.engine import test_advertised_cube_cases  # noqa: F401 (its @covers fill HERE)
from tests.engine.advertised import HERE, _plain
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
        "engine/test_processes_temporal.py",
        "test_aggregate_temporal_intervals_and_labels",
    ),
    "aggregate_temporal_period": (
        "engine/test_process_vectors.py",
        "test_aggregate_temporal_period_vector",
    ),
    "apply_dimension": (
        "engine/test_cube_apply_dimension.py",
        "test_apply_dimension_over_time_keeps_time_labels",
    ),
    "apply_kernel": (
        "engine/test_process_vectors.py",
        "test_apply_kernel_vector",
    ),
    "apply_neighborhood": (
        "server/test_udf_server_examples.py",
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
        "engine/test_processes_temporal.py",
        "test_filter_labels_text_begins_on_time_labels",
    ),
    "filter_spatial": (
        "engine/test_vector_cubes_masks.py",
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
        "engine/test_vector_cubes_masks.py",
        "test_mask_polygon_through_engine_on_a_bandless_spatial_cube",
    ),
    "mask_scl_dilation": (
        "engine/test_scl_dilation_loads.py",
        "test_mask_scl_dilation_masks_every_band",
    ),
    "merge_cubes": (
        "engine/test_cube_merge_and_mask.py",
        "test_merge_cubes_overlap_uses_the_resolver_or_fails",
    ),
    "ndvi": (
        "engine/test_processes_mask_ndvi.py",
        "test_ndvi_uint16_does_not_wrap",
    ),
    "reduce_dimension": (
        "engine/test_graph_arguments.py",
        "test_time_labels_are_found_by_their_text_as_copernicus_writes_it",
    ),
    "rename_labels": (
        "engine/test_cube_resample_and_rename.py",
        "test_rename_labels_bands_and_errors",
    ),
    "resample_spatial": (
        "engine/test_cube_resample_and_rename.py",
        "test_resample_spatial_every_spec_method",
    ),
    "run_udf": (
        "engine/test_udf_worker.py",
        "test_worker_runs_the_udf_and_is_confined",
    ),
    "save_result": (
        "engine/test_extents_run.py",
        "test_a_bare_load_gives_what_the_explicit_load_gives",
    ),
    "vector_buffer": (
        "engine/test_vector_buffer.py",
        "test_a_negative_distance_shrinks_a_field_by_that_many_metres",
    ),
    "vector_to_raster": (
        "engine/test_vector_cubes_masks.py",
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


def _runs(reference: tuple[str, str], pid: str) -> bool:
    """Whether the test function ``tests/<path>::<name>`` exists and it, or its module or the
    tests/ modules it imports from (where graphs are built by helpers), names ``pid`` as a
    process id or a call."""
    path, name = reference
    file = ROOT / "tests" / path
    if not file.is_file():
        return False
    text = file.read_text()
    tree = ast.parse(text)
    found = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == name]
    if not found:
        return False
    body = "\n".join((ast.get_source_segment(text, n) or "") for n in found[0].body)
    helpers = [
        ROOT.joinpath(*node.module.split(".")).with_suffix(".py")
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tests.")
    ]
    texts = [body, text, *(h.read_text() for h in helpers if h.is_file())]
    return any(re.search(rf"(?<!\w){pid}(?=[\"'(])", part) for part in texts)


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
