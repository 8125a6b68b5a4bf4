"""``hybrid serve`` under faults: killed mid-job, failing writes, load, oversized requests.

Every server here is the real ``python -m hybrid serve`` process over the embedded sample,
reached over HTTP on 127.0.0.1 (the openeo client where a user would use it).
"""

from __future__ import annotations

import contextlib
import io
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests
import xarray as xr

from tests.server_helpers import ServeProcess, ndvi_cube, ndvi_graph, openeo_env
from tests.stac_fixtures import TinyScene, tiny_bbox, write_tiny_catalog

DEFAULT_LOGIN = ("hybrid", "hybrid")


def tiny_graph(index: int, *, tiny: bool = False) -> dict[str, Any]:
    """NDVI of a 200 m square of the sample (the ``index``-th, west to east) over two weeks;
    with ``tiny``, of the ``index``-th fifth of the one-scene tiny catalog, in May."""
    if tiny:
        west, south, east, north = tiny_bbox()
        step = (east - west) / 5
        extent = {"west": west + step * index, "south": south, "east": west + step * (index + 1)}
        extent["north"] = north
        dates = ["2023-05-01", "2023-06-01"]
    else:
        west = 6.660 + 0.002 * index
        extent = {"west": west, "south": 45.240, "east": west + 0.002, "north": 45.242}
        dates = ["2023-06-01", "2023-06-15"]
    return ndvi_graph(extent, dates)


def login(url: str, user: tuple[str, str] = DEFAULT_LOGIN) -> requests.Session:
    session = requests.Session()
    token = session.get(f"{url}/credentials/basic", auth=user, timeout=30).json()["access_token"]
    session.headers["Authorization"] = f"Bearer basic//{token}"
    return session


def submit(session: requests.Session, url: str, graph: dict[str, Any]) -> str:
    created = session.post(f"{url}/jobs", json={"process": {"process_graph": graph}}, timeout=30)
    assert created.status_code == 201, created.text
    job_id = created.headers["OpenEO-Identifier"]
    assert session.post(f"{url}/jobs/{job_id}/results", timeout=30).status_code == 202
    return str(job_id)


def wait_until(
    session: requests.Session, url: str, job_id: str, done: Callable[[str], bool], timeout: float
) -> str:
    deadline = time.monotonic() + timeout
    status = ""
    while time.monotonic() < deadline:
        status = session.get(f"{url}/jobs/{job_id}", timeout=30).json()["status"]
        if done(status):
            return str(status)
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} stayed {status!r} for {timeout} s")


def settled(status: str) -> bool:
    return status not in ("created", "queued", "running")


def netcdf_values(content: bytes) -> np.ndarray:
    with xr.open_dataset(io.BytesIO(content), engine="h5netcdf") as ds:
        return np.asarray(ds["var"].values)


def netcdf_signature(content: bytes) -> tuple[bytes, bytes]:
    """Values and x coordinates: tells apart results of different areas."""
    with xr.open_dataset(io.BytesIO(content), engine="h5netcdf") as ds:
        return ds["var"].values.tobytes(), ds["x"].values.tobytes()


# -- killed during a job ---------------------------------------------------------------------


@pytest.mark.slow
def test_sigkill_during_a_running_job_requeues_it(
    tmp_path: Path, sample_catalog: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGKILL while a job runs: after the restart it is queued again and finishes."""
    import openeo

    for key, value in openeo_env(tmp_path / "client").items():
        monkeypatch.setenv(key, value)
    data_dir = tmp_path / "data"
    first = ServeProcess(data_dir=data_dir, stac=sample_catalog, workers=1).start()
    try:
        connection = openeo.connect(first.url).authenticate_basic(*DEFAULT_LOGIN)
        job = ndvi_cube(connection).create_job(out_format="netCDF", title="killed")
        job.start()
        session = login(first.url)
        seen = wait_until(
            session, first.url, job.job_id, lambda s: s in ("running", "finished"), 60
        )
        assert seen == "running", "the job finished before the kill: make it longer"
    finally:
        code = first.stop(sig=signal.SIGKILL)
    assert code == -signal.SIGKILL

    with ServeProcess(data_dir=data_dir, stac=sample_catalog, workers=1) as second:
        session = login(second.url)
        assert wait_until(session, second.url, job.job_id, settled, 90) == "finished"
        logs = session.get(f"{second.url}/jobs/{job.job_id}/logs").json()["logs"]
        assert any("restarted while this job ran" in e["message"] for e in logs), logs
        item = session.get(f"{second.url}/jobs/{job.job_id}/results").json()
        (asset,) = item["assets"].values()
        values = netcdf_values(requests.get(asset["href"], timeout=30).content)
        assert np.isfinite(values).any()
    files = sorted(p.name for p in (data_dir / "jobs" / job.job_id).iterdir())
    assert files == [asset["title"]]  # nothing left over from the killed attempt


# -- write failures ---------------------------------------------------------------------------


@pytest.mark.slow
def test_result_folder_that_is_a_file_sets_the_job_to_error(
    tmp_path: Path, sample_catalog: Path
) -> None:
    """The results folder replaced by a regular file: the job ends 'error' with a reason."""
    data_dir = tmp_path / "data"
    with ServeProcess(data_dir=data_dir, stac=sample_catalog, workers=1) as server:
        session = login(server.url)
        shutil.rmtree(data_dir / "jobs", ignore_errors=True)
        (data_dir / "jobs").write_text("not a folder", encoding="utf-8")
        job_id = submit(session, server.url, tiny_graph(0))
        assert wait_until(session, server.url, job_id, settled, 30) == "error"
        failed = session.get(f"{server.url}/jobs/{job_id}/results")
        assert failed.status_code == 400 and failed.json()["code"] == "JobNotFinished"
        assert "Cannot create the result folder" in failed.json()["message"], failed.text
        assert (
            session.get(f"{server.url}/jobs/{job_id}/results?partial=true").json()["assets"] == {}
        )

        (data_dir / "jobs").unlink()  # repaired: the same job runs again
        assert session.post(f"{server.url}/jobs/{job_id}/results").status_code == 202
        assert wait_until(session, server.url, job_id, settled, 30) == "finished"


@contextlib.contextmanager
def tiny_tmpfs(path: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` mounted on ``path`` (skips where mounting is not allowed)."""
    if shutil.which("mount") is None:
        pytest.skip("no mount command")
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


@pytest.mark.slow
def test_full_disk_while_saving_results_sets_the_job_to_error(
    tmp_path: Path, sample_catalog: Path
) -> None:
    """The results folder on a full (16 KiB) disk: the job ends 'error', nothing is served
    and no partial file stays; the server keeps working."""
    data_dir = tmp_path / "data"
    with (
        tiny_tmpfs(data_dir / "jobs", "16k") as jobs,
        ServeProcess(data_dir=data_dir, stac=sample_catalog, workers=1) as server,
    ):
        session = login(server.url)
        job_id = submit(session, server.url, tiny_graph(0))  # ~25 KB of NetCDF
        assert wait_until(session, server.url, job_id, settled, 60) == "error"
        failed = session.get(f"{server.url}/jobs/{job_id}/results")
        assert failed.status_code == 400, failed.text
        assert "space" in failed.json()["message"].lower(), failed.text
        assert list(jobs.rglob("*.nc")) == [] and list(jobs.rglob("*.part")) == []
        assert session.get(f"{server.url}/jobs").status_code == 200


# -- load ----------------------------------------------------------------------------------------

CLIENTS, JOBS_PER_CLIENT, AREAS = 20, 5, 5


def _server_rss(pid: int) -> int:
    import psutil

    return int(psutil.Process(pid).memory_info().rss)


@pytest.mark.slow
def test_twenty_clients_five_jobs_each(
    tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    """20 concurrent clients x 5 batch jobs: all finish with the right numbers, no
    deadlock, the server's memory stays bounded."""
    from hybrid.backends.local import LocalBackend, LocalSettings

    scenes = [TinyScene("S2A_32TLR_20230502_0_L2A", "2023-05-02T10:30:00Z", 5.0, red=1200)]
    catalog = write_tiny_catalog(tmp_path / "tiny", scenes)
    engine = LocalBackend(LocalSettings(stac=str(catalog)))
    expected = []
    for area in range(AREAS):
        graph = tiny_graph(area, tiny=True)
        (path,) = engine.execute(graph, out_dir=tmp_path / f"ref{area}").files
        expected.append(netcdf_signature(path.read_bytes()))
    assert len(set(expected)) == AREAS  # a result of the wrong job would be noticed

    with ServeProcess(data_dir=tmp_path / "data", stac=catalog, workers=2) as server:
        pid = server.proc.pid  # type: ignore[union-attr]
        samples = [_server_rss(pid)]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.2):
                samples.append(_server_rss(pid))

        failures: list[str] = []
        checked: list[int] = []

        def client(index: int) -> None:
            try:
                session = login(server.url)
                jobs = []
                for n in range(JOBS_PER_CLIENT):
                    area = (index + n) % AREAS
                    graph = tiny_graph(area, tiny=True)
                    jobs.append((submit(session, server.url, graph), area))
                for job_id, area in jobs:
                    status = wait_until(session, server.url, job_id, settled, 80)
                    if status != "finished":
                        failures.append(f"{job_id}: {status}")
                        continue
                    item = session.get(f"{server.url}/jobs/{job_id}/results", timeout=30).json()
                    (asset,) = item["assets"].values()
                    got = netcdf_signature(requests.get(asset["href"], timeout=30).content)
                    if got != expected[area]:
                        failures.append(f"{job_id}: not the result of area {area}")
                        continue
                    checked.append(area)
            except Exception as exc:  # collected: reported by the main thread
                failures.append(f"client {index}: {type(exc).__name__}: {exc}")

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started = time.monotonic()
        threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(max(1.0, 85 - (time.monotonic() - started)))
        elapsed = time.monotonic() - started
        done.set()
        sampler.join(5)
        alive = sum(t.is_alive() for t in threads)
        assert alive == 0, f"{alive} clients still waiting after {elapsed:.0f} s: deadlock?"
        assert not failures, failures[:5]
        assert len(checked) == CLIENTS * JOBS_PER_CLIENT
        peak_mb = max(samples) / 2**20
        record_property("cases", CLIENTS * JOBS_PER_CLIENT)
        record_property("seconds", round(elapsed, 1))
        record_property("peak_rss_mb", round(peak_mb))
        assert peak_mb < 1536, f"server RSS peaked at {peak_mb:.0f} MiB"
        # bounded: the last quarter of the run holds no more than the first three quarters
        # plus headroom (no growth per job)
        cut = max(1, 3 * len(samples) // 4)
        assert max(samples[cut:]) <= max(samples[:cut]) * 1.25 + 64 * 2**20, samples


# -- request size ------------------------------------------------------------------------------


@pytest.mark.slow
def test_request_size_limits(tmp_path: Path, sample_catalog: Path) -> None:
    """Bodies over 1 MiB are 413 whether declared (Content-Length) or streamed (chunked);
    a body at the limit is read; the server keeps serving."""
    limit = 1024 * 1024
    with ServeProcess(data_dir=tmp_path / "data", stac=sample_catalog) as server:
        session = login(server.url)
        at_limit = b'{"process": {"process_graph": {}}, "pad": "' + b"x" * limit
        at_limit = at_limit[: limit - 2] + b'"}'
        answer = session.post(
            f"{server.url}/jobs", data=at_limit, headers={"Content-Type": "application/json"}
        )
        assert len(at_limit) == limit and answer.status_code == 400, answer.text  # read, judged

        def chunks() -> Iterator[bytes]:
            yield b'{"process": {"process_graph": {}}, "pad": "'
            for _ in range(40):
                yield b"y" * 65536

        for path in ("/jobs", "/result", "/validation"):
            streamed = session.post(
                f"{server.url}{path}", data=chunks(), headers={"Content-Type": "application/json"}
            )
            assert streamed.status_code == 413, (path, streamed.text)
            assert streamed.json()["code"] == "PayloadTooLarge"
        declared = session.post(
            f"{server.url}/jobs",
            data=b"x" * (limit + 1),
            headers={"Content-Type": "application/json"},
        )
        assert declared.status_code == 413
        job_id = submit(session, server.url, tiny_graph(0))
        assert wait_until(session, server.url, job_id, settled, 30) == "finished"
