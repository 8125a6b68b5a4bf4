"""Training a random forest classifier with Copernicus's settings.

Copernicus calls Spark MLlib's ``RandomForest.trainClassifier`` with ``numClasses`` the
highest label + 1, no categorical features, ``num_trees``, feature subsets ``"auto"``
(the square root of the feature count, rounded up, per node when there is more than
one tree; all features for one tree), ``gini`` impurity, ``maxDepth`` 4, ``maxBins`` 32
and ``seed`` (openeo-geopyspark-driver 9baf2e10 ``ml/aggregatespatialvectorcube.py``
L84-101); ``max_variables`` is not used there (a TODO, L77) and is ignored here too.

Here scikit-learn's ``RandomForestClassifier`` grows the trees with the same settings
(bootstrap samples, the same subset size, depth and impurity). The trees are not
Spark's: Spark draws its bootstrap counts per data partition and bins each feature into
at most 32 candidate thresholds, so no other implementation reproduces its trees for a
seed; the model's layout, its prediction and its files are Copernicus's
(:mod:`.model`, :mod:`.spark_layout`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from hybrid.backends.local.forest.model import CONTINUOUS, Forest, Tree

#: Copernicus's fixed settings (aggregatespatialvectorcube.py L88-92)
MAX_DEPTH = 4


def train(features: np.ndarray, labels: np.ndarray, num_trees: int, seed: int | None) -> Forest:
    """A forest of ``num_trees`` trees for ``labels`` (integers >= 0) from ``features``
    (rows x features)."""
    from sklearn.ensemble import RandomForestClassifier

    count = features.shape[1]
    subset = count if num_trees == 1 else math.ceil(math.sqrt(count))
    classifier = RandomForestClassifier(
        n_estimators=num_trees,
        criterion="gini",
        max_depth=MAX_DEPTH,
        max_features=subset,
        bootstrap=num_trees > 1,
        random_state=None if seed is None else int(seed) % 2**32,
    )
    classifier.fit(features, labels)
    classes = np.asarray(classifier.classes_, dtype=np.float64)
    trees = tuple(_tree(estimator.tree_, classes) for estimator in classifier.estimators_)
    return Forest(trees=trees, weights=(1.0,) * len(trees))


def _tree(grown: Any, classes: np.ndarray) -> Tree:
    """A scikit-learn tree in MLlib's node layout (ids 1, 2i, 2i + 1)."""
    ids = {0: 1}
    order = [0]
    for node in order:  # breadth first; children get their parent's id times 2 (+ 1)
        for child, offset in ((grown.children_left[node], 0), (grown.children_right[node], 1)):
            if child != -1:
                ids[int(child)] = 2 * ids[node] + offset
                order.append(int(child))
    counts = grown.value[:, 0, :]
    shares = counts / counts.sum(axis=1, keepdims=True)
    leaf = grown.children_left == -1
    weights = grown.weighted_n_node_samples
    gain = np.full(grown.node_count, np.nan)
    for inner in np.nonzero(~leaf)[0]:
        lo, hi = grown.children_left[inner], grown.children_right[inner]
        below = weights[lo] * grown.impurity[lo] + weights[hi] * grown.impurity[hi]
        gain[inner] = grown.impurity[inner] - below / weights[inner]
    return Tree(
        node_id=np.array([ids[n] for n in order], dtype=np.int64),
        prediction=classes[np.argmax(counts, axis=1)][order],
        probability=shares.max(axis=1)[order],
        impurity=np.asarray(grown.impurity, dtype=np.float64)[order],
        is_leaf=leaf[order],
        feature=np.where(leaf, -1, grown.feature)[order].astype(np.int64),
        threshold=np.where(leaf, np.nan, grown.threshold)[order].astype(np.float64),
        feature_type=np.full(len(order), CONTINUOUS, dtype=np.int64),
        categories=((),) * len(order),
        gain=gain[order],
    )
