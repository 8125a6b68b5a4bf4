"""Memory of a long-running ``hybrid serve``: many jobs in a row do not make it grow.

The real server process over a one-scene tiny catalog; its resident set size is read from
the outside (psutil) once the 10th job has finished and again after the last one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from tests.server.test_server_faults import login, tiny_graph
from tests.server_helpers import ServeProcess
from tests.stac_fixtures import TinyScene, write_tiny_catalog

JOBS = 200
#: the job after which the baseline is read (imports, caches and pools are warm by then)
WARM = 10


def _rss_mb(pid: int) -> float:
    import psutil

    return float(psutil.Process(pid).memory_info().rss) / 2**20


def _finished(session: requests.Session, url: str, count: int, timeout: float) -> None:
    """Wait until ``count`` jobs are finished (and none failed)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        jobs = session.get(f"{url}/jobs", timeout=30).json()["jobs"]
        failed = [job["id"] for job in jobs if job["status"] in ("error", "canceled")]
        assert not failed, f"jobs failed: {failed[:3]}"
        if sum(job["status"] == "finished" for job in jobs) >= count:
            return
        time.sleep(0.1)
    raise AssertionError(f"fewer than {count} jobs finished within {timeout} s")


def _run(session: requests.Session, url: str, indexes: range) -> None:
    for index in indexes:
        graph = {"process": {"process_graph": tiny_graph(index % 5, tiny=True)}}
        created = session.post(f"{url}/jobs", json=graph, timeout=60)
        assert created.status_code == 201, created.text
        job_id = created.headers["OpenEO-Identifier"]
        assert session.post(f"{url}/jobs/{job_id}/results", timeout=60).status_code == 202


@pytest.mark.slow
def test_two_hundred_jobs_in_a_row_keep_memory_bounded(
    tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    """200 batch jobs in a row on one server: its RSS after the last job is within 1.5x
    of its RSS after the 10th."""
    scenes = [TinyScene("S2A_32TLR_20230502_0_L2A", "2023-05-02T10:30:00Z", 5.0)]
    catalog = write_tiny_catalog(tmp_path / "tiny", scenes)
    started = time.monotonic()
    with ServeProcess(data_dir=tmp_path / "data", stac=catalog, workers=1) as server:
        pid = server.proc.pid  # type: ignore[union-attr]
        session = login(server.url)
        _run(session, server.url, range(WARM))
        _finished(session, server.url, WARM, 120)
        warm = _rss_mb(pid)
        _run(session, server.url, range(WARM, JOBS))
        _finished(session, server.url, JOBS, 600)
        last = _rss_mb(pid)
    record_property("cases", JOBS)
    record_property("rss_mb_after_10th", round(warm))
    record_property("rss_mb_after_last", round(last))
    record_property("seconds", round(time.monotonic() - started, 1))
    print(f"RSS after job {WARM}: {warm:.0f} MiB, after job {JOBS}: {last:.0f} MiB")
    assert last <= 1.5 * warm, f"RSS grew from {warm:.0f} to {last:.0f} MiB"
