"""Memory at every batch of the threaded store: ``python -m benchmarks.batch_memory 4x8192``.

Runs the benchmark's NDVI graph on a cached scene (``--root``, as ``benchmarks.run``
makes them) with the local backend on dask's threads, in this process, and prints when
each batch opens (a dask callback: the first task, then each batch's gate,
``hybrid/io/batch_gates.py``) and at the end the process's RSS and glibc's heap
(``mallinfo2``: the heap's size, the memory in use in it, its free space), the peak
RSS since the line before (sampled every 10 ms), and at each gate what dask's scheduler
holds: the arrays of finished tasks that tasks still to run will read, in all and the
two task kinds holding most (:func:`benchmarks.timeline.kind`). Memory in use that
stays flat while the free space and the peaks grow is fragmentation, not something held
(benchmarks/README.md, "Tenth round"). Linux with glibc only.
"""

from __future__ import annotations

import ctypes
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.run import scene_parser

_MIB = 2**20


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            *("arena", "ordblks", "smblks", "hblks", "hblkhd"),
            *("usmblks", "fsmblks", "uordblks", "fordblks", "keepcost"),
        )
    ]


def heap_line(libc: Any) -> str:
    """RSS and glibc's main heap now, in MiB."""
    import psutil

    info = libc.mallinfo2()
    rss = psutil.Process().memory_info().rss
    return (
        f"rss {rss / _MIB:6.0f}  heap {info.arena / _MIB:6.0f}  in use "
        f"{info.uordblks / _MIB:6.0f}  free {info.fordblks / _MIB:6.0f}"
    )


def held_line(cache: dict[Any, Any]) -> str:
    """What the scheduler's ``cache`` holds, in MiB: in all and its two largest kinds."""
    import collections

    from benchmarks.timeline import kind

    held: collections.Counter[str] = collections.Counter()
    for key, value in cache.items():
        held[kind(key)] += getattr(value, "nbytes", 0)
    top = ", ".join(f"{name} {size / _MIB:.0f}" for name, size in held.most_common(2))
    return f"held {sum(held.values()) / _MIB:6.0f}  ({top})"


def main(argv: list[str] | None = None) -> None:
    parser = scene_parser("batch_memory", __doc__, "4x8192")
    args = parser.parse_args(argv)

    import dask
    import psutil
    from dask.callbacks import Callback

    from benchmarks.scenes import ensure_scene, parse_spec, scene_graph
    from hybrid.backends.local import LocalBackend, LocalSettings
    from hybrid.backends.local.surviving_keys import PROBE

    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = _MallInfo2
    spec = parse_spec(args.scene)
    catalog = ensure_scene(args.root, spec)
    peak = [0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], psutil.Process().memory_info().rss / _MIB)
            time.sleep(0.01)

    def report(what: str) -> None:
        peak[0] = max(peak[0], psutil.Process().memory_info().rss / _MIB)
        print(f"{what}  {heap_line(libc)}  peak {peak[0]:6.0f}")
        peak[0] = 0.0

    class Batches(Callback):  # type: ignore[misc]
        """The store's compute only: the loader's probes of its dates (a small compute
        each, :data:`hybrid.backends.local.surviving_keys.PROBE`) write nothing."""

        writing = False

        def _start(self, dsk: Any) -> None:
            self.writing = not dask.config.get(PROBE, False)
            if self.writing:
                report("batch   1 opens")

        def _pretask(self, key: Any, dsk: Any, state: Any) -> None:
            if self.writing and isinstance(key, tuple) and key[0] == "hybrid-batch-gate":
                report(f"batch {key[1] + 1:3d} opens")
                print(f"                 {held_line(state['cache'])}")

        def _finish(self, dsk: Any, state: Any, errored: bool) -> None:
            if self.writing:
                report("all written    ")

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    with tempfile.TemporaryDirectory() as out, Batches():
        LocalBackend(LocalSettings(stac=str(catalog))).execute(scene_graph(spec), out_dir=Path(out))
    done.set()
    print(f"after            {heap_line(libc)}")


if __name__ == "__main__":
    main()
