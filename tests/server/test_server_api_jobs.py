"""The emulator's batch jobs over HTTP: users, the life cycle, results after a patch,
failed jobs, costs, UDF dependencies, as Copernicus answers them.

One server (uvicorn in a thread, ``LocalBackend`` over the embedded sample) serves the
whole module; requests go over real HTTP on 127.0.0.1.
"""

from __future__ import annotations

import pytest
import requests

from tests.server.api_session import Session, body, error_code, graph, wait_for
from tests.server_helpers import ThreadServer


@pytest.fixture(scope="module")
def bob(server: ThreadServer, exchanges: list[requests.Response]) -> Session:
    return Session(server.url, exchanges, ("bob", "b-pass"))


# -- users -----------------------------------------------------------------------------


def test_another_users_job_is_not_visible(alice: Session, bob: Session, finished_job: str) -> None:
    assert finished_job in [j["id"] for j in alice.get("/jobs").json()["jobs"]]
    assert finished_job not in [j["id"] for j in bob.get("/jobs").json()["jobs"]]
    for method, suffix in [
        ("GET", ""),
        ("GET", "/results"),
        ("GET", "/logs"),
        ("DELETE", ""),
        ("POST", "/results"),
        ("PATCH", ""),
    ]:
        answer = bob.request(method, f"/jobs/{finished_job}{suffix}", json={"title": "mine"})
        assert error_code(answer) == (404, "JobNotFound"), (method, suffix)
    assert alice.get(f"/jobs/{finished_job}").json()["title"] == "ndvi"


def test_job_lifecycle_patch_cancel_delete(alice: Session) -> None:
    job_id = alice.post("/jobs", json=body(graph())).headers["OpenEO-Identifier"]
    assert alice.patch(f"/jobs/{job_id}", json={"title": "renamed"}).status_code == 204
    assert alice.get(f"/jobs/{job_id}").json()["title"] == "renamed"
    # null clears a nullable field (it was kept); a budget is a number from 0
    assert alice.patch(f"/jobs/{job_id}", json={"title": None, "budget": 3}).status_code == 204
    described = alice.get(f"/jobs/{job_id}").json()
    assert described.get("title") is None and described["budget"] == 3
    for budget in (-5, True, "5"):
        answer = alice.patch(f"/jobs/{job_id}", json={"budget": budget})
        assert error_code(answer) == (400, "BadRequest"), budget
    assert alice.patch(f"/jobs/{job_id}", json={"budget": None}).status_code == 204
    assert alice.get(f"/jobs/{job_id}").json().get("budget") is None
    assert error_code(alice.patch(f"/jobs/{job_id}", json={"status": "finished"})) == (
        400,
        "PropertyNotEditable",
    )
    assert error_code(alice.get(f"/jobs/{job_id}/results")) == (400, "JobNotFinished")
    partial = alice.get(f"/jobs/{job_id}/results", params={"partial": "true"}).json()
    assert partial["type"] == "Collection" and partial["assets"] == {}
    assert partial["openeo:status"] == "running"  # created: "running" (PARTIAL_JOB_STATUS)
    # its canonical link opens without credentials, partial too (it was a 404)
    (canonical,) = [link["href"] for link in partial["links"] if link["rel"] == "canonical"]
    assert canonical.endswith("?partial=true")
    opened = requests.get(canonical, timeout=10)
    assert opened.status_code == 200 and opened.json()["openeo:status"] == "running"
    assert requests.get(canonical.split("?")[0], timeout=10).status_code == 404  # not partial
    # ``partial`` is true for "true"/"1" in any case, else false, as Copernicus reads it
    # (views.py L1038); "yes" or "maybe" were a 400 or true here
    for value, document in (("TRUE", True), ("1", True), ("yes", False), ("maybe", False)):
        answer = alice.get(f"/jobs/{job_id}/results", params={"partial": value})
        assert answer.status_code == (200 if document else 400), value
    assert alice.delete(f"/jobs/{job_id}").status_code == 204
    assert error_code(alice.get(f"/jobs/{job_id}")) == (404, "JobNotFound")


def test_starting_again_a_canceled_job_is_refused_and_an_ended_one_reruns(alice: Session) -> None:
    """Copernicus hands a canceled job to its backend's start_job (python-driver views.py
    L1020-1031), which ends in 501 JobTransitionNotImplemented (geopyspark-driver
    backend.py L1936-1959); it was queued and run again here. A finished job runs again:
    Copernicus answers 202 without running it, which the API 1.2 does not allow."""
    first, second = (alice.post("/jobs", json=body(graph())) for _ in range(2))
    job_a, job_b = (r.headers["OpenEO-Identifier"] for r in (first, second))
    assert alice.post(f"/jobs/{job_a}/results").status_code == 202
    assert alice.post(f"/jobs/{job_b}/results").status_code == 202  # behind job_a: one worker
    assert alice.delete(f"/jobs/{job_b}/results").status_code == 204
    assert alice.get(f"/jobs/{job_b}").json()["status"] == "canceled"
    again = alice.post(f"/jobs/{job_b}/results")
    assert again.status_code == 501, (again.status_code, again.text)
    assert error_code(again) == (501, "JobTransitionNotImplemented")
    assert again.json()["message"] == "Backend does not implement start job for state canceled"
    assert wait_for(alice, job_a)["status"] == "finished"
    assert alice.get(f"/jobs/{job_b}").json()["status"] == "canceled"
    assert alice.post(f"/jobs/{job_a}/results").status_code == 202
    assert wait_for(alice, job_a)["status"] == "finished"
    logs = alice.get(f"/jobs/{job_a}/logs").json()["logs"]
    assert [e["message"] for e in logs].count("Job queued.") == 2
    for job_id in (job_a, job_b):
        assert alice.delete(f"/jobs/{job_id}").status_code == 204


def test_results_keep_describing_the_graph_that_made_them_after_a_patch(
    alice: Session,
) -> None:
    """PATCH of a finished job's ``process`` leaves its status and files (the API: the
    status does not change); the results document kept describing the new graph
    (``processing:expression``, the temporal extent) beside the old files."""
    first = graph(dates=["2023-06-01", "2023-06-15"])
    job_id = alice.post("/jobs", json=body(first)).headers["OpenEO-Identifier"]
    alice.post(f"/jobs/{job_id}/results")
    assert wait_for(alice, job_id)["status"] == "finished"
    before = alice.get(f"/jobs/{job_id}/results").json()
    assert alice.patch(f"/jobs/{job_id}", json=body(graph(dates=["2023-08-01", "2023-08-20"]))).ok
    after = alice.get(f"/jobs/{job_id}/results").json()
    assert alice.get(f"/jobs/{job_id}").json()["status"] == "finished"
    expression = after["providers"][0]["processing:expression"]["expression"]
    assert expression == first
    assert after["extent"] == before["extent"] and set(after["assets"]) == set(before["assets"])
    assert alice.delete(f"/jobs/{job_id}").status_code == 204


def test_failed_job_results_are_job_not_finished_as_copernicus_and_logs_name_its_node(
    alice: Session,
) -> None:
    """A failed job's results are a 400 ``JobNotFinished`` as Copernicus answers every
    status but ``finished`` (python-driver views.py L1089-1091, not the API's 424); the
    message names the job's error and node."""
    no_data = graph(dates=["2019-01-01", "2019-02-01"])  # before the sample
    job_id = alice.post("/jobs", json=body(no_data)).headers["OpenEO-Identifier"]
    alice.post(f"/jobs/{job_id}/results")
    assert wait_for(alice, job_id)["status"] == "error"
    failed = alice.get(f"/jobs/{job_id}/results")
    assert failed.status_code == 400 and failed.json()["code"] == "JobNotFinished", failed.text
    assert "it failed (status 'error')" in failed.json()["message"], failed.text
    errors = alice.get(f"/jobs/{job_id}/logs", params={"level": "error"}).json()
    assert errors["level"] == "error" and errors["logs"]
    assert all(e["level"] == "error" for e in errors["logs"])
    # the node is named once (it was twice: the stored message already named it)
    (node,) = errors["logs"][-1]["path"]
    assert failed.json()["message"].count(f"(process node '{node['node_id']}')") == 1
    # and its openEO error code, as the log entry has it
    code = errors["logs"][-1]["code"]
    assert f"it failed (status 'error'): [{code}] " in failed.json()["message"], failed.text


def test_an_ended_job_describes_its_costs_and_usage_as_copernicus(
    alice: Session, finished_job: str
) -> None:
    """GET /jobs/{id} of a job whose run ended carries ``costs`` and ``usage.duration``
    (whole seconds), as Copernicus's job tracker records them at a final status and
    python-driver's ``to_api_dict`` writes the duration (backend.py L452-461); the
    openeo client's MultiBackendJobManager copies both into its job table. Before a run,
    and in the listing (Copernicus reads neither there), neither."""
    described = alice.get(f"/jobs/{finished_job}").json()
    assert described["costs"] == 0
    duration = described["usage"]["duration"]
    assert duration["unit"] == "seconds" and isinstance(duration["value"], int)
    assert 0 <= duration["value"] < 120
    listed = {job["id"]: job for job in alice.get("/jobs").json()["jobs"]}[finished_job]
    assert "usage" not in listed and "costs" not in listed
    created = alice.post("/jobs", json=body(graph())).headers["OpenEO-Identifier"]
    fresh = alice.get(f"/jobs/{created}").json()
    assert "usage" not in fresh and "costs" not in fresh
    assert alice.delete(f"/jobs/{created}").status_code == 204


def test_udf_script_dependencies_not_installed_get_a_warning_in_the_jobs_log(
    alice: Session,
) -> None:
    """Copernicus pip-installs the packages a Python UDF declares in its inline script
    metadata for a batch job (geopyspark-driver deploy/batch_job.py L1256,
    udf/__init__.py L151-163; openeo-gfmap's feature extractors declare theirs so); this
    backend does not, and said nothing. Installed ones (numpy) are not named."""
    code = (
        '# /// script\n# dependencies = [\n#   "numpy",\n#   "hybrid-no-such-package>=1",\n'
        "# ]\n# ///\ndef apply_datacube(cube, context):\n    return cube\n"
    )
    udf = {"process_id": "run_udf", "result": True, "arguments": {
        "data": {"from_parameter": "x"}, "udf": code, "runtime": "Python"}}  # fmt: skip
    pg = graph()
    pg["apply"] = {"process_id": "apply", "arguments": {
        "data": {"from_node": "ndvi"}, "process": {"process_graph": {"udf": udf}}}}  # fmt: skip
    pg["save"]["arguments"]["data"] = {"from_node": "apply"}
    created = alice.post("/jobs", json=body(pg))
    assert created.status_code == 201, created.text
    job_id = created.headers["OpenEO-Identifier"]
    logs = alice.get(f"/jobs/{job_id}/logs", params={"level": "warning"}).json()["logs"]
    assert len(logs) == 1 and "hybrid-no-such-package>=1" in logs[0]["message"]
    assert "numpy" not in logs[0]["message"]


def test_udf_dependency_job_options_get_a_warning_in_the_jobs_log(alice: Session) -> None:
    """Copernicus fetches ``udf-dependency-archives``/``-files`` for the UDFs
    (geopyspark-driver job_options.py L108-115); this backend does not, and said nothing:
    a UDF importing from them failed with a bare ModuleNotFoundError."""
    options = {"udf-dependency-archives": ["https://example.com/onnx_deps.zip#onnx_deps"],
               "executor-memory": "2g"}  # fmt: skip
    created = alice.post("/jobs", json={**body(graph()), "job_options": options})
    assert created.status_code == 201, created.text
    job_id = created.headers["OpenEO-Identifier"]
    logs = alice.get(f"/jobs/{job_id}/logs", params={"level": "warning"}).json()["logs"]
    assert len(logs) == 1 and "udf-dependency-archives" in logs[0]["message"]
    plain = alice.post("/jobs", json=body(graph())).headers["OpenEO-Identifier"]
    assert alice.get(f"/jobs/{plain}/logs", params={"level": "warning"}).json()["logs"] == []
