"""``hybrid plot RESULT``: quicklooks, cloud mask, NDVI maps and time series as PNGs."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

from hybrid.cli.options import check_folder, parse_scl_classes
from hybrid.errors import UsageError


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "plot",
        help="draw a result: RGB quicklooks, cloud mask, NDVI maps and time series (PNG)",
        description="Write the figures of a result (NetCDF file or GTiff folder): RGB "
        "quicklooks of every scene before and after the cloud mask, the cloud mask, NDVI "
        "maps per period and the NDVI time series. The quicklooks re-load the scenes from "
        "--stac (default: the embedded sample) for the result's area and scene dates; give "
        "the options you gave 'hybrid run' when they differ from the defaults.",
    )
    p.add_argument("result", type=Path, metavar="RESULT", help="result file or folder")
    p.add_argument(
        "--out", type=Path, metavar="DIR",
        help="folder for the PNGs (default: 'figures' beside RESULT)",
    )  # fmt: skip
    p.add_argument(
        "--stac", metavar="SOURCE",
        help="STAC source of the scenes (default: the embedded sample); see 'hybrid run'",
    )  # fmt: skip
    p.add_argument(
        "--compare", type=Path, metavar="OTHER",
        help="also draw RESULT, OTHER and their difference per period (comparison.png)",
    )  # fmt: skip
    g = p.add_argument_group("scenes of the quicklooks (defaults: as recorded in RESULT / run)")
    g.add_argument("--aoi", metavar="FILE", help="GeoJSON area of interest (default: RESULT's)")
    g.add_argument("--start", metavar="DATE", help="first day (default: RESULT's first scene)")
    g.add_argument("--end", metavar="DATE", help="first day NOT included (default: after the last)")
    g.add_argument("--max-cloud-cover", type=float, default=20.0, metavar="PCT",
                   help="tile cloud cover limit of the load (default 20)")  # fmt: skip
    g.add_argument("--cloud-classes", default="8,9", metavar="LIST",
                   help="SCL classes masked as cloud (default 8,9)")  # fmt: skip
    g.add_argument("--kernel-size", type=int, default=11, help="Gaussian kernel size (odd)")
    g.add_argument("--kernel-std", type=float, default=1.6, help="Gaussian kernel std (pixels)")
    g.add_argument("--threshold", type=float, default=0.1, help="dilated fraction that masks")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(handle=handle)


def default_out(result: Path) -> Path:
    """``figures`` beside the result file or folder."""
    return result.parent / "figures"


def handle(args: argparse.Namespace) -> int:
    from hybrid.aoi import read_aoi
    from hybrid.frame_comparison import refuse_plots
    from hybrid.io.reader import open_any, open_result
    from hybrid.plots import plot_comparison, plot_result
    from hybrid.progress import progress_enabled
    from hybrid.quicklooks import workflow_for_result
    from hybrid.validation import check_dates, check_workflow, parse_date

    # what the user gave is checked before any figure is drawn: a wrong date is an error,
    # not a run without quicklooks, and a missing --compare leaves no figures behind
    for option, date in (("--start", args.start), ("--end", args.end)):
        if date is not None:
            parse_date(date, option=option)
    if args.start is not None and args.end is not None:
        check_dates(args.start, args.end)
    out = args.out or default_out(args.result)
    cube = open_result(args.result)
    other = None if args.compare is None else open_any(args.compare)
    if other is not None:
        refuse_plots(cube, other)
    check_folder(out, "--out")
    aoi = read_aoi(args.aoi) if args.aoi else None
    workflow = None
    try:
        base = workflow_for_result(cube, aoi=aoi, start=args.start, end=args.end)
    except UsageError as exc:
        print(f"hybrid: no quicklooks ({exc})", file=sys.stderr)
    else:
        workflow = dataclasses.replace(
            base,
            max_cloud_cover=args.max_cloud_cover,
            cloud_classes=parse_scl_classes(args.cloud_classes),
            kernel_size=args.kernel_size,
            kernel_std=args.kernel_std,
            threshold=args.threshold,
        )
        check_workflow(workflow)
    progress = progress_enabled(quiet=args.quiet)
    paths = plot_result(
        args.result, out, workflow=workflow, stac=args.stac, aoi=aoi, progress=progress
    )
    if other is not None:
        paths.append(plot_comparison(args.result, other, out / "comparison.png"))
    for path in paths:
        print(f"figure: {path}")
    return 0
