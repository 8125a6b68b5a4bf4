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
    from hybrid.scene_table import DEFAULT_CLASSES, dates_above, scene_table

    rows = scene_table(workflow, stac=getattr(args, "stac", None))
    above = dates_above(rows, limit)
    if rows and len(above) == len(rows):
        raise UsageError(
            f"--max-aoi-cloud {limit:g} excludes all {len(rows)} dates (the clearest has "
            f"{min(r.aoi_cloud_pct for r in rows):.1f} % cloud over the AOI); raise the limit "
            "or check them with 'hybrid scenes'"
        )
    excluded = tuple(sorted(set(workflow.exclude_dates) | set(dates_above(rows, limit))))
    extra = dict(workflow.extra)
    extra["max_aoi_cloud"] = limit
    extra["aoi_cloud_classes"] = DEFAULT_CLASSES
    extra["aoi_cloud_excluded"] = above
    return dataclasses.replace(workflow, exclude_dates=excluded, extra=extra)


def exclusion_attributes(workflow: Workflow) -> dict[str, str | int | float]:
    """Result attributes (``hybrid_*``) recording the dates the graph excludes, and why."""
    from hybrid.io.provenance import provenance_attributes

    if not workflow.exclude_dates and "max_aoi_cloud" not in workflow.extra:
        return {}
    found = {"excluded_dates": ", ".join(workflow.exclude_dates)}
    if "max_aoi_cloud" in workflow.extra:
        classes = ",".join(str(c) for c in workflow.extra.get("aoi_cloud_classes", ()))
        found["max_aoi_cloud"] = (
            f"{workflow.extra['max_aoi_cloud']:g} % of the valid AOI pixels in SCL classes "
            f"{classes}, computed from the STAC source at graph build time"
        )
    return provenance_attributes(found)


def record_exclusions(files: Any, workflow: Workflow) -> None:
    """Add :func:`exclusion_attributes` to the global attributes of result files."""
    from hybrid.io.registry import format_of_file

    attrs = exclusion_attributes(workflow)
    if not attrs:
        return
    for file in files:
        fmt = format_of_file(file)
        if fmt is not None and fmt.annotate is not None:
            fmt.annotate(file, attrs)
