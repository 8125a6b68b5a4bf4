"""The workflow options shared by run, graph, record and scenes; the polling options of
run and record."""

from __future__ import annotations

import argparse
import contextlib
import math
import tempfile
from pathlib import Path
from typing import Any

from hybrid.errors import UsageError
from hybrid.io.registry import find_format, format_choices
from hybrid.params import PERIODS, REDUCERS, Workflow


def add_workflow_arguments(
    parser: argparse.ArgumentParser, *, processing: bool = True, aoi_cloud: bool = True
) -> None:
    """The workflow's options: those that select the scenes (every command that takes
    any), then - with ``processing`` - those that only change the computation after the
    load (``hybrid scenes`` has none of those); ``aoi_cloud`` adds ``--max-aoi-cloud``."""
    g = parser.add_argument_group("workflow (defaults: the seed AOI and season of the sample)")
    g.add_argument("--aoi", metavar="FILE", help="GeoJSON area of interest (lon/lat)")
    g.add_argument("--start", metavar="DATE", help="first day, YYYY-MM-DD (default 2023-05-01)")
    g.add_argument(
        "--end", metavar="DATE", help="first day NOT included, YYYY-MM-DD (default 2023-09-30)"
    )
    g.add_argument(
        "--max-cloud-cover", type=float, default=20.0, metavar="PCT",
        help="keep scenes whose tile cloud cover is <= PCT (default 20)",
    )  # fmt: skip
    g.add_argument(
        "--cloud-classes", default="8,9", metavar="LIST",
        help="SCL classes masked as cloud, comma separated (default 8,9)",
    )  # fmt: skip
    # the load's search envelope grows by the kernel's pixel buffer: it selects scenes too
    g.add_argument("--kernel-size", type=int, default=11, help="Gaussian kernel size (odd)")
    if aoi_cloud:
        g.add_argument(
            "--max-aoi-cloud", type=float, metavar="PCT",
            help="drop dates whose cloud fraction over the AOI exceeds PCT (in the graph itself)",
        )  # fmt: skip
    if not processing:
        return
    g.add_argument("--kernel-std", type=float, default=1.6, help="Gaussian kernel std (pixels)")
    g.add_argument("--threshold", type=float, default=0.1, help="dilated cloud fraction that masks")
    g.add_argument("--period", default="month", help=f"one of {', '.join(PERIODS)}")
    g.add_argument("--reducer", default="mean", help=f"one of {', '.join(REDUCERS)}")
    g.add_argument(
        "--intervals", metavar="FILE",
        help="JSON or CSV of [start, end) intervals (optional labels): aggregate_temporal",
    )  # fmt: skip
    g.add_argument(
        "--mask-polygon", action="store_true",
        help="mask pixels outside the AOI polygon (Copernicus only uses its bbox)",
    )  # fmt: skip
    g.add_argument(
        "--format", default="netCDF",
        help=f"{format_choices('raster')} (default netCDF; run: netCDF or GTiff)",
    )  # fmt: skip


def add_stac_argument(parser: argparse.ArgumentParser) -> None:
    from hybrid.stac.providers import PROVIDERS

    named = "; ".join(f"{p.name}: {p.title}" for p in PROVIDERS)
    parser.add_argument(
        "--stac", metavar="SOURCE",
        help="static STAC catalog/collection/item/ItemCollection JSON or folder, STAC API "
        f"URL, or a provider name ({named}) (default: the embedded sample)",
    )  # fmt: skip


def check_folder(path: str | Path, option: str) -> None:
    """Refuse, before any work, a folder ``option`` is to write into that cannot be one:
    a file, a path under a file, a place that is not writable. Folders created to try
    are removed again: the command makes them when it writes."""
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{option} {folder} is a file; give a folder")
    created = [p for p in (folder, *folder.parents) if not p.exists()]  # deepest first
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".hybrid-probe-"):
            pass
    except OSError as exc:
        raise UsageError(
            f"{option} {folder} cannot be written ({exc.strerror}); give a folder you can write"
        ) from None
    finally:
        for made in created:
            with contextlib.suppress(OSError):
                made.rmdir()


def parse_scl_classes(
    text: str, *, option: str = "--cloud-classes", example: str = "8,9"
) -> tuple[int, ...]:
    """A comma-separated list of SCL classes (0..11) from the command line."""
    try:
        classes = tuple(int(c) for c in text.split(",") if c.strip())
    except ValueError as exc:
        raise UsageError(f"{option} '{text}' must be integers, e.g. {example}") from exc
    if not classes or any(not 0 <= c <= 11 for c in classes):
        raise UsageError(f"{option} '{text}': SCL classes are 0..11, e.g. {example}")
    return classes


#: :class:`Workflow` fields set by the processing options alone
_PROCESSING = ("kernel_std", "threshold", "period", "reducer", "mask_polygon")


def workflow_from_args(args: Any) -> Workflow:
    """A checked :class:`Workflow` from parsed arguments."""
    from hybrid.aoi import read_aoi
    from hybrid.sample import SEED_AOI, SEED_END, SEED_START
    from hybrid.validation import check_dates, check_workflow

    if isinstance(args.aoi, dict):
        from hybrid.aoi import aoi_geometry

        aoi = aoi_geometry(args.aoi, source="aoi")
    else:
        aoi = read_aoi(args.aoi) if args.aoi else SEED_AOI
    start = args.start or SEED_START
    end = args.end or SEED_END
    check_dates(start, end)
    fmt_name = str(getattr(args, "format", Workflow.format))
    fmt = find_format(fmt_name, kind="raster")
    if fmt is None:
        choices = format_choices("raster")
        raise UsageError(f"--format '{fmt_name}' is not supported; use {choices}")
    intervals = None
    if getattr(args, "intervals", None):
        from hybrid.intervals import read_intervals

        intervals = read_intervals(args.intervals)
    workflow = Workflow(
        aoi=aoi,
        start=start,
        end=end,
        max_cloud_cover=args.max_cloud_cover,
        cloud_classes=parse_scl_classes(args.cloud_classes),
        kernel_size=args.kernel_size,
        intervals=intervals,
        format=fmt.name,
        # options a command without processing (``hybrid scenes``) lacks keep their defaults
        **{name: getattr(args, name) for name in _PROCESSING if hasattr(args, name)},
    )
    check_workflow(workflow)
    from hybrid.aoi import geometry_bbox, warn_if_mostly_empty
    from hybrid.grid import output_grid

    source = "the AOI" if args.aoi is None or isinstance(args.aoi, dict) else str(args.aoi)
    warn_if_mostly_empty(aoi, output_grid(geometry_bbox(aoi)), source=source)
    return workflow


#: the first delay between two status polls of a remote job, seconds
POLL_INTERVAL = 5.0
#: the longest poll delay when --max-poll-interval is not given, seconds
MAX_POLL = 60.0


def add_polling_arguments(parser: argparse.ArgumentParser) -> None:
    """``--poll-interval`` and ``--max-poll-interval`` of a command that waits on a
    remote batch job."""
    parser.add_argument(
        "--poll-interval", type=float, default=POLL_INTERVAL, metavar="S",
        help=f"first poll delay of a remote job, seconds (default {POLL_INTERVAL:g})",
    )  # fmt: skip
    parser.add_argument(
        "--max-poll-interval",
        type=float,
        metavar="S",
        help=f"longest poll delay, seconds (default: {MAX_POLL:g}, or --poll-interval if longer)",
    )


def check_polling(args: argparse.Namespace) -> float:
    """The longest poll delay; the options' own names in the error (NaN fails too)."""
    if not 0 < args.poll_interval < math.inf:
        raise UsageError(
            f"--poll-interval must be a positive number of seconds, not {args.poll_interval}"
        )
    if args.max_poll_interval is None:
        return max(MAX_POLL, args.poll_interval)
    if not args.poll_interval <= args.max_poll_interval < math.inf:
        raise UsageError(
            f"--max-poll-interval must be at least --poll-interval ({args.poll_interval:g} s) "
            f"and finite, not {args.max_poll_interval}"
        )
    return float(args.max_poll_interval)
