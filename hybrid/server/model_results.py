"""A batch job's saved model in its results, as Copernicus lists and serves it.

save_ml_model writes ``randomforest.model.tar.gz`` (an asset) and its STAC Item
``ml_model_metadata.json``, which is not an asset (openeo-geopyspark-driver 9baf2e10
``backend.py`` L2485-2490: ``asset: False``) but a ``rel: item`` link of the results
Collection, type ``application/json``; the Collection also declares the Item's
extensions and summarises its ``ml-model:learning_approach``, ``prediction_type`` and
``architecture`` (openeo-python-driver 9e5b49b2 ``views.py`` L1270-1276, L1309-1324).
The Item is answered with its assets' hrefs made download links and ``collection`` the
job's id (``_download_ml_model_metadata`` L1781-1807).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hybrid.io.model_item import METADATA_FILE
from hybrid.server.jobs import Job
from hybrid.server.result_items import item_url
from hybrid.server.results import ResultLinks

_SUMMARISED = (
    "ml-model:learning_approach",
    "ml-model:prediction_type",
    "ml-model:architecture",
)


def has_model(job: Job) -> bool:
    return job.status == "finished" and METADATA_FILE in job.files


def model_links(job: Job, *, base_url: str, links: ResultLinks) -> list[dict[str, Any]]:
    """The results Collection's link to the model's Item (none without a model)."""
    if not has_model(job):
        return []
    href = item_url(base_url=base_url, links=links, job_id=job.id, filename=METADATA_FILE)
    return [{"rel": "item", "href": href, "type": "application/json"}]


def with_model_summaries(collection: dict[str, Any], job: Job, result_dir: Path) -> None:
    """Add the model Item's extensions and ``ml-model`` summaries to ``collection``."""
    if not has_model(job):
        return
    stored = _stored(result_dir)
    collection["stac_extensions"].extend(stored.get("stac_extensions", []))
    properties = stored.get("properties") or {}
    collection.setdefault("summaries", {}).update(
        {key: [properties[key]] if properties.get(key) is not None else [] for key in _SUMMARISED}
    )


def served_model_item(
    job: Job, *, base_url: str, links: ResultLinks, result_dir: Path
) -> dict[str, Any]:
    """The model's Item as answered: asset hrefs are signed download links."""
    stored = _stored(result_dir)
    assets = stored.get("assets") or {}
    for asset in assets.values():
        href = str(asset.get("href", ""))
        if not href.startswith("http"):
            name = Path(href).name
            asset["href"] = links.url(base_url=base_url, job_id=job.id, filename=name)
    return {
        "stac_version": stored.get("stac_version", "1.0.0"),
        "stac_extensions": stored.get("stac_extensions", []),
        "type": "Feature",
        "id": stored.get("id"),
        "collection": job.id,
        "bbox": stored.get("bbox", []),
        "geometry": stored.get("geometry", {}),
        "properties": stored.get("properties", {}),
        "links": stored.get("links", []),
        "assets": assets,
    }


def _stored(result_dir: Path) -> dict[str, Any]:
    stored: dict[str, Any] = json.loads((result_dir / METADATA_FILE).read_text())
    return stored
