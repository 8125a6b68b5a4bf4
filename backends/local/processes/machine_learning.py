"""fit_class_random_forest, predict_random_forest and load_ml_model as Copernicus runs
them (save_ml_model writes the model: :meth:`hybrid.backends.local.run.Run.save_ml_model`).

- ``fit_class_random_forest(predictors, target, num_trees, seed)``: ``predictors`` an
  aggregate_spatial result without a time dimension, one feature vector per geometry
  (its bands, in feature-index order; a geometry around no pixel centre has none, as
  Copernicus's CSV has no row for it); ``target`` a GeoJSON FeatureCollection whose
  features' ``properties.target`` are the class labels, in the same order
  (openeo-geopyspark-driver 9baf2e10 ``ml/aggregatespatialvectorcube.py`` L43-101, its
  three checks and their messages L26-41). Labels must be whole numbers >= 0 (Spark's
  classes 0 .. highest label). A missing value in a vector is refused here; Spark would
  train on the NaN. The trees: :mod:`hybrid.backends.local.forest.training`.
- ``predict_random_forest(data, model)`` in a reducer over ``bands``: each pixel's band
  values are the feature vector, the forest's vote its class label; a pixel with any
  band missing is missing (geotrellis-extensions 2a25a26e
  ``OpenEOProcessScriptBuilder.scala`` ``predictRandomForestFunction`` L1448-1506, the
  cell type the union of the bands'); fewer bands than the model reads is refused
  ("... only contains N features per row, but the model was trained on more features").
- ``load_ml_model(id)``: a model saved by a batch job, by its ``ml_model_metadata.json``
  STAC Item URL (the ``ml-model:checkpoint`` asset, ``randomforest.model.tar.gz``) or the
  job's id (geopyspark-driver ``backend.py`` ``load_ml_model`` L878-889,
  ``ml/modelloader.py``). This server's own job URLs and ids are read from the job
  (:mod:`hybrid.server.job_models`); here ``id`` is then the archive's path; another
  server's URL is fetched.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hybrid.backends.local.forest.model import Forest
from hybrid.errors import ProcessParameterInvalid

_ML_MODEL = {"type": "object", "subtype": "ml-model"}
SPECS: dict[str, dict[str, Any]] = {
    "fit_class_random_forest": {
        "id": "fit_class_random_forest",
        "summary": "Train a random forest classification model",
        "description": "Trains a random forest classifier on the feature vectors of "
        "`predictors` (an aggregate_spatial result without time) for the labels "
        "`properties.target` of the features of `target`.",
        "categories": ["machine learning"],
        "experimental": True,
        "parameters": [
            {"name": "predictors", "description": "One feature vector per geometry.",
             "schema": {"type": "object", "subtype": "datacube"}},
            {"name": "target", "description": "A GeoJSON FeatureCollection with the labels.",
             "schema": {"type": "object"}},
            {"name": "max_variables", "description": "Not used (as on Copernicus).",
             "schema": [{"type": "integer", "minimum": 1},
                        {"type": "string", "enum": ["all", "log2", "onethird", "sqrt"]},
                        {"type": "null"}],
             "optional": True, "default": None},
            {"name": "num_trees", "description": "The number of trees.",
             "schema": {"type": "integer", "minimum": 1}, "optional": True, "default": 100},
            {"name": "seed", "description": "A seed for the trees' random choices.",
             "schema": {"type": ["integer", "null"]}, "optional": True, "default": None},
        ],
        "returns": {"description": "The trained model.", "schema": _ML_MODEL},
    },
    "load_ml_model": {
        "id": "load_ml_model",
        "summary": "Load a ML model",
        "description": "Loads a model saved by save_ml_model in a batch job: the URL of "
        "its `ml_model_metadata.json` STAC Item, or the job's id.",
        "categories": ["machine learning", "import"],
        "experimental": True,
        "parameters": [{"name": "id", "description": "The Item's URL or the batch job's id.",
                        "schema": {"type": "string"}}],
        "returns": {"description": "The model.", "schema": _ML_MODEL},
    },
    "save_ml_model": {
        "id": "save_ml_model",
        "summary": "Save a ML model",
        "description": "Saves a model as a batch job's result: `randomforest.model.tar.gz` "
        "and its STAC Item `ml_model_metadata.json`.",
        "categories": ["machine learning", "import"],
        "experimental": True,
        "parameters": [
            {"name": "data", "description": "The model.", "schema": _ML_MODEL},
            {"name": "options", "description": "Not used.",
             "schema": {"type": "object"}, "optional": True, "default": {}},
        ],
        "returns": {"description": "true", "schema": {"type": "boolean"}},
    },
}  # fmt: skip


def fit_class_random_forest(
    predictors: Any,
    target: Any,
    max_variables: Any = None,
    num_trees: int = 100,
    seed: int | None = None,
) -> Forest:
    """A random forest trained as Copernicus trains it (module docstring)."""
    from hybrid.backends.local.forest.training import train

    features = _feature_vectors(predictors)
    labels = _labels(target)
    if len(labels) != len(features):
        raise ProcessParameterInvalid(
            "fit_class_random_forest: Predictor and target vector cubes should contain the "
            f"same number of geometries ({len(features)} feature vectors, {len(labels)} labels)."
        )
    if features.shape[1] == 0 or np.isnan(features).any():
        raise ProcessParameterInvalid(
            "fit_class_random_forest: One of the rows in the 'predictors' parameter contains "
            "an empty cell. This could be because there was no data available for a geometry "
            "(on at least one band)."
        )
    if int(num_trees) < 1:
        raise ProcessParameterInvalid("fit_class_random_forest: num_trees must be at least 1")
    return train(features, np.asarray(labels), int(num_trees), seed)


def _feature_vectors(predictors: Any) -> np.ndarray:
    """One row per geometry that covers a pixel centre, in feature-index order."""
    from hybrid.io.vector import covered, is_aggregate_result

    dims = getattr(predictors, "dims", None)
    if dims is None or "geometries" not in dims or not is_aggregate_result(predictors):
        raise ProcessParameterInvalid(
            "fit_class_random_forest: predictors must be the result of aggregate_spatial"
        )
    if "t" in dims:
        raise ProcessParameterInvalid(
            "fit_class_random_forest: predictors have a time dimension; reduce 't' before "
            "aggregate_spatial (one feature vector per geometry)"
        )
    cube = predictors if "bands" in dims else predictors.expand_dims("bands", axis=-1)
    values = np.asarray(cube.transpose("geometries", "bands").values, dtype=np.float64)
    return values[covered(predictors)]


def _labels(target: Any) -> list[int]:
    from hybrid.geometries import unwrapped

    target = unwrapped(target)
    features = target.get("features") if isinstance(target, dict) else None
    if not isinstance(features, list):
        raise ProcessParameterInvalid(
            "fit_class_random_forest: target must be a GeoJSON FeatureCollection whose "
            "features have the class label in properties.target"
        )
    labels = []
    for index, feature in enumerate(features):
        label = ((feature or {}).get("properties") or {}).get("target")
        if isinstance(label, bool) or not isinstance(label, int | float) or label < 0 or label % 1:
            raise ProcessParameterInvalid(
                f"fit_class_random_forest: feature {index} of target has properties.target "
                f"{label!r}; class labels must be whole numbers >= 0"
            )
        labels.append(int(label))
    return labels


def predict_random_forest(data: Any, model: Any = None, axis: int | None = None, **_: Any) -> Any:
    """The forest's class of each pixel's vector along ``axis`` (module docstring)."""
    if not isinstance(model, Forest):
        raise ProcessParameterInvalid(
            "predict_random_forest: model must be a random forest model (of "
            f"fit_class_random_forest or load_ml_model), got {type(model).__name__}"
        )
    single = axis is None  # a plain array of one vector
    if axis is None:
        data, axis = np.asarray(data, dtype=np.float64)[None, :], 1
    if data.shape[axis] < model.feature_count:
        raise ProcessParameterInvalid(
            f"predict_random_forest: The data to predict only contains {data.shape[axis]} "
            "features per row, but the model was trained on more features."
        )
    dtype = data.dtype if data.dtype.kind == "f" else np.dtype(np.float32)
    if hasattr(data, "dask"):
        import dask.array as da

        data = data.rechunk({axis: -1})
        return da.map_blocks(_predict_block, data, model, axis, dtype, drop_axis=axis, dtype=dtype)
    predicted = _predict_block(np.asarray(data), model, axis, dtype)
    return predicted[0] if single else predicted


def _predict_block(block: np.ndarray, model: Forest, axis: int, dtype: np.dtype) -> np.ndarray:
    """The class of each vector along ``axis``; NaN where a feature is missing."""
    vectors = np.moveaxis(block, axis, -1)
    rows = vectors.reshape(-1, vectors.shape[-1]).astype(np.float64)
    out = np.full(rows.shape[0], np.nan, dtype=dtype)
    complete = ~np.isnan(rows).any(axis=1)
    out[complete] = model.predict(rows[complete])
    return out.reshape(vectors.shape[:-1])


def load_ml_model(id: str) -> Forest:
    """A random forest saved by a batch job (module docstring)."""
    from pathlib import Path

    from hybrid.backends.local.forest.spark_layout import unpack

    if not isinstance(id, str) or not id:
        raise ProcessParameterInvalid("load_ml_model: id must be a URL or a batch job's id")
    if id.startswith(("http://", "https://")):
        from hybrid.backends.local.forest.model_items import fetched_archive

        with fetched_archive(id) as archive:
            return unpack(archive, id)
    path = Path(id)
    if path.is_absolute() and path.exists():
        return unpack(path, id)
    raise ProcessParameterInvalid(
        f"load_ml_model: {id!r} is neither a batch job of this server, nor the URL of a "
        "model's STAC Item (ml_model_metadata.json), nor the absolute path of a "
        "randomforest.model.tar.gz"
    )
