"""Faults at the Dask edges: every one ends in one line and exit 2, never a hang."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hybrid.atomic import work_folder
from hybrid.backends.local import LocalBackend, LocalSettings
from hybrid.errors import ClusterError
from hybrid.params import Workflow
from hybrid.sample import SEED_AOI
from hybrid.workflow_graph import build_graph

WINDOW = ["--start", "2023-06-01", "--end", "2023-06-15"]


def hybrid(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hybrid", *args], capture_output=True, text=True, timeout=timeout
    )


def small_graph() -> dict:
    return build_graph(Workflow(aoi=SEED_AOI, start="2023-06-01", end="2023-06-15"))


@pytest.fixture
def scheduler(tmp_path) -> Iterator[tuple[str, Path]]:
    """A real dask scheduler process on loopback, without workers."""
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
    yield json.loads(file.read_text())["address"], file
    proc.terminate()
    proc.wait(timeout=30)


@pytest.mark.parametrize("address", ["nonsense", "http://127.0.0.1:8786"])
def test_a_bad_scheduler_address_is_one_line(address):
    done = hybrid("run", "--scheduler", address, *WINDOW, "--out", os.devnull + ".nc")
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "--scheduler" in done.stderr


@pytest.mark.slow
def test_an_unreachable_scheduler_is_one_line(sample_catalog, tmp_path):
    started = time.monotonic()
    done = hybrid("run", "--stac", str(sample_catalog), "--scheduler", "tcp://127.0.0.1:9",
                  *WINDOW, "--out", str(tmp_path / "x.nc"))  # fmt: skip
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "cannot reach the Dask scheduler" in done.stderr
    assert time.monotonic() - started < 90
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_a_cluster_without_workers_fails_within_the_timeout(sample_catalog, scheduler, tmp_path):
    address, _file = scheduler
    backend = LocalBackend(
        LocalSettings(stac=str(sample_catalog), scheduler=address, worker_timeout=3)
    )
    started = time.monotonic()
    with pytest.raises(ClusterError, match="has no workers"):
        backend.execute(small_graph(), out_dir=tmp_path)
    assert time.monotonic() - started < 60


@pytest.mark.slow
def test_a_worker_that_cannot_import_the_project_is_named(sample_catalog, scheduler, tmp_path):
    address, file = scheduler
    broken = tmp_path / "broken" / "hybrid"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text("raise ImportError('hybrid is not installed here')\n")
    env = {**os.environ, "PYTHONPATH": str(broken.parent)}
    worker = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file", str(file),
         "--nthreads", "1", "--no-dashboard"],
        env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        backend = LocalBackend(
            LocalSettings(stac=str(sample_catalog), scheduler=address, worker_timeout=60)
        )
        with pytest.raises(ClusterError, match="cannot run hybrid's tasks"):
            backend.execute(small_graph(), out_dir=tmp_path / "out")
    finally:
        worker.terminate()
        worker.wait(timeout=30)


@pytest.mark.slow
def test_sigterm_mid_run_leaves_no_work_folder(sample_catalog, tmp_path):
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
