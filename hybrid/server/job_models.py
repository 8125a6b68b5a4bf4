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
from typing import TYPE_CHECKING
from urllib.parse import unquote

from hybrid.errors import ProcessParameterInvalid
from hybrid.io.model_item import ARCHIVE, METADATA_FILE
from hybrid.server.errors import FileNotFound
from hybrid.server.own_urls import own_path
from hybrid.server.results import JOB_ID

if TYPE_CHECKING:
    from hybrid.server.job_stac import JobSources
    from hybrid.server.jobs import Job

_PROCESS = "load_ml_model"
#: the signed links of a result file: its Item ``.../jobs/ID/results/items/TOKEN/FILE``
#: and its download ``.../results/TOKEN/FILE``
_SIGNED = re.compile(r"/results/(?:items/)?([^/]+)/([^/]+?)/?$")


def model_path(
    sources: JobSources, model_id: str, user_id: str | None, own_root: str | None
) -> str | None:
    """The archive path ``model_id`` names on this server; None to leave it as it is."""
    if JOB_ID.fullmatch(model_id):
        instead = f"load its model with the URL of its {METADATA_FILE}"
        return _archive(sources, sources.own(model_id, user_id, _PROCESS, instead))
    if not model_id.startswith(("http://", "https://")):
        instead = f"load a model with its batch job's id or the URL of its {METADATA_FILE}"
        sources.refuse_data_dir(model_id, _PROCESS, instead)
        return None
    path = own_path(model_id, own_root)
    if path is None:
        return None
    signed = _SIGNED.search(path)
    if signed is None:
        raise ProcessParameterInvalid(
            f"load_ml_model: {model_id} is not the URL of a model of this server's jobs "
            f"(the results' {METADATA_FILE} Item)"
        )
    token, filename = signed.group(1), unquote(signed.group(2))
    job_id, _ = sources.links.resolve(
        token=token, filename=filename, result_dir_of=lambda j: sources.results_dir / j
    )
    return _archive(sources, sources.store.get(job_id))


def _archive(sources: JobSources, job: Job) -> str:
    sources.finished(job, _PROCESS)
    archive = sources.results_dir / job.id / ARCHIVE
    if ARCHIVE not in job.files or not archive.is_file():
        raise FileNotFound(f"load_ml_model: batch job {job.id} saved no model (save_ml_model).")
    return str(archive)
