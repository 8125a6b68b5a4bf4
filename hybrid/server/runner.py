"""The bounded pool of worker threads that runs queued batch jobs through the engine.

Results go to ``DATA_DIR/jobs/ID/``. On start-up, jobs a previous server left ``queued``
or ``running`` are queued again (a job interrupted ``max_attempts`` times is set to
``error`` with the reason instead); on shutdown, running jobs go back to ``queued``.
"""

from __future__ import annotations

import json
import logging
import queue
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hybrid.backends.base import Engine, ExecutionResult
from hybrid.cancellation import cancellable
from hybrid.errors import HybridError
from hybrid.limits import LoadCheck, extent_check_wanted, load_check
from hybrid.run_warnings import warnings_to
from hybrid.server.errors import JobNotFound
from hybrid.server.job_options import with_result_options
from hybrid.server.jobs import ACTIVE, RAN_PROCESS, Job, JobStore, LogLine, utc_now
from hybrid.server.sample_features import with_sample_geometries
from hybrid.server.sync_result import with_save_result

_log = logging.getLogger(__name__)

#: a graph rewrite for the job's owner and the server URL the job was created through
Resolve = Callable[[dict[str, Any], str, str | None], dict[str, Any]]


class JobRunner:
    """A bounded pool of daemon worker threads running queued jobs through the engine."""

    def __init__(
        self,
        *,
        store: JobStore,
        engine: Engine,
        results_dir: Path,
        workers: int,
        max_attempts: int,
        resolve: Resolve | None = None,
        sources: Resolve | None = None,
    ) -> None:
        self._store = store
        self._engine = engine
        self._results_dir = results_dir
        self._workers = max(1, workers)
        self._max_attempts = max_attempts
        #: inlines the job owner's user-defined processes and the published ones its URL
        #: namespaces name (identity when None)
        self._resolve = resolve or (lambda graph, _user, _root: graph)
        #: turns load_stac URLs of this server's job results into local STAC documents
        #: (hybrid.server.job_stac; identity when None)
        self._sources = sources or (lambda graph, _user, _root: graph)
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._busy_lock = threading.Lock()
        #: job id -> the event that stops its run (set by :meth:`cancel`)
        self._cancels: dict[str, threading.Event] = {}
        #: jobs a worker is running, from its claim to its end (success or failure)
        self._active: set[str] = set()
        #: signalled when a job leaves :attr:`_active` (a restarted job waits for it)
        self._released = threading.Condition(self._busy_lock)

    def result_dir(self, job_id: str) -> Path:
        return self._results_dir / job_id

    def start(self) -> None:
        """Re-queue jobs a previous server left unfinished, then start the workers."""
        for job in self._store.with_status(ACTIVE):
            if job.status == "running" and job.attempts >= self._max_attempts:
                reason = (
                    f"The server stopped while this job ran, {job.attempts} times; "
                    f"not retried again. Start it again with POST /jobs/{job.id}/results."
                )
                self._store.update(
                    job.id,
                    status="error",
                    error_code="Internal",
                    error_message=reason,
                    progress=None,
                )
                self._store.log(job.id, "error", reason, code="Internal")
                continue
            if job.status == "running":
                self._store.update(job.id, status="queued", progress=None)
                self._store.log(
                    job.id, "warning", "The server restarted while this job ran: queued again."
                )
            else:
                self._store.log(job.id, "info", "The server restarted: the job stays queued.")
            self._queue.put(job.id)
        for index in range(self._workers):
            thread = threading.Thread(
                target=self._work, name=f"hybrid-job-worker-{index}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def busy(self) -> bool:
        """Whether a worker is still running a job (from its claim to its end)."""
        with self._busy_lock:
            return bool(self._active)

    def submit(self, job_id: str) -> None:
        self._queue.put(job_id)

    def cancel(self, job_id: str) -> None:
        """Stop the job's run if it is inside the engine: threaded dask stops before its
        next task; on a Dask cluster its futures are cancelled (the workers drop them)."""
        with self._busy_lock:
            event = self._cancels.get(job_id)
        if event is not None:
            event.set()

    def shutdown(self, *, timeout: float = 0.5) -> None:
        """Stop taking jobs; jobs still running are put back to ``queued`` for the next start.

        The engine cannot be interrupted, so worker threads (daemons) are not waited for
        beyond ``timeout``; what they produce after this point is discarded.
        """
        self._stopping.set()
        with self._busy_lock:
            for event in self._cancels.values():
                event.set()  # free the cluster's workers; the jobs run again at next start
            self._released.notify_all()
        for _ in self._threads:
            self._queue.put(None)
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        for job in self._store.with_status(("running",)):
            if self._store.update(job.id, expect=("running",), status="queued", progress=None):
                self._store.log(
                    job.id,
                    "warning",
                    "The server stopped while this job ran: it runs again when the server starts.",
                )

    def _work(self) -> None:
        while not self._stopping.is_set():
            job_id = self._queue.get()
            if job_id is None or self._stopping.is_set():
                return
            try:
                self._run(job_id)
            except Exception:  # the worker must survive any job
                _log.exception("job %s: unexpected failure of the worker", job_id)

    def _run(self, job_id: str) -> None:
        """Run the job once its previous run has ended: a job canceled and started again
        at once waits until the canceled run has left, whose failure or result would
        otherwise land on the new run (it checks only that the job is ``running``) and
        which writes into the same folder."""
        with self._released:
            self._released.wait_for(lambda: job_id not in self._active or self._stopping.is_set())
            if self._stopping.is_set():
                return
            self._active.add(job_id)
        try:
            self._run_once(job_id)
        finally:
            with self._released:
                self._active.discard(job_id)
                self._released.notify_all()

    def _run_once(self, job_id: str) -> None:
        job = self._claim(job_id)
        if job is None:
            return
        out_dir = self._fresh_result_dir(job_id)
        if out_dir is None:
            return
        started = time.monotonic()
        result = self._execute(job, out_dir)
        if result is None or self._stopping.is_set():
            return  # failed, or shutdown already put the job back to "queued"
        self._finish(job, out_dir, result, time.monotonic() - started)

    def _claim(self, job_id: str) -> Job | None:
        """The job, set to ``running``; None if it is gone, canceled or taken."""
        try:
            job = self._store.get(job_id)
        except JobNotFound:
            return None
        if not self._store.update(
            job_id,
            expect=("queued",),
            status="running",
            progress=0.0,
            attempts=job.attempts + 1,
            started=utc_now(),
            finished=None,
        ):
            return None  # canceled or deleted while queued
        self._store.log(job_id, "info", f"Job started on the {self._engine.name} engine.")
        return job

    def _fresh_result_dir(self, job_id: str) -> Path | None:
        """An empty result folder for the job; None (and the job failed) if impossible."""
        out_dir = self.result_dir(job_id)
        shutil.rmtree(out_dir, ignore_errors=True)
        try:
            out_dir.mkdir(parents=True)
        except OSError as exc:  # e.g. the results folder is a file, or the disk is full
            self._fail(
                job_id,
                code="Internal",
                message=f"Cannot create the result folder {out_dir}: {exc.strerror or exc}; "
                "check the server's --data-dir, then start the job again.",
                node=None,
            )
            return None
        return out_dir

    def _execute(self, job: Job, out_dir: Path) -> ExecutionResult | None:
        """Run the job's graph; None (the job failed, nothing half-written kept) on error."""
        event = threading.Event()
        with self._busy_lock:
            self._cancels[job.id] = event

        def to_log(message: str, level: str = "warning", **entry: Any) -> None:
            self._store.log(job.id, level, message, **entry)

        try:
            # the expansion's notes on user-defined processes go to the log too
            with cancellable(event), warnings_to(to_log):
                graph = self._resolve(job.graph, job.user_id, job.root_url)
                graph = self._sources(graph, job.user_id, job.root_url)
                graph = with_sample_geometries(graph)
                # without save_result: GTiff or JSON, as Copernicus (deploy/batch_job.py
                # L368-379)
                graph = with_save_result(graph, self._engine.process_specs())
                graph = with_result_options(graph, job.job_options)
                # Copernicus's load size check, unless the job turns it off
                # (hybrid.backends.local.load_size)
                check: LoadCheck = "batch" if extent_check_wanted(job.job_options) else "off"
                with load_check(check):
                    return self._engine.execute(graph, out_dir=out_dir)
        except HybridError as exc:
            # the node travels apart (the log entry's path; the results' 400 names it once)
            self._fail(job.id, code=exc.code, message=exc.message, node=exc.node)
            shutil.rmtree(out_dir, ignore_errors=True)  # nothing half-written stays
            return None
        except Exception as exc:
            if not event.is_set():  # canceled or deleted: its folder may have gone under it
                _log.exception("job %s failed", job.id)
            self._fail(job.id, code="Internal", message=f"{type(exc).__name__}: {exc}", node=None)
            shutil.rmtree(out_dir, ignore_errors=True)
            return None
        finally:
            with self._busy_lock:
                self._cancels.pop(job.id, None)

    def _finish(self, job: Job, out_dir: Path, result: ExecutionResult, seconds: float) -> None:
        """Record the result files and provenance (with the process that ran), unless the
        job went meanwhile."""

        def name(file: Path) -> str:
            return Path(file).resolve().relative_to(out_dir.resolve()).as_posix()

        files = [name(f) for f in result.files]
        assets = {name(f): dict(fields) for f, fields in result.assets.items()}
        provenance = json.loads(json.dumps(dict(result.provenance), default=str))
        provenance[RAN_PROCESS] = job.process
        done = f"Job finished in {seconds:.1f} s: {', '.join(files) or 'no files'}."
        if not self._store.update(
            job.id,
            expect=("running",),
            log=LogLine("info", done),
            status="finished",
            progress=100.0,
            finished=utc_now(),
            files=files,
            assets=assets,
            provenance=provenance,
        ):  # canceled or deleted while running: drop what it produced
            shutil.rmtree(out_dir, ignore_errors=True)

    def _fail(self, job_id: str, *, code: str, message: str, node: str | None) -> None:
        if self._stopping.is_set():
            return
        self._store.update(
            job_id,
            expect=("running",),
            log=LogLine("error", message, code, node),
            status="error",
            progress=None,
            finished=utc_now(),
            error_code=code,
            error_message=message,
            error_node=node,
        )
