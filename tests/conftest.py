"""Shared fixtures: the embedded sample, the shared spec folder, opt-in markers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: longest wait of the openeo client between two status polls of a batch job in the tests
JOB_POLL_SECONDS = 0.1
#: ../shared beside the checkout: spec material; absent in a user's clone
SHARED = ROOT.parent / "shared"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    enabled = {
        "network": os.environ.get("HYBRID_NETWORK_TESTS") == "1",
        "copernicus": os.environ.get("HYBRID_COPERNICUS_TESTS") == "1",
    }
    for item in items:
        for marker, on in enabled.items():
            if marker in item.keywords and not on:
                item.add_marker(
                    pytest.mark.skip(reason=f"{marker} test: set HYBRID_{marker.upper()}_TESTS=1")
                )


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` (its tests skip naming the file they need when it is absent)."""
    return SHARED


@pytest.fixture(scope="session")
def sample_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The embedded sample, generated once per test session (never a stale cache).

    Under pytest-xdist the workers share the session's temporary folder (the parent of
    each worker's own): the first worker generates the sample there while the others
    wait on a file lock, then all read the same one (it is read-only to the tests), so
    the session pays for one generation instead of one per worker."""
    import fcntl

    from hybrid.sample import ensure_sample

    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return ensure_sample(tmp_path_factory.mktemp("sample") / "sample")
    shared = tmp_path_factory.getbasetemp().parent
    with open(shared / "sample.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return ensure_sample(shared / "sample")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def seed_aoi() -> dict:
    from hybrid.sample import SEED_AOI

    return SEED_AOI


@pytest.fixture(scope="session", autouse=True)
def quick_job_polling() -> Iterator[None]:
    """The openeo client's ``start_and_wait`` (and so ``execute_batch``) sleeps 5 s and more
    between status polls; the emulator's test jobs take well under a second, so a published
    script's unchanged ``start_and_wait()`` would idle seconds per job. Here it polls every
    :data:`JOB_POLL_SECONDS` at most: the same requests, the same answers, sooner."""
    from openeo.rest.job import BatchJob

    original = BatchJob.start_and_wait

    def start_and_wait(self: BatchJob, **kwargs: Any) -> BatchJob:
        asked = kwargs.get("max_poll_interval", JOB_POLL_SECONDS)
        kwargs["max_poll_interval"] = min(asked, JOB_POLL_SECONDS)
        return original(self, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(BatchJob, "start_and_wait", start_and_wait)
        yield
