"""Memory at every batch of the threaded store: ``python -m benchmarks.batch_memory 4x8192``.

Runs the benchmark's NDVI graph on a cached scene (``--root``, as ``benchmarks.run``
makes them) with the local backend on dask's threads, in this process, and prints at
the start and the end of every batch (a dask callback; the store computes one batch
after the other: ``hybrid/io/streaming.py``) the process's RSS and glibc's heap
(``mallinfo2``: the heap's size, the memory in use in it, its free space), and each
batch's peak RSS (sampled every 10 ms). Memory in use that stays flat while the free
space and the peaks grow is fragmentation, not something held (benchmarks/README.md,
"Tenth round"). Linux with glibc only.
"""

from __future__ import annotations

import argparse
import ctypes
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.run import DEFAULT_ROOT

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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.batch_memory", description=__doc__)
    parser.add_argument("scene", help="DATESxPIXELS, e.g. 4x8192")
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="scene cache folder")
    args = parser.parse_args(argv)

    import psutil
    from dask.callbacks import Callback

    from benchmarks.scenes import ensure_scene, parse_spec, scene_graph
    from hybrid.backends.local import LocalBackend, LocalSettings

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

    class Batches(Callback):  # type: ignore[misc]
        count = 0

        def _start(self, dsk: Any) -> None:
            Batches.count += 1
            peak[0] = 0.0
            print(f"batch {Batches.count:3d} start  {heap_line(libc)}")

        def _finish(self, dsk: Any, state: Any, errored: bool) -> None:
            print(f"batch {Batches.count:3d} end    {heap_line(libc)}  peak {peak[0]:6.0f}")

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    with tempfile.TemporaryDirectory() as out, Batches():
        LocalBackend(LocalSettings(stac=str(catalog))).execute(scene_graph(spec), out_dir=Path(out))
    done.set()
    print(f"after      {heap_line(libc)}")


if __name__ == "__main__":
    main()
