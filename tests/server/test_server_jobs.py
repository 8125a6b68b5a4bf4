"""The emulator's job store (SQLite) and worker pool: states, logs, restart recovery.

The engine here is a small stand-in that writes a real NetCDF and can be held at a gate,
so the tests control exactly when a job is running; the end-to-end tests use the real
local engine.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hybrid.backends.base import ExecutionResult
from hybrid.errors import ProcessParameterInvalid
from hybrid.server.errors import JobNotFound
from hybrid.server.jobs import JobStore
from hybrid.server.runner import JobRunner

GRAPH = {"process_graph": {"s": {"process_id": "save_result", "arguments": {}, "result": True}}}
FAILING = {"process_graph": {"k": {"process_id": "apply_kernel", "arguments": {}, "result": True}}}


class GatedEngine:
    """Writes ``result.nc`` once ``gate`` is open; fails on graphs with an apply_kernel node."""

    name = "gated"

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()
        self.calls = 0

    def validate(self, graph: dict[str, Any], *, job: bool = False) -> None:
        return None

    def process_specs(self) -> list[dict[str, Any]]:
        return []

    def execute(self, graph: dict[str, Any], *, out_dir: Path) -> ExecutionResult:
        import numpy as np
        import xarray as xr

        self.calls += 1
        self.entered.set()
        assert self.gate.wait(10)
        if "k" in graph:
            raise ProcessParameterInvalid("apply_kernel: border must be 0", node="k")
        path = out_dir / "result.nc"
        xr.DataArray(np.ones((1, 2, 2), "float32"), dims=("t", "y", "x"), name="var").to_netcdf(
            path, engine="h5netcdf"
        )
        fields = {"bands": [{"name": "var"}]}
        return ExecutionResult(
            files=(path,), provenance={"engine": self.name}, assets={path: fields}
        )


def wait_status(
    store: JobStore, job_id: str, statuses: tuple[str, ...], timeout: float = 10
) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = store.get(job_id).status
        if status in statuses:
            return status
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} stayed {store.get(job_id).status}, wanted {statuses}")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[JobStore]:
    jobs = JobStore(tmp_path / "jobs.sqlite")
    yield jobs
    jobs.close()


def make_runner(store: JobStore, engine: GatedEngine, tmp_path: Path, **kw: Any) -> JobRunner:
    options: dict[str, Any] = {"workers": 1, "max_attempts": 3, **kw}
    return JobRunner(store=store, engine=engine, results_dir=tmp_path / "results", **options)


def test_store_keeps_jobs_per_user(store: JobStore) -> None:
    a = store.create(user_id="alice", process=GRAPH, title="first")
    store.create(user_id="bob", process=GRAPH)
    assert [j.id for j in store.of_user("alice")] == [a.id]
    assert store.get(a.id, user_id="alice").title == "first"
    with pytest.raises(JobNotFound):
        store.get(a.id, user_id="bob")
    assert store.update(a.id, expect=("queued",), status="running") is False
    assert store.update(a.id, expect=("created",), status="queued") is True
    assert store.get(a.id).status == "queued"


def test_logs_filter_by_level_and_offset(store: JobStore) -> None:
    job = store.create(user_id="alice", process=GRAPH)
    for level in ("debug", "info", "warning", "error"):
        store.log(job.id, level, f"{level} message")
    assert [e.level for e in store.logs(job.id, level="warning")] == ["warning", "error"]
    first_two = store.logs(job.id, limit=2)
    assert [e.level for e in first_two] == ["debug", "info"]
    rest = store.logs(job.id, offset=first_two[-1].id)
    assert [e.level for e in rest] == ["warning", "error"]
    # an offset beyond SQLite's integers is past every entry; one that only looks like
    # digits (str.isdigit takes "²") is no entry id: both were a 500
    assert store.logs(job.id, offset="9" * 30) == []
    assert len(store.logs(job.id, offset="\u00b2")) == 4


def test_job_runs_to_finished(store: JobStore, tmp_path: Path) -> None:
    engine = GatedEngine()
    runner = make_runner(store, engine, tmp_path)
    runner.start()
    job = store.create(user_id="alice", process=GRAPH)
    store.update(job.id, status="queued")
    runner.submit(job.id)
    assert wait_status(store, job.id, ("finished", "error")) == "finished"
    done = store.get(job.id)
    assert done.files == ("result.nc",) and done.progress == 100.0
    assert (runner.result_dir(job.id) / "result.nc").is_file()
    runner.shutdown()
    # what the run knows of its files is kept with the job, by file name
    reopened = JobStore(tmp_path / "jobs.sqlite")
    assert reopened.get(job.id).assets == {"result.nc": {"bands": [{"name": "var"}]}}
    reopened.close()


def test_failure_is_logged_with_its_process_node(store: JobStore, tmp_path: Path) -> None:
    runner = make_runner(store, GatedEngine(), tmp_path)
    runner.start()
    job = store.create(user_id="alice", process=FAILING)
    store.update(job.id, status="queued")
    runner.submit(job.id)
    assert wait_status(store, job.id, ("finished", "error")) == "error"
    failed = store.get(job.id)
    assert (failed.error_code, failed.error_node) == ("ProcessParameterInvalid", "k")
    (entry,) = store.logs(job.id, level="error")
    assert entry.node == "k" and "border must be 0" in entry.message
    runner.shutdown()


def held_running_job(store: JobStore, tmp_path: Path) -> tuple[GatedEngine, JobRunner, str]:
    """A job inside the engine, held at its gate (the caller opens it)."""
    engine = GatedEngine()
    engine.gate.clear()
    runner = make_runner(store, engine, tmp_path)
    runner.start()
    job = store.create(user_id="alice", process=GRAPH)
    store.update(job.id, status="queued")
    runner.submit(job.id)
    assert engine.entered.wait(10)
    return engine, runner, job.id


def test_cancel_while_running_drops_the_results(store: JobStore, tmp_path: Path) -> None:
    engine, runner, job_id = held_running_job(store, tmp_path)
    job = store.get(job_id)
    assert store.update(job.id, expect=("queued", "running"), status="canceled")
    engine.gate.set()
    time.sleep(0.3)
    assert store.get(job.id).status == "canceled"
    assert not runner.result_dir(job.id).exists()
    runner.shutdown()


def test_a_job_started_again_at_once_waits_for_its_canceled_run(
    store: JobStore, tmp_path: Path
) -> None:
    """Canceled and started again at once (``job.stop(); job.start()``), the new run
    waits until the canceled one has left the engine: the old run's end (its failure,
    here its result) landed on the new run, which it took for its own since both are
    ``running`` (an error "the run was canceled" in 3 of 6 tries), in the same folder."""
    engine = GatedEngine()
    engine.gate.clear()
    runner = make_runner(store, engine, tmp_path, workers=2)
    runner.start()
    job = store.create(user_id="alice", process=GRAPH)
    store.update(job.id, status="queued")
    runner.submit(job.id)
    assert engine.entered.wait(10)
    assert store.update(job.id, expect=("running",), status="canceled")
    runner.cancel(job.id)
    assert store.update(job.id, expect=("canceled",), status="queued")
    runner.submit(job.id)
    time.sleep(0.3)  # the second worker is free: it would have claimed the job by now
    assert engine.calls == 1 and store.get(job.id).status == "queued"
    engine.gate.set()
    assert wait_status(store, job.id, ("finished", "error")) == "finished"
    assert engine.calls == 2 and store.get(job.id).attempts == 2
    assert (runner.result_dir(job.id) / "result.nc").exists()
    runner.shutdown()


def test_a_job_deleted_while_running_fails_quietly(
    store: JobStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """DELETE of a running job cancels it and removes its folder; the engine's write
    into the removed folder then fails, which is no server error to log."""
    import shutil

    engine, runner, job_id = held_running_job(store, tmp_path)
    job = store.get(job_id)
    assert store.update(job.id, expect=("queued", "running"), status="canceled")
    runner.cancel(job.id)
    shutil.rmtree(runner.result_dir(job.id))
    with caplog.at_level("ERROR", logger="hybrid.server.runner"):
        engine.gate.set()
        deadline = time.monotonic() + 10
        while runner.busy() and time.monotonic() < deadline:
            time.sleep(0.02)
    assert not runner.busy()
    assert store.get(job.id).status == "canceled"
    assert not [r for r in caplog.records if r.exc_info]
    assert not runner.result_dir(job.id).exists()
    runner.shutdown()


def test_restart_requeues_queued_and_running_jobs(store: JobStore, tmp_path: Path) -> None:
    queued = store.create(user_id="alice", process=GRAPH)
    running = store.create(user_id="alice", process=GRAPH)
    store.update(queued.id, status="queued")
    store.update(running.id, status="running", attempts=1)  # as a killed server left it
    runner = make_runner(store, GatedEngine(), tmp_path)
    runner.start()
    for job in (queued, running):
        assert wait_status(store, job.id, ("finished", "error")) == "finished"
    messages = [e.message for e in store.logs(running.id)]
    assert any("restarted while this job ran" in m for m in messages)
    runner.shutdown()


def test_job_interrupted_too_often_is_set_to_error(store: JobStore, tmp_path: Path) -> None:
    job = store.create(user_id="alice", process=GRAPH)
    store.update(job.id, status="running", attempts=3)
    engine = GatedEngine()
    runner = make_runner(store, engine, tmp_path, max_attempts=3)
    runner.start()
    failed = store.get(job.id)
    assert failed.status == "error" and "3 times" in (failed.error_message or "")
    assert engine.calls == 0
    runner.shutdown()


def test_shutdown_puts_running_jobs_back_to_queued(store: JobStore, tmp_path: Path) -> None:
    engine = GatedEngine()
    engine.gate.clear()
    runner = make_runner(store, engine, tmp_path)
    runner.start()
    job = store.create(user_id="alice", process=GRAPH)
    store.update(job.id, status="queued")
    runner.submit(job.id)
    assert engine.entered.wait(10)
    assert store.get(job.id).status == "running"
    runner.shutdown(timeout=0.1)
    assert store.get(job.id).status == "queued"
    assert runner.busy()
    engine.gate.set()  # the late result is discarded
    time.sleep(0.3)
    assert store.get(job.id).status == "queued"


def test_aoi_mostly_outside_its_grid_is_a_warning_in_the_jobs_log(
    tmp_path: Path, sample_catalog: Path
) -> None:
    """Two small squares at opposite corners of the sample area load as one grid over
    their bounding box (as on Copernicus); the warning saying how little of it they cover
    is in GET /jobs/{id}/logs, read with the openeo client, not on the server's stderr."""
    import os
    import warnings

    import openeo

    from hybrid.errors import HybridWarning
    from tests.server_helpers import openeo_env, two_user_server

    week = ["2023-06-01", "2023-06-08"]
    w, s, e, n = 6.6544450, 45.2258959, 6.6751340, 45.2641447
    corners = [(w, s, w + 0.003, s + 0.003), (e - 0.003, n - 0.003, e, n)]
    aoi = {
        "type": "MultiPolygon",
        "coordinates": [
            [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]] for x0, y0, x1, y1 in corners
        ],
    }
    (tmp_path / "server").mkdir()
    with two_user_server(tmp_path / "server", sample_catalog) as server:
        os.environ.update(openeo_env(tmp_path / "client"))  # the client's config stays here
        connection = openeo.connect(server.url).authenticate_basic("alice", "a-pass")
        cube = connection.load_collection(
            "SENTINEL2_L2A", spatial_extent=aoi, temporal_extent=week, bands=["B04"]
        ).reduce_dimension(dimension="t", reducer="max")
        job = cube.create_job(out_format="GTiff")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            job.start()
            deadline = time.monotonic() + 60
            while job.status() not in ("finished", "error") and time.monotonic() < deadline:
                time.sleep(0.1)
        assert job.status() == "finished"
        logs = [entry for entry in job.logs() if entry["level"] == "warning"]
    assert len(logs) == 1, logs
    assert re.fullmatch(r"spatial_extent covers \d+% of its \d+ x \d+ px grid in EPSG:32632 .*",
                        logs[0]["message"])  # fmt: skip
    assert not [w for w in caught if issubclass(w.category, HybridWarning)]
