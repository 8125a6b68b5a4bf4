"""A random forest classifier as Spark MLlib keeps one, and its prediction.

Copernicus trains ``fit_class_random_forest`` with Spark MLlib's RDD-based
``RandomForest.trainClassifier`` and predicts with its ``RandomForestModel.predict``
(openeo-geopyspark-driver 9baf2e10 ``openeogeotrellis/ml/aggregatespatialvectorcube.py``
L43-101; openeo-geotrellis-extensions 2a25a26e ``OpenEOProcessScriptBuilder.scala``
``predictRandomForestFunction`` L1448-1506). A tree is MLlib's old ``Node`` layout: node
ids from 1 (the root), a node ``i``'s children ``2i`` and ``2i + 1``; an inner node sends
a feature vector left when its feature is ``<=`` the threshold (a continuous split) or is
one of its categories (a categorical one); a leaf predicts its class label.

The forest votes (MLlib ``TreeEnsembleModel.predictByVoting``): each tree adds its weight
to the class it predicts and the class with the most votes wins. On a tie MLlib takes
the first class of a Scala hash map's iteration order; here the smallest class label.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np

#: MLlib's ``FeatureType``: the ids of ``Continuous`` and ``Categorical``
CONTINUOUS, CATEGORICAL = 0, 1
#: the most nodes of a tree evaluated column by column (:meth:`Tree.add_votes`)
SMALL_TREE = 127


@dataclass(frozen=True)
class Tree:
    """One decision tree: Spark's ``NodeData`` rows as columns, one entry per node."""

    node_id: np.ndarray  # int64
    prediction: np.ndarray  # float64, the class label a node predicts
    probability: np.ndarray  # float64, that class's share of the node's samples
    impurity: np.ndarray  # float64 (gini)
    is_leaf: np.ndarray  # bool
    feature: np.ndarray  # int64, -1 for a leaf
    threshold: np.ndarray  # float64
    feature_type: np.ndarray  # int64 (CONTINUOUS, CATEGORICAL)
    categories: tuple[tuple[float, ...], ...]
    gain: np.ndarray  # float64, NaN for a leaf

    def __post_init__(self) -> None:
        self.position  # noqa: B018 - checked once, when the tree is built

    @functools.cached_property
    def position(self) -> dict[int, int]:
        """node id -> its index; raises ValueError unless every inner node has both
        children (MLlib's ids: ``2i``, ``2i + 1``) and there is a root (id 1)."""
        position = {int(node): index for index, node in enumerate(self.node_id)}
        missing = [
            int(n)
            for n, leaf in zip(self.node_id, self.is_leaf, strict=True)
            if not leaf and (2 * n not in position or 2 * n + 1 not in position)
        ]
        if missing or 1 not in position:
            raise ValueError(f"the tree has inner nodes without children: {missing[:3]}")
        return position

    @functools.cached_property
    def children(self) -> tuple[np.ndarray, np.ndarray]:
        """The index of each node's left and right child (-1 for a leaf)."""
        ids = self.node_id.tolist()
        left = np.array([self.position.get(2 * n, -1) for n in ids], dtype=np.int64)
        right = np.array([self.position.get(2 * n + 1, -1) for n in ids], dtype=np.int64)
        return left, right

    def _goes_left(self, index: int, values: np.ndarray) -> np.ndarray:
        """Whether ``values`` of the node's feature go to its left child."""
        if self.feature_type[index] == CATEGORICAL:
            return np.isin(values, self.categories[index])
        result: np.ndarray = values <= self.threshold[index]
        return result

    def predict(self, features: np.ndarray) -> np.ndarray:
        """The class label of each row of ``features`` (rows x features, float64): each
        row walks from the root to its leaf."""
        left, right = self.children
        at = np.full(features.shape[0], self.position[1], dtype=np.int64)
        moving = np.nonzero(~self.is_leaf[at])[0]
        while moving.size:
            nodes = at[moving]
            values = features[moving, self.feature[nodes]]
            goes_left = values <= self.threshold[nodes]
            for row in np.nonzero(self.feature_type[nodes] == CATEGORICAL)[0]:
                goes_left[row] = values[row] in self.categories[nodes[row]]
            at[moving] = np.where(goes_left, left[nodes], right[nodes])
            moving = moving[~self.is_leaf[at[moving]]]
        result: np.ndarray = self.prediction[at]
        return result

    def add_votes(
        self, columns: np.ndarray, tally: np.ndarray, classes: np.ndarray, weight: float
    ) -> None:
        """Add ``weight`` to each vector's ``tally`` (classes x vectors) of the class this
        tree predicts for it; ``columns``: features x vectors, C-contiguous. A small tree
        (Copernicus grows them 4 deep) is evaluated node by node on whole feature columns,
        each leaf's vectors the conjunction of the splits above it: several times faster
        in numpy than walking each vector; a large one is walked (:meth:`predict`)."""
        if self.node_id.size > SMALL_TREE:
            voted = np.searchsorted(classes, self.predict(columns.T))
            tally[voted, np.arange(columns.shape[1])] += weight
            return
        position = self.position
        pending: list[tuple[int, np.ndarray | None]] = [(1, None)]  # node, rows reaching it
        while pending:
            node, reach = pending.pop()
            index = position[node]
            if self.is_leaf[index]:
                row = tally[int(np.searchsorted(classes, self.prediction[index]))]
                np.add(row, weight, out=row, where=True if reach is None else reach)
                continue
            left = self._goes_left(index, columns[self.feature[index]])
            right = ~left
            if reach is not None:
                left &= reach
                right &= reach
            pending.extend([(2 * node, left), (2 * node + 1, right)])


@dataclass(frozen=True)
class Forest:
    """A random forest classifier (an openEO ``ml-model``)."""

    trees: tuple[Tree, ...]
    weights: tuple[float, ...]

    @functools.cached_property
    def feature_count(self) -> int:
        """The number of features the trees read at least (the highest index + 1)."""
        used = [int(t.feature.max()) for t in self.trees if t.feature.size]
        return max(used, default=-1) + 1

    @functools.cached_property
    def classes(self) -> np.ndarray:
        """The class labels the leaves predict, ascending."""
        labels: np.ndarray = np.unique(
            np.concatenate([t.prediction[t.is_leaf] for t in self.trees])
        )
        return labels

    def predict(self, features: Any) -> np.ndarray:
        """The voted class label of each row of ``features`` (rows x features)."""
        rows = np.asarray(features, dtype=np.float64)
        if rows.shape[0] == 0:
            return np.zeros(0, dtype=np.float64)
        tally = np.zeros((self.classes.size, rows.shape[0]), dtype=np.float64)
        columns = np.ascontiguousarray(rows.T)
        for tree, weight in zip(self.trees, self.weights, strict=True):
            tree.add_votes(columns, tally, self.classes, weight)
        winner: np.ndarray = self.classes[np.argmax(tally, axis=0)]  # the first, smallest, on a tie
        return winner
