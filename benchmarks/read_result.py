"""Reading a result back: ``python -m benchmarks.read_result 30x2048 --rounds 3``.

What ``hybrid run`` (its summary table), ``hybrid compare`` and ``hybrid.testing`` do
with a NetCDF result: :func:`hybrid.io.reader.open_result`, whose NetCDF reader inflates
a deflated float variable's chunks on several threads
(:func:`hybrid.io.netcdf_chunks.read_deflated`), against xarray's own load of the same
file (h5netcdf; HDF5 inflates the chunks one after the other), alternating in one
process. The file is the local backend's result for the benchmark scene, written once
into a temporary folder. Prints every round and the medians; checks that both reads
give the same values.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.run import scene_parser
from benchmarks.scenes import ensure_scene, parse_spec


def xarray_load(path: Path) -> Any:
    import xarray as xr

    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load()


def timed(read: Callable[[Path], Any], path: Path) -> tuple[float, Any]:
    start = time.perf_counter()
    value = read(path)
    return time.perf_counter() - start, value


def main(argv: list[str] | None = None) -> int:
    parser = scene_parser("read_result", __doc__, "30x2048")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)

    import numpy as np

    from benchmarks.pipeline import run_pipeline
    from hybrid.io.reader import open_result

    spec = parse_spec(args.scene)
    catalog = ensure_scene(args.root, spec)
    with tempfile.TemporaryDirectory() as folder:
        path = run_pipeline("local", scene=spec.name, catalog=catalog, out_dir=Path(folder))
        assert path is not None
        ours, theirs = [], []
        for n in range(1, args.rounds + 1):
            seconds, cube = timed(open_result, path)
            ours.append(seconds)
            seconds_xr, ds = timed(xarray_load, path)
            theirs.append(seconds_xr)
            same = np.array_equal(cube.values, ds["var"].values, equal_nan=True)
            print(f"round {n}: open_result {seconds:.3f} s, xarray load {seconds_xr:.3f} s, "
                  f"same values {same}")  # fmt: skip
            if not same:
                return 1
    ratio = statistics.median(ours) / statistics.median(theirs)
    print(f"{spec.name}: open_result {statistics.median(ours):.3f} s, xarray load "
          f"{statistics.median(theirs):.3f} s (medians); x{ratio:.2f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
