"""What the size check of a load (:mod:`hybrid.backends.local.load_size`) reads of each
trace end the dry run (:mod:`hybrid.backends.local.extents`) follows from the load."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SizeHint:
    """What one trace end hands the load that the size check reads."""

    #: the first resample handed to the load: (process id, resolution, projection); None:
    #: none
    resample: tuple[Any, ...] | None = None
    #: aggregate_spatial's (else filter_spatial's) geometries follow
    geometries: bool = False
    #: their rough area in square degrees; None: not known here
    rough_area: float | None = None


def size_hint(trace: Any) -> SizeHint:
    """What Copernicus's size check reads of one trace end (``extents._Trace``): its
    geometries are aggregate_spatial's, else filter_spatial's (python-driver
    ``processgraph/load_params.py`` L228-230); an area below 0 is not known here."""
    area = trace.filtered_area if trace.aggregated_area is None else trace.aggregated_area
    known = None if area is None or area < 0 else float(area)
    return SizeHint(trace.resample, geometries=area is not None, rough_area=known)


def resample_hint(pid: str, args: Mapping[str, Any]) -> tuple[Any, ...]:
    """A resample handed to the load as a trace keeps it (hashable): its process id,
    resolution and projection (an object as JSON text, which pyproj reads too)."""
    import json

    resolution, projection = args.get("resolution"), args.get("projection")
    if isinstance(resolution, list):
        resolution = tuple(resolution)
    if isinstance(projection, Mapping | list):
        projection = json.dumps(projection, sort_keys=True, default=str)
    return (pid, resolution, projection)
