"""The HTTP API tests' server (uvicorn in a thread, ``LocalBackend`` over the embedded sample,
two users), one per module, and its users' sessions recording every exchange
(tests/server/api_session.py). Modules with a server of their own define ``server``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.server.api_session import Session, body, graph, wait_for
from tests.server_helpers import ThreadServer, two_user_server


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, sample_catalog: Path
) -> Iterator[ThreadServer]:
    with two_user_server(tmp_path_factory.mktemp("api"), sample_catalog) as running:
        yield running


@pytest.fixture(scope="module")
def exchanges() -> list[requests.Response]:
    return []


@pytest.fixture(scope="module")
def alice(server: ThreadServer, exchanges: list[requests.Response]) -> Session:
    return Session(server.url, exchanges, ("alice", "a-pass"))


@pytest.fixture(scope="module")
def anonymous(server: ThreadServer, exchanges: list[requests.Response]) -> Session:
    return Session(server.url, exchanges, None)


@pytest.fixture(scope="module")
def finished_job(alice: Session) -> str:
    created = alice.post("/jobs", json={**body(graph()), "title": "ndvi"})
    assert created.status_code == 201, created.text
    job_id = created.headers["OpenEO-Identifier"]
    assert created.headers["Location"] == f"{alice.url}/jobs/{job_id}"
    assert alice.post(f"/jobs/{job_id}/results").status_code == 202
    assert wait_for(alice, job_id)["status"] == "finished"
    return job_id
