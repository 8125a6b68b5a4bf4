"""``hybrid run``: run the workflow on a backend, write the result, print a summary."""

from __future__ import annotations

import argparse
import contextlib
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hybrid.atomic import work_folder
from hybrid.cli import run_graph
from hybrid.cli.options import (
    add_polling_arguments,
    add_stac_argument,
    add_workflow_arguments,
    check_folder,
    check_polling,
    workflow_from_args,
)
from hybrid.errors import UsageError
from hybrid.io.format import Format
from hybrid.limits import LoadCheck, extent_check_wanted, load_check
from hybrid.progress import progress_enabled

if TYPE_CHECKING:
    from hybrid.backends.local import LocalSettings
    from hybrid.backends.remote import RemoteSettings
    from hybrid.params import Workflow

#: the formats ``hybrid run`` writes and reads back for its summary
RUN_FORMATS = ("netCDF", "GTiff")
#: the default result: ``out/ndvi`` plus the format's suffix (a folder for GTiff)
DEFAULT_OUT = Path("out") / "ndvi"


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
        "--graph", metavar="FILE",
        help="run this process-graph JSON instead of the workflow ('-': standard input; flat, "
        "or with 'process_graph' as the client's print_json writes it)",
    )  # fmt: skip
    p.add_argument(
        "--udp", metavar="FILE", action="append", default=[],
        help="with --graph on the local backend: a user-defined process the graph calls "
        "(its JSON as GET /process_graphs/{id} gives it); repeatable",
    )  # fmt: skip
    p.add_argument(
        "--backend", default="local", help="local (default), copernicus, or an openEO URL"
    )
    p.add_argument(
        "--out", metavar="PATH",
        help=f"result file (netCDF) or folder (GTiff, a file per date); default {DEFAULT_OUT}.nc; "
        "with --graph a folder of the files the graph writes, default out/<FILE's stem>",
    )  # fmt: skip
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    p.add_argument("--workers", type=int, help="run on a local Dask cluster of N workers")
    p.add_argument("--scheduler", metavar="ADDRESS", help="run on an existing Dask cluster")
    p.add_argument(
        "--memory-limit", metavar="SIZE",
        help="memory of each --workers worker, e.g. 2GiB (dask spills at 60 %%, pauses at "
        "80 %%, restarts it at 95 %%); default: dask's share of the RAM",
    )  # fmt: skip
    p.add_argument("--resume", metavar="JOB_ID", help="fetch a batch job that already ran")
    add_polling_arguments(p)
    p.add_argument("--plots", metavar="DIR", help="also write the figures into DIR")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(handle=handle)


def _target(args: argparse.Namespace, fmt: Format) -> Path:
    if args.out:
        out = Path(args.out)
    else:
        out = DEFAULT_OUT if fmt.per_label else DEFAULT_OUT.with_suffix(fmt.suffix)
    # one rule for the default and an explicit --out: never replace without being asked
    if fmt.per_label:  # a folder of files, replaced as a whole as --graph's is
        run_graph.check_result_folder(out, overwrite=args.overwrite, writer=f"--format {fmt.name}")
    elif out.is_dir():
        raise UsageError(
            f"--out {out} is a folder; a {fmt.name} result is one file: give its path, "
            f"e.g. {out / DEFAULT_OUT.with_suffix(fmt.suffix).name}"
        )
    elif out.exists() and not args.overwrite:
        raise UsageError(f"{out} already exists; pass --overwrite or another --out")
    return out


@contextlib.contextmanager
def _output_folder(folder: Path) -> Iterator[None]:
    """Create ``folder`` (and its missing parents) and check it is writable; when the block
    fails, remove the folders created here again if empty (the run's work folder inside
    is gone by then): a failed run leaves nothing behind, and keeps what was there."""
    created = [p for p in (folder, *folder.parents) if not p.exists()]  # deepest first
    try:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"cannot create the output folder {folder}: {exc.strerror}") from exc
        try:
            with tempfile.NamedTemporaryFile(dir=folder, prefix=".hybrid-probe-"):
                pass
        except OSError as exc:
            raise UsageError(f"output folder {folder} is not writable: {exc.strerror}") from exc
        yield
    except BaseException:
        for path in created:
            with contextlib.suppress(OSError):
                path.rmdir()
        raise


def handle(args: argparse.Namespace) -> int:
    from hybrid.backends.local.shared_loads import shared_loads
    from hybrid.io.reader import open_result
    from hybrid.summary import format_table, summarise

    if args.udp and args.graph is None:
        raise UsageError("--udp goes with --graph: the built-in workflow calls no such process")
    if args.graph is not None:
        out, files = produce_graph(args)
        print("\n".join(run_graph.summary(out, files)))
        return 0
    if args.plots:  # before the run: a figure folder that cannot be, not after the result
        check_folder(args.plots, "--plots")
    # the scene table, the engine and the quicklooks share one search and one read
    with shared_loads(_scene_bands(args)):
        out, workflow = produce(args)
        cube = open_result(out)  # the one read of the result: summary and figures
        print(format_table(summarise(cube)))
        print(f"result: {out}")
        if args.plots:
            from hybrid.plots import plot_result

            progress = progress_enabled(quiet=args.quiet)
            plots = plot_result(
                cube, Path(args.plots), workflow=workflow, stac=args.stac, progress=progress
            )
            for path in plots:
                print(f"figure: {path}")
    return 0


def _scene_bands(args: argparse.Namespace) -> tuple[str, ...]:
    """The bands this process reads more than once, kept in memory after the first read:
    SCL (the AOI-cloud table), the quicklooks' RGB, and the workflow's bands when the
    engine is local (a remote one reads its own). Nothing with one reader: the engine
    alone streams its load block by block (keeping it cost 1.5x the time and 4x the peak
    memory of a plain run: benchmarks/README.md, "Fourth round")."""
    from hybrid.backends.names import LOCAL
    from hybrid.params import DEFAULT_BANDS
    from hybrid.quicklooks import RGB_BANDS

    readers = [
        DEFAULT_BANDS if args.backend == LOCAL else (),
        ("SCL",) if args.max_aoi_cloud is not None else (),
        RGB_BANDS if args.plots else (),
    ]
    if sum(1 for bands in readers if bands) < 2:
        return ()
    return tuple(dict.fromkeys(band for bands in readers for band in bands))


def produce(args: argparse.Namespace) -> tuple[Path, Workflow]:
    """Build the workflow from ``args``, run it, move the result into place: the work of
    ``hybrid run`` (and :func:`hybrid.run`) without the printing."""
    from hybrid.io.registry import find_format
    from hybrid.workflow import with_max_aoi_cloud

    _check_cluster_options(args)
    if args.max_aoi_cloud is not None and args.backend != "local" and not args.stac:
        raise UsageError(
            "--max-aoi-cloud with a remote backend needs --stac (e.g. earth-search) to "
            "measure each scene's cloud over the AOI"
        )
    from hybrid.backends.local.shared_loads import current, shared_loads

    if current() is None:  # hybrid.run: the scene table and the engine share the reads
        with shared_loads(_scene_bands(args)):
            return produce(args)
    workflow = with_max_aoi_cloud(workflow_from_args(args), args.max_aoi_cloud, stac=args.stac)
    fmt = find_format(workflow.format, kind="raster")
    assert fmt is not None  # workflow_from_args checked it
    if fmt.name not in RUN_FORMATS:
        raise UsageError(
            f"--format {fmt.name}: hybrid run writes and summarises "
            f"{' or '.join(RUN_FORMATS)}; for {fmt.name}, build the graph with "
            f"'hybrid graph --format {fmt.name}' and run it on a backend"
        )
    out = _target(args, fmt)
    with _output_folder(out.parent):
        _run(args, workflow, out, fmt)
    return out, workflow


def produce_graph(
    args: argparse.Namespace, graph: dict[str, Any] | None = None
) -> tuple[Path, list[Path]]:
    """Run the graph file ``--graph`` names (or ``graph``, read already); its files into
    the folder ``--out``."""
    from hybrid.backends import get_backend
    from hybrid.cli import build_parser, subparser

    run_graph.check_options(args, subparser(build_parser(), "run"))
    _check_cluster_options(args)
    from hybrid.backends.names import LOCAL
    from hybrid.graph_file import display_name

    check: LoadCheck = "batch"  # a run is a batch job: Copernicus's size check of its loads
    if graph is None:
        from hybrid.graph_file import read_document

        document = read_document(args.graph)
        if isinstance(document, Mapping) and not extent_check_wanted(document.get("job_options")):
            check = "off"  # a job document's option, as a batch job reads it
        source = document if isinstance(document, Mapping) else {}
        graph = run_graph.user_graph(source, name=display_name(args.graph))
    if args.udp and args.backend != LOCAL:
        raise UsageError("--udp inlines processes for the local backend; store them on "
                         f"{args.backend} instead (PUT /process_graphs/{{id}})")  # fmt: skip
    backend = get_backend(args.backend, _settings(args, progress_enabled(quiet=args.quiet)))
    if args.backend == LOCAL:  # a remote backend runs the processes stored there
        graph = run_graph.with_udps(graph, args.udp, backend)
    out = run_graph.target_folder(args)
    reason = backend.availability()
    if reason:
        raise UsageError(f"backend {args.backend} is not available: {reason}")
    graph = run_graph.with_default_save(graph, backend)
    with _output_folder(out.parent), work_folder(out.parent, "hybrid-run") as tmp:
        with load_check(check):
            result = backend.execute(graph, out_dir=Path(tmp) / "files")
        staging = Path(tmp) / "result"
        files = run_graph.install_folder(result.files, staging, out, overwrite=args.overwrite)
    return out, files


def _check_cluster_options(args: argparse.Namespace) -> None:
    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers {args.workers} must be at least 1")
    if args.workers is not None and getattr(args, "scheduler", None) is not None:
        raise UsageError(
            "--workers starts a local cluster and --scheduler names a running one; give one"
        )
    if args.scheduler is not None:
        from hybrid.backends.local.cluster import scheduler_address

        scheduler_address(args.scheduler)  # a wrong address fails now, not after loading


def _run(args: argparse.Namespace, workflow: Workflow, out: Path, fmt: Format) -> None:
    """Run ``workflow`` on the backend ``args`` names; install its result as ``out``."""
    from hybrid.backends import get_backend
    from hybrid.backends.base import Resumes
    from hybrid.workflow import record_exclusions
    from hybrid.workflow_graph import build_graph

    graph = build_graph(workflow)
    progress = progress_enabled(quiet=args.quiet)
    backend = get_backend(args.backend, _settings(args, progress))
    reason = backend.availability()
    if reason:
        raise UsageError(f"backend {args.backend} is not available: {reason}")
    with work_folder(out.parent, "hybrid-run") as tmp:
        if args.resume:
            if not isinstance(backend, Resumes):
                raise UsageError("--resume needs a remote backend (--backend copernicus or URL)")
            result = backend.resume(args.resume, out_dir=Path(tmp))
        else:
            result = backend.execute(graph, out_dir=Path(tmp))
        # still in the temporary folder: the file appears complete or not at all
        record_exclusions(result.files, workflow)
        _install(result.files, out, fmt, staging=Path(tmp) / ".result", overwrite=args.overwrite)


def _settings(args: argparse.Namespace, progress: bool) -> LocalSettings | RemoteSettings:
    """The settings object of the backend ``--backend`` names."""
    from hybrid.backends.local import LocalSettings
    from hybrid.backends.names import LOCAL
    from hybrid.backends.remote import RemoteSettings

    if args.backend == LOCAL:
        from hybrid.backends.local.cluster import memory_limit

        limit = memory_limit(getattr(args, "memory_limit", None))
        if limit and not args.workers:
            raise UsageError("--memory-limit applies to the workers of --workers N")
        return LocalSettings(
            stac=args.stac, workers=args.workers, scheduler=args.scheduler, progress=progress,
            memory_limit=limit,
        )  # fmt: skip
    return RemoteSettings(
        progress=progress, poll_interval=args.poll_interval, max_poll_interval=check_polling(args)
    )


def _install(
    files: tuple[Path, ...], out: Path, fmt: Format, *, staging: Path, overwrite: bool
) -> list[Path]:
    """Move the backend's files into place (each move is an atomic rename; a folder of
    files replaces an old ``out`` as a whole, never adds to it)."""
    if not fmt.per_label:
        own = [f for f in files if fmt.holds(f)]
        if len(own) != 1:
            raise UsageError(
                f"expected one {fmt.name} result, the backend wrote {len(files)} files"
            )
        shutil.move(str(own[0]), str(out))
        return [out]
    return run_graph.install_folder(files, staging, out, overwrite=overwrite)
