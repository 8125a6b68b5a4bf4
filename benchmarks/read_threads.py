"""Do the COG reads themselves scale with threads? ``python -m benchmarks.read_threads 30x2048``.

Reads every block of the red, nir and SCL COGs of a benchmark scene (the assets the
seed graph reads), each thread keeping its datasets open as the local backend's loads
do (:class:`hybrid.backends.local.open_files.OpenFiles`), once with 1 thread and once
with 2, alternating over ``--rounds``, and prints the median wall and CPU seconds of
each and the speed-up. Nothing but the reads runs: when the speed-up here is near 2
while the same reads inside a run take far more thread-seconds on two threads than on
one (``benchmarks.timeline`` against ``benchmarks.profile``), the difference is the
run's tasks waiting on each other (the GIL, memory), not GDAL's decoding.
"""

from __future__ import annotations

import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from benchmarks.run import scene_parser

#: the assets of a benchmark scene the seed graph reads
ASSETS = ("red", "nir", "scl")


def block_windows(catalog: Path) -> list[tuple[str, Any]]:
    """(path, window) of every internal block of the scene's needed COGs."""
    import pystac
    import rasterio

    jobs: list[tuple[str, Any]] = []
    for item in pystac.Collection.from_file(str(catalog)).get_items(recursive=True):
        for key in ASSETS:
            path = item.assets[key].get_absolute_href()
            with rasterio.open(path) as src:
                jobs.extend((path, window) for _, window in src.block_windows(1))
    return jobs


def read_all(jobs: list[tuple[str, Any]], threads: int) -> dict[str, float]:
    """Read every window with ``threads`` threads; wall and CPU seconds, pixels read."""
    from hybrid.backends.local.open_files import OpenFiles

    files = OpenFiles()
    start, cpu = time.perf_counter(), time.process_time()
    with ThreadPoolExecutor(threads) as pool:
        pixels = sum(pool.map(lambda job: int(files.read(*job).size), jobs))
    return {
        "seconds": time.perf_counter() - start,
        "cpu_seconds": time.process_time() - cpu,
        "pixels": float(pixels),
    }


def measure_scaling(catalog: Path, rounds: int) -> dict[int, dict[str, float]]:
    """Median figures per thread count (1 and 2), the counts alternating per round."""
    jobs = block_windows(catalog)
    runs: dict[int, list[dict[str, float]]] = {1: [], 2: []}
    for _ in range(rounds):
        for threads in runs:
            runs[threads].append(read_all(jobs, threads))
    return {
        threads: {key: statistics.median(r[key] for r in results) for key in results[0]}
        for threads, results in runs.items()
    }


def main(argv: list[str] | None = None) -> None:
    parser = scene_parser("read_threads", __doc__, "30x2048")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (median reported)")
    args = parser.parse_args(argv)

    from benchmarks.scenes import ensure_scene, parse_spec

    catalog = ensure_scene(args.root, parse_spec(args.scene))
    figures = measure_scaling(catalog, args.rounds)
    for threads, row in figures.items():
        print(
            f"{threads} thread(s): {row['seconds']:.2f} s wall, {row['cpu_seconds']:.2f} CPU s, "
            f"{row['pixels'] / 1e6:.0f} Mpx"
        )
    print(f"speed-up 1 -> 2 threads: x{figures[1]['seconds'] / figures[2]['seconds']:.2f}")


if __name__ == "__main__":
    main()
