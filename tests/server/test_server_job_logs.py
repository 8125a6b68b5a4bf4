"""``GET /jobs/{id}/logs`` read as Copernicus reads it: its ``level`` any case or alias,
never refused, written back as asked; an ``offset`` that is not JSON its 400
``OffsetInvalid`` (openeo-python-driver views.py ``get_job_logs`` L1917-1972;
openeo-geopyspark-driver ``logs.py`` ``elasticsearch_logs`` L26-68, L103-112)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.server_helpers import ThreadServer, local_server, ndvi_cube


@pytest.fixture(scope="module")
def logs_of(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """GET /jobs/{id}/logs of a finished job whose log has warnings, with these params."""
    import openeo

    running: ThreadServer
    with local_server(tmp_path_factory.mktemp("logs")) as running:
        connection = openeo.connect(running.url).authenticate_basic("hybrid", "hybrid")
        job = ndvi_cube(connection).create_job(
            log_level="debug", job_options={"udf-dependency-archives": ["https://x.test/a.zip"]}
        )
        job.start_and_wait(print=lambda *_: None, max_poll_interval=0.5)
        url = f"{running.url}/jobs/{job.job_id}/logs"
        headers = {"Authorization": f"Bearer {connection.auth.bearer}"}

        def get(**params: str) -> requests.Response:
            return requests.get(url, params=params, headers=headers, timeout=30)

        yield get


def test_the_level_is_read_as_the_openeo_client_reads_it_and_written_back(logs_of: Any) -> None:
    """``WARNING``, ``Warn``: warnings and errors; ``fatal``: errors; ``verbose`` or an
    empty level: every entry, as ``debug`` (the client's ``normalize_log_level``); each
    answer's ``level`` is the text asked for (no parameter: ``debug``). This server
    answered 400 to all of them and wrote back the level it filtered at (the job's
    ``log_level`` when higher)."""
    every = logs_of().json()
    assert every["level"] == "debug"
    assert {e["level"] for e in every["logs"]} >= {"info", "warning"}
    warnings = [e for e in every["logs"] if e["level"] in ("warning", "error")]
    errors = [e for e in every["logs"] if e["level"] == "error"]
    for asked, entries in (("WARNING", warnings), ("Warn", warnings), ("fatal", errors),
                           ("verbose", every["logs"]), ("", every["logs"])):  # fmt: skip
        answer = logs_of(level=asked)
        assert answer.status_code == 200, (asked, answer.text)
        assert answer.json()["level"] == asked
        assert answer.json()["logs"] == entries, asked


def test_an_offset_that_is_no_json_is_offset_invalid(logs_of: Any) -> None:
    """Copernicus reads ``offset`` as JSON (its ids are sort keys): other text is a 400
    ``OffsetInvalid``; it read from the first entry here. An id, a JSON number, works."""
    answer = logs_of(offset="not-json")
    assert answer.status_code == 400
    assert answer.json()["code"] == "OffsetInvalid"
    assert answer.json()["message"] == (
        "The value passed for the query parameter 'offset' is invalid: not-json"
    )
    first, *rest = logs_of().json()["logs"]
    assert logs_of(offset=first["id"]).json()["logs"] == rest
