"""Where the local backend's time goes: ``python -m benchmarks.profile 30x2048``.

Runs the benchmark's NDVI graph on a cached scene (``--root``, as ``benchmarks.run``
makes them) with dask's synchronous scheduler once to warm up, then again under
cProfile, and prints the wall time and the functions with the most own time
(``--sort cumtime`` for cumulative time). The figures of benchmarks/README.md's
"Where the time goes" sections come from this.
"""

from __future__ import annotations

import cProfile
import pstats
import tempfile
import time
from pathlib import Path

from benchmarks.run import scene_parser


def main(argv: list[str] | None = None) -> None:
    parser = scene_parser("profile", __doc__, "30x2048")
    parser.add_argument("--sort", default="tottime", choices=("tottime", "cumtime"))
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args(argv)

    from benchmarks.scenes import ensure_scene, parse_spec, scene_graph
    from hybrid.backends.local import LocalBackend, LocalSettings

    spec = parse_spec(args.scene)
    catalog = ensure_scene(args.root, spec)
    settings = LocalSettings(stac=str(catalog), scheduler="synchronous")
    with tempfile.TemporaryDirectory() as out:
        LocalBackend(settings).execute(scene_graph(spec), out_dir=Path(out) / "warm")
        profile = cProfile.Profile()
        start = time.perf_counter()
        profile.enable()
        LocalBackend(settings).execute(scene_graph(spec), out_dir=Path(out) / "run")
        profile.disable()
        print(f"{args.scene}: {time.perf_counter() - start:.2f} s under cProfile")
    pstats.Stats(profile).sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    main()
