"""The benchmark: synthetic scenes of growing size, three pipelines, one table.

``python -m benchmarks.run [--sizes 10x512,30x1024] [--quick] [--scaling] [--rounds N]``,
``--series area|dates`` (peak RSS flat in area / in dates), ``--scale-check``
(100 x 100 km over 10 dates under 4 GiB peak RSS).

For every scene (generated once as COGs + a static catalog, cached under ``--root``):

- (a) ``local``: this project's local backend, the seed process graph, threaded;
- (b) ``stock``: stock openeo-processes-dask executing the same graph;
- (c) ``fused``: the hand-fused numpy/scipy/rasterio pipeline (the practical floor);
- (d) ``decode``: only read and decode the needed COG windows, all cores (the floor of
  any pipeline; every row's ``x decode`` is its time over this one);

each in its own process, timed from catalog to NetCDF, with its peak RSS. With
``--scaling`` the local backend also runs on a dask.distributed LocalCluster of 1 and
of 2 single-threaded workers on the largest scene. The three results are checked to
agree. Prints a markdown table and writes JSON (``benchmarks/results/latest.json``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.pipeline import PIPELINES
from benchmarks.report import (
    CLUSTER_WORKERS,
    SCALE_CHECK,
    SCALE_LIMIT_MIB,
    markdown,
    memory_lines,
    scale_verdict,
)
from benchmarks.scenes import SceneSpec, ensure_scene, parse_spec

FULL_SIZES = ("10x512", "30x1024", "30x2048", "20x4096")
QUICK_SIZES = ("10x512", "30x1024")
#: scaling series (local backend only unless ``--pipelines`` says otherwise): peak RSS
#: must stay flat in area (2048^2 to 8192^2 output pixels) and in dates
SERIES = {
    "area": ("4x2048", "4x4096", "4x8192"),
    "dates": ("10x2048", "20x2048", "40x2048"),
}
RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"
DEFAULT_ROOT = Path(tempfile.gettempdir()) / "hybrid-benchmark-scenes"


def scene_parser(module: str, description: str | None, example: str) -> argparse.ArgumentParser:
    """The command line of a one-scene tool, ``python -m benchmarks.<module> SCENE
    [--root DIR]``, for the tool to add its own options to."""
    parser = argparse.ArgumentParser(prog=f"python -m benchmarks.{module}", description=description)
    parser.add_argument("scene", help=f"DATESxPIXELS, e.g. {example}")
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="scene cache folder")
    return parser


def child_env() -> dict[str, str]:
    """This environment, with this checkout first on the children's Python path."""
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


def _child(
    pipeline: str, spec: SceneSpec, catalog: Path, out: Path, workers: int | None,
    scheduler: str | None = None, label: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    from benchmarks.measure import measure

    argv = [sys.executable, "-m", "benchmarks.pipeline", "--pipeline", pipeline,
            "--scene", spec.name, "--catalog", str(catalog), "--out", str(out)]  # fmt: skip
    if workers:
        argv += ["--workers", str(workers)]
    if scheduler:
        argv += ["--scheduler", scheduler]
    m = measure(argv, env=child_env())
    seconds = float(m.report["seconds"])
    return {
        "scene": spec.name,
        "pipeline": label
        or (pipeline if not workers else f"{pipeline} ({workers} worker{'s' * (workers > 1)})"),
        "workers": workers,
        "workers_or_cluster": bool(workers or scheduler),
        "seconds": seconds,
        "cpu_seconds": m.report.get("cpu_seconds"),
        "system_seconds": m.report.get("system_seconds"),
        "minor_faults": m.report.get("minor_faults"),
        "process_seconds": m.process_seconds,
        "import_seconds": m.report["import_seconds"],
        "peak_rss_mib": m.peak_rss_mib,
        "mpx_dates_per_s": round(spec.megapixel_dates / seconds, 2),
        "file": m.report["file"],
    }


def agreement(files: dict[str, str]) -> dict[str, Any]:
    """Largest |difference| and NaN-pattern equality of every result against the fused one."""
    import numpy as np
    import xarray as xr

    def values(path: str) -> Any:
        with xr.open_dataset(path, engine="h5netcdf") as ds:
            return np.asarray(ds["var"].values, dtype=np.float64)

    ref = values(files["fused"])
    out: dict[str, Any] = {}
    for name, path in files.items():
        if name == "fused":
            continue
        v = values(path)
        same_shape = v.shape == ref.shape
        found = differences(v, ref) if same_shape else {"same_nan": False, "max_abs_diff": None}
        out[name] = {"same_shape": same_shape, **found}
    return out


def differences(values: Any, reference: Any) -> dict[str, Any]:
    """Two arrays of one shape: NaN in the same places, and the largest |difference|
    where both have values."""
    import numpy as np

    both = ~np.isnan(values) & ~np.isnan(reference)
    return {
        "same_nan": bool(np.array_equal(np.isnan(values), np.isnan(reference))),
        "max_abs_diff": float(np.max(np.abs(values - reference)[both], initial=0.0)),
    }


def identical(path: str, reference: str) -> bool:
    """Whether two results hold the same values bit for bit (NaN where the other has NaN)."""
    import numpy as np
    import xarray as xr

    with (
        xr.open_dataset(path, engine="h5netcdf") as a,
        xr.open_dataset(reference, engine="h5netcdf") as b,
    ):
        return bool(np.array_equal(a["var"].values, b["var"].values, equal_nan=True))


def run_benchmark(
    sizes: list[SceneSpec], *, root: Path, pipelines: tuple[str, ...] = PIPELINES,
    scaling: bool = False, cluster: bool = False, rounds: int = 1, log: Any = print,
) -> dict[str, Any]:  # fmt: skip
    """Generate the scenes, measure every pipeline (``rounds`` times each, alternating);
    the JSON-ready result."""
    rows: list[dict[str, Any]] = []
    checks: dict[str, Any] = {}
    scenes: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="hybrid-bench-") as tmp:
        for spec in sizes:
            t0 = time.perf_counter()
            catalog = ensure_scene(root, spec)
            scenes[spec.name] = {
                "n_dates": spec.n_dates, "size": spec.size,
                "megapixel_dates": spec.megapixel_dates,
                "prepare_seconds": round(time.perf_counter() - t0, 1),
            }  # fmt: skip
            files: dict[str, str] = {}
            for row in _pipeline_rows(spec, catalog, Path(tmp), pipelines, rounds, log):
                rows.append(row)
                if row["file"]:
                    files[row["pipeline"]] = row["file"]
            if "fused" in files and len(files) > 1:
                checks[spec.name] = agreement(files)
            if scaling and spec is sizes[-1]:
                for workers in (1, 2):
                    log(f"[{spec.name}] local on {workers} worker(s) ...")
                    out = Path(tmp) / spec.name / f"local-w{workers}"
                    rows.append(_child("local", spec, catalog, out, workers))
            if cluster and spec is sizes[-1]:
                log(f"[{spec.name}] local on an external scheduler + {CLUSTER_WORKERS} workers ...")
                rows.append(_external(spec, catalog, Path(tmp) / spec.name / "local-external"))
            for row in rows:
                if row["scene"] == spec.name and "local" in files and row["workers_or_cluster"]:
                    row["identical_to_threads"] = identical(row["file"], files["local"])
    for row in rows:
        floor = next(
            (r for r in rows if r["scene"] == row["scene"] and r["pipeline"] == "fused"), None
        )
        row["ratio_to_fused"] = round(row["seconds"] / floor["seconds"], 2) if floor else None
        decode = next(
            (r for r in rows if r["scene"] == row["scene"] and r["pipeline"] == "decode"), None
        )
        row["ratio_to_decode"] = round(row["seconds"] / decode["seconds"], 2) if decode else None
        row.pop("file", None)
    return {
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": "python -m benchmarks.run " + " ".join(sys.argv[1:]),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform(), "load_average": os.getloadavg()},
        "scenes": scenes,
        "rows": rows,
        "agreement": checks,
        "scaling": _scaling(rows),
        "cluster": _cluster_summary(rows),
    }  # fmt: skip


def _pipeline_rows(
    spec: SceneSpec, catalog: Path, tmp: Path, pipelines: tuple[str, ...], rounds: int,
    log: Any,
) -> list[dict[str, Any]]:  # fmt: skip
    """One row per pipeline: its run of median time over ``rounds`` rounds, the pipelines
    alternating within each round (so that the host's slow and fast spells fall on all of
    them), with every round's time in ``seconds_all``."""
    runs: dict[str, list[dict[str, Any]]] = {p: [] for p in pipelines}
    for n in range(rounds):
        for pipeline in pipelines:
            log(f"[{spec.name}] {pipeline} ...")
            out = tmp / spec.name / pipeline / str(n)
            row = _child(pipeline, spec, catalog, out, None)
            runs[pipeline].append(row)
            log(f"[{spec.name}] {pipeline}: {row['seconds']} s, {row['peak_rss_mib']} MiB")
    chosen = []
    for found in runs.values():
        ranked = sorted(found, key=lambda r: r["seconds"])
        row = dict(ranked[(len(ranked) - 1) // 2])
        row["seconds_all"] = [r["seconds"] for r in found]
        row["peak_rss_all"] = [r["peak_rss_mib"] for r in found]
        chosen.append(row)
    return chosen


def _external(spec: SceneSpec, catalog: Path, out: Path) -> dict[str, Any]:
    """The local pipeline with ``--scheduler`` on an external scheduler and
    :data:`CLUSTER_WORKERS` single-threaded worker processes started for it
    (:mod:`benchmarks.cluster`); CPU = this run's client + workers + scheduler."""
    from benchmarks.cluster import Usage, external_cluster, transfers
    from benchmarks.pipeline import _IMPORTS

    with external_cluster(CLUSTER_WORKERS, env=child_env(), preload=_IMPORTS["local"]) as cluster:
        sent = transfers(cluster.address)
        workers = Usage(cluster.workers).start()
        scheduler = Usage([cluster.scheduler]).start()
        row = _child("local", spec, catalog, out, None, cluster.address,
                     label=f"local (external scheduler, {CLUSTER_WORKERS} workers)")  # fmt: skip
        row["external"] = {"workers": workers.stop(), "scheduler": scheduler.stop(),
                           "client_cpu_seconds": row["cpu_seconds"],
                           "client_peak_rss_mib": row["peak_rss_mib"]}  # fmt: skip
        after = transfers(cluster.address)
        row["external"]["sent_by_workers"] = {k: round(after[k] - sent[k], 3) for k in sent}
        row["external"]["result_mib"] = round(_result_mib(row["file"]), 3)
    row["cpu_seconds"] = round(row["cpu_seconds"] + workers.cpu_seconds + scheduler.cpu_seconds, 3)
    return row


def _result_mib(path: str | None) -> float:
    """Size of the result's values in memory (the workers hand the client their file
    chunks deflated, and the parts of the chunks that blocks share as they are)."""
    import xarray as xr

    if not path:
        return 0.0
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return float(ds["var"].size * 4 / 2**20)


def _cluster_summary(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The external-cluster run against the threaded run of the same scene."""
    ext = next((r for r in rows if "external" in r), None)
    if ext is None:
        return None
    threads = next(
        (r for r in rows if r["scene"] == ext["scene"] and r["pipeline"] == "local"), None
    )
    return {
        "scene": ext["scene"],
        "seconds": ext["seconds"],
        "ratio_to_threads": round(ext["seconds"] / threads["seconds"], 2) if threads else None,
        "client_peak_rss_mib": ext["external"]["client_peak_rss_mib"],
        "workers_peak_rss_mib": ext["external"]["workers"]["peak_rss_mib"],
        "sent_by_workers": ext["external"]["sent_by_workers"],
        "result_mib": ext["external"]["result_mib"],
        "cpu_seconds": {"client": ext["external"]["client_cpu_seconds"],
                        "workers": ext["external"]["workers"]["cpu_seconds"],
                        "scheduler": ext["external"]["scheduler"]["cpu_seconds"]},
    }  # fmt: skip


def _scaling(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    one = next((r for r in rows if r["workers"] == 1), None)
    two = next((r for r in rows if r["workers"] == 2), None)
    if not one or not two:
        return None
    return {
        "scene": one["scene"],
        "speedup_1_to_2_workers": round(one["seconds"] / two["seconds"], 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--sizes", help=f"comma-separated DATESxPIXELS (default {','.join(FULL_SIZES)})"
    )
    parser.add_argument("--quick", action="store_true", help=f"only {','.join(QUICK_SIZES)}")
    parser.add_argument(
        "--pipelines", help="subset of local,stock,fused,decode (default: all; local for "
        "--series and --scale-check)",
    )  # fmt: skip
    parser.add_argument(
        "--scaling", action="store_true", help="1 vs 2 workers on the largest scene"
    )
    parser.add_argument(
        "--cluster", action="store_true",
        help=f"the largest scene also on an external scheduler + {CLUSTER_WORKERS} worker "
        "processes (started here), against the threaded run",
    )  # fmt: skip
    parser.add_argument(
        "--series", choices=sorted(SERIES), help="a scaling series: " + "; ".join(
            f"{k}: {','.join(v)}" for k, v in SERIES.items()
        ),
    )  # fmt: skip
    parser.add_argument(
        "--scale-check", action="store_true",
        help=f"{SCALE_CHECK} (100 x 100 km, 10 dates), local; fails above {SCALE_LIMIT_MIB} MiB",
    )  # fmt: skip
    parser.add_argument(
        "--rounds", type=int, default=1,
        help="run each scene's pipelines this many times, alternating; report the median",
    )  # fmt: skip
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="scene cache folder")
    parser.add_argument("--out", type=Path, default=RESULTS, help="JSON result file")
    args = parser.parse_args(argv)
    names = QUICK_SIZES if args.quick else tuple((args.sizes or ",".join(FULL_SIZES)).split(","))
    preset = args.series or args.scale_check
    if preset:
        names = SERIES[args.series] if args.series else (SCALE_CHECK,)
    try:
        sizes = [parse_spec(n) for n in names]
    except ValueError as exc:
        parser.error(str(exc))
    if args.rounds < 1:
        parser.error(f"--rounds {args.rounds}: need at least 1")
    default = "local" if preset else ",".join(PIPELINES)
    pipelines = tuple(p for p in (args.pipelines or default).split(",") if p)
    unknown = [p for p in pipelines if p not in PIPELINES]
    if unknown:
        parser.error(f"unknown pipeline(s) {', '.join(unknown)}; use {', '.join(PIPELINES)}")
    result = run_benchmark(
        sizes, root=args.root, pipelines=pipelines, scaling=args.scaling, cluster=args.cluster,
        rounds=args.rounds, log=lambda m: print(m, file=sys.stderr),
    )  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(markdown(result))
    for scene, check in result["agreement"].items():
        for name, c in check.items():
            print(f"{scene} {name} vs fused: same NaN pattern {c['same_nan']}, "
                  f"max |diff| {c['max_abs_diff']}")  # fmt: skip
    for row in result["rows"]:
        if "identical_to_threads" in row:
            print(f"{row['scene']} {row['pipeline']}: bit-identical to the threaded result "
                  f"{row['identical_to_threads']}")  # fmt: skip
    for line in memory_lines(result):
        print(line)
    if args.scale_check:
        return scale_verdict(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
