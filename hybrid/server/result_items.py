"""The STAC Item of each result file, which the results Collection links as ``rel: item``.

Copernicus links one Item per data file (GeoTIFF, netCDF, CSV, Parquet) from its results
Collection, signed so that it opens without credentials
(``/jobs/ID/results/items/USER/KEY/FILENAME?expires=``: openeo-python-driver ``views.py``
``_list_job_results``, about lines 1255-1275; the real answer in
../shared/cdse/real-job/job-results.json), and answers it from ``_get_job_result_item``
(about lines 1722-1790): id the file name, ``datetime`` the file's date (one GeoTIFF per
date) or else the job's start and end, the lon/lat bbox and footprint, the one asset,
links ``self`` and ``collection``. STAC readers (pystac ``Collection.get_items()``,
Copernicus's own ``load_result`` of a results URL) find the files and their dates that way.

Here the link is ``/jobs/ID/results/items/TOKEN/FILENAME``, TOKEN the signed claim of the
file's download link (:class:`hybrid.server.results.ResultLinks`): whoever may download a
file may read its Item.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

from hybrid.server.asset_fields import asset_fields, lonlat_bbox
from hybrid.server.jobs import Job
from hybrid.server.results import STAC_VERSION, ResultLinks, data_assets, footprint, interval

#: the media types Copernicus links an Item for (views.py ``_list_job_results``)
_ITEM_MEDIA = ("geotiff", "netcdf", "text/csv", "application/parquet")
#: the date in a per-date file name: ``openEO_2023-06-12Z.tif``, ``x_2023-06-12Z_B04.tif``
_FILE_DATE = re.compile(r"_(\d{4}-\d{2}-\d{2})Z(?=[._])")
ITEM_MEDIA_TYPE = "application/geo+json"


def item_url(*, base_url: str, links: ResultLinks, job_id: str, filename: str) -> str:
    token = links.token(job_id=job_id, filename=filename)
    return f"{base_url.rstrip('/')}/jobs/{job_id}/results/items/{token}/{quote(filename)}"


def item_links(
    job: Job, assets: dict[str, dict[str, Any]], *, base_url: str, links: ResultLinks
) -> list[dict[str, Any]]:
    """The ``rel: item`` links of the data files that have an Item."""
    return [
        {
            "rel": "item",
            "href": item_url(base_url=base_url, links=links, job_id=job.id, filename=name),
            "type": ITEM_MEDIA_TYPE,
        }
        for name, asset in assets.items()
        if any(media in asset.get("type", "") for media in _ITEM_MEDIA)
    ]


def file_times(job: Job, filename: str) -> dict[str, Any]:
    """A result file's ``datetime`` (the date in its name), else the job's start and end
    (``datetime`` when they are the same, else null)."""
    date = _FILE_DATE.search(filename)
    properties: dict[str, Any] = {"datetime": f"{date.group(1)}T00:00:00Z" if date else None}
    if date is None:
        times = interval(job.results_graph)
        if times and times.get("start_datetime") == times.get("end_datetime"):
            properties["datetime"] = times["start_datetime"]
        else:
            properties.update(times)
    return properties


def asset_item(
    job: Job, filename: str, *, base_url: str, links: ResultLinks, result_dir: Path
) -> dict[str, Any]:
    """The STAC Item of the result file ``filename`` (which the caller checked exists)."""
    asset = data_assets(job, base_url=base_url, links=links, result_dir=result_dir)[filename]
    asset.update(asset_fields(job, result_dir, filename))
    bbox = lonlat_bbox({filename: asset}) or footprint(job.results_graph)[0]
    geometry = None
    if bbox is not None:
        west, south, east, north = bbox
        ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
        geometry = {"type": "Polygon", "coordinates": [ring]}
    properties = file_times(job, filename)
    for key in ("proj:epsg", "proj:bbox", "proj:shape"):
        if key in asset:
            properties[key] = asset[key]
    root = base_url.rstrip("/")
    return {
        "type": "Feature",
        "stac_version": STAC_VERSION,
        "stac_extensions": [
            "https://stac-extensions.github.io/eo/v1.1.0/schema.json",
            "https://stac-extensions.github.io/file/v2.1.0/schema.json",
            "https://stac-extensions.github.io/projection/v1.1.0/schema.json",
        ],
        "id": filename,
        "geometry": geometry,
        "bbox": bbox,
        "properties": properties,
        "links": [
            {
                "rel": "self",
                "href": item_url(base_url=base_url, links=links, job_id=job.id, filename=filename),
                "type": ITEM_MEDIA_TYPE,
            },
            {
                "rel": "collection",
                "href": f"{root}/jobs/{job.id}/results",
                "type": "application/json",
            },
        ],
        "assets": {filename: asset},
        "collection": job.id,
    }
