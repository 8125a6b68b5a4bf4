"""Batch-job results: signed download links, the data assets, and the STAC Item that
``GET /jobs/{id}/results`` answers when the client asks for ``application/geo+json`` (the
API's only shape for that media type; the default answer is the STAC Collection of
:mod:`hybrid.server.result_collection`).

Asset links are ``/results/TOKEN/FILENAME`` where TOKEN is an HMAC-signed, expiring
claim naming the job and the file: unguessable, usable without credentials (as openEO
recommends), and refused once expired (410) or when the name does not match (404).
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from hybrid.grid import bounds_union
from hybrid.io.model_item import METADATA_FILE
from hybrid.io.registry import media_type
from hybrid.server.auth import TokenSigner
from hybrid.server.errors import FileNotFound, FilePathInvalid, ResultLinkExpired
from hybrid.server.jobs import Job

STAC_VERSION = "1.0.0"
#: the ids :class:`hybrid.server.jobs.JobStore` gives jobs
JOB_ID = re.compile(r"j-[0-9a-f]{32}")
FILE_EXTENSION = "https://stac-extensions.github.io/file/v2.1.0/schema.json"
#: the ``file`` claim of a signed results URL (a file name can never be empty)
RESULTS_CLAIM = ""


def _rfc3339(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ResultLinks:
    """Signs and checks the download links of result files."""

    def __init__(self, *, secret: bytes, ttl: float) -> None:
        self._signer = TokenSigner(secret, purpose="result-link")
        self.ttl = ttl

    def token(self, *, job_id: str, filename: str) -> str:
        """The signed claim that opens ``filename`` of the job (and its STAC Item)."""
        return self._signer.issue({"job": job_id, "file": filename}, ttl=self.ttl)

    def results_url(self, *, base_url: str, job_id: str) -> str:
        """The signed, expiring URL of a job's results document: Copernicus's
        ``canonical`` link (``/jobs/ID/results/USER/SIGNATURE``, openeo-python-driver
        views.py ``job_results_canonical_url`` L1055-1075), readable without credentials."""
        token = self._signer.issue({"job": job_id, "file": RESULTS_CLAIM}, ttl=self.ttl)
        return f"{base_url.rstrip('/')}/jobs/{job_id}/results/{token}"

    def resolve_results(self, *, token: str, job_id: str) -> None:
        """Check a signed results URL of ``job_id`` (raises 404 or 410 errors)."""
        claims = self._signer.verify(token, check_expiry=False)
        if claims is None or claims.get("file") != RESULTS_CLAIM or claims.get("job") != job_id:
            raise FileNotFound(f"The results of batch job {job_id!r} do not exist.")
        if float(claims["exp"]) < time.time():
            raise ResultLinkExpired(
                "The link to the batch job results has expired: ask its owner for "
                f"GET /jobs/{job_id}/results again."
            )

    def url(self, *, base_url: str, job_id: str, filename: str) -> str:
        token = self.token(job_id=job_id, filename=filename)
        return f"{base_url.rstrip('/')}/results/{token}/{quote(filename)}"

    def resolve(self, *, token: str, filename: str, result_dir_of: Any) -> tuple[str, Path]:
        """The job id and the file a link points at (raises 400/404/410 errors)."""
        parts = PurePosixPath(filename).parts
        if not parts or filename.startswith("/") or any(p in ("..", ".", "") for p in parts):
            raise FilePathInvalid(f"File path is invalid: {filename!r}.")
        claims = self._signer.verify(token, check_expiry=False)
        if claims is None or claims.get("file") != filename:
            raise FileNotFound(f"File {filename!r} does not exist.")
        if float(claims["exp"]) < time.time():
            raise ResultLinkExpired(
                "The link to the batch job result has expired: "
                f"request GET /jobs/{claims.get('job')}/results again."
            )
        job_id = str(claims["job"])
        if not JOB_ID.fullmatch(job_id):  # a signed claim never names a folder elsewhere
            raise FileNotFound(f"File {filename!r} does not exist.")
        root = Path(result_dir_of(job_id)).resolve()
        path = (root / filename).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            raise FileNotFound(f"File {filename!r} does not exist.")
        return job_id, path


def _load_collection_args(graph: dict[str, Any]) -> dict[str, Any]:
    for node in graph.values():
        if isinstance(node, dict) and node.get("process_id") == "load_collection":
            args = node.get("arguments", {})
            return args if isinstance(args, dict) else {}
    return {}


def footprint(graph: dict[str, Any]) -> tuple[list[float] | None, dict[str, Any] | None]:
    extent = _load_collection_args(graph).get("spatial_extent")
    if not isinstance(extent, dict):
        return None, None
    try:
        if extent.get("type") in ("Polygon", "MultiPolygon", "Feature", "FeatureCollection"):
            from shapely.geometry import shape

            geometries = (
                [f.get("geometry", f) for f in extent.get("features", [extent])]
                if extent.get("type") == "FeatureCollection"
                else [extent.get("geometry", extent)]
            )
            west, south, east, north = bounds_union(shape(g).bounds for g in geometries)
        else:
            west, south = float(extent["west"]), float(extent["south"])
            east, north = float(extent["east"]), float(extent["north"])
    except (KeyError, TypeError, ValueError, AttributeError):
        return None, None
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return [west, south, east, north], {"type": "Polygon", "coordinates": [ring]}


def interval(graph: dict[str, Any]) -> dict[str, str]:
    extent = _load_collection_args(graph).get("temporal_extent")
    out: dict[str, str] = {}
    if isinstance(extent, list) and len(extent) == 2:
        for key, value in zip(("start_datetime", "end_datetime"), extent, strict=True):
            if isinstance(value, str) and len(value) >= 10:
                out[key] = value if "T" in value else f"{value[:10]}T00:00:00Z"
    return out


def result_status(job: Job) -> str:
    """The ``openeo:status`` of a job's results: running, canceled, finished or error
    (openeo-python-driver ``jobregistry.py`` ``PARTIAL_JOB_STATUS``)."""
    return {"created": "running", "queued": "running"}.get(job.status, job.status)


def data_assets(
    job: Job, *, base_url: str, links: ResultLinks, result_dir: Path
) -> dict[str, dict[str, Any]]:
    """The result files of a finished job as STAC assets (none before it finished)."""
    assets: dict[str, dict[str, Any]] = {}
    if job.status != "finished":
        return assets
    for name in job.files:
        if name == METADATA_FILE:  # a saved model's Item: linked, not an asset
            continue
        asset: dict[str, Any] = {
            "href": links.url(base_url=base_url, job_id=job.id, filename=name),
            "type": media_type(name),
            "roles": ["data"],
            "title": name,
        }
        path = result_dir / name
        if path.is_file():
            asset["file:size"] = path.stat().st_size
        assets[name] = asset
    return assets


def result_item(job: Job, *, base_url: str, links: ResultLinks, result_dir: Path) -> dict[str, Any]:
    """The STAC Item describing a job's results, with signed asset links."""
    bbox, geometry = footprint(job.results_graph)
    assets = data_assets(job, base_url=base_url, links=links, result_dir=result_dir)
    status = result_status(job)
    properties: dict[str, Any] = {
        "datetime": None,
        **interval(job.results_graph),
        "created": job.created,
        "updated": job.updated,
        "expires": _rfc3339(time.time() + links.ttl),
        "openeo:status": status,
    }
    if job.title:
        properties["title"] = job.title
    if job.description:
        properties["description"] = job.description
    item: dict[str, Any] = {
        "stac_version": STAC_VERSION,
        "stac_extensions": [FILE_EXTENSION],
        "type": "Feature",
        "id": job.id,
        "geometry": geometry,
        "properties": properties,
        "assets": assets,
        "links": [
            {
                "rel": "self",
                "href": f"{base_url.rstrip('/')}/jobs/{job.id}/results",
                "type": "application/geo+json",
            }
        ],
    }
    if bbox is not None:
        item["bbox"] = bbox
    return item
