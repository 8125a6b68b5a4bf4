"""Steps that turn user options into the final Workflow (before the graph is built)."""

from __future__ import annotations

import dataclasses
from typing import Any

from hybrid.errors import UsageError
from hybrid.params import Workflow


def resolve_exclusions(workflow: Workflow, args: Any) -> Workflow:
    """Fix the dates excluded by ``--max-aoi-cloud`` from the STAC source, at build time."""
    limit = getattr(args, "max_aoi_cloud", None)
    if limit is None:
        return workflow
    if not 0 <= limit <= 100:
        raise UsageError(f"--max-aoi-cloud {limit} must be a percentage in [0, 100]")
    from hybrid.scenes import scene_table

    rows = scene_table(workflow, stac=getattr(args, "stac", None))
    excluded = tuple(sorted({r.date for r in rows if r.aoi_cloud_pct > limit}))
    extra = dict(workflow.extra)
    extra["max_aoi_cloud"] = limit
    return dataclasses.replace(workflow, exclude_dates=excluded, extra=extra)
