"""The STAC Collection that ``GET /jobs/{id}/results`` answers, shaped as Copernicus's.

Copernicus answers a Collection at API >= 1.1 (openeo-python-driver ``views.py``
``_list_job_results``, about lines 1170-1310): ``id`` the job id, ``title``, ``description``
(default "Results for batch job <id>"), ``license`` "proprietary", ``extent`` (the job's
bbox, else the whole world; its start and end; here the bbox of the graph's load, else
of the result file, else the world), ``summaries``, ``providers`` (with the
process graph as ``processing:expression``), ``links`` (``self``, ``canonical``: a
signed URL anyone holding it may read), the
result files as ``assets`` and ``openeo:status``. For an unfinished job asked with
``partial=true`` it answers a Collection with the job's status (views.py about line 1090);
so does this one, with the job's own extent and an empty ``assets`` (which the API's
schema requires).

Each data asset carries what its file's header says (:mod:`hybrid.io.raster_facts`): band
names as ``bands`` and ``eo:bands``, ``proj:epsg``, ``proj:shape``, ``proj:bbox``, as
``_asset_object`` (views.py about line 1809) does, and the statistics GDAL computes of its
bands as ``raster:bands`` (:mod:`hybrid.io.raster_statistics`). Each data file's STAC Item
is linked as ``rel: item`` (:mod:`hybrid.server.result_items`). Copernicus also links the
source scenes (``derived_from``) and a CARD4L document; this local backend's scene list
is in the job log, so it adds neither.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hybrid.server.asset_fields import asset_fields, lonlat_bbox
from hybrid.server.jobs import Job
from hybrid.server.model_results import model_links, with_model_summaries
from hybrid.server.result_items import item_links
from hybrid.server.results import (
    FILE_EXTENSION,
    STAC_VERSION,
    ResultLinks,
    data_assets,
    footprint,
    interval,
    result_status,
)

#: the extensions Copernicus declares on this document (views.py ``STAC_EXTENSION``; the
#: versions of its answer in ../shared/cdse/real-job/job-results.json)
EXTENSIONS = [
    "https://stac-extensions.github.io/eo/v1.1.0/schema.json",
    FILE_EXTENSION,
    "https://stac-extensions.github.io/processing/v1.1.0/schema.json",
    "https://stac-extensions.github.io/projection/v1.1.0/schema.json",
]
_WORLD = [-180.0, -90.0, 180.0, 90.0]


def result_collection(
    job: Job, *, base_url: str, links: ResultLinks, result_dir: Path, partial: bool = False
) -> dict[str, Any]:
    """The STAC Collection describing a job's results, with signed asset links; asked
    ``partial``, its ``canonical`` link asks so too (views.py L1066-1075), so that it
    opens while the job runs."""
    canonical = links.results_url(base_url=base_url, job_id=job.id)
    assets = data_assets(job, base_url=base_url, links=links, result_dir=result_dir)
    for name, asset in assets.items():
        asset.update(asset_fields(job, result_dir, name))
    bbox = footprint(job.results_graph)[0] or lonlat_bbox(assets)
    times = interval(job.results_graph)
    self_url = f"{base_url.rstrip('/')}/jobs/{job.id}/results"
    collection: dict[str, Any] = {
        "type": "Collection",
        "stac_version": STAC_VERSION,
        "stac_extensions": list(EXTENSIONS),
        "id": job.id,
        "title": job.title or f"Unfinished batch job {job.id}",
        "description": job.description or f"Results for batch job {job.id}",
        "license": "proprietary",
        "extent": {
            "spatial": {"bbox": [bbox or _WORLD]},
            "temporal": {"interval": [[times.get("start_datetime"), times.get("end_datetime")]]},
        },
        "summaries": {},
        "providers": [_provider(job)],
        "links": [
            {"rel": "self", "href": self_url, "type": "application/json"},
            # views.py job_results_canonical_url: signed, readable without credentials
            {
                "rel": "canonical",
                "href": f"{canonical}?partial=true" if partial else canonical,
                "type": "application/json",
            },
            *item_links(job, assets, base_url=base_url, links=links),
            *model_links(job, base_url=base_url, links=links),
        ],
        "assets": assets,
        "openeo:status": result_status(job),
    }
    with_model_summaries(collection, job, result_dir)
    if job.status == "finished" and not job.title:
        del collection["title"]  # Copernicus: dict_no_none drops a finished job's null title
    return collection


def _provider(job: Job) -> dict[str, Any]:
    """Who processed the data, as Copernicus's ``providers`` entry (real answer: VITO,
    "openEO Geotrellis backend", the process graph as ``processing:expression``)."""
    from hybrid import __version__

    return {
        "name": "hybrid",
        "description": "This data was processed by hybrid serve, a local openEO backend.",
        "roles": ["processor"],
        "processing:facility": "hybrid serve",
        "processing:software": {"hybrid": __version__},
        "processing:expression": {"format": "openeo", "expression": job.results_graph},
    }
