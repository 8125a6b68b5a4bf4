"""Steps that turn user options into the final Workflow (before the graph is built)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hybrid.errors import UsageError
from hybrid.params import Workflow
from hybrid.validation import check_percentage

if TYPE_CHECKING:
    from hybrid.scene_table import SceneRow


def with_max_aoi_cloud(workflow: Workflow, limit: float | None, *, stac: str | None) -> Workflow:
    """The workflow with the dates ``--max-aoi-cloud`` excludes, measured once from the
    STAC source with the workflow's own cloud classes (:func:`resolve_exclusions`)."""
    check_percentage(limit, "--max-aoi-cloud")
    if limit is None:
        return workflow
    from hybrid.scene_table import scene_table

    rows = scene_table(workflow, stac=stac, classes=workflow.cloud_classes)
    return resolve_exclusions(workflow, rows, limit)


def resolve_exclusions(workflow: Workflow, rows: Sequence[SceneRow], limit: float) -> Workflow:
    """Fix the dates whose AOI cloud in ``rows`` (the scene table of ``workflow``, counted
    with its ``cloud_classes``) exceeds ``limit`` percent, at build time."""
    from hybrid.scene_table import dates_above

    check_percentage(limit, "--max-aoi-cloud")
    above = dates_above(rows, limit)
    if rows and len(above) == len(rows):
        raise UsageError(
            f"--max-aoi-cloud {limit:g} excludes all {len(rows)} dates (the clearest has "
            f"{min(r.aoi_cloud_pct for r in rows):.1f} % cloud over the AOI); raise the limit "
            "or check them with 'hybrid scenes'"
        )
    excluded = tuple(sorted(set(workflow.exclude_dates) | set(above)))
    extra = dict(workflow.extra)
    extra["max_aoi_cloud"] = limit
    extra["aoi_cloud_classes"] = workflow.cloud_classes
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
