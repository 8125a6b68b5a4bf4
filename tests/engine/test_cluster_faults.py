"""Faults at the Dask edges: every one ends in one line and exit 2, never a hang."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hybrid.atomic import work_folder
from hybrid.backends.local import LocalBackend, LocalSettings, cluster
from hybrid.backends.local.client_logs import CLIENT_LOGGERS, routed_client_logs
from hybrid.errors import ClusterError
from hybrid.params import Workflow
from hybrid.run_warnings import warnings_to
from hybrid.sample import SEED_AOI
from hybrid.workflow_graph import build_graph

CLIENT = CLIENT_LOGGERS[0]
WINDOW = ["--start", "2023-06-01", "--end", "2023-06-15"]


def hybrid(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hybrid", *args], capture_output=True, text=True, timeout=timeout
    )


def small_graph() -> dict:
    return build_graph(Workflow(aoi=SEED_AOI, start="2023-06-01", end="2023-06-15"))


def start_scheduler(tmp_path: Path) -> tuple[subprocess.Popen, str, Path]:
    """A real dask scheduler process on loopback, without workers: process, address, file."""
    file = tmp_path / "scheduler.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
         "--port", "0", "--no-dashboard", "--scheduler-file", str(file)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not file.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert file.exists(), "the dask scheduler did not start"
    return proc, json.loads(file.read_text())["address"], file


@contextlib.contextmanager
def running_worker(
    file: Path, cwd: Path, *options: str, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen]:
    """A real single-threaded dask worker process of the scheduler in ``file``, stopped
    when the block ends."""
    worker = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file", str(file),
         "--nthreads", "1", "--no-dashboard", *options],
        env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield worker
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def run_fails(catalog: Path, address: str, timeout: float, words: str, out: Path) -> None:
    """A run of the small graph on the scheduler at ``address`` fails with ``words``."""
    backend = LocalBackend(
        LocalSettings(stac=str(catalog), scheduler=address, worker_timeout=timeout)
    )
    with pytest.raises(ClusterError, match=words):
        backend.execute(small_graph(), out_dir=out)


@pytest.fixture
def scheduler(tmp_path) -> Iterator[tuple[str, Path]]:
    proc, address, file = start_scheduler(tmp_path)
    yield address, file
    proc.terminate()
    proc.wait(timeout=30)


@pytest.mark.parametrize("address", ["nonsense", "http://127.0.0.1:8786"])
def test_a_bad_scheduler_address_is_one_line(address):
    """A scheduler address without tcp:// or otherwise malformed: one line, exit 2."""
    done = hybrid("run", "--scheduler", address, *WINDOW, "--out", os.devnull + ".nc")
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "--scheduler" in done.stderr


@pytest.mark.slow
def test_an_unreachable_scheduler_is_one_line(sample_catalog, tmp_path):
    """An unreachable scheduler: one line naming it, exit 2, within a bounded time."""
    started = time.monotonic()
    done = hybrid("run", "--stac", str(sample_catalog), "--scheduler", "tcp://127.0.0.1:9",
                  *WINDOW, "--out", str(tmp_path / "x.nc"))  # fmt: skip
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "cannot reach the Dask scheduler" in done.stderr
    assert time.monotonic() - started < 90
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_a_cluster_without_workers_fails_within_the_timeout(sample_catalog, scheduler, tmp_path):
    """A scheduler without workers: one-line error within the timeout, not a hang."""
    address, _file = scheduler
    started = time.monotonic()
    run_fails(sample_catalog, address, 3, "has no workers", tmp_path)
    assert time.monotonic() - started < 60


@pytest.mark.slow
def test_a_worker_that_cannot_import_the_project_is_named(sample_catalog, scheduler, tmp_path):
    """A worker that cannot import hybrid is named in one line (with the log to read), not a
    hang."""
    address, file = scheduler
    broken = tmp_path / "broken" / "hybrid"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text("raise ImportError('hybrid is not installed here')\n")
    env = {**os.environ, "PYTHONPATH": str(broken.parent)}
    with running_worker(file, tmp_path, env=env):
        run_fails(sample_catalog, address, 60, "cannot run hybrid's tasks", tmp_path / "out")


@pytest.mark.slow
def test_sigterm_mid_run_leaves_no_work_folder(sample_catalog, tmp_path):
    """SIGTERM during hybrid run: exit, no temporary work folder left in the output folder."""
    out = tmp_path / "ndvi.nc"
    proc = subprocess.Popen(
        [sys.executable, "-m", "hybrid", "run", "--stac", str(sample_catalog),
         "--out", str(out), "--quiet"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".hybrid-run-*")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(tmp_path.glob(".hybrid-run-*")), "the run never started its work folder"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 128 + signal.SIGTERM
    assert list(tmp_path.iterdir()) == []


def test_a_work_folder_left_by_a_killed_run_is_removed(tmp_path):
    """A work folder left by a SIGKILLed run (dead pid) is removed by the next run; a live
    run's folder is kept."""
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    stale = tmp_path / f".hybrid-run-{dead.stdout.strip()}-abc123"
    stale.mkdir()
    (stale / "part.nc").write_text("half")
    mine = tmp_path / f".hybrid-run-{os.getpid()}-keep"
    mine.mkdir()
    with work_folder(tmp_path, "hybrid-run") as tmp:
        assert tmp.is_dir() and not stale.exists() and mine.exists()
    assert not tmp.exists()


@pytest.mark.slow
def test_client_logs_go_to_the_job_log_not_stderr(tmp_path, monkeypatch, capfd):
    """distributed's client logs a lost scheduler on stderr; while hybrid holds the client
    they go to the job's log (the sink ``hybrid serve`` sets), and the logger is restored
    after."""
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", 2.0)  # how long it tries to reconnect
    sched, address, _file = start_scheduler(tmp_path)
    logger = logging.getLogger(CLIENT)
    before = (list(logger.handlers), logger.propagate)
    entries: list[str] = []
    try:
        with warnings_to(entries.append), routed_client_logs():
            client = cluster.connect(address)
            sched.kill()
            deadline = time.monotonic() + 60
            while not entries and time.monotonic() < deadline:
                time.sleep(0.2)
            client.close()
    finally:
        sched.kill()
        sched.wait(timeout=30)
    reconnect = "Failed to reconnect to scheduler after 2.00 seconds, closing client"
    assert f"Dask client: {reconnect}" in entries
    assert "distributed.client" not in capfd.readouterr().err
    assert (logger.handlers, logger.propagate) == before


STOP_ON_FIRST_TASK = """
import os, signal
from distributed.diagnostics.plugin import WorkerPlugin

class StopOnFirstTask(WorkerPlugin):
    def transition(self, key, start, finish, **kwargs):
        if finish == "executing":
            os.kill(os.getpid(), signal.SIGSTOP)

async def dask_setup(worker):
    await worker.plugin_add(StopOnFirstTask(), name="stop-on-first-task")
"""


def _stopped(pid: int) -> bool:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "T"


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process states in /proc")
@pytest.mark.parametrize("phase", ["worker probe", "result wait"])
def test_a_scheduler_killed_while_the_run_waits_on_it_is_one_line(sample_catalog, tmp_path, phase):
    """The scheduler dies while ``hybrid run --scheduler`` waits on its one worker, which
    is stopped (SIGSTOP) either right after registering (the run waits in its import
    probe) or at its first task (the probe passed; the run waits for results): one line
    naming the scheduler, exit 2, no traceback, nothing left in the output folder."""
    from dask.distributed import Client

    def client_count(dask_scheduler: Any) -> int:  # nested: pickled by value
        return len(dask_scheduler.clients)

    sched, address, _file = start_scheduler(tmp_path)
    preload = tmp_path / "stop_on_first_task.py"
    preload.write_text(STOP_ON_FIRST_TASK)
    extra = ["--preload", str(preload)] if phase == "result wait" else []
    worker = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_worker", address, "--no-nanny",
         "--nthreads", "1", "--no-dashboard", *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    run = None
    try:
        with Client(address, timeout=30) as watch:
            watch.wait_for_workers(1, timeout=90)
            clients = watch.run_on_scheduler(client_count)
            if phase == "worker probe":
                worker.send_signal(signal.SIGSTOP)
            out = tmp_path / "out"
            out.mkdir()
            run = subprocess.Popen(
                [sys.executable, "-m", "hybrid", "run", "--stac", str(sample_catalog),
                 "--scheduler", address, *WINDOW, "--out", str(out / "ndvi.nc"), "--quiet"],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            )  # fmt: skip
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline and run.poll() is None:
                if phase == "worker probe" and watch.run_on_scheduler(client_count) > clients:
                    time.sleep(2)  # connected: now in wait_for_workers, then the probe
                    break
                if phase == "result wait" and _stopped(worker.pid):
                    break
                time.sleep(0.2)
        assert run.poll() is None, run.stderr.read() if run.stderr else ""
        sched.kill()
        killed = time.monotonic()
        _, err = run.communicate(timeout=120)
        assert run.returncode == 2 and err.count("\n") == 1, err
        assert "Dask scheduler" in err and "Traceback" not in err
        assert time.monotonic() - killed < 60
        assert list(out.iterdir()) == []
    finally:
        for proc in (run, worker, sched):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGCONT)
                proc.kill()
                proc.wait(timeout=30)


@pytest.mark.slow
def test_workers_paused_at_their_memory_limit_are_named_not_waited_for(
    sample_catalog, scheduler, tmp_path
):
    """A worker over 80 % of its memory limit pauses and runs nothing: with every worker
    paused a run hung (``hybrid serve --dask-workers 2 --memory-limit 300MiB``: forked
    workers start at about 250 MiB), or failed with "has no workers ... start some",
    wrong for a cluster whose workers are there. Now one line naming the limit."""
    address, file = scheduler
    with running_worker(file, tmp_path, "--no-nanny", "--memory-limit", "60MiB"):
        client = cluster.connect(address)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            workers = client.scheduler_info().get("workers", {})
            if workers and all(w["status"] == "paused" for w in workers.values()):
                break
            time.sleep(0.5)
        client.close()
        words = "paused at its memory limit \\(60 MiB"
        run_fails(sample_catalog, address, 5, words, tmp_path / "out")
