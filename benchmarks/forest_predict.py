"""How fast does predict_random_forest vote? ``python -m benchmarks.forest_predict``.

Trains a forest with Copernicus's settings (depth 4) on random features, then predicts
``--pixels`` vectors with the column-wise vote of small trees
(:meth:`hybrid.backends.local.forest.model.Tree.add_votes`) and with every tree walked
vector by vector (the path of large loaded trees), alternating over ``--rounds`` in the
same run, and prints the median seconds of each and their ratio. One thread: a run
predicts its dask blocks on all cores.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.forest_predict")
    parser.add_argument("--pixels", type=int, default=1_000_000)
    parser.add_argument("--trees", type=int, default=100)
    parser.add_argument("--features", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)

    from hybrid.backends.local.forest import model
    from hybrid.backends.local.forest.training import train

    rng = np.random.default_rng(1)
    samples = rng.random((300, args.features))
    labels = (samples[:, 0] + samples[:, 1] > 1).astype(int) + (samples[:, -1] > 0.8)
    forest = train(samples, labels, args.trees, seed=7)
    vectors = rng.random((args.pixels, args.features)).astype(np.float32).astype(np.float64)
    small = model.SMALL_TREE
    times: dict[str, list[float]] = {"column-wise": [], "walked": []}
    answers = {}
    for _ in range(args.rounds):
        for name, limit in (("column-wise", small), ("walked", 0)):
            model.SMALL_TREE = limit
            start = time.perf_counter()
            answers[name] = forest.predict(vectors)
            times[name].append(time.perf_counter() - start)
    model.SMALL_TREE = small
    assert np.array_equal(answers["column-wise"], answers["walked"])
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"{args.trees} trees, {args.pixels} vectors of {args.features} features, one thread")
    for name, seconds in medians.items():
        print(f"  {name:12s} {seconds:6.2f} s")
    print(f"  walked / column-wise: x{medians['walked'] / medians['column-wise']:.2f}")


if __name__ == "__main__":
    main()
