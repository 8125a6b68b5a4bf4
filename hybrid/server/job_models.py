"""load_ml_model of this server's own batch jobs: the id becomes the model archive's path.

As on Copernicus (openeo-geopyspark-driver 9baf2e10 ``backend.py`` ``load_ml_model``
L878-889), ``id`` is either a batch job's id, whose saved model is read from the job
(the user's own job), or the URL of the model's STAC Item, which Copernicus fetches over
HTTP (``ml/modelloader.py``). Offline, this server's URLs are read from the job they
name instead: the signed link of the Item ``ml_model_metadata.json`` that the results
Collection gives (readable by whoever holds it, as over HTTP) or the signed download
link of ``randomforest.model.tar.gz``. Before the engine runs the graph such an ``id``
is replaced by the archive's path. A path inside the server's data folder is refused
(models are loaded by their URL or job id, which check who may read them); another
server's URL is left to the engine, which fetches it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote

from hybrid.errors import ProcessParameterInvalid
from hybrid.io.model_item import ARCHIVE, METADATA_FILE
from hybrid.server.errors import FileNotFound, JobNotFinished, JobNotFound
from hybrid.server.own_urls import own_path

if TYPE_CHECKING:
    from hybrid.server.job_stac import JobSources
    from hybrid.server.jobs import Job

_JOB_ID = re.compile(r"j-[0-9a-f]{32}")
#: ``.../jobs/ID/results/items/TOKEN/ml_model_metadata.json`` and ``.../results/TOKEN/FILE``
_ITEM = re.compile(r"/jobs/(j-[0-9a-f]{32})/results/items/([^/]+)/(.+?)/?$")
_DOWNLOAD = re.compile(r"/results/([^/]+)/(.+?)/?$")


def model_path(
    sources: JobSources, model_id: str, user_id: str | None, own_root: str | None
) -> str | None:
    """The archive path ``model_id`` names on this server; None to leave it as it is."""
    if _JOB_ID.fullmatch(model_id):
        try:
            job = sources.store.get(model_id, user_id=user_id or "")
        except JobNotFound:
            raise JobNotFound(
                f"load_ml_model: the batch job {model_id!r} does not exist (or is another "
                "user's: load its model with the URL of its ml_model_metadata.json)."
            ) from None
        return _archive(sources, job)
    if not model_id.startswith(("http://", "https://")):
        _refuse_data_dir(sources, model_id)
        return None
    path = own_path(model_id, own_root)
    if path is None:
        return None
    item, download = _ITEM.search(path), _DOWNLOAD.search(path)
    if item is not None:
        token, filename = item.group(2), unquote(item.group(3))
    elif download is not None:
        token, filename = download.group(1), unquote(download.group(2))
    else:
        raise ProcessParameterInvalid(
            f"load_ml_model: {model_id} is not the URL of a model of this server's jobs "
            f"(the results' {METADATA_FILE} Item)"
        )
    job_id, _ = sources.links.resolve(
        token=token, filename=filename, result_dir_of=lambda j: sources.results_dir / j
    )
    return _archive(sources, sources.store.get(job_id))


def _archive(sources: JobSources, job: Job) -> str:
    if job.status != "finished":
        raise JobNotFinished(
            f"load_ml_model: batch job {job.id} has status {job.status!r}; its model is not "
            "saved yet: start this graph once that job has finished."
        )
    archive = sources.results_dir / job.id / ARCHIVE
    if ARCHIVE not in job.files or not archive.is_file():
        raise FileNotFound(f"load_ml_model: batch job {job.id} saved no model (save_ml_model).")
    return str(archive)


def _refuse_data_dir(sources: JobSources, model_id: str) -> None:
    path = Path(model_id)
    if path.is_absolute() and path.resolve().is_relative_to(sources.data_dir.resolve()):
        raise ProcessParameterInvalid(
            "load_ml_model: files of the server's data folder are not loaded by path; "
            "load a model with its batch job's id or the URL of its ml_model_metadata.json"
        )
