"""``hybrid scenes``: each scene the load selects, with its cloud cover over the AOI."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from hybrid.cli.options import (
    add_stac_argument,
    add_workflow_arguments,
    check_folder,
    workflow_from_args,
)
from hybrid.validation import check_percentage


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "scenes",
        help="list the scenes the load selects, with their cloud cover over the AOI",
        description="One row per date the workflow's load_collection selects: tiles, item "
        "ids, the tile cloud cover (eo:cloud_cover), the cloud fraction over the AOI from "
        "the SCL band, and the valid-data fraction over the AOI. Use the AOI fraction "
        "with 'hybrid run --max-aoi-cloud PCT' to drop the dates cloudy over your field.",
    )
    add_workflow_arguments(p, processing=False)
    add_stac_argument(p)
    # one definition of cloud: the table counts --cloud-classes, as the mask uses them
    p.add_argument(
        "--classes", dest="cloud_classes", default=argparse.SUPPRESS, metavar="LIST",
        help="old name of --cloud-classes",
    )  # fmt: skip
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument(
        "--plots", metavar="DIR", help="also write a quicklook grid (RGB) of the scenes into DIR"
    )
    p.set_defaults(handle=handle)


def handle(args: argparse.Namespace) -> int:
    from hybrid.scene_table import dates_above, format_scene_table, scene_table

    workflow = workflow_from_args(args)
    classes = workflow.cloud_classes
    limit = args.max_aoi_cloud
    check_percentage(limit, "--max-aoi-cloud")
    if args.plots:
        check_folder(args.plots, "--plots")
    rows = scene_table(workflow, stac=args.stac, classes=classes)
    if args.json:
        doc: dict[str, Any] = {
            "stac": str(args.stac) if args.stac else "embedded sample",
            "start": workflow.start,
            "end": workflow.end,
            "max_cloud_cover": workflow.max_cloud_cover,
            "classes": list(classes),
            "scenes": [r.as_json() for r in rows],
        }
        if limit is not None:
            doc["max_aoi_cloud"] = limit
            doc["excluded_dates"] = list(dates_above(rows, limit))
        print(json.dumps(doc, indent=2))
    else:
        print(format_scene_table(rows, max_aoi_cloud=limit, classes=classes))
    if args.plots:
        path = plot_scenes(workflow, rows, args.plots, stac=args.stac)
        # --json keeps stdout pure JSON
        print(f"figure: {path}", file=sys.stderr if args.json else sys.stdout)
    return 0


#: file name of the quicklook grid ``--plots`` writes
QUICKLOOK_NAME = "scenes_quicklook.png"


def plot_scenes(workflow: Any, rows: Any, out_dir: str, *, stac: str | None) -> Path:
    """RGB quicklooks (B04/B03/B02, 0..2000 DN) titled with each AOI cloud fraction."""
    from hybrid.plots import save_png
    from hybrid.quicklooks import load_scenes, quicklook_figure
    from hybrid.scene_table import far_apart

    stack = load_scenes(workflow, stac=stac)
    fig = quicklook_figure(stack, masked=False, aoi=workflow.aoi)
    by_date = {r.date: r for r in rows}
    for ax, date in zip(fig.axes, stack.dates, strict=False):
        row = by_date.get(date)
        if row is None:
            continue
        aoi = f"{row.aoi_cloud_pct:.0f} %" if math.isfinite(row.aoi_cloud_pct) else "n/a"
        tile = row.tile_cloud_pct
        ax.set_title(
            f"{date}\nAOI cloud {aoi} (tile {'n/a' if tile is None else f'{tile:.0f} %'})",
            fontsize="small",
            color="#b2182b" if far_apart(row) else "black",
        )
    fig.suptitle(
        "Scenes the load selects: cloud over the AOI (SCL) vs the tile's eo:cloud_cover; "
        "red: far apart",
        fontsize="medium",
    )
    return Path(save_png(fig, Path(out_dir) / QUICKLOOK_NAME))
