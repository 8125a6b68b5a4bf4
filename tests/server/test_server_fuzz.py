"""Fuzzing ``hybrid serve`` with requests generated from its own OpenAPI document.

Schemathesis reads ``GET /openapi.json`` of the running server (the openEO API 1.2
filtered to what it implements, :mod:`hybrid.server.api_document`) and turns every
operation into a Hypothesis strategy, valid requests and invalid ones alike. Each request
goes over HTTP to the real server process, authenticated; half of the job and stored-process
requests aim at a real job / process. Every answer is checked: no 5xx, a status the
document lists, its media type, its headers and a body matching its schema.

The test suite runs :data:`EXAMPLES` examples per operation and mode with a fixed seed;
``HYBRID_FUZZ_EXAMPLES=50 python docs/robustness.py`` runs the full count (README figures).
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from tests.server.test_server_faults import login, settled, wait_until
from tests.server.test_server_security import tiny_graph
from tests.server_helpers import ServeProcess
from tests.stac_fixtures import TinyScene, write_tiny_catalog

#: generated requests per operation and generation mode (valid, invalid)
EXAMPLES = int(os.environ.get("HYBRID_FUZZ_EXAMPLES", "5"))
SEED = 18
STORED_PROCESS = "fuzz_ndvi"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    tmp = tmp_path_factory.mktemp("fuzz")
    scene = TinyScene("S2A_32TLR_20230502_0_L2A", "2023-05-02T10:30:00Z", 5.0)
    catalog = write_tiny_catalog(tmp / "tiny", [scene])
    with ServeProcess(data_dir=tmp / "data", stac=catalog) as running:
        yield running


class Targets:
    """A real job and a real stored process, recreated when a generated DELETE removed them."""

    def __init__(self, session: requests.Session, url: str) -> None:
        self.session, self.url = session, url
        # the first graph imports the engine's process catalogue: slow on a busy machine
        assert session.get(f"{url}/processes", timeout=300).status_code == 200
        self.job_id = self.submit()
        assert wait_until(session, url, self.job_id, settled, 120) == "finished"

    def submit(self) -> str:
        body = {"process": {"process_graph": tiny_graph()}}
        created = self.session.post(f"{self.url}/jobs", json=body, timeout=120)
        assert created.status_code == 201, created.text
        job_id = str(created.headers["OpenEO-Identifier"])
        started = self.session.post(f"{self.url}/jobs/{job_id}/results", timeout=60)
        assert started.status_code == 202, started.text
        return job_id

    def job(self) -> str:
        if self.session.get(f"{self.url}/jobs/{self.job_id}", timeout=30).status_code == 404:
            self.job_id = self.submit()
        return self.job_id

    def stored_process(self) -> str:
        body = {"process_graph": tiny_graph(), "parameters": []}
        url = f"{self.url}/process_graphs/{STORED_PROCESS}"
        assert self.session.put(url, json=body, timeout=30).status_code == 200
        return STORED_PROCESS


def _checks() -> list[Any]:
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_headers_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    return [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_headers_conformance,
        response_schema_conformance,
    ]


class Fuzzer:
    """Sends the generated requests of one operation and mode; tallies statuses and failures."""

    def __init__(self, url: str, session: requests.Session) -> None:
        self.url = url
        self.targets = Targets(session, url)
        self.headers = {"Authorization": str(session.headers["Authorization"])}
        self.checks = _checks()
        self.statuses: Counter[int] = Counter()
        self.failures: list[str] = []

    def run(self, operation: Any, mode: Any) -> None:
        from hypothesis import HealthCheck, Phase, given, seed, settings
        from hypothesis.errors import Unsatisfiable

        @seed(SEED)
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def check(case: Any) -> None:
            self.send(case, f"{operation.label} ({mode.value})")

        try:
            check()
        except Unsatisfiable:  # nothing to make invalid: no parameters, no body
            assert mode.value == "negative", operation.label

    def send(self, case: Any, label: str) -> None:
        from schemathesis.core.failures import FailureGroup

        self.aim(case)
        try:
            response = case.call(base_url=self.url, headers=self.headers, timeout=60)
        except requests.RequestException as exc:
            self.failures.append(f"{label}: no answer ({exc})")
            return
        self.statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=self.checks, headers=self.headers)
        except (AssertionError, FailureGroup) as exc:
            lines = str(exc).strip().splitlines()
            self.failures.append(f"{label}: {' / '.join(lines[:8])}")

    def aim(self, case: Any) -> None:
        """Every other request with path parameters goes to the real job / stored process."""
        parameters = case.path_parameters or {}
        if sum(self.statuses.values()) % 2 or not parameters:
            return
        if "job_id" in parameters:
            parameters["job_id"] = self.targets.job()
        if "process_graph_id" in parameters:
            parameters["process_graph_id"] = self.targets.stored_process()


@pytest.mark.slow
@pytest.mark.timeout(max(600, EXAMPLES * 40))  # ~1 s per generated process graph
def test_generated_requests_conform_to_the_servers_own_document(
    server: ServeProcess, record_property: Callable[[str, object], None]
) -> None:
    """Every operation of the server's own OpenAPI document, valid and invalid generated
    requests: no 5xx, and every answer's status, media type, headers and body as documented."""
    import schemathesis
    from schemathesis import GenerationMode

    started = time.monotonic()
    fuzzer = Fuzzer(server.url, login(server.url))
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fuzzer.run(operation, mode)

    cases = sum(fuzzer.statuses.values())
    record_property("cases", cases)
    record_property("operations", len(operations))
    record_property("examples", EXAMPLES)
    record_property("seconds", round(time.monotonic() - started, 1))
    print(f"{cases} requests, {len(operations)} operations: {dict(fuzzer.statuses)}")
    assert len(operations) >= 25 and cases >= 2 * len(operations)
    assert not fuzzer.failures, f"{len(fuzzer.failures)} failures:\n" + "\n".join(
        fuzzer.failures[:15]
    )
    assert not [status for status in fuzzer.statuses if status >= 500]
    assert requests.get(f"{server.url}/", timeout=10).status_code == 200  # still up
