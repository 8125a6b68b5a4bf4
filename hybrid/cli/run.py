"""``hybrid run``: run the workflow on a backend, write the result, print a summary."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from hybrid.cli.options import add_stac_argument, add_workflow_arguments, workflow_from_args
from hybrid.errors import UsageError

DEFAULT_OUT = Path("out") / "ndvi.nc"


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "run",
        help="run the NDVI workflow (default: offline, on the embedded sample)",
        description="Build the NDVI process graph and run it on a backend. With no "
        "arguments: the seed AOI and season on the embedded Sentinel-2 sample, locally.",
    )
    add_workflow_arguments(p)
    add_stac_argument(p)
    p.add_argument(
        "--backend", default="local", help="local (default), copernicus, or an openEO URL"
    )
    p.add_argument(
        "--out", metavar="PATH",
        help=f"result file (netCDF) or folder (GTiff); default {DEFAULT_OUT}",
    )  # fmt: skip
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    p.add_argument("--workers", type=int, help="run on a local Dask cluster of N workers")
    p.add_argument("--scheduler", metavar="ADDRESS", help="run on an existing Dask cluster")
    p.add_argument("--resume", metavar="JOB_ID", help="fetch a batch job that already ran")
    p.add_argument("--plots", metavar="DIR", help="also write the figures into DIR")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(handle=handle)


def _target(args: argparse.Namespace, fmt: str) -> Path:
    if args.out:
        out = Path(args.out)
        if out.exists() and not args.overwrite:
            raise UsageError(f"--out {out} already exists; pass --overwrite or another path")
    else:
        out = DEFAULT_OUT if fmt == "netCDF" else DEFAULT_OUT.with_suffix("")
    parent = out.parent if fmt == "netCDF" else out
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create the output folder {parent}: {exc.strerror}") from exc
    probe_dir = parent
    try:
        with tempfile.NamedTemporaryFile(dir=probe_dir, prefix=".hybrid-probe-"):
            pass
    except OSError as exc:
        raise UsageError(f"output folder {probe_dir} is not writable: {exc.strerror}") from exc
    return out


def handle(args: argparse.Namespace) -> int:
    from backends import BackendOptions, get_backend
    from hybrid.graph import build_graph
    from hybrid.summary import format_table, summarise
    from hybrid.workflow import resolve_exclusions

    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers {args.workers} must be at least 1")
    if args.max_aoi_cloud is not None and args.backend != "local" and not args.stac:
        raise UsageError(
            "--max-aoi-cloud with a remote backend needs --stac (e.g. earth-search) to "
            "measure each scene's cloud over the AOI"
        )
    workflow = resolve_exclusions(workflow_from_args(args), args)
    out = _target(args, workflow.format)
    graph = build_graph(workflow)
    progress = not args.quiet and sys.stderr.isatty()
    backend = get_backend(
        args.backend,
        BackendOptions(
            stac=args.stac, workers=args.workers, scheduler=args.scheduler, progress=progress
        ),
    )
    reason = backend.availability()
    if reason:
        raise UsageError(f"backend {args.backend} is not available: {reason}")
    with tempfile.TemporaryDirectory(prefix=".hybrid-run-", dir=out.parent) as tmp:
        if args.resume:
            resume = getattr(backend, "resume", None)
            if resume is None:
                raise UsageError("--resume needs a remote backend (--backend copernicus or URL)")
            result = resume(args.resume, out_dir=Path(tmp))
        else:
            result = backend.execute(graph, out_dir=Path(tmp))
        if workflow.format == "netCDF":
            from hybrid.workflow import record_exclusions

            # still in the temporary folder: the file appears complete or not at all
            for nc in (f for f in result.files if f.suffix == ".nc"):
                record_exclusions(nc, workflow)
        files = _install(result.files, out, workflow.format)
    if workflow.format == "netCDF":
        print(format_table(summarise(files[0])))
    print(f"result: {out}")
    if args.plots:
        from hybrid.plots import plot_result

        source = files[0] if workflow.format == "netCDF" else out
        plots = plot_result(
            source, Path(args.plots), workflow=workflow, stac=args.stac, progress=progress
        )
        for path in plots:
            print(f"figure: {path}")
    return 0


def _install(files: tuple[Path, ...], out: Path, fmt: str) -> list[Path]:
    """Move the backend's files into place (each move is an atomic rename)."""
    if fmt == "netCDF":
        nc = [f for f in files if f.suffix == ".nc"]
        if len(nc) != 1:
            raise UsageError(f"expected one NetCDF result, the backend wrote {len(files)} files")
        shutil.move(str(nc[0]), str(out))
        return [out]
    out.mkdir(parents=True, exist_ok=True)
    moved = []
    for f in files:
        target = out / f.name
        shutil.move(str(f), str(target))
        moved.append(target)
    return moved
