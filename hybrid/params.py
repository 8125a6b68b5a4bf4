"""The workflow's parameters: one frozen object travels from the CLI to every backend."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

#: the bands the seed workflow loads, in its order
DEFAULT_BANDS: tuple[str, ...] = ("B04", "B03", "B02", "B08", "SCL")
COLLECTION_ID = "SENTINEL2_L2A"
PERIODS = ("day", "week", "dekad", "month", "season", "tropical-season", "year")
REDUCERS = ("mean", "median", "min", "max", "sd", "count")
#: SCL classes that are cloud (8, 9: cloud medium and high probability): the one
#: definition the mask, ``hybrid scenes`` and ``--max-aoi-cloud`` share
DEFAULT_CLOUD_CLASSES: tuple[int, ...] = (8, 9)


@dataclass(frozen=True)
class Interval:
    """A left-closed interval [start, end) for ``aggregate_temporal``."""

    start: dt.date
    end: dt.date
    label: str | None = None


@dataclass(frozen=True)
class Workflow:
    """Everything that defines the NDVI process graph.

    Dates are ISO strings (``YYYY-MM-DD``); ``end`` is exclusive, as in openEO.
    """

    #: GeoJSON geometry (Polygon/MultiPolygon) in EPSG:4326
    aoi: dict[str, Any]
    start: str
    end: str
    bands: tuple[str, ...] = DEFAULT_BANDS
    #: load_collection's ``eo:cloud_cover <= max_cloud_cover`` (percent of the tile)
    max_cloud_cover: float | None = 20.0
    #: SCL classes that count as cloud: masked, and counted over the AOI
    cloud_classes: tuple[int, ...] = DEFAULT_CLOUD_CLASSES
    #: side of the square Gaussian dilation kernel (odd)
    kernel_size: int = 11
    #: standard deviation of the Gaussian, in pixels
    kernel_std: float = 1.6
    #: smoothed cloud fraction above which a pixel is masked
    threshold: float = 0.1
    period: str = "month"
    reducer: str = "mean"
    #: custom intervals switch the graph to ``aggregate_temporal``
    intervals: tuple[Interval, ...] | None = None
    #: dates (``YYYY-MM-DD``) dropped with filter_labels right after load_collection
    exclude_dates: tuple[str, ...] = ()
    #: apply the polygon itself with mask_polygon (Copernicus only uses its bbox)
    mask_polygon: bool = False
    #: save_result format: a raster format of :data:`hybrid.io.registry.FORMATS`
    format: str = "netCDF"
    extra: dict[str, Any] = field(default_factory=dict, compare=False)
