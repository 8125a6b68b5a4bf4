"""A random forest's files as Spark MLlib saves a ``RandomForestModel`` and Copernicus
packs it (``randomforest.model.tar.gz``).

``RandomForestModel.save`` (Spark's ``treeEnsembleModels.scala``, ``SaveLoadV1_0``)
writes a folder with ``metadata/part-00000``, one JSON line (``class``, ``version``
"1.0", ``metadata``: ``algo`` "Classification", ``treeAlgo``, ``combiningStrategy``
"Vote", ``treeWeights``), and ``data/``, Parquet files of one row per node: ``treeId``,
``nodeId``, ``predict`` {``predict``, ``prob``}, ``impurity``, ``isLeaf``, ``split``
{``feature``, ``threshold``, ``featureType``, ``categories``} (null for a leaf),
``leftNodeId``, ``rightNodeId``, ``infoGain`` (null for a leaf). Copernicus archives
that folder, ``randomforest.model``, with ``shutil.make_archive`` (gztar) and unpacks it
again to load it (openeo-geopyspark-driver 9baf2e10 ``ml/geopysparkrandomforestmodel.py``
``write_assets`` L101-129; ``ml/modelloader.py`` L50-70, L181-193).
"""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from typing import Any

import numpy as np

from hybrid.backends.local.forest.model import Forest, Tree
from hybrid.errors import ProcessParameterInvalid
from hybrid.io.model_item import FOLDER, MODEL_CLASS


def _schema() -> Any:
    import pyarrow as pa

    split = pa.struct(
        [
            ("feature", pa.int32()),
            ("threshold", pa.float64()),
            ("featureType", pa.int32()),
            ("categories", pa.list_(pa.float64())),
        ]
    )
    return pa.schema(
        [
            ("treeId", pa.int32()),
            ("nodeId", pa.int32()),
            ("predict", pa.struct([("predict", pa.float64()), ("prob", pa.float64())])),
            ("impurity", pa.float64()),
            ("isLeaf", pa.bool_()),
            ("split", split),
            ("leftNodeId", pa.int32()),
            ("rightNodeId", pa.int32()),
            ("infoGain", pa.float64()),
        ]
    )


def _rows(tree_id: int, tree: Tree) -> list[dict[str, Any]]:
    rows = []
    for i, node in enumerate(tree.node_id.tolist()):
        leaf = bool(tree.is_leaf[i])
        rows.append(
            {
                "treeId": tree_id,
                "nodeId": node,
                "predict": {
                    "predict": float(tree.prediction[i]), "prob": float(tree.probability[i])
                },
                "impurity": float(tree.impurity[i]),
                "isLeaf": leaf,
                "split": None if leaf else {
                    "feature": int(tree.feature[i]),
                    "threshold": float(tree.threshold[i]),
                    "featureType": int(tree.feature_type[i]),
                    "categories": list(tree.categories[i]),
                },
                "leftNodeId": None if leaf else 2 * node,
                "rightNodeId": None if leaf else 2 * node + 1,
                "infoGain": None if leaf else float(tree.gain[i]),
            }
        )  # fmt: skip
    return rows


def write_folder(forest: Forest, folder: Path) -> None:
    """``forest`` saved as Spark saves a ``RandomForestModel`` into ``folder``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    metadata = {
        "class": MODEL_CLASS,
        "version": "1.0",
        "metadata": {
            "algo": "Classification",
            "treeAlgo": "Classification",
            "combiningStrategy": "Vote",
            "treeWeights": list(forest.weights),
        },
    }
    (folder / "metadata").mkdir(parents=True)
    line = json.dumps(metadata, separators=(",", ":"))
    (folder / "metadata" / "part-00000").write_text(line + "\n")
    (folder / "metadata" / "_SUCCESS").write_bytes(b"")
    rows = [row for index, tree in enumerate(forest.trees) for row in _rows(index, tree)]
    (folder / "data").mkdir()
    table = pa.Table.from_pylist(rows, schema=_schema())
    pq.write_table(table, folder / "data" / "part-00000.snappy.parquet", compression="snappy")
    (folder / "data" / "_SUCCESS").write_bytes(b"")


def read_folder(folder: Path, source: str) -> Forest:
    """The forest Spark saved into ``folder`` (``source`` names it in errors)."""
    import pyarrow.parquet as pq

    try:
        line = (folder / "metadata" / "part-00000").read_text().splitlines()[0]
        metadata = json.loads(line)
        table = pq.read_table(folder / "data")
    except (OSError, IndexError, ValueError) as exc:
        raise ProcessParameterInvalid(
            f"load_ml_model: {source} is not a Spark random forest model ({exc})"
        ) from exc
    details = metadata.get("metadata") or {}
    if metadata.get("class") != MODEL_CLASS or details.get("algo") != "Classification":
        raise ProcessParameterInvalid(
            f"load_ml_model: {source} holds a {metadata.get('class')} "
            f"({details.get('algo')}); only random forest classifiers are supported"
        )
    by_tree: dict[int, list[dict[str, Any]]] = {}
    for row in table.to_pylist():
        by_tree.setdefault(int(row["treeId"]), []).append(row)
    try:
        trees = tuple(_tree(by_tree[key]) for key in sorted(by_tree))
    except ValueError as exc:  # Tree checks its nodes
        raise ProcessParameterInvalid(f"load_ml_model: {source}: {exc}") from exc
    weights = tuple(float(w) for w in details.get("treeWeights") or [1.0] * len(trees))
    return Forest(trees=trees, weights=weights)


def _tree(rows: list[dict[str, Any]]) -> Tree:
    rows = sorted(rows, key=lambda r: int(r["nodeId"]))
    splits = [r["split"] or {} for r in rows]
    return Tree(
        node_id=np.array([r["nodeId"] for r in rows], dtype=np.int64),
        prediction=np.array([r["predict"]["predict"] for r in rows], dtype=np.float64),
        probability=np.array([r["predict"]["prob"] for r in rows], dtype=np.float64),
        impurity=np.array([r["impurity"] for r in rows], dtype=np.float64),
        is_leaf=np.array([bool(r["isLeaf"]) for r in rows], dtype=bool),
        feature=np.array([s.get("feature", -1) for s in splits], dtype=np.int64),
        threshold=np.array([s.get("threshold", np.nan) for s in splits], dtype=np.float64),
        feature_type=np.array([s.get("featureType", 0) for s in splits], dtype=np.int64),
        categories=tuple(tuple(s.get("categories") or ()) for s in splits),
        gain=np.array([np.nan if r["infoGain"] is None else r["infoGain"] for r in rows]),
    )


def pack(forest: Forest, archive: Path) -> None:
    """``forest`` as Copernicus's ``randomforest.model.tar.gz`` (entries
    ``./randomforest.model/...``)."""
    import tempfile

    with tempfile.TemporaryDirectory(dir=archive.parent) as scratch:
        write_folder(forest, Path(scratch) / FOLDER)
        with tarfile.open(archive, "w:gz") as tar:
            tar.add(Path(scratch) / FOLDER, arcname=f"./{FOLDER}")


def unpack(archive: Path, source: str) -> Forest:
    """The forest of a ``randomforest.model.tar.gz`` (or of a model folder)."""
    import tempfile

    if archive.is_dir():
        return read_folder(archive, source)
    with tempfile.TemporaryDirectory() as scratch:
        try:
            with tarfile.open(archive, "r:gz") as tar:
                tar.extractall(scratch, filter="data")
        except (OSError, tarfile.TarError) as exc:
            raise ProcessParameterInvalid(
                f"load_ml_model: {source} is not a gzip tar archive of a model ({exc})"
            ) from exc
        found = sorted(Path(scratch).rglob("metadata/part-00000"))
        if not found:
            raise ProcessParameterInvalid(
                f"load_ml_model: {source} holds no Spark model (no metadata/part-00000)"
            )
        return read_folder(found[0].parent.parent, source)
