"""Where a ``hybrid run``'s dask tasks spend their time: ``python -m benchmarks.timeline 30x2048``.

Runs the real command (``hybrid run`` on a cached benchmark scene, ``--root``, as
``benchmarks.run`` makes them) in this process under dask's ``Profiler``, which records
every task the threaded scheduler runs, and prints how many tasks ran, the window from
the first task's start to the last one's end, the thread-seconds the tasks took and
how busy the cores were, then the task kinds (a key's name without its token) with the
most time. The figures of benchmarks/README.md's "Thirteenth round" come from this.
"""

from __future__ import annotations

import collections
import os
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.run import scene_parser


def kind(key: Any) -> str:
    """A task key's name without its token: ``('truediv-<token>', 3, 0, 1)`` -> truediv
    (a fused task's name ends with pieces of its parts' tokens)."""
    import re

    name = str(key[0] if isinstance(key, tuple) else key)
    return re.sub(r"-[0-9a-f]{16,}(-[0-9a-f]+)*$", "", name)


def main(argv: list[str] | None = None) -> None:
    parser = scene_parser("timeline", __doc__, "30x2048")
    parser.add_argument("--top", type=int, default=12, help="task kinds to print")
    args = parser.parse_args(argv)

    from dask.diagnostics import Profiler

    from benchmarks.end_to_end import run_arguments
    from benchmarks.scenes import ensure_scene, parse_spec
    from hybrid.cli import main as hybrid

    spec = parse_spec(args.scene)
    catalog = ensure_scene(args.root, spec)
    with tempfile.TemporaryDirectory(prefix="hybrid-timeline-") as tmp:
        command = run_arguments(spec, catalog, Path(tmp), Path(tmp) / "out.nc")
        with Profiler() as profiler:
            code = hybrid(command)
    if code:
        raise SystemExit(f"hybrid run exited with {code}")
    tasks = profiler.results
    start = min(t.start_time for t in tasks)
    window = max(t.end_time for t in tasks) - start
    busy: collections.Counter[str] = collections.Counter()
    count: collections.Counter[str] = collections.Counter()
    for task in tasks:
        busy[kind(task.key)] += task.end_time - task.start_time
        count[kind(task.key)] += 1
    total = sum(busy.values())
    cores = os.cpu_count() or 1
    print(
        f"{spec.name}^2: {len(tasks)} tasks in {window:.2f} s, {total:.2f} thread-s "
        f"({total / (cores * window):.0%} of {cores} cores)"
    )
    for name, seconds in busy.most_common(args.top):
        print(f"{seconds:7.2f} thread-s {count[name]:6d} tasks  {name}")


if __name__ == "__main__":
    main()
