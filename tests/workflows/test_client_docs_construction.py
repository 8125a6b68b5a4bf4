"""Examples of the openeo Python client's documentation (docs/cookbook/tricks.rst,
docs/datacube_construction.rst, docs/cookbook/ard.rst, docs/machine_learning.rst) through
the client against ``hybrid serve``: graphs from JSON, parameters, several results, ARD.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from tests.workflows.client_docs_loads import SMALL_BBOX, _band, _get, _load, _nc, _refused
from tests.workflows.raw import DATES, read_tiff

# -- docs/cookbook/tricks.rst --------------------------------------------------------------


def test_execute_and_download_raw_json(connection: Any, raw: xr.Dataset, tmp_path: Path) -> None:
    """docs/cookbook/tricks.rst "Export a process graph" and "Execute a process graph
    directly from raw JSON": ``connection.execute`` of a JSON string, ``download`` and
    ``create_job`` of a graph exported with ``cube.to_json()`` to a local file. The
    exported graph has no save_result: Copernicus writes a batch job's cube as GTiff then
    (geopyspark-driver ``deploy/batch_job.py`` L368-372)."""
    assert (
        connection.execute(
            '{"add": {"process_id": "add", "arguments": {"x": 3, "y": 5}, "result": true}}'
        )
        == 8
    )
    cube = _load(connection, ["B04", "B08"]).reduce_dimension(dimension="t", reducer="max")
    export_path = tmp_path / "export.json"
    export_path.write_text(cube.to_json(), encoding="utf8")
    want = np.stack([_band(raw, "B04").max(axis=0), _band(raw, "B08").max(axis=0)])
    connection.download(str(export_path), tmp_path / "sync.tif")
    np.testing.assert_array_equal(read_tiff(tmp_path / "sync.tif"), want)

    job = connection.create_job(str(export_path)).start_and_wait()
    assets = job.get_results().get_assets()
    assert [a.key for a in assets] == ["openEO.tif"]
    assets[0].download(tmp_path / "job.tif")
    np.testing.assert_array_equal(read_tiff(tmp_path / "job.tif"), want)


# -- docs/datacube_construction.rst --------------------------------------------------------


def _convolved(values: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """The inner pixels of each date convolved with a 3 x 3 kernel (the border pixels
    read neighbours outside the loaded extent)."""
    rows, cols = values.shape[-2:]
    out = np.zeros((*values.shape[:-2], rows - 2, cols - 2))
    for dy in range(3):
        for dx in range(3):
            out += kernel[2 - dy, 2 - dx] * values[..., dy : rows - 2 + dy, dx : cols - 2 + dx]
    return out


def test_datacube_from_json_with_apply_kernel(
    connection: Any, raw: xr.Dataset, tmp_path: Path
) -> None:
    """docs/datacube_construction.rst "Construct a DataCube from JSON", "Some examples":
    ``load_collection`` -> ``apply_kernel`` as raw JSON, then with the kernel as a
    parameter with a default; the factor 1, so the weights sum to 17."""
    kernel = [[1, 2, 1], [2, 5, 2], [1, 2, 1]]
    load = {
        "id": "SENTINEL2_L2A",
        "spatial_extent": SMALL_BBOX,
        "temporal_extent": DATES,
        "bands": ["B04"],
    }
    graph = {
        "lc": {"process_id": "load_collection", "arguments": load},
        "ak": {
            "process_id": "apply_kernel",
            "arguments": {"data": {"from_node": "lc"}, "kernel": kernel},
            "result": True,
        },
    }
    with_parameter = {
        "parameters": [{"name": "kernel", "schema": {"type": "array"}, "default": kernel}],
        "process_graph": json.loads(json.dumps(graph)),
    }
    with_parameter["process_graph"]["ak"]["arguments"]["kernel"] = {"from_parameter": "kernel"}
    want = _convolved(_band(raw, "B04"), np.array(kernel, dtype=np.float64))
    for name, document in (("raw", graph), ("parameter", with_parameter)):
        cube = connection.datacube_from_json(json.dumps(document))
        got = _get(cube, tmp_path / f"{name}.nc")
        np.testing.assert_allclose(got[:, 1:-1, 1:-1], want, rtol=1e-6, err_msg=name)


def test_datacube_from_json_parameters(connection: Any) -> None:
    """docs/datacube_construction.rst "Parameterization": ``add(5, increment)`` with
    ``parameters={"increment": 4}`` is 9, with the default 100 it is 105."""
    add = {
        "process_id": "add",
        "arguments": {"x": 5, "y": {"from_parameter": "increment"}},
        "result": True,
    }
    cube = connection.datacube_from_json(json.dumps({"add": add}), parameters={"increment": 4})
    assert cube.execute() == 9
    document = {
        "parameters": [{"name": "increment", "schema": {"type": "number"}, "default": 100}],
        "process_graph": {"add": add},
    }
    assert connection.datacube_from_json(json.dumps(document)).execute() == 105


def test_datacube_from_flat_graph_and_process_on_it(
    connection: Any, raw: xr.Dataset, tmp_path: Path
) -> None:
    """docs/datacube_construction.rst, ``Connection.datacube_from_flat_graph`` of a
    temporal mean, then ``process("linear_scale_range", x=THIS, ...)`` on that cube."""
    from openeo.rest.datacube import THIS

    flat = _load(connection, ["B04"]).reduce_dimension(dimension="t", reducer="mean").flat_graph()
    cube = connection.datacube_from_flat_graph(flat)
    mean = _band(raw, "B04").mean(axis=0)
    np.testing.assert_allclose(_get(cube, tmp_path / "mean.nc"), mean, rtol=1e-6)
    scaled = cube.process(
        "linear_scale_range", x=THIS, inputMin=0, inputMax=3000, outputMin=0, outputMax=255
    )
    # integer output bounds: the integer part (geopysparkdatacube.py linear_scale_range
    # converts to uint16); the mean of B04 stays below 3000 here, where it would not clip
    assert np.nanmax(mean) < 3000
    want = np.trunc(np.asarray(mean * 255 / 3000, np.float32))
    np.testing.assert_allclose(_get(scaled, tmp_path / "scaled.nc"), want, rtol=1e-5)


def test_multiple_result_nodes_in_one_job(connection: Any, raw: xr.Dataset, tmp_path: Path) -> None:
    """docs/datacube_construction.rst "Building process graphs with multiple result
    nodes": ``connection.create_job([res1, res2])``, a GTiff per date and a netCDF."""
    cube = _load(connection, ["B04"])
    res1 = cube.save_result(format="GTiff")
    res2 = cube.reduce_dimension(dimension="t", reducer="max").save_result(format="netCDF")
    job = connection.create_job([res1, res2]).start_and_wait()
    assets = {a.key: a for a in job.get_results().get_assets()}
    dates = [str(t)[:10] for t in raw["t"].values]
    assert sorted(assets) == sorted([f"openEO_{d}Z.tif" for d in dates] + ["openEO.nc"])
    assets["openEO.nc"].download(tmp_path / "max.nc")
    got = _nc(tmp_path / "max.nc")["B04"].values
    np.testing.assert_array_equal(got, _band(raw, "B04").max(axis=0))
    assets[f"openEO_{dates[2]}Z.tif"].download(tmp_path / "day.tif")
    np.testing.assert_array_equal(read_tiff(tmp_path / "day.tif")[0], _band(raw, "B04")[2])


# -- docs/cookbook/ard.rst, docs/machine_learning.rst -------------------------------------


def test_ard_processes_are_refused_and_the_machine_learning_page_runs(
    connection: Any, tmp_path: Path
) -> None:
    """docs/cookbook/ard.rst (``atmospheric_correction``, ``sar_backscatter``, the CARD4L
    variants): Copernicus has them, hybrid cannot run them offline, so each is one 400
    ``ProcessUnsupported`` naming the process. docs/machine_learning.rst runs: its one
    sample point trains a model (a single class, 3) in a batch job, and
    ``predict_random_forest`` with the model by the job's id predicts 3 wherever the
    bands have data; a model id that is no job and no URL is one 400."""
    cube = _load(connection, ["B02", "B03", "B04"])
    calls = {
        "atmospheric_correction": lambda: cube.atmospheric_correction(method="iCor"),
        "ard_surface_reflectance": lambda: cube.ard_surface_reflectance(
            atmospheric_correction_method="FORCE", cloud_detection_method="Fmask"
        ),
        "sar_backscatter": lambda: cube.sar_backscatter(),
        "ard_normalized_radar_backscatter": lambda: cube.ard_normalized_radar_backscatter(),
    }
    for pid, build in calls.items():
        error = _refused(functools.partial(build().download, format="GTiff"), "ProcessUnsupported")
        assert pid in error.message, error
    points = {"type": "Point", "coordinates": [6.6642, 45.2402]}
    samples = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": {"target": 3}, "geometry": points}],
    }
    composite = cube.reduce_dimension(dimension="t", reducer="mean")
    predictors = composite.aggregate_spatial(samples, reducer="mean")
    job = predictors.fit_class_random_forest(target=samples).save_ml_model().create_job()
    job.start_and_wait()
    assert list(job.get_results().get_metadata()["assets"]) == ["randomforest.model.tar.gz"]
    predicted = composite.predict_random_forest(model=job.job_id, dimension="bands")
    predicted.download(tmp_path / "classes.tif", format="GTiff")
    classes = read_tiff(tmp_path / "classes.tif")[0]
    assert set(np.unique(classes[~np.isnan(classes)])) == {3.0}
    unknown = composite.predict_random_forest(model="j-123", dimension="bands")
    error = _refused(functools.partial(unknown.download, format="GTiff"), "ProcessParameterInvalid")
    assert "load_ml_model" in error.message
