"""The openeo client's random forest workflow against ``hybrid serve``, as the community
example RandomForest-ForestFire (Open-EO/openeo-community-examples,
``python/RandomForest-ForestFire/RandomForestModelTraining.ipynb``) runs it on
Copernicus: ``aggregate_spatial`` -> ``fit_class_random_forest`` -> ``save_ml_model`` in
a batch job; the model found by its ``ml_model_metadata.json`` link in the results;
``load_ml_model`` of that URL (and of the job's id) -> ``predict_random_forest`` over
the bands. The prediction is checked pixel by pixel against the saved archive read with
tarfile and pyarrow and walked node by node (tests/engine/test_random_forest.py), on the
features downloaded from the same server."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from tests.engine.test_random_forest import spark_rows, walked_votes
from tests.workflows.raw import BBOX, DATES, raw_bands, read_tiff

BANDS = ["B02", "B03", "B04", "B08"]


def _fields() -> dict[str, Any]:
    """36 small squares over the field, labelled 0, 1, 2 by position."""
    west, south, east, north = BBOX["west"], BBOX["south"], BBOX["east"], BBOX["north"]
    features = []
    for i in range(6):
        for j in range(6):
            w, s = west + (east - west) * (i + 0.2) / 6, south + (north - south) * (j + 0.2) / 6
            e, n = w + (east - west) / 12, s + (north - south) / 12
            ring = [[w, s], [e, s], [e, n], [w, n], [w, s]]
            features.append({"type": "Feature", "properties": {"target": (i + j) % 3},
                             "geometry": {"type": "Polygon", "coordinates": [ring]}})  # fmt: skip
    return {"type": "FeatureCollection", "features": features}


@pytest.mark.slow
def test_train_save_load_and_predict_as_on_copernicus(connection: Any, tmp_path: Path) -> None:
    import requests
    from openeo.rest import OpenEoApiError

    cube = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=BBOX, temporal_extent=DATES, bands=BANDS
    ).reduce_dimension("t", reducer="mean")
    fields = _fields()
    model = cube.aggregate_spatial(fields, reducer="mean").fit_class_random_forest(
        target=fields, num_trees=9, seed=42
    )
    with pytest.raises(OpenEoApiError, match="save it with save_ml_model in a batch job"):
        connection.download(model, tmp_path / "model.json")  # no save_result writes a model
    saving = model.save_ml_model()
    with pytest.raises(OpenEoApiError, match="save_ml_model saves a model as the result"):
        connection.download(saving, tmp_path / "sync.bin")
    job = saving.create_job(title="forest")
    job.start_and_wait()
    results = job.get_results().get_metadata()
    assert list(results["assets"]) == ["randomforest.model.tar.gz"]
    assert results["summaries"]["ml-model:architecture"] == ["random-forest"]
    (link,) = [x for x in results["links"] if "ml_model_metadata.json" in x["href"]]
    assert link["rel"] == "item" and link["type"] == "application/json"
    item = requests.get(link["href"], timeout=60).json()  # signed: no credentials
    assert item["collection"] == job.job_id
    archive = tmp_path / "model.tar.gz"
    archive.write_bytes(requests.get(item["assets"]["model"]["href"], timeout=60).content)
    metadata, rows = spark_rows(archive)
    assert len(metadata["metadata"]["treeWeights"]) == 9

    cube.download(tmp_path / "features.nc", format="netCDF")
    for name, model_id in (("by_url", link["href"]), ("by_job", job.job_id)):
        loaded = connection.load_ml_model(model_id)
        predicted = cube.predict_random_forest(model=loaded, dimension="bands")
        predicted.download(tmp_path / f"{name}.tif", format="GTiff")

    raw = raw_bands(connection, BANDS, tmp_path / "raw.nc")
    with xr.open_dataset(tmp_path / "features.nc", engine="h5netcdf") as ds:
        features = np.stack([ds[b].values for b in BANDS], axis=-1).astype(np.float64)
    with warnings.catch_warnings():  # a pixel without data on any date: NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        means = np.stack([np.nanmean(raw[b].values, axis=0) for b in BANDS], axis=-1)
    np.testing.assert_allclose(features, means, rtol=1e-5)
    want = np.full(features.shape[:2], np.nan)
    for row, col in zip(*np.nonzero(~np.isnan(features).any(axis=-1)), strict=True):
        want[row, col] = walked_votes(metadata, rows, features[row, col])
    got = read_tiff(tmp_path / "by_url.tif")[0]
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(read_tiff(tmp_path / "by_job.tif")[0], want)
    assert len(np.unique(want[~np.isnan(want)])) > 1
