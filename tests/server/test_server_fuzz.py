"""Fuzzing ``hybrid serve`` with requests generated from the openEO API 1.2 spec.

Schemathesis turns every operation of ``../shared/openeo-spec/api/openapi.yaml`` into a
Hypothesis strategy; each generated request goes over HTTP to the real server process,
authenticated, half of the job requests aimed at a real job. No answer may be a 5xx
(endpoints the emulator does not offer answer 404/405, which is fine). Bounded: a few
examples per operation, derandomized, so a run takes seconds and repeats exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from tests.server.test_server_faults import login, settled, submit, wait_until
from tests.server.test_server_security import tiny_graph
from tests.server_helpers import SHARED, ServeProcess
from tests.stac_fixtures import TinyScene, write_tiny_catalog

SPEC = SHARED / "openeo-spec" / "api" / "openapi.yaml"
#: generated requests per operation (39 operations in openEO API 1.2)
EXAMPLES = 4


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    if not SPEC.is_file():
        pytest.skip("../shared/openeo-spec is absent: nothing to fuzz against")
    tmp = tmp_path_factory.mktemp("fuzz")
    scene = TinyScene("S2A_32TLR_20230502_0_L2A", "2023-05-02T10:30:00Z", 5.0)
    catalog = write_tiny_catalog(tmp / "tiny", [scene])
    with ServeProcess(data_dir=tmp / "data", stac=catalog) as running:
        yield running


@pytest.mark.slow
def test_generated_requests_never_get_a_5xx(
    server: ServeProcess, record_property: Callable[[str, object], None]
) -> None:
    """Every operation of the spec, EXAMPLES generated requests each: no 5xx answer."""
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings

    session = login(server.url)
    job_id = submit(session, server.url, tiny_graph())
    assert wait_until(session, server.url, job_id, settled, 30) == "finished"
    headers = {"Authorization": str(session.headers["Authorization"])}

    schema = schemathesis.openapi.from_path(str(SPEC))
    operations = [result.ok() for result in schema.get_all_operations()]
    tried: list[str] = []
    failures: list[str] = []

    for operation in operations:

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case: Any) -> None:
            if "job_id" in (case.path_parameters or {}) and len(tried) % 2 == 0:
                case.path_parameters["job_id"] = job_id
            try:
                response = case.call(base_url=server.url, headers=headers, timeout=30)
            except requests.RequestException as exc:
                failures.append(f"{case.operation.label}: no answer ({exc})")
                return
            tried.append(f"{case.operation.label} {response.status_code}")
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {response.request.path_url}: {response.status_code} "
                    f"{response.text[:200]}"
                )

        check()

    record_property("cases", len(tried))
    record_property("operations", len(operations))
    assert len(operations) >= 30 and len(tried) >= len(operations)
    assert not failures, "\n".join(failures[:10])
    assert requests.get(f"{server.url}/", timeout=10).status_code == 200  # still up
