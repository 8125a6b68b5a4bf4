"""User-defined processes through the real openeo client against the emulator.

alice saves a parameterised NDVI process with ``save_user_defined_process``, runs it by id
with ``datacube_from_process`` and gets the same values as the inline graph; bob cannot see,
read, run or delete it. One uvicorn server in a thread, ``LocalBackend`` over the sample.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests

from tests.server_helpers import (
    SEED_BBOX,
    TEMPORAL_EXTENT,
    ThreadServer,
    login,
    two_user_server,
)


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, sample_catalog: Path
) -> Iterator[ThreadServer]:
    with two_user_server(tmp_path_factory.mktemp("udp"), sample_catalog) as running:
        yield running


@pytest.fixture(scope="module")
def alice(server: ThreadServer) -> Any:
    return login(server, "alice", "a-pass")


@pytest.fixture(scope="module")
def bob(server: ThreadServer) -> Any:
    return login(server, "bob", "b-pass")


def _ndvi(connection: Any, bbox: Any) -> Any:
    cube = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=bbox, temporal_extent=TEMPORAL_EXTENT, bands=["B04", "B08"]
    )
    return cube.ndvi(red="B04", nir="B08")


@pytest.fixture(scope="module")
def saved(alice: Any) -> str:
    from openeo.api.process import Parameter

    bbox = Parameter(name="bbox", description="Area", schema={"type": "object"})
    alice.save_user_defined_process(
        "my_ndvi", _ndvi(alice, bbox), parameters=[bbox], summary="NDVI of an area"
    )
    return "my_ndvi"


def _values(data: bytes) -> np.ndarray:
    import xarray as xr

    with xr.open_dataset(io.BytesIO(data), engine="h5netcdf") as dataset:
        # the Copernicus layout has a char `crs` variable beside the data
        data = dataset.drop_vars("crs", errors="ignore")
        return np.asarray(data["NDVI"] if "NDVI" in data else data.to_array()).copy()


@pytest.mark.slow
def test_saved_process_runs_by_id_as_the_inline_graph(alice: Any, saved: str) -> None:
    via_udp = alice.datacube_from_process(saved, namespace="user", bbox=SEED_BBOX)
    got = via_udp.save_result(format="netCDF").download()
    expected = _ndvi(alice, SEED_BBOX).save_result(format="netCDF").download()
    assert np.array_equal(_values(got), _values(expected), equal_nan=True)
    assert np.isfinite(_values(got)).any()


def test_saved_process_is_listed_and_described(alice: Any, saved: str) -> None:
    assert saved in [p["id"] for p in alice.list_user_defined_processes()]
    described = alice.user_defined_process(saved).describe()
    assert described["id"] == saved and described["summary"] == "NDVI of an area"
    assert [p["name"] for p in described["parameters"]] == ["bbox"]
    nodes = described["process_graph"].values()
    assert {"load_collection", "ndvi"} <= {node["process_id"] for node in nodes}


def test_another_user_cannot_see_or_use_it(bob: Any, saved: str, server: ThreadServer) -> None:
    import openeo.rest

    assert saved not in [p["id"] for p in bob.list_user_defined_processes()]
    with pytest.raises(openeo.rest.OpenEoApiError) as caught:
        bob.user_defined_process(saved).describe()
    assert caught.value.http_status_code == 404 and caught.value.code == "ProcessGraphNotFound"
    cube = bob.datacube_from_process(saved, namespace="user", bbox=SEED_BBOX)
    with pytest.raises(openeo.rest.OpenEoApiError) as caught:
        cube.save_result(format="netCDF").download()
    assert caught.value.code == "ProcessUnsupported"
    with pytest.raises(openeo.rest.OpenEoApiError):
        bob.user_defined_process(saved).delete()


def test_put_is_validated(alice: Any, server: ThreadServer) -> None:
    """A process calling one not stored (yet) is stored, as Copernicus stores any body
    with a process graph (python-driver views.py ``udp_store``): a script may store the
    outer process before the inner one; a run of it names what is missing. A body
    without a process graph is Copernicus's ProcessGraphMissing."""
    headers = {"Authorization": alice.auth.bearer and f"Bearer {alice.auth.bearer}"}
    url = f"{server.url}/process_graphs"
    inner = {"process_id": "later", "namespace": "user", "arguments": {"x": 2}, "result": True}
    outer = {"process_graph": {"a": inner}}
    assert requests.put(f"{url}/outer", json=outer, headers=headers, timeout=120).ok
    call = {"process_id": "outer", "namespace": "user", "arguments": {}, "result": True}
    body = {"process": {"process_graph": {"o": call}}}

    def run() -> requests.Response:
        return requests.post(f"{server.url}/result", json=body, headers=headers, timeout=120)

    answer = run()
    assert answer.status_code == 400 and answer.json()["code"] == "ProcessUnsupported"
    assert "'later'" in answer.json()["message"]
    absolute = {"process_id": "absolute", "arguments": {"x": {"from_parameter": "x"}}}
    later = {"process_graph": {"a": {**absolute, "result": True}}}
    assert requests.put(f"{url}/later", json=later, headers=headers, timeout=120).ok
    answer = run()
    assert answer.ok and answer.json() == 2
    for name in ("outer", "later"):
        requests.delete(f"{url}/{name}", headers=headers, timeout=120)
    unknown = {"process_graph": {"a": {"process_id": "nope", "arguments": {}, "result": True}}}
    missing = requests.put(f"{url}/x", json={"summary": "no graph"}, headers=headers, timeout=120)
    assert (missing.status_code, missing.json()["code"]) == (400, "ProcessGraphMissing")
    assert "doesn't contain a process graph" in missing.json()["message"]
    loop = {"process_graph": {"a": {"process_id": "loop", "arguments": {}, "result": True}}}
    answer = requests.put(f"{url}/loop", json=loop, headers=headers, timeout=120)
    assert answer.status_code == 400 and "loop" in answer.json()["message"]
    # no result node: said without naming the check's own node ("process node '_'")
    resultless = {"process_graph": {"a": {"process_id": "absolute", "arguments": {"x": 1}}}}
    answer = requests.put(f"{url}/resultless", json=resultless, headers=headers, timeout=120)
    assert answer.status_code == 400 and "process node" not in answer.json()["message"]
    # an id outside ^\w+$: 400 InvalidId on PUT, GET and DELETE, as Copernicus answers
    for method in (requests.put, requests.get, requests.delete):
        answer = method(f"{url}/bad-id!", json=unknown, headers=headers, timeout=120)
        assert (answer.status_code, answer.json()["code"]) == (400, "InvalidId"), method
        assert "must consist of word characters" in answer.json()["message"]
    assert requests.get(f"{url}/loop", headers=headers, timeout=120).status_code == 404
    # a differing id in the body is replaced by the path's (API 1.2, PUT /process_graphs/{id})
    renamed = {**unknown, "id": "other"}
    renamed["process_graph"] = {
        "a": {"process_id": "absolute", "arguments": {"x": 1}, "result": True}
    }
    assert requests.put(f"{url}/named", json=renamed, headers=headers, timeout=120).ok
    stored = requests.get(f"{url}/named", headers=headers, timeout=120).json()
    assert stored["id"] == "named"
    requests.delete(f"{url}/named", headers=headers, timeout=120)


def test_delete_then_gone(alice: Any, server: ThreadServer) -> None:
    graph = {
        "a": {"process_id": "absolute", "arguments": {"x": {"from_parameter": "v"}}, "result": True}
    }
    from openeo.api.process import Parameter

    udp = alice.save_user_defined_process("tmp_abs", graph, parameters=[Parameter.number("v")])
    udp.delete()
    assert "tmp_abs" not in [p["id"] for p in alice.list_user_defined_processes()]
    assert requests.get(f"{server.url}/process_graphs/tmp_abs", timeout=120).status_code == 401


def test_a_parameter_read_in_a_callback_is_substituted_with_a_note(alice: Any, saved: str) -> None:
    """A user-defined process's parameter inside an apply callback is substituted as
    openEO defines it (the values are 3 x B04, as the inline graph with the constant),
    and the job's log says that Copernicus's callback builder would not receive it
    (callback_support.parameters_out_of_reach); a parameter outside callbacks (my_ndvi's
    bbox) gives no note."""
    from openeo.api.process import Parameter

    data = Parameter.datacube("data", "the cube")
    factor = Parameter.number("factor", "the factor", default=2)
    scaled = {
        "apply1": {
            "process_id": "apply",
            "arguments": {
                "data": {"from_parameter": "data"},
                "process": {
                    "process_graph": {
                        "m": {
                            "process_id": "multiply",
                            "arguments": {
                                "x": {"from_parameter": "x"},
                                "y": {"from_parameter": "factor"},
                            },
                            "result": True,
                        }
                    }
                },
            },
            "result": True,
        }
    }
    alice.save_user_defined_process("scaled", scaled, parameters=[data, factor])
    cube = alice.load_collection(
        "SENTINEL2_L2A",
        spatial_extent=SEED_BBOX,
        temporal_extent=["2023-06-12", "2023-06-13"],
        bands=["B04"],
    )

    def run(result: Any) -> tuple[np.ndarray, list[str]]:
        job = result.save_result(format="netCDF").create_job()
        job.start_and_wait(max_poll_interval=0.2, show_error_logs=False)
        assert job.status() == "finished"
        (asset,) = job.get_results().get_assets()
        notes = [e["message"] for e in job.logs() if "callback builder" in e["message"]]
        return _values(requests.get(asset.href, timeout=120).content), notes

    got, (note,) = run(cube.process("scaled", namespace="user", data=cube, factor=3))
    assert "apply in user-defined process 'scaled' reads its parameter 'factor'" in note
    expected, no_notes = run(cube.apply(lambda x: x * 3))
    assert no_notes == [] and np.isfinite(got).any()
    assert np.array_equal(got, expected, equal_nan=True)
    _, no_notes = run(alice.datacube_from_process(saved, namespace="user", bbox=SEED_BBOX))
    assert no_notes == []


def test_predefined_processes_are_in_the_backend_namespace(server: ThreadServer) -> None:
    """``/processes/backend`` lists the predefined processes, another namespace none, as
    Copernicus's registry (python-driver processes.py DEFAULT_NAMESPACE, get_specs)."""
    listed = requests.get(f"{server.url}/processes/backend", timeout=120).json()["processes"]
    assert "ndvi" in {p["id"] for p in listed}
    assert requests.get(f"{server.url}/processes/nope", timeout=120).json()["processes"] == []
    ndvi = requests.get(f"{server.url}/processes/backend/ndvi", timeout=120)
    assert ndvi.status_code == 200 and ndvi.json()["id"] == "ndvi"
    answer = requests.get(f"{server.url}/processes/nope/ndvi", timeout=120)
    assert (answer.status_code, answer.json()["code"]) == (400, "ProcessUnsupported")


def test_a_stored_process_named_as_a_predefined_one_is_called_by_namespace_user(
    alice: Any,
) -> None:
    """A node without namespace calls the predefined process even when the user stored one
    of the same id, as Copernicus looks in its registry before the user's processes
    (python-driver processgraph/evaluator.py ``apply_process`` L347-368); the stored one is
    called with namespace ``user``. So a stored ``ndvi`` calling ``ndvi`` is no loop."""
    from openeo.api.process import Parameter

    data = Parameter.datacube("data", "the cube")
    inner = alice.datacube_from_process("ndvi", data=data, nir="B08", red="B04")
    alice.save_user_defined_process("ndvi", inner + 10, parameters=[data])
    try:
        cube = alice.load_collection(
            "SENTINEL2_L2A",
            spatial_extent=SEED_BBOX,
            temporal_extent=["2023-06-12", "2023-06-13"],
            bands=["B04", "B08"],
        )
        predefined = _values(cube.ndvi(nir="B08", red="B04").download(format="netCDF"))
        stored = cube.process("ndvi", namespace="user", data=cube)
        stored = _values(stored.download(format="netCDF"))
    finally:
        alice.user_defined_process("ndvi").delete()
    assert np.isfinite(predefined).any() and np.nanmax(np.abs(predefined)) <= 1
    assert np.allclose(stored, predefined + 10, equal_nan=True)
