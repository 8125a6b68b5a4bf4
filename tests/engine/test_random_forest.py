"""Random forests (hybrid.backends.local.forest, processes/machine_learning.py) against
independent readings: the trees against scikit-learn's own prediction, the saved files
against Spark MLlib's ``RandomForestModel.save`` layout read with pyarrow alone, the
vote against a plain per-row walk of those rows (:func:`walked_votes`, which the served
test uses too)."""

from __future__ import annotations

import json
import tarfile
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from hybrid.backends.local.forest.model import Forest
from hybrid.backends.local.forest.spark_layout import pack, unpack
from hybrid.backends.local.forest.training import train
from hybrid.backends.local.processes.machine_learning import (
    fit_class_random_forest,
    predict_random_forest,
)
from hybrid.errors import ProcessParameterInvalid
from hybrid.io.model_item import checkpoint_href, model_item


def spark_rows(archive: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The metadata and node rows of a ``randomforest.model.tar.gz``, read with tarfile
    and pyarrow only."""
    import io

    import pyarrow.parquet as pq

    with tarfile.open(archive, "r:gz") as tar:
        names = tar.getnames()
        meta = tar.extractfile("./randomforest.model/metadata/part-00000")
        assert meta is not None
        metadata = json.loads(meta.read().decode().splitlines()[0])
        rows: list[dict[str, Any]] = []
        for name in names:
            if name.startswith("./randomforest.model/data/") and name.endswith(".parquet"):
                data = tar.extractfile(name)
                assert data is not None
                rows.extend(pq.read_table(io.BytesIO(data.read())).to_pylist())
    return metadata, rows


def walked_votes(metadata: dict[str, Any], rows: list[dict[str, Any]], vector: Any) -> float:
    """MLlib's prediction of one feature vector, walked node by node: each tree from node
    1 to a leaf (continuous splits: left when ``<=`` the threshold; categorical: left when
    among the categories), the trees' weighted votes, the smallest label on a tie."""
    trees: dict[int, dict[int, dict[str, Any]]] = {}
    for row in rows:
        trees.setdefault(row["treeId"], {})[row["nodeId"]] = row
    weights = metadata["metadata"]["treeWeights"]
    votes: Counter[float] = Counter()
    for tree_id, nodes in sorted(trees.items()):
        node = nodes[1]
        while not node["isLeaf"]:
            split = node["split"]
            value = vector[split["feature"]]
            if split["featureType"] == 0:
                left = value <= split["threshold"]
            else:
                left = value in split["categories"]
            node = nodes[node["leftNodeId"] if left else node["rightNodeId"]]
        votes[node["predict"]["predict"]] += weights[tree_id]
    best = max(votes.values())
    return min(label for label, count in votes.items() if count == best)


def _training(seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    features = rng.random((240, 4)).astype(np.float32)
    labels = (features[:, 0] + features[:, 2] > 1).astype(int) + 2 * (features[:, 3] > 0.85)
    return features.astype(np.float64), labels


def test_each_tree_predicts_as_scikit_learn_grew_it() -> None:
    from sklearn.ensemble import RandomForestClassifier

    features, labels = _training()
    forest = train(features, labels, num_trees=15, seed=11)
    grown = RandomForestClassifier(
        n_estimators=15, criterion="gini", max_depth=4, max_features=2, random_state=11
    ).fit(features, labels)
    test = np.random.default_rng(9).random((500, 4)).astype(np.float32).astype(np.float64)
    for tree, estimator in zip(forest.trees, grown.estimators_, strict=True):
        want = grown.classes_[estimator.predict(test).astype(int)]
        np.testing.assert_array_equal(tree.predict(test), want)
        assert tree.node_id[0] == 1 and set(tree.node_id[~tree.is_leaf] * 2) <= set(tree.node_id)
    assert (forest.predict(features) == labels).mean() > 0.9


def test_saved_as_spark_saves_a_random_forest_model(tmp_path: Path) -> None:
    features, labels = _training()
    forest = train(features, labels, num_trees=6, seed=1)
    archive = tmp_path / "randomforest.model.tar.gz"
    pack(forest, archive)
    metadata, rows = spark_rows(archive)
    assert metadata == {
        "class": "org.apache.spark.mllib.tree.model.RandomForestModel",
        "version": "1.0",
        "metadata": {"algo": "Classification", "treeAlgo": "Classification",
                     "combiningStrategy": "Vote", "treeWeights": [1.0] * 6},
    }  # fmt: skip
    assert set(rows[0]) == {
        "treeId", "nodeId", "predict", "impurity", "isLeaf", "split", "leftNodeId",
        "rightNodeId", "infoGain",
    }  # fmt: skip
    leaves = [r for r in rows if r["isLeaf"]]
    assert all(r["split"] is None and r["leftNodeId"] is None for r in leaves)
    inner = [r for r in rows if not r["isLeaf"]]
    assert all(r["leftNodeId"] == 2 * r["nodeId"] for r in inner)
    test = np.random.default_rng(5).random((300, 4))
    walked = [walked_votes(metadata, rows, v) for v in test]
    np.testing.assert_array_equal(forest.predict(test), walked)
    np.testing.assert_array_equal(unpack(archive, "test").predict(test), walked)


def test_a_spark_folder_with_categorical_splits_and_ties(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows written as Spark writes them (not by this project's writer): a categorical
    split, tree weights, and a tie between two classes, which goes to the smaller label."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from hybrid.backends.local.forest.spark_layout import _schema

    def leaf(tree: int, node: int, label: float) -> dict[str, Any]:
        return {"treeId": tree, "nodeId": node, "predict": {"predict": label, "prob": 1.0},
                "impurity": 0.0, "isLeaf": True, "split": None, "leftNodeId": None,
                "rightNodeId": None, "infoGain": None}  # fmt: skip

    def inner(tree: int, split: dict[str, Any]) -> dict[str, Any]:
        return {**leaf(tree, 1, 0.0), "isLeaf": False, "split": split, "leftNodeId": 2,
                "rightNodeId": 3, "infoGain": 0.5}  # fmt: skip

    categorical = {"feature": 1, "threshold": 0.0, "featureType": 1, "categories": [2.0, 5.0]}
    continuous = {"feature": 0, "threshold": 7.0, "featureType": 0, "categories": []}
    rows = [inner(0, categorical), leaf(0, 2, 3.0), leaf(0, 3, 1.0),
            inner(1, continuous), leaf(1, 2, 4.0), leaf(1, 3, 1.0)]  # fmt: skip
    folder = tmp_path / "randomforest.model"
    (folder / "metadata").mkdir(parents=True)
    metadata = {"class": "org.apache.spark.mllib.tree.model.RandomForestModel", "version": "1.0",
                "metadata": {"algo": "Classification", "treeAlgo": "Classification",
                             "combiningStrategy": "Vote", "treeWeights": [1.0, 0.5]}}  # fmt: skip
    (folder / "metadata" / "part-00000").write_text(json.dumps(metadata) + "\n")
    (folder / "data").mkdir()
    pq.write_table(pa.Table.from_pylist(rows, schema=_schema()), folder / "data" / "part-1.parquet")
    forest = unpack(folder, "test")
    vectors = np.array([[0.0, 5.0], [0.0, 3.0], [7.0, 2.0]])
    want = [walked_votes(metadata, rows, v) for v in vectors]
    assert want == [3.0, 1.0, 3.0]  # 5 and 2 are categories of the split, 3 is not
    np.testing.assert_array_equal(forest.predict(vectors), want)
    # one vote each: 3 against 4 is a tie (3 wins), and 7 <= 7 goes left (to 4, not 1)
    tied = Forest(trees=forest.trees, weights=(1.0, 1.0))
    np.testing.assert_array_equal(tied.predict(vectors), [3.0, 1.0, 3.0])
    from hybrid.backends.local.forest import model

    monkeypatch.setattr(model, "SMALL_TREE", 0)  # the same, walked vector by vector
    np.testing.assert_array_equal(forest.predict(vectors), want)
    np.testing.assert_array_equal(tied.predict(vectors), [3.0, 1.0, 3.0])
    metadata["metadata"]["treeWeights"] = [1.0, 1.0]
    assert [walked_votes(metadata, rows, v) for v in vectors] == [3.0, 1.0, 3.0]
    pq.write_table(  # a tree whose root's right child is missing: refused at load
        pa.Table.from_pylist(rows[:2] + rows[3:], schema=_schema()),
        folder / "data" / "part-1.parquet",
    )
    with pytest.raises(ProcessParameterInvalid, match="inner nodes without children"):
        unpack(folder, "test")
    with pytest.raises(ProcessParameterInvalid, match="only random forest classifiers"):
        metadata["metadata"]["algo"] = "Regression"
        (folder / "metadata" / "part-00000").write_text(json.dumps(metadata) + "\n")
        unpack(folder, "test")


def _predictors(values: np.ndarray, uncovered: tuple[int, ...] = ()) -> xr.DataArray:
    bands = [f"B{i}" for i in range(values.shape[1])]
    cube = xr.DataArray(values, dims=("geometries", "bands"),
                        coords={"geometries": np.arange(len(values)), "bands": bands})  # fmt: skip
    cube.attrs = {"uncovered": list(uncovered), "vector_crs": "EPSG:4326"}
    return cube


def _target(labels: list[Any]) -> dict[str, Any]:
    point = {"type": "Point", "coordinates": [0, 0]}
    features = [{"type": "Feature", "geometry": point, "properties": {"target": label}}
                for label in labels]  # fmt: skip
    return {"type": "FeatureCollection", "features": features}


def test_fit_class_random_forest_checks_as_copernicus() -> None:
    features, labels = _training()
    model = fit_class_random_forest(_predictors(features), _target(labels.tolist()), num_trees=5)
    assert len(model.trees) == 5
    with pytest.raises(ProcessParameterInvalid, match="same number of geometries"):
        fit_class_random_forest(_predictors(features, uncovered=(3,)), _target(labels.tolist()))
    gappy = features.copy()
    gappy[4, 1] = np.nan
    with pytest.raises(ProcessParameterInvalid, match="contains an empty cell"):
        fit_class_random_forest(_predictors(gappy), _target(labels.tolist()))
    for bad in (-1, 1.5, "a", None):
        with pytest.raises(ProcessParameterInvalid, match="whole numbers >= 0"):
            fit_class_random_forest(_predictors(features), _target([bad, *labels.tolist()[1:]]))
    timed = _predictors(features).expand_dims(t=[np.datetime64("2023-06-01")])
    with pytest.raises(ProcessParameterInvalid, match="time dimension"):
        fit_class_random_forest(timed, _target(labels.tolist()))


def test_predict_over_bands_with_missing_values_numpy_and_dask() -> None:
    import dask.array as da

    features, labels = _training()
    model = train(features, labels, num_trees=7, seed=2)
    pixels = np.random.default_rng(4).random((3, 4, 5, 6)).astype(np.float32)  # t, bands, y, x
    pixels[1, 2, 3, 4] = np.nan
    want = model.predict(np.moveaxis(pixels, 1, -1).reshape(-1, 4)).reshape(3, 5, 6)
    want[1, 3, 4] = np.nan
    for data in (pixels, da.from_array(pixels, chunks=(1, 2, 5, 3))):
        got = np.asarray(predict_random_forest(data, model, axis=1))
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, want.astype(np.float32))
    integers = da.from_array(np.nan_to_num(pixels * 1000).astype(np.int16), chunks=(1, 2, 5, 3))
    lazy = predict_random_forest(integers, model, axis=1)
    assert lazy.dtype == np.asarray(lazy).dtype == np.float32  # the dask meta is the result's
    with pytest.raises(ProcessParameterInvalid, match="only contains 2 features per row"):
        predict_random_forest(pixels[:, :2], model, axis=1)
    with pytest.raises(ProcessParameterInvalid, match="must be a random forest model"):
        predict_random_forest(pixels, {"not": "a model"}, axis=1)


def test_the_model_item_names_its_archive_and_is_read_back() -> None:
    item = model_item("randomforest.model.tar.gz")
    assert item["properties"]["ml-model:architecture"] == "random-forest"
    url = "http://host/jobs/j-1/results/items/T/ml_model_metadata.json"
    assert (
        checkpoint_href(item, url)
        == "http://host/jobs/j-1/results/items/T/randomforest.model.tar.gz"
    )
    without = {**item, "properties": {}}
    with pytest.raises(ProcessParameterInvalid, match="does not specify a model architecture"):
        checkpoint_href(without, url)
    other = {**item, "properties": {"ml-model:architecture": "catboost"}}
    with pytest.raises(ProcessParameterInvalid, match="unsupported model architecture"):
        checkpoint_href(other, url)
    with pytest.raises(ProcessParameterInvalid, match="does not contain a link"):
        checkpoint_href({**item, "assets": {}}, url)


def test_walked_and_column_wise_votes_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    """Trees above :data:`SMALL_TREE` nodes are walked vector by vector, smaller ones
    evaluated column by column: the same votes, categorical splits and ties included."""
    from hybrid.backends.local.forest import model

    features, labels = _training()
    forest = train(features, labels, num_trees=12, seed=4)
    test = np.random.default_rng(8).random((2000, 4))
    root = forest.trees[0]
    test[:5, root.feature[0]] = root.threshold[0]  # on the first tree's first split
    column_wise = forest.predict(test)
    monkeypatch.setattr(model, "SMALL_TREE", 0)
    np.testing.assert_array_equal(forest.predict(test), column_wise)
    np.testing.assert_array_equal(
        column_wise, [max(set(v), key=lambda c: (list(v).count(c), -c)) for v in
                      np.stack([t.predict(test) for t in forest.trees], axis=1)]
    )  # fmt: skip


def test_a_model_of_another_server_is_fetched_by_its_item_url(tmp_path: Path) -> None:
    """``load_ml_model`` of a URL that is not this server's: the Item is fetched, its
    checkpoint asset (relative to it) downloaded and unpacked; an unreachable host and
    an Item without a checkpoint are one 400 each."""
    from hybrid.backends.local.processes.machine_learning import load_ml_model
    from tests.stac_fixtures import serving_directory

    features, labels = _training()
    forest = train(features, labels, num_trees=5, seed=6)
    pack(forest, tmp_path / "randomforest.model.tar.gz")
    item = model_item("randomforest.model.tar.gz")
    (tmp_path / "ml_model_metadata.json").write_text(json.dumps(item))
    (tmp_path / "no_checkpoint.json").write_text(json.dumps({**item, "assets": {}}))
    with serving_directory(tmp_path) as base:
        loaded = load_ml_model(f"{base}/ml_model_metadata.json")
        with pytest.raises(ProcessParameterInvalid, match="does not contain a link"):
            load_ml_model(f"{base}/no_checkpoint.json")
        with pytest.raises(ProcessParameterInvalid, match="HTTP 404"):
            load_ml_model(f"{base}/gone.json")
    np.testing.assert_array_equal(loaded.predict(features), forest.predict(features))
    with pytest.raises(ProcessParameterInvalid, match=r"cannot read http://127\.0\.0\.1:9/"):
        load_ml_model("http://127.0.0.1:9/ml_model_metadata.json")
