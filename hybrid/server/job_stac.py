"""load_stac of this server's own job results: the URL becomes a local STAC document.

A client chains jobs with ``connection.load_stac_from_job(job)`` or
``load_stac(job.get_results_metadata_url(full=True))``: ``url`` is this server's
``/jobs/ID/results`` (the ``self`` link of the results document), its signed
``canonical`` link (``/jobs/ID/results/TOKEN``, for anyone holding it) or the signed link
of one result file's Item (``/jobs/ID/results/items/TOKEN/FILE``).
Before the engine runs a graph, each such ``url`` is replaced by the path of a static
STAC Collection (or Item) that this module writes next to the job's results (in
``.stac/``, never listed as a result), with the result files as local assets.

As on Copernicus (openeo-geopyspark-driver ``openeogeotrellis/load_stac.py``):

- ``/jobs/ID/results`` of the user's own job is read from the job itself, not over HTTP
  (``extract_own_job_info`` L2463-2479, ``ItemCollection.from_own_job`` L1410-1465):
  one item per result file, its date the file's own (one GeoTIFF per date) or else the
  job's start and end (:func:`hybrid.server.result_items.asset_item`), its bands those of
  the file; the cube's band order, without ``bands``, is then alphabetical (no band
  listing, L595-604: here summaries ``eo:bands`` sorted), and ``properties`` play no
  part (the own-job path applies no property filter);
- the job must exist and be the user's; another user's job or an unknown one is refused
  with JobNotFound (Copernicus tries to fetch that URL without credentials and fails);
  a signed Item link opens for anyone holding it, as a signed link does;
- the job must have finished (Copernicus waits for a running job up to a configured
  delay, L2482-2523; here the graph is refused at once with JobNotFinished).

A URL is this server's by :func:`hybrid.server.own_urls.own_path` (scheme, host and port of
the server's URL as the client reached it, the loopback names as one host); a job it
names must exist (JobNotFound). Another server's URL is left to the engine, which refuses
it with a 400 (not loadable offline).

A ``file://`` URL or path inside the server's data folder is refused: job results are
loaded by their URL, which checks who may read them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from hybrid.server.errors import JobNotFinished, JobNotFound
from hybrid.server.jobs import Job, JobStore
from hybrid.server.own_urls import own_path
from hybrid.server.results import ResultLinks

#: ``.../jobs/ID/results``, ``.../jobs/ID/results/items/TOKEN/FILE`` and the signed
#: ``.../jobs/ID/results/TOKEN``
_RESULTS = re.compile(
    r"/jobs/(j-[0-9a-f]{32})/results(?:/items/([^/]+)/(.+?)|/(?!items/?$)([^/]+))?/?$"
)
#: the folder, inside a job's result folder, of the STAC documents written here
STAC_FOLDER = ".stac"


@dataclass(frozen=True)
class JobSources:
    """Rewrites the load_stac URLs of this server's job results (see the module doc)."""

    store: JobStore
    results_dir: Path
    links: ResultLinks
    data_dir: Path

    def __call__(
        self, graph: Mapping[str, Any], user_id: str | None, own_root: str | None = None
    ) -> dict[str, Any]:
        """``graph`` with the load_stac URLs of this server (``own_root``: its URL as the
        client reached it, :func:`hybrid.server.own_urls.own_path`) made local."""
        out = dict(graph)
        for node_id, node in graph.items():
            if isinstance(node, Mapping) and node.get("process_id") == "load_ml_model":
                out[node_id] = self._model(node, user_id, own_root)
            if not isinstance(node, Mapping) or node.get("process_id") != "load_stac":
                continue
            args = node.get("arguments") or {}
            url = args.get("url")
            if isinstance(url, str):
                new_args = self._arguments(dict(args), url, user_id, own_root)
                if new_args is not None:
                    out[node_id] = {**node, "arguments": new_args}
        return out

    def _model(self, node: Mapping[str, Any], user_id: str | None, own_root: str | None) -> Any:
        """A load_ml_model node with its id of this server made the archive's path
        (:mod:`hybrid.server.job_models`)."""
        from hybrid.server.job_models import model_path

        args = dict(node.get("arguments") or {})
        model_id = args.get("id")
        path = model_path(self, model_id, user_id, own_root) if isinstance(model_id, str) else None
        return node if path is None else {**node, "arguments": {**args, "id": path}}

    def _arguments(
        self, args: dict[str, Any], url: str, user_id: str | None, own_root: str | None
    ) -> dict[str, Any] | None:
        """The node's new arguments; None to leave it as it is (another server's URL,
        which the engine refuses: not loadable offline)."""
        parsed = urlparse(url)
        if parsed.scheme in ("", "file"):
            self.refuse_data_dir(unquote(parsed.path) if parsed.scheme else url)
            return None
        path = own_path(url, own_root)
        match = _RESULTS.fullmatch(path) if path is not None else None
        if match is None:
            return None
        job_id, token, filename, signed = match.groups()
        self._exists(job_id)
        if token is None:
            if signed is not None:  # the canonical link: anyone holding it may read it
                self.links.resolve_results(token=signed, job_id=job_id)
                job = self.finished(self.store.get(job_id))
            else:
                job = self.finished(self.own(job_id, user_id))
            args.pop("properties", None)  # the own-job path filters on none
            args["url"] = str(self._collection(job))
            return args
        return self._item_arguments(args, token, unquote(filename))

    def _exists(self, job_id: str) -> None:
        try:
            self.store.get(job_id)
        except JobNotFound:
            raise JobNotFound(f"load_stac: the batch job {job_id!r} does not exist.") from None

    def own(
        self,
        job_id: str,
        user_id: str | None,
        process: str = "load_stac",
        instead: str = "load it with the signed link of its results' Items",
    ) -> Job:
        """The user's job ``job_id`` (JobNotFound naming ``process`` and what to do
        ``instead`` for another user's)."""
        try:
            return self.store.get(job_id, user_id=user_id or "")
        except JobNotFound:
            raise JobNotFound(
                f"{process}: the batch job {job_id!r} does not exist (or is another "
                f"user's: {instead})."
            ) from None

    def _item_arguments(self, args: dict[str, Any], token: str, filename: str) -> dict[str, Any]:
        job_id, _path = self.links.resolve(
            token=token, filename=filename, result_dir_of=lambda j: self.results_dir / j
        )
        job = self.finished(self.store.get(job_id))
        args["url"] = str(self._item(job, filename))
        return args

    def finished(self, job: Job, process: str = "load_stac") -> Job:
        if job.status != "finished":
            raise JobNotFinished(
                f"{process}: batch job {job.id} has status {job.status!r}, its results are "
                "not ready: start this graph once that job has finished."
            )
        return job

    def refuse_data_dir(
        self,
        path: str,
        process: str = "load_stac",
        instead: str = "load a job's results with its results URL (load_stac_from_job)",
    ) -> None:
        """Refuse a ``path`` inside the server's data folder: results are read through
        their URLs or job ids, which check who may read them."""
        from hybrid.errors import ProcessParameterInvalid

        if Path(path).is_absolute() and Path(path).resolve().is_relative_to(
            self.data_dir.resolve()
        ):
            raise ProcessParameterInvalid(
                f"{process}: files of the server's data folder are not loaded by path; {instead}"
            )

    def _collection(self, job: Job) -> Path:
        from hybrid.server.job_stac_documents import write_collection

        return write_collection(job, self.results_dir / job.id, STAC_FOLDER)

    def _item(self, job: Job, filename: str) -> Path:
        from hybrid.server.job_stac_documents import write_item

        return write_item(job, self.results_dir / job.id, STAC_FOLDER, filename)
