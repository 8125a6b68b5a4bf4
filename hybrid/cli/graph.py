"""``hybrid graph``: print the flat process-graph JSON every backend receives."""

from __future__ import annotations

import argparse
from typing import Any

from hybrid.cli.options import add_workflow_arguments, workflow_from_args


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "graph",
        help="print the process graph JSON",
        description="Print the flat openEO process graph of the workflow: exactly what "
        "every backend receives.",
    )
    add_workflow_arguments(p)
    p.add_argument("--stac", help="STAC source used to compute --max-aoi-cloud exclusions")
    p.set_defaults(handle=handle)


def handle(args: argparse.Namespace) -> int:
    from hybrid.workflow import with_max_aoi_cloud
    from hybrid.workflow_graph import build_graph, graph_json

    workflow = with_max_aoi_cloud(workflow_from_args(args), args.max_aoi_cloud, stac=args.stac)
    print(graph_json(build_graph(workflow)))
    return 0
