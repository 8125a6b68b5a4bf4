"""The one NDVI process graph, built with the openeo client's DataCube API.

Every backend - Copernicus, the local engine, the emulator - receives exactly the flat
JSON that :func:`build_graph` returns (``hybrid graph`` prints it).
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from hybrid.params import COLLECTION_ID, Workflow

if TYPE_CHECKING:
    from openeo.rest.result import SaveResult


def build_cube(workflow: Workflow) -> SaveResult:
    """The workflow as an openeo ``DataCube`` (no connection needed)."""
    from openeo.rest.datacube import DataCube

    from hybrid.aoi import geometry_bbox
    from hybrid.kernel import gaussian_kernel

    bbox = geometry_bbox(workflow.aoi)
    extent = {"west": bbox.west, "south": bbox.south, "east": bbox.east, "north": bbox.north}
    cube = DataCube.load_collection(
        COLLECTION_ID,
        connection=None,
        spatial_extent=extent,
        temporal_extent=[workflow.start, workflow.end],
        bands=list(workflow.bands),
        max_cloud_cover=workflow.max_cloud_cover,
        fetch_metadata=False,
    )
    if workflow.exclude_dates:
        cube = cube.filter_labels(_date_exclusion(workflow.exclude_dates), dimension="t")
    if workflow.mask_polygon:
        cube = cube.mask_polygon(workflow.aoi)

    scl = cube.band("SCL")
    cloud: Any = None
    for cls in workflow.cloud_classes:
        hit: Any = scl == cls
        cloud = hit if cloud is None else (cloud | hit)
    if cloud is None:
        raise ValueError("at least one cloud class is needed")
    kernel = gaussian_kernel(workflow.kernel_size, workflow.kernel_std)
    dilated = cloud.apply_kernel(kernel) > workflow.threshold
    masked = cube.mask(dilated)
    ndvi = masked.ndvi(nir="B08", red="B04")

    if workflow.intervals:
        intervals = [[i.start.isoformat(), i.end.isoformat()] for i in workflow.intervals]
        labels = [i.label or i.start.isoformat() for i in workflow.intervals]
        result = ndvi.aggregate_temporal(intervals, workflow.reducer, labels=labels)
    else:
        result = ndvi.aggregate_temporal_period(workflow.period, workflow.reducer)
    return result.save_result(workflow.format)


def _date_exclusion(dates: tuple[str, ...]) -> Any:
    """A filter_labels condition keeping every label whose UTC date is not in ``dates``.

    Each excluded day ``D`` becomes ``eq(date_between(value, D, D+1, exclude_max=true),
    false)`` and the days are joined with ``and``: labels are matched by their date,
    whatever time of day or format (``2023-05-02``, ``2023-05-02T00:00:00Z``) a backend
    hands the condition. Only processes the Copernicus backend evaluates on the label
    itself are used: there the condition is pushed into the catalog query and compiled
    by openeo-geotrellis-extensions' OpenEOProcessScriptBuilder, which runs
    ``date_between`` and ``eq``/``and`` against constants on scalars, but has no
    ``text_begins`` and only tile versions of ``not``/``any``/``all``. Bounds are full
    RFC 3339 instants because that builder parses them with ``ZonedDateTime.parse``.
    """
    import datetime as dt

    from openeo.processes import and_, date_between, eq

    days = sorted({dt.date.fromisoformat(d[:10]) for d in dates})

    def instant(day: dt.date) -> str:
        return f"{day.isoformat()}T00:00:00Z"

    def condition(value: Any) -> Any:
        keep = [
            eq(
                date_between(
                    value, instant(day), instant(day + dt.timedelta(days=1)), exclude_max=True
                ),
                False,
            )
            for day in days
        ]
        while len(keep) > 1:  # a balanced tree of binary ``and``
            pairs = [and_(a, b) for a, b in zip(keep[::2], keep[1::2], strict=False)]
            keep = pairs + ([keep[-1]] if len(keep) % 2 else [])
        return keep[0]

    return condition


def build_graph(workflow: Workflow) -> dict[str, Any]:
    """The flat process graph (node id -> node) of the workflow."""
    graph: dict[str, Any] = build_cube(workflow).flat_graph()
    return graph


def graph_json(graph: dict[str, Any]) -> str:
    """Canonical JSON of a flat graph: sorted keys, stable across runs."""
    return json.dumps(graph, sort_keys=True, indent=2)


def graph_hash(graph: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of a flat graph."""
    return hashlib.sha256(json.dumps(graph, sort_keys=True).encode()).hexdigest()
