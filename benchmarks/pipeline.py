"""One pipeline run on one scene, meant to run in its own process (peak RSS per pipeline).

``python -m benchmarks.pipeline --pipeline local --scene 30x1024 --catalog C --out D``
sets up what the pipeline needs once per process (imports; for the process-graph
pipelines the process graph and the process registry, which a server or a notebook
builds once), then times the run from catalog to NetCDF and prints one JSON line:
``{"seconds": ..., "import_seconds": ..., "file": ...}``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

PIPELINES = ("local", "stock", "fused", "decode")

#: modules each pipeline needs anyway, imported before the clock starts
_IMPORTS = {
    "local": ("xarray", "dask.array", "rasterio", "scipy.ndimage", "pystac", "h5netcdf",
              "openeo_pg_parser_networkx", "hybrid.backends.local.registry"),
    "stock": ("xarray", "dask.array", "rasterio", "scipy.ndimage", "odc.stac", "pystac",
              "h5netcdf", "openeo_pg_parser_networkx", "hybrid.backends.local.registry"),
    "fused": ("xarray", "rasterio", "scipy.ndimage", "pystac", "h5netcdf"),
    "decode": ("rasterio", "pystac"),
}  # fmt: skip


def prepare(pipeline: str, scene: str) -> dict[str, Any] | None:
    """What a pipeline sets up once per process, before the clock: the process graph
    (built with the openeo client) and the process registry of the graph pipelines."""
    if pipeline not in ("local", "stock"):
        return None
    from benchmarks.scenes import parse_spec, scene_graph
    from hybrid.backends.local.graphcheck import process_ids
    from hybrid.backends.local.registry import covering
    from hybrid.backends.local.stock import stock_implementations

    graph = scene_graph(parse_spec(scene))
    if pipeline == "stock":
        stock_implementations()
    else:
        covering(process_ids(graph))
    return graph


def run_pipeline(
    pipeline: str,
    *,
    scene: str,
    catalog: Path,
    out_dir: Path,
    workers: int | None = None,
    graph: dict[str, Any] | None = None,
    scheduler: str | None = None,
    threads: int = 2,
) -> Path | None:
    """Run ``pipeline`` on the benchmark scene ``scene``; returns the NetCDF written
    (None for the decode floor, which writes nothing). ``graph``: the scene's process
    graph from :func:`prepare` (built here when not given)."""
    from benchmarks.scenes import parse_spec

    spec = parse_spec(scene)
    if pipeline in ("local", "stock") and graph is None:
        graph = prepare(pipeline, scene)
    if pipeline == "local":
        from hybrid.backends.local import LocalBackend, LocalSettings

        assert graph is not None
        settings = LocalSettings(stac=str(catalog), workers=workers, scheduler=scheduler)
        result = LocalBackend(settings).execute(graph, out_dir=out_dir)
        return result.files[0]
    if pipeline == "stock":
        from benchmarks.stock import run_stock

        assert graph is not None
        return run_stock(graph, catalog=catalog, out_dir=out_dir)[0]
    if pipeline == "fused":
        from benchmarks.fused import FusedInputs, run_fused
        from benchmarks.scenes import EPSG
        from hybrid.params import Workflow

        workflow = Workflow(aoi={}, start=spec.start, end=spec.end)
        inputs = FusedInputs(catalog, spec.aoi_bounds(), EPSG, workflow)
        return run_fused(inputs, out_dir, threads=threads)
    if pipeline == "decode":
        from benchmarks.decode import run_decode
        from benchmarks.fused import FusedInputs
        from benchmarks.scenes import EPSG
        from hybrid.params import Workflow

        workflow = Workflow(aoi={}, start=spec.start, end=spec.end)
        run_decode(FusedInputs(catalog, spec.aoi_bounds(), EPSG, workflow))
        return None
    raise ValueError(f"unknown pipeline '{pipeline}'; use one of {', '.join(PIPELINES)}")


def _own_peak_rss_mib() -> float | None:
    """This process's peak RSS since ``exec`` (``VmHWM``; Linux only, else None)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def _usage() -> tuple[float, float, int]:
    """CPU time (user + system), system time and minor page faults of this process and
    its finished children (dask workers)."""
    import resource

    cpu, system, faults = 0.0, 0.0, 0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        cpu += usage.ru_utime + usage.ru_stime
        system += usage.ru_stime
        faults += usage.ru_minflt
    return cpu, system, faults


def main(argv: list[str] | None = None) -> int:
    import importlib

    parser = argparse.ArgumentParser(prog="python -m benchmarks.pipeline")
    parser.add_argument("--pipeline", choices=PIPELINES, required=True)
    parser.add_argument("--scene", required=True)
    parser.add_argument("--catalog", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--scheduler", default=None, help="a Dask scheduler's address")
    parser.add_argument("--threads", type=int, default=2, help="threads of the fused pipeline")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    for module in _IMPORTS[args.pipeline]:
        importlib.import_module(module)
    graph = prepare(args.pipeline, args.scene)
    imported = time.perf_counter()
    before = _usage()
    path = run_pipeline(
        args.pipeline, scene=args.scene, catalog=args.catalog, out_dir=args.out,
        workers=args.workers, graph=graph, scheduler=args.scheduler, threads=args.threads,
    )  # fmt: skip
    done = time.perf_counter()
    cpu, system, faults = (after - start for after, start in zip(_usage(), before, strict=True))
    print(json.dumps({
        "seconds": round(done - imported, 3),
        "cpu_seconds": round(cpu, 3),
        "system_seconds": round(system, 3),
        "minor_faults": faults,
        "import_seconds": round(imported - started, 3),
        "peak_rss_mib": _own_peak_rss_mib(),
        "file": str(path) if path else None,
    }))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
