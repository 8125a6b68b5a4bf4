"""Requests against one emulator, authenticated as one user, recording every exchange;
the small graph and the helpers the HTTP API tests share.
"""

from __future__ import annotations

import time
from typing import Any

import requests

from hybrid.params import COLLECTION_ID
from tests.server_helpers import SEED_BBOX, TEMPORAL_EXTENT, ndvi_graph


def graph(*, collection: str = COLLECTION_ID, dates: list[str] = TEMPORAL_EXTENT) -> dict:
    """A small valid graph: NDVI of the seed AOI, saved as netCDF."""
    return ndvi_graph(SEED_BBOX, dates, collection=collection)


def body(process_graph: dict) -> dict:
    return {"process": {"process_graph": process_graph}}


class Session(requests.Session):
    """requests against one server, authenticated as one user, recording every exchange."""

    def __init__(self, url: str, log: list[requests.Response], user: tuple[str, str] | None):
        super().__init__()
        self.url = url
        self.log = log
        if user is not None:
            token = self.get("/credentials/basic", auth=user).json()["access_token"]
            self.headers["Authorization"] = f"Bearer basic//{token}"

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        target = url if str(url).startswith("http") else f"{self.url}{url!s}"
        response = super().request(method, target, *args, **kwargs)
        self.log.append(response)
        return response


def wait_for(session: Session, job_id: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = session.get(f"/jobs/{job_id}").json()
        if job["status"] not in ("created", "queued", "running"):
            return dict(job)
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s")


def error_code(response: requests.Response) -> tuple[int, str]:
    payload = response.json()
    assert set(payload) >= {"id", "code", "message", "links"}, payload
    return response.status_code, payload["code"]
