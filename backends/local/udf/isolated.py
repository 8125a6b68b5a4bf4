"""Run a UDF over chunks of a cube in a confined worker process (the server side).

One worker per run_udf node: the chunks go to a private exchange folder in the
system temp folder (mode 0700, never inside the server's data folder), the worker
(:mod:`hybrid.backends.local.udf.worker`) starts with an empty environment, that folder as
its working directory, in its own session, confines itself
(:mod:`hybrid.backends.local.udf.sandbox`) and writes one result per chunk. The server waits
at most ``timeout`` seconds, then kills the worker's process group. Whatever the
worker does, the server only reads ``.npy`` (no pickles) and JSON back, and what it
cannot read (a UDF that ended its process with ``os._exit(0)`` or wrote over the
exchange files) is the UDF's error, not the server's
(:mod:`hybrid.backends.local.udf.readback`). All the
worker writes together is bounded by ``file_bytes`` too: the server stops it beyond
(:func:`_wait`), as the file-size limit bounds one file only.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hybrid.backends.local.udf.readback import (
    chunk_result,
    error_summary,
    json_result,
    worker_output,
)
from hybrid.backends.local.udf.readback import tail as tail_of
from hybrid.backends.local.udf.task_limit import limit_reached, task_cgroup, thread_count
from hybrid.backends.local.udf.user_logs import forward
from hybrid.backends.local.udf.worker import shortened
from hybrid.cancellation import raise_if_canceled
from hybrid.errors import UdfError, UdfUnavailable, UsageError

#: the worker's module, wherever this package is installed
_WORKER = __name__.rsplit(".", 1)[0] + ".worker"
#: starts the worker without the server's environment or site customisations; a worker
#: that returns ends at once (:func:`hybrid.backends.local.udf.worker.end`)
_BOOT = (
    "import sys; sys.path.insert(0, sys.argv[2]); "
    f"from {_WORKER} import end, main; end(main(sys.argv))"
)

#: seconds the worker may take to start (imports) before the UDF's time limit begins
STARTUP_SECONDS = 180
#: CPU seconds allowed for the worker's start on top of the UDF's limit
_STARTUP_CPU = 60
#: seconds between two measures of the exchange folder's size
_DISK_CHECK_SECONDS = 0.5
#: what an empty file or a folder counts for on disk
_BLOCK = 4096


@dataclass(frozen=True)
class UdfSettings:
    """Limits of UDF workers, and the folders they must never read."""

    #: wall-clock seconds one run_udf node may take (all its chunks); CPU seconds too
    timeout: float = 600.0
    #: address-space limit of the worker, bytes
    memory_bytes: int = 4 * 1024**3
    #: largest file (result chunk, log) the worker may write, and most it may write in
    #: all, bytes
    file_bytes: int = 2 * 1024**3
    #: threads (tasks) a worker may run at once
    #: (:mod:`hybrid.backends.local.udf.task_limit`)
    tasks: int = 512
    #: folders that must stay unreadable (the server's data folder)
    protected: tuple[str, ...] = field(default_factory=tuple)
    #: CPU priority of the worker, its threads and its autogroup, 0 (normal) to 19 (the
    #: lowest, the default: a UDF never slows the server down); never above the server's
    #: own priority (:func:`hybrid.backends.local.udf.sandbox.lower_priority`)
    nice: int = 19

    def __post_init__(self) -> None:
        if isinstance(self.nice, bool) or not isinstance(self.nice, int):
            raise UsageError(f"The UDF workers' nice value must be an integer, not {self.nice!r}.")
        if not 0 <= self.nice <= 19:
            raise UsageError(f"The UDF workers' nice value must be 0..19, not {self.nice}.")


def readable_roots() -> list[str]:
    """What the worker may read besides the system folders: the Python installation."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix}
    paths.update(p for key, p in sysconfig.get_paths().items() if key != "scripts")
    return sorted({os.path.realpath(p) for p in paths if p and os.path.isdir(p)})


def _project_root() -> str:
    """The folder the top-level package of this module lives in (put on the worker's path)."""
    # not resolved: in a checkout hybrid/backends is a symlink to the top-level backends/
    return str(Path(os.path.abspath(__file__)).parents[__name__.count(".")])


def _check_protected(settings: UdfSettings, read: Sequence[str]) -> None:
    from hybrid.backends.local.udf.sandbox import SYSTEM_READ_PATHS

    for folder in settings.protected:
        real = os.path.realpath(folder)
        for root in (*SYSTEM_READ_PATHS, *read):
            if real == root or real.startswith(root.rstrip("/") + "/"):
                raise UdfUnavailable(
                    f"UDFs are disabled: the server's data folder {real} lies inside {root}, "
                    "which UDF code can read; start the server with a --data-dir elsewhere"
                )


def run_udf_chunks(
    code: str,
    chunks: Sequence[Any],
    *,
    context: Any,
    settings: UdfSettings,
    process: str,
    epsg: int | None = None,
) -> list[Any]:
    """The UDF's result for every chunk (xarray.DataArray), computed in a worker."""
    from hybrid.backends.local.udf.exchange import write_chunk

    ids = [str(i) for i in range(len(chunks))]
    with _exchange(code, settings, process) as folder:
        for chunk_id, chunk in zip(ids, chunks, strict=True):
            write_chunk(folder, f"in-{chunk_id}", _as_copernicus_names_it(chunk))
        task = {"chunks": ids, "proj": {"EPSG": epsg} if epsg else None}
        _run_task(folder, code, context, settings, process, task)
        with worker_output(folder, process):
            return [
                chunk_result(folder, chunk_id, chunk, process)
                for chunk_id, chunk in zip(ids, chunks, strict=True)
            ]


def _as_copernicus_names_it(chunk: Any) -> Any:
    """The chunk named ``openEODataChunk`` as Copernicus names it
    (geopysparkdatacube.py ``_tile_to_datacube`` L603), its only attribute the date of a
    per-date chunk (``t``); the engine's own attributes (CRS, load layout) stay here."""
    named = chunk.copy(deep=False).rename("openEODataChunk")
    named.attrs = {key: value for key, value in chunk.attrs.items() if key == "t"}
    return named


def run_udf_table(
    code: str, table: Mapping[str, Any], *, context: Any, settings: UdfSettings, process: str
) -> Any:
    """The UDF's result (a JSON value) for an aggregate_spatial time series, computed in a
    worker (:mod:`hybrid.backends.local.udf.feature_tables`)."""
    from hybrid.backends.local.udf.exchange import TABLE, TABLE_RESULT

    with _exchange(code, settings, process) as folder:
        given_bytes = (folder / TABLE).write_text(json.dumps(table), encoding="utf-8")
        _run_task(folder, code, context, settings, process, {"mode": "table"})
        return json_result(folder / TABLE_RESULT, given_bytes, process)


def run_udf_features(
    code: str,
    given: Mapping[str, Any],
    *,
    epsg: int | None,
    context: Any,
    settings: UdfSettings,
    process: str,
) -> Any:
    """The UDF's answer for vector data, computed in a worker: ``given`` is
    ``{"features": GeoJSON FeatureCollection in EPSG epsg}`` (a feature collection for the
    UDF) or ``{"structured": JSON value}`` (structured data); the answer ``{"features":
    GeoJSON, "crs": text, "invalid": [indexes]}`` or ``{"structured": [values]}``
    (:mod:`hybrid.backends.local.udf.worker`)."""
    from hybrid.backends.local.udf.exchange import FEATURES, TABLE_RESULT

    with _exchange(code, settings, process) as folder:
        given_bytes = (folder / FEATURES).write_text(json.dumps(given), encoding="utf-8")
        task = {"mode": "features", "proj": {"EPSG": epsg} if epsg else {}}
        _run_task(folder, code, context, settings, process, task)
        return json_result(folder / TABLE_RESULT, given_bytes, process)


@contextlib.contextmanager
def _exchange(code: str, settings: UdfSettings, process: str) -> Iterator[Path]:
    """A private exchange folder for one worker, after the checks that come first."""
    from hybrid.backends.local.udf.sandbox import landlock_abi

    try:
        compile(code, "UDF.py", "exec")  # as Copernicus, before running anything
    except (SyntaxError, ValueError) as exc:
        raise UdfError(f"Unexpected error during '{process}': {exc!r}") from None
    if landlock_abi() < 1:
        raise UdfUnavailable(
            "UDFs are disabled: this kernel has no Landlock (Linux >= 5.13), so UDF code "
            "could not be kept away from the server's data"
        )
    _check_protected(settings, readable_roots())
    folder = Path(tempfile.mkdtemp(prefix="hybrid-udf-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _run_task(
    folder: Path,
    code: str,
    context: Any,
    settings: UdfSettings,
    process: str,
    task: Mapping[str, Any],
) -> None:
    with task_cgroup(settings.tasks) as cgroup:
        full = _task_file(code, context, settings, task, cgroup)
        (folder / "task.json").write_text(json.dumps(full, default=str), encoding="utf-8")
        _run_worker(folder, settings, process, cgroup)


def _task_file(
    code: str,
    context: Any,
    settings: UdfSettings,
    task: Mapping[str, Any],
    cgroup: Path | None,
) -> dict[str, Any]:
    """What the worker reads in ``task.json``: its task, the UDF and its limits."""
    return {
        **task,
        "code": code,
        "context": context,
        "read": readable_roots(),
        "hide": [_project_root()],
        "server_pid": os.getpid(),
        "limits": {
            "memory_bytes": int(settings.memory_bytes),
            "cpu_seconds": int(settings.timeout + 0.999) + _STARTUP_CPU,
            "file_bytes": int(settings.file_bytes),
        },
        "tasks": {"limit": int(settings.tasks), "cgroup": None if cgroup is None else str(cgroup)},
        "nice": settings.nice,
    }


def _run_worker(folder: Path, settings: UdfSettings, process: str, cgroup: Path | None) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "HOME": str(folder),
        "TMPDIR": str(folder),
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    args = [sys.executable, "-E", "-s", "-c", _BOOT, str(folder), _project_root()]
    budget = _disk_use(folder) + settings.file_bytes
    with (folder / "worker.log").open("wb") as log:
        proc = subprocess.Popen(
            args, cwd=folder, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            start_new_session=True,
        )  # fmt: skip
        try:
            code = _wait(proc, folder, settings, process, budget)
            _check_disk(folder, budget, settings, process)  # a UDF that wrote fast
        finally:
            _kill_group(proc)  # anything the UDF started in the background
            forward(folder)  # what it logged with inspect
    if code == 0:
        return
    error = folder / "error.json"
    message = (
        shortened(error_summary(error, process))
        if error.is_file()
        else _death(code, folder, settings, process)
    )
    if limit_reached(cgroup):
        message += f" (the UDF reached the limit of {settings.tasks} threads)"
    raise UdfError(message)


def _wait(
    proc: subprocess.Popen[bytes], folder: Path, settings: UdfSettings, process: str, budget: int
) -> int:
    """The worker's exit code; the time limit counts from when it is ready to run UDFs.
    A canceled run (a deleted job, a synchronous request nobody waits for) stops it, and
    so does a folder holding more than ``budget`` bytes (checked every half second)."""
    ready = folder / "ready"
    started = time.monotonic()
    deadline: float | None = None
    measured = started
    while (code := proc.poll()) is None:
        raise_if_canceled()
        now = time.monotonic()
        if now - measured >= _DISK_CHECK_SECONDS:
            measured = now
            _check_disk(folder, budget, settings, process)
        if deadline is None and ready.exists():
            deadline = now + settings.timeout
        if deadline is not None and now > deadline:
            raise UdfError(
                f"UDF stopped in '{process}': it ran longer than the time limit of "
                f"{settings.timeout:g} s"
            )
        if thread_count(proc.pid) > settings.tasks:  # where no cgroup or rlimit bounds it
            raise UdfError(
                f"UDF stopped in '{process}': it ran more than the limit of "
                f"{settings.tasks} threads"
            )
        if deadline is None and now - started > STARTUP_SECONDS:
            raise UdfError(
                f"The UDF worker of '{process}' did not start within {STARTUP_SECONDS} s "
                "(the machine is overloaded?); try again"
            )
        time.sleep(0.05)
    return code


def _disk_use(folder: Path) -> int:
    """Bytes the files under ``folder`` take on disk (holes not counted), its folders and
    files counted as a block each, so that a million empty files count too."""
    total = 0
    for root, dirs, names in os.walk(folder):
        for name in (*dirs, *names):
            with contextlib.suppress(OSError):
                total += max(os.lstat(os.path.join(root, name)).st_blocks * 512, _BLOCK)
    return total


def _check_disk(folder: Path, budget: int, settings: UdfSettings, process: str) -> None:
    if _disk_use(folder) > budget:
        raise UdfError(
            f"UDF stopped in '{process}': it wrote more than the disk limit of "
            f"{settings.file_bytes / 1024**2:g} MiB"
        )


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _death(code: int, folder: Path, settings: UdfSettings, process: str) -> str:
    if code in (-signal.SIGXCPU, -signal.SIGKILL):
        return (
            f"UDF stopped in '{process}': it used more than the CPU time limit of "
            f"{settings.timeout:g} s"
        )
    tail = tail_of(folder / "worker.log", 1500).strip()
    what = f"signal {-code}" if code < 0 else f"exit code {code}"
    if "SandboxUnavailable" in tail:
        raise UdfUnavailable(f"UDFs are disabled: {tail.splitlines()[-1]}")
    return f"The UDF worker of '{process}' ended with {what}: {tail or 'no output'}"
