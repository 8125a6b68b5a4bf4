"""How many of a run's dask tasks compute a key that was computed before:
``python -m benchmarks.task_repeats 30x2048``.

Runs the benchmark's NDVI graph on a cached scene (``--root``, as ``benchmarks.run``
makes them) with the local backend on dask's threads, as ``hybrid run`` does, and counts
every task dask runs by its key (a dask callback). The threaded store computes the
result in batches (``hybrid/io/streaming.py``): a key computed in two batches is work
done twice. Prints the tasks run, the distinct keys, and the repeated keys per layer.

``--workers N`` runs it on a LocalCluster of N workers instead and counts the tasks of
every batch's graph as it is submitted (before fusion:
``hybrid.backends.local.placement.plan``), the cluster's batches.
"""

from __future__ import annotations

import collections
import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks.run import scene_parser


def main(argv: list[str] | None = None) -> None:
    parser = scene_parser("task_repeats", __doc__, "30x2048")
    parser.add_argument("--workers", type=int, help="count a LocalCluster's batches")
    args = parser.parse_args(argv)

    from benchmarks.scenes import ensure_scene, parse_spec, scene_graph
    from hybrid.backends.local import LocalBackend, LocalSettings

    spec = parse_spec(args.scene)
    catalog = ensure_scene(args.root, spec)
    runs: collections.Counter[Any] = collections.Counter()

    settings = LocalSettings(stac=str(catalog), workers=args.workers)
    with tempfile.TemporaryDirectory() as out, _counting(runs, bool(args.workers)):
        LocalBackend(settings).execute(scene_graph(spec), out_dir=Path(out))
    repeated: collections.Counter[str] = collections.Counter()
    for key, count in runs.items():
        if count > 1:
            name = key[0] if isinstance(key, tuple) else key
            repeated[str(name).rsplit("-", 1)[0]] += count - 1
    print(f"{spec.name}: {sum(runs.values())} tasks run, {len(runs)} distinct keys, "
          f"{sum(repeated.values())} runs of a key computed before")  # fmt: skip
    for layer, count in repeated.most_common():
        print(f"  {count:6d}  {layer}")


@contextlib.contextmanager
def _counting(runs: collections.Counter[Any], cluster: bool) -> Iterator[None]:
    """Count every task key dask's threads run, or every key of a cluster batch."""
    if not cluster:
        from dask.callbacks import Callback

        def posttask(key: Any, result: Any, dsk: Any, state: Any, worker: Any) -> None:
            runs[key] += 1

        with Callback(posttask=posttask):
            yield
        return
    from unittest import mock

    from hybrid.backends.local import placement

    planned = placement.plan

    def counted_plan(dsk: Any, *args: Any, **kwargs: Any) -> Any:
        runs.update(dsk.keys())
        return planned(dsk, *args, **kwargs)

    with mock.patch.object(placement, "plan", counted_plan):
        yield


if __name__ == "__main__":
    main()
