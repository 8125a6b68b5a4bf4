"""Run the process graph as a batch job on a remote openEO backend (Copernicus or any URL).

Flow (openEO API 1.2, through the unchanged openeo client): connect, authenticate,
``POST /jobs`` once, start, poll ``GET /jobs/{id}`` with bounded exponential backoff
(transient connection errors and 5xx answers are retried; the job is never submitted a
second time), on ``error`` show the job's logs, then download the assets, check that they
open as one result and add the ``hybrid_*`` provenance attributes (the files otherwise stay
as the backend wrote them: Copernicus's layout, which the local backend writes too).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from hybrid.backends.base import ExecutionResult
from hybrid.backends.names import COPERNICUS_URL, REMOTE_ALIASES, remote_url
from hybrid.backends.remote_auth import CREDENTIALS_HELP, authenticate, credential_sources
from hybrid.errors import (
    AuthenticationError,
    BackendUnreachable,
    RemoteBackendError,
    RemoteRequestRefused,
    UsageError,
    first_line,
)
from hybrid.progress import StatusLine, job_status_text, progress_enabled
from hybrid.workflow_graph import graph_hash

if TYPE_CHECKING:
    import openeo
    from openeo.rest.job import BatchJob

    from hybrid.io.format import Format

AUTH_MODES = ("auto", "oidc", "client_credentials", "basic", "none")
_T = TypeVar("_T")


def resolve_url(backend: str) -> str:
    """``copernicus`` -> its URL; an http(s) URL is returned without trailing slash."""
    url = remote_url(backend)
    if url is None:
        known = ", ".join(sorted(REMOTE_ALIASES))
        raise UsageError(
            f"unknown remote backend {backend!r}: give an http(s) URL or one of {known}"
        )
    return url


@dataclass(frozen=True)
class RemoteSettings:
    """How the remote backend authenticates, polls and reports."""

    #: auto (environment, stored token, device flow), oidc, client_credentials, basic, none
    auth: str = "auto"
    #: seconds between status polls, growing by backoff up to ``max_poll_interval``
    poll_interval: float = 5.0
    max_poll_interval: float = 60.0
    #: give up waiting for a job after this many seconds
    timeout: float = 6 * 3600.0
    #: status line and download bars on stderr (None: when stderr is a terminal)
    progress: bool | None = None
    #: consecutive transient errors (connection, 5xx) tolerated while polling
    max_transient_errors: int = 20
    #: seconds one HTTP request may take
    request_timeout: int = 120

    def __post_init__(self) -> None:
        if self.auth not in AUTH_MODES:
            raise UsageError(f"unknown auth mode {self.auth!r}: use one of {', '.join(AUTH_MODES)}")
        if not (  # written so that NaN fails too
            self.poll_interval > 0
            and self.max_poll_interval >= self.poll_interval
            and self.timeout > 0
        ):
            raise UsageError(
                "poll_interval must be > 0, max_poll_interval >= poll_interval, timeout > 0"
            )


class RemoteBackend:
    """A remote openEO backend reached with the openeo client (batch jobs)."""

    def __init__(self, url: str, settings: RemoteSettings | None = None) -> None:
        settings = settings or RemoteSettings()
        self.settings = settings
        self.url = resolve_url(url)
        self.name = "copernicus" if self.url == COPERNICUS_URL else "remote"
        self.auth = settings.auth
        self.poll_interval = settings.poll_interval
        self.max_poll_interval = settings.max_poll_interval
        self.timeout = settings.timeout
        self.progress = settings.progress
        self.max_transient_errors = settings.max_transient_errors
        self.request_timeout = settings.request_timeout

    # -- the Backend contract -------------------------------------------------------

    def availability(self) -> str | None:
        import requests

        try:
            response = requests.get(self.url + "/", timeout=10)
        except requests.RequestException as exc:
            return f"cannot reach {self.url}: {type(exc).__name__}"
        if response.status_code >= 400:
            return f"{self.url} answered HTTP {response.status_code}"
        if self.auth == "auto" and not credential_sources(os.environ):
            return f"no credentials for {self.url}: {CREDENTIALS_HELP}"
        return None

    def execute(self, graph: Mapping[str, Any], *, out_dir: Path) -> ExecutionResult:
        started = time.monotonic()
        connection = self.connect()
        job = self._submit(connection, graph)
        self._say(f"job {job.job_id} created on {self.url}", always=True)
        self._call(job.start, f"start job {job.job_id}")
        return self._finish(job, graph=dict(graph), out_dir=out_dir, started=started)

    def resume(self, job_id: str, *, out_dir: Path) -> ExecutionResult:
        """Fetch (waiting for it if needed) a job that was already submitted."""
        started = time.monotonic()
        connection = self.connect()
        job = connection.job(job_id)
        info = self._retrying(job.describe, f"look up job {job_id}")
        if info.get("status") == "created":
            self._call(job.start, f"start job {job_id}")
        process = info.get("process") or {}
        graph = process.get("process_graph") if isinstance(process, dict) else None
        return self._finish(job, graph=graph, out_dir=out_dir, started=started)

    # -- connection and authentication -----------------------------------------------

    def connect(self) -> openeo.Connection:
        """An authenticated connection (the client's own retries off: polling retries)."""
        import openeo

        try:
            connection = self._call(
                lambda: openeo.connect(
                    self.url, retry=False, auto_validate=False, default_timeout=self.request_timeout
                ),
                "connect",
            )
        except RemoteBackendError as exc:
            raise BackendUnreachable(
                f"{exc}; check the backend URL and the network, or run locally with --backend local"
            ) from None
        self._call(lambda: authenticate(connection, self.url, self.auth), "authenticate")
        return connection

    # -- job life cycle ------------------------------------------------------------

    def _submit(self, connection: openeo.Connection, graph: Mapping[str, Any]) -> BatchJob:
        # POST /jobs is not idempotent: never retried, so a job is never created twice.
        return self._call(lambda: connection.create_job(dict(graph)), "create a batch job")

    def _finish(
        self, job: BatchJob, *, graph: Any, out_dir: Path, started: float
    ) -> ExecutionResult:
        timings = self._wait(job)
        download_start = time.monotonic()
        files = self._download(job, Path(out_dir))
        timings["download_s"] = round(time.monotonic() - download_start, 3)
        timings["total_s"] = round(time.monotonic() - started, 3)
        provenance = {
            "backend": self.name,
            "backend_url": self.url,
            "job_id": job.job_id,
            "graph_sha256": graph_hash(graph) if graph else None,
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "timings": timings,
            "versions": _versions(),
        }
        files = _normalise(files, Path(out_dir), provenance)
        return ExecutionResult(files=tuple(files), provenance=provenance)

    def _wait(self, job: BatchJob) -> dict[str, float]:
        try:
            return self._polled(job)
        except (KeyboardInterrupt, SystemExit):  # Ctrl-C, SIGTERM: the job goes on there
            self._say(
                f"job {job.job_id} keeps running on {self.url}: fetch it later by adding "
                f"--resume {job.job_id} to the same command (or stop it there)",
                always=True,
            )
            raise

    def _polled(self, job: BatchJob) -> dict[str, float]:
        start = time.monotonic()
        interval = self.poll_interval
        first_running: float | None = None
        last_status = None
        with StatusLine(enabled=self._progress_enabled()) as line:
            while True:
                info = self._retrying(job.describe, f"poll job {job.job_id}")
                status = str(info.get("status", "unknown"))
                now = time.monotonic()
                if status == "running" and first_running is None:
                    first_running = now
                line.update(
                    job_status_text(job.job_id, status, now - start),
                    changed=status != last_status,
                )
                last_status = status
                if status in ("finished", "error", "canceled") or now - start > self.timeout:
                    break
                time.sleep(interval)
                interval = min(interval * 1.5, self.max_poll_interval)
        if status == "finished":
            queued = (first_running or now) - start
            return {"queued_s": round(queued, 3), "running_s": round(now - start - queued, 3)}
        if status in ("error", "canceled"):
            self._fail(job, status)
        raise RemoteBackendError(
            f"job {job.job_id} is still {status} after {self.timeout:.0f} s; it keeps "
            f"running on {self.url}: fetch it later by adding --resume {job.job_id} to the "
            "same command"
        )

    def _fail(self, job: BatchJob, status: str) -> None:
        logs = self._retrying(lambda: list(job.logs()), f"fetch logs of job {job.job_id}")
        errors = [e for e in logs if str(e.get("level", "")).lower() == "error"]
        shown = errors or logs[-20:]
        for entry in shown:
            print(f"  [{entry.get('level', '?')}] {entry.get('message', '')}", file=sys.stderr)
        last = str(shown[-1].get("message", "")).splitlines()[0] if shown else "no log entries"
        raise RemoteBackendError(
            f"job {job.job_id} on {self.url} ended with status '{status}': {last} "
            f"({len(shown)} log entries shown above)"
        )

    def _download(self, job: BatchJob, out_dir: Path) -> list[Path]:
        out_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".download-{job.job_id}-", dir=out_dir))
        results = job.get_results()
        paths = self._retrying(
            lambda: results.download_files(staging, include_stac_metadata=False),
            f"download results of job {job.job_id}",
        )
        return [Path(p) for p in paths]

    # -- errors and retries ------------------------------------------------------------

    def _call(self, fn: Callable[[], _T], what: str) -> _T:
        """Call the client once; turn its errors into hybrid errors."""
        import requests
        from openeo.rest import OpenEoApiPlainError, OpenEoClientException

        try:
            return fn()
        except requests.RequestException as exc:
            raise RemoteBackendError(
                f"could not {what} on {self.url}: {type(exc).__name__} ({first_line(exc)})"
            ) from None
        except OpenEoApiPlainError as exc:
            if exc.http_status_code in (401, 403):
                raise AuthenticationError(
                    f"{self.url} refused to {what}: {first_line(exc)}; {CREDENTIALS_HELP}"
                ) from None
            status = exc.http_status_code or 0
            wrong_input = 400 <= status < 500 and status not in (408, 429)
            refusal = RemoteRequestRefused if wrong_input else RemoteBackendError
            raise refusal(f"{self.url} refused to {what}: {first_line(exc)}") from None
        except OpenEoClientException as exc:
            raise RemoteBackendError(f"could not {what} on {self.url}: {exc}") from None

    def _retrying(self, fn: Callable[[], _T], what: str) -> _T:
        """Call an idempotent request, retrying transient failures with backoff."""
        import requests
        from openeo.rest import OpenEoApiPlainError

        delay = self.poll_interval
        failures = 0
        while True:
            try:
                return self._call(fn, what)
            except (RemoteBackendError, AuthenticationError) as exc:
                cause = exc.__context__
                transient = isinstance(cause, requests.ConnectionError | requests.Timeout) or (
                    isinstance(cause, OpenEoApiPlainError)
                    and (cause.http_status_code or 0) in (429, 500, 502, 503, 504)
                )
                failures += 1
                if not transient or failures > self.max_transient_errors:
                    raise
                self._say(
                    f"{exc}; retrying in {delay:.1f} s ({failures}/{self.max_transient_errors})"
                )
                time.sleep(delay)
                delay = min(delay * 2, self.max_poll_interval)

    # -- progress output ---------------------------------------------------------------

    def _progress_enabled(self) -> bool:
        return progress_enabled() if self.progress is None else self.progress

    def _say(self, text: str, *, always: bool = False) -> None:
        if self._progress_enabled() or always:
            print(f"hybrid: {text}", file=sys.stderr, flush=True)


def _normalise(files: list[Path], out_dir: Path, provenance: Mapping[str, Any]) -> list[Path]:
    """Downloaded assets -> ``out_dir``, each kept as the backend wrote it (Copernicus's own
    layout) and given the ``hybrid_*`` provenance attributes; the files of each format
    must form one readable result (a graph with several save_result nodes has several)."""
    from hybrid.io.provenance import provenance_attributes
    from hybrid.io.registry import FORMATS

    staging = files[0].parent if files else None
    attrs = provenance_attributes(provenance)
    moved: list[Path] = []
    try:
        for fmt in FORMATS:
            own = sorted(f for f in files if fmt.holds(f) and f.exists())
            for result in _results(fmt, own):  # a graph may save several
                _check_readable(fmt, result)
            for file in own:
                if fmt.annotate is not None:
                    fmt.annotate(file, attrs)
                target = out_dir / file.name
                shutil.move(str(file), target)
                moved.append(target)
        if not moved:
            names = ", ".join(f.name for f in files) or "nothing"
            raise RemoteBackendError(
                f"job {provenance.get('job_id')} produced {names}: expected a result file "
                "(NetCDF, GeoTIFF, JSON, CSV, ...)"
            )
        return moved
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)


def _results(fmt: Format, files: list[Path]) -> list[list[Path]]:
    """The files of one format by result: each file, or GeoTIFFs by their prefix."""
    from hybrid.io.gtiff_read import result_groups

    return result_groups(files) if fmt.per_label else [[file] for file in files]


def _check_readable(fmt: Format, files: list[Path]) -> None:
    """The files open with one of the format's readers (UsageError says why not)."""
    errors: list[UsageError] = []
    for reader in fmt.readers.values():
        try:
            reader(files, source=files[0].parent)
            return
        except UsageError as exc:
            errors.append(exc)
    if errors:
        raise errors[0]


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": sys.version.split()[0]}
    for package in ("hybrid", "openeo", "xarray", "numpy", "h5netcdf"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "not installed"
    return found
