"""``hybrid run`` end to end against a single-threaded pipeline, both as whole processes.

``python -m benchmarks.end_to_end 18x1536 --rounds 3``

What a user waits for, and what issue 17's held-out check measures: the ``hybrid run``
command from process start to exit (imports, STAC search, load, compute, NetCDF, the
summary table, shutdown) on a benchmark scene, against the hand-fused pipeline
(:mod:`benchmarks.fused`) on one thread, also from process start to exit, alternating
in the same run. Prints every round, the medians and the median ratio; writes JSON
with ``--out``. The two results are checked to agree.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.run import child_env, differences, scene_parser
from benchmarks.scenes import SceneSpec, aoi_lonlat, ensure_scene, parse_spec


def aoi_file(spec: SceneSpec, folder: Path) -> Path:
    """The scene's AOI as a lon/lat GeoJSON file (what ``--aoi`` takes)."""
    path = folder / f"{spec.name}-aoi.geojson"
    path.write_text(json.dumps(aoi_lonlat(spec)))
    return path


def run_arguments(spec: SceneSpec, catalog: Path, folder: Path, out: Path) -> list[str]:
    """``hybrid``'s arguments to run the NDVI workflow on the scene into ``out`` (its AOI
    written into ``folder``)."""
    return ["run", "--stac", str(catalog), "--aoi", str(aoi_file(spec, folder)),
            "--start", spec.start, "--end", spec.end, "--out", str(out), "--overwrite",
            "--quiet"]  # fmt: skip


def one_round(spec: SceneSpec, catalog: Path, folder: Path) -> dict[str, Any]:
    """One ``hybrid run`` and one single-threaded fused run, each in its own process."""
    from benchmarks.measure import measure

    cli = folder / "cli.nc"
    argv = [sys.executable, "-m", "hybrid", *run_arguments(spec, catalog, folder, cli)]
    run = measure(argv, env=child_env(), report=False)
    fused = measure(
        [sys.executable, "-m", "benchmarks.pipeline", "--pipeline", "fused", "--threads", "1",
         "--scene", spec.name, "--catalog", str(catalog), "--out", str(folder / "fused")],
        env=child_env(),
    )  # fmt: skip
    return {
        "hybrid_run": {"seconds": run.process_seconds, "peak_rss_mib": run.peak_rss_mib},
        "fused_1_thread": {"seconds": fused.process_seconds, "peak_rss_mib": fused.peak_rss_mib},
        "agreement": agreement(cli, Path(fused.report["file"])),
    }


def agreement(result: Path, reference: Path) -> dict[str, Any]:
    """Largest |difference| and NaN-pattern equality where both results have pixels:
    ``hybrid run`` takes a lon/lat AOI, whose UTM bounds reach a little beyond the
    scene's, so its grid is the fused one plus a margin (the same pixel centres)."""
    import numpy as np
    import xarray as xr

    with (
        xr.open_dataset(result, engine="h5netcdf") as a,
        xr.open_dataset(reference, engine="h5netcdf") as b,
    ):
        ours, theirs = xr.align(a["var"], b["var"], join="inner")
        v, ref = np.asarray(ours, np.float64), np.asarray(theirs, np.float64)
    return {
        "common_pixels": int(v.size),
        "reference_pixels": int(b["var"].size),
        **differences(v, ref),
    }


def summary(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians of both and the median of the per-round ratios."""
    run = [r["hybrid_run"]["seconds"] for r in rounds]
    fused = [r["fused_1_thread"]["seconds"] for r in rounds]
    return {
        "hybrid_run_seconds": statistics.median(run),
        "fused_1_thread_seconds": statistics.median(fused),
        "ratio": round(statistics.median(a / b for a, b in zip(run, fused, strict=True)), 2),
    }


def round_line(found: dict[str, Any]) -> str:
    run, fused, check = found["hybrid_run"], found["fused_1_thread"], found["agreement"]
    return (
        f"hybrid run {run['seconds']:.2f} s ({run['peak_rss_mib']:.0f} MiB), "
        f"fused on 1 thread {fused['seconds']:.2f} s ({fused['peak_rss_mib']:.0f} MiB); "
        f"on the {check['common_pixels']} of {check['reference_pixels']} fused pixels both "
        f"have: same NaN pattern {check['same_nan']}, max |diff| {check['max_abs_diff']}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = scene_parser("end_to_end", __doc__, "18x1536")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, help="JSON result file")
    args = parser.parse_args(argv)
    try:
        spec = parse_spec(args.scene)
    except ValueError as exc:
        parser.error(str(exc))
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    catalog = ensure_scene(args.root, spec)
    rounds = []
    for n in range(args.rounds):
        with tempfile.TemporaryDirectory(prefix="hybrid-e2e-") as tmp:
            rounds.append(one_round(spec, catalog, Path(tmp)))
        print(f"round {n + 1}: {round_line(rounds[-1])}")
    s = summary(rounds)
    result = {"scene": spec.name, "rounds": rounds, "summary": s}
    print(
        f"{spec.name}^2: hybrid run {s['hybrid_run_seconds']:.2f} s, fused on 1 thread "
        f"{s['fused_1_thread_seconds']:.2f} s (medians); hybrid run / fused x{s['ratio']:.2f}"
    )
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
