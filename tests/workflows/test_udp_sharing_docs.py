"""The openeo Python client's docs/cookbook/udp_sharing.rst ("Sharing of user-defined
processes") replayed against ``hybrid serve`` with two users: alice publishes
``fahrenheit_to_celsius`` with ``public=True``; its ``canonical`` link is readable without
authentication, and bob runs it through that URL as ``namespace`` and loads it with
``datacube_from_json``, as on Copernicus (openeo-python-driver ``openeo_driver/views.py``
L822-843, L2152-2157; ``processgraph/definitions.py`` L55-120).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.server_helpers import ThreadServer, login, two_user_server


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, sample_catalog: Path
) -> Iterator[ThreadServer]:
    with two_user_server(tmp_path_factory.mktemp("sharing"), sample_catalog) as running:
        yield running


@pytest.fixture(scope="module")
def alice(server: ThreadServer) -> Any:
    return login(server, "alice", "a-pass")


@pytest.fixture(scope="module")
def bob(server: ThreadServer) -> Any:
    return login(server, "bob", "b-pass")


@pytest.fixture(scope="module")
def public_url(alice: Any, server: ThreadServer) -> str:
    """The page's first two listings: the UDP built, stored with ``public=True``, and its
    "canonical" link read from ``udp.describe()``."""
    from openeo.api.process import Parameter
    from openeo.processes import divide, subtract

    f = Parameter.number("f", description="Degrees Fahrenheit.")
    fahrenheit_to_celsius = divide(x=subtract(x=f, y=32), y=1.8)
    udp = alice.save_user_defined_process(
        "fahrenheit_to_celsius", fahrenheit_to_celsius, parameters=[f], public=True
    )
    described = udp.describe()
    assert described["id"] == "fahrenheit_to_celsius"
    canonical = [link for link in described["links"] if link["rel"] == "canonical"]
    assert len(canonical) == 1
    assert canonical[0]["href"] == f"{server.url}/processes/u:alice/fahrenheit_to_celsius"
    assert canonical[0]["title"] == "Public URL for user-defined process 'fahrenheit_to_celsius'"
    return str(canonical[0]["href"])


def test_the_owners_description_is_valid_against_the_openapi_spec(
    alice: Any, public_url: str, server: ThreadServer
) -> None:
    """``GET /process_graphs/{id}`` with the non-standard ``public`` and the link."""
    from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

    from tests.server_helpers import SHARED, openapi_spec

    if not (SHARED / "openeo-spec" / "api" / "openapi.yaml").is_file():
        pytest.skip("../shared/openeo-spec is absent")
    headers = {"Authorization": f"Bearer {alice.auth.bearer}"}
    answer = requests.get(
        f"{server.url}/process_graphs/fahrenheit_to_celsius", headers=headers, timeout=60
    )
    assert answer.json()["links"][0]["href"] == public_url
    openapi_spec().validate_response(
        RequestsOpenAPIRequest(answer.request), RequestsOpenAPIResponse(answer)
    )


def test_the_canonical_link_is_public(public_url: str, server: ThreadServer) -> None:
    """No authentication needed (views.py ``processes_details`` has no auth decorator)."""
    answer = requests.get(public_url, timeout=60)
    assert answer.status_code == 200
    process = answer.json()
    assert process["id"] == "fahrenheit_to_celsius" and process["public"] is True
    assert [p["name"] for p in process["parameters"]] == ["f"]
    assert {n["process_id"] for n in process["process_graph"].values()} == {"subtract", "divide"}
    listing = requests.get(f"{server.url}/processes/u:alice", timeout=60).json()
    assert [p["id"] for p in listing["processes"]] == ["fahrenheit_to_celsius"]
    assert "process_graph" not in listing["processes"][0]


def test_another_user_calls_it_through_the_url_namespace(bob: Any, public_url: str) -> None:
    """ "Using a public UDP through URL based namespace": the flat graph node and
    ``datacube_from_process(..., namespace=url, f=86)``, which prints 30.0."""
    cube = bob.datacube_from_process(process_id="fahrenheit_to_celsius", namespace=public_url, f=86)
    (node,) = cube.flat_graph().values()
    assert node["process_id"] == "fahrenheit_to_celsius" and node["namespace"] == public_url
    assert cube.execute() == pytest.approx(30.0)
    # the listing URL as namespace (definitions.py L97-107)
    listing = public_url.rsplit("/", 1)[0]
    via_listing = bob.datacube_from_process("fahrenheit_to_celsius", namespace=listing, f=212)
    assert via_listing.execute() == pytest.approx(100.0)


def test_another_user_runs_it_in_a_batch_job(bob: Any, public_url: str, tmp_path: Path) -> None:
    """The same call as a batch job: the job resolves the URL when it runs."""
    import json

    cube = bob.datacube_from_process("fahrenheit_to_celsius", namespace=public_url, f=50)
    job = cube.execute_batch(tmp_path / "out.json", out_format="JSON", print=lambda *a: None)
    assert job.status() == "finished"
    assert json.loads((tmp_path / "out.json").read_text()) == pytest.approx(10.0)


def test_another_user_loads_it_as_datacube_from_json(bob: Any, public_url: str) -> None:
    """ "Loading a published user-defined process as DataCube": the client fetches the URL
    and unrolls the process graph, the parameter given (30.0)."""
    cube = bob.datacube_from_json(public_url, parameters={"f": 86})
    assert cube.execute() == pytest.approx(30.0)


def test_private_processes_and_other_servers_give_one_clear_400(
    alice: Any, bob: Any, public_url: str, server: ThreadServer
) -> None:
    """A private process is not served (views.py L832-833 ``ProcessUnsupported``); as a
    namespace, it, another server's URL or a wrong id is a 400 (Copernicus's failed fetch,
    definitions.py L67-74, the id check L89-96)."""
    import openeo.rest
    from openeo.api.process import Parameter

    v = Parameter.number("v", description="A number.")
    alice.save_user_defined_process("private_abs", {"a": {
        "process_id": "absolute", "arguments": {"x": {"from_parameter": "v"}}, "result": True,
    }}, parameters=[v])  # fmt: skip
    private_url = f"{server.url}/processes/u:alice/private_abs"
    answer = requests.get(private_url, timeout=60)
    assert answer.status_code == 400 and answer.json()["code"] == "ProcessUnsupported"
    assert "links" not in alice.user_defined_process("private_abs").describe()
    assert "public" not in alice.user_defined_process("private_abs").describe()

    cases = [
        ("private_abs", private_url, "ProcessNamespaceInvalid"),
        ("fahrenheit_to_celsius", f"http://127.0.0.1:{_closed_port()}/processes/u:alice/x",
         "ProcessNamespaceInvalid"),
        ("private_abs", public_url, "ProcessIdMismatch"),
        ("private_abs", public_url.rsplit("/", 1)[0], "ProcessNotFound"),
    ]  # fmt: skip
    for process_id, namespace, code in cases:
        cube = bob.datacube_from_process(process_id, namespace=namespace, f=1, v=1)
        with pytest.raises(openeo.rest.OpenEoApiError) as caught:
            cube.execute()
        assert (caught.value.http_status_code, caught.value.code) == (400, code), namespace
        assert namespace in caught.value.message


def _closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (another server, unreachable)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.filterwarnings("ignore:Defining user-defined process")
def test_publishing_can_be_withdrawn(alice: Any, bob: Any, server: ThreadServer) -> None:
    """Stored again without ``public``, the process is private again."""
    import openeo.rest

    graph = {"a": {"process_id": "add", "arguments": {"x": 1, "y": 2}, "result": True}}
    alice.save_user_defined_process("three", graph, public=True)
    url = f"{server.url}/processes/u:alice/three"
    assert bob.datacube_from_process("three", namespace=url).execute() == 3
    alice.save_user_defined_process("three", graph)
    with pytest.raises(openeo.rest.OpenEoApiError) as caught:
        bob.datacube_from_process("three", namespace=url).execute()
    assert caught.value.code == "ProcessNamespaceInvalid"
