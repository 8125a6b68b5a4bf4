"""``hybrid serve --scheduler ADDRESS``: batch jobs on a real Dask cluster (a ``dask
scheduler`` and two ``dask worker`` processes), driven by the real openeo client.

- a job gives the same result as the threaded engine, and its tasks ran on the workers;
- canceling (``DELETE /jobs/{id}/results``) or deleting a running job empties the
  scheduler and the workers within seconds: its futures are cancelled, not left to run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from tests.server_helpers import ROOT, ServeProcess, flat_graph, ndvi_cube

pytestmark = pytest.mark.slow  # a cluster and a server start: ~10 s each on two cores


def _python(*args: str, env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, *args], env=env, cwd=cwd,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A dask scheduler and two single-threaded worker processes on loopback."""
    from dask.distributed import Client

    tmp = tmp_path_factory.mktemp("cluster")
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path}
    file = tmp / "scheduler.json"
    procs = [_python("-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                     "--port", "0", "--no-dashboard", "--scheduler-file", str(file),
                     env=env, cwd=tmp)]  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert file.exists(), "the dask scheduler did not start"
        address = json.loads(file.read_text())["address"]
        for _ in range(2):
            procs.append(_python("-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
                                 "--no-dashboard", "--no-nanny", env=env, cwd=tmp))  # fmt: skip
        with Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=60)
        yield address
    finally:
        for proc in reversed(procs):
            proc.terminate()
            proc.wait(timeout=30)


def _scheduler_load(client: Any) -> dict[str, int]:
    """Tasks the scheduler knows and tasks the workers are executing right now, asked
    through ``client`` (one observer client for the whole test: a new client every
    0.2 s sometimes met distributed's handshake assertion, client.py L1589)."""

    def on_scheduler(dask_scheduler: Any) -> int:
        return len(dask_scheduler.tasks)

    def on_worker(dask_worker: Any) -> int:
        return len(dask_worker.state.executing) + len(dask_worker.state.ready)

    return {
        "tasks": int(client.run_on_scheduler(on_scheduler)),
        "executing": sum(client.run(on_worker).values()),
    }


def _executed(address: str) -> int:
    from dask.distributed import Client

    def on_worker(dask_worker: Any) -> int:
        return int(dask_worker.state.transition_counter)

    with Client(address, timeout=30) as client:
        return sum(client.run(on_worker).values())


def test_a_job_on_the_cluster_equals_the_threaded_result(cluster, sample_catalog, tmp_path):
    import openeo

    from hybrid.backends.local import LocalBackend, LocalSettings

    before = _executed(cluster)
    with ServeProcess(data_dir=tmp_path / "data", stac=sample_catalog,
                      extra_args=["--scheduler", cluster]) as serve:  # fmt: skip
        connection = openeo.connect(serve.url).authenticate_basic("hybrid", "hybrid")
        job = ndvi_cube(connection).save_result(format="netCDF").create_job()
        job.start_and_wait(print=lambda *a, **k: None, max_poll_interval=1)
        files = job.get_results().download_files(tmp_path / "remote")
        graph = flat_graph(ndvi_cube(connection))
    assert _executed(cluster) > before, "no task ran on the cluster's workers"
    local = LocalBackend(LocalSettings(stac=str(sample_catalog))).execute(
        graph, out_dir=tmp_path / "local"
    )
    remote_nc = next(f for f in files if f.suffix == ".nc")
    with xr.open_dataset(remote_nc) as a, xr.open_dataset(local.files[0]) as b:
        assert a["var"].shape == b["var"].shape and a["var"].size > 0
        np.testing.assert_array_equal(a["var"].values, b["var"].values)


@pytest.fixture(scope="module")
def big_scene(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A benchmark scene large enough that its job runs for many seconds on two workers."""
    from benchmarks.scenes import SceneSpec, ensure_scene, scene_graph

    spec = SceneSpec(12, 1024)
    return ensure_scene(tmp_path_factory.mktemp("scenes"), spec), scene_graph(spec)


@pytest.mark.parametrize("how", ["cancel", "delete"])
def test_stopping_a_running_job_frees_the_workers(how, cluster, big_scene, tmp_path):
    import openeo
    from dask.distributed import Client

    catalog, graph = big_scene
    with ServeProcess(data_dir=tmp_path / "data", stac=catalog,
                      extra_args=["--scheduler", cluster]) as serve, \
            Client(cluster, timeout=30) as observer:  # fmt: skip
        connection = openeo.connect(serve.url).authenticate_basic("hybrid", "hybrid")
        job = connection.create_job(graph)
        job.start()
        deadline = time.monotonic() + 120
        while _scheduler_load(observer)["executing"] == 0:
            assert time.monotonic() < deadline, "the job never reached the workers"
            assert job.status() in ("queued", "running"), job.logs()
            time.sleep(0.2)
        stopped = time.monotonic()
        if how == "cancel":
            job.stop()
        else:
            job.delete()
        load = _scheduler_load(observer)
        while load["tasks"] or load["executing"]:
            assert time.monotonic() - stopped < 10, f"the cluster still works for the job: {load}"
            time.sleep(0.2)
            load = _scheduler_load(observer)
        if how == "cancel":
            assert job.status() == "canceled"
            assert not (tmp_path / "data" / "jobs" / job.job_id).exists()
