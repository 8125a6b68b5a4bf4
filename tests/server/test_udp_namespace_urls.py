"""Which namespace URLs name this server's published processes
(:func:`hybrid.server.udp_sharing.process_from_url`, by the rule of
:mod:`hybrid.server.own_urls` that load_stac of job results uses too), and processes
published on another server, fetched as Copernicus fetches them
(:mod:`hybrid.server.remote_processes`) from a real web server on 127.0.0.1."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from hybrid.server.errors import (
    ProcessIdMismatch,
    ProcessNamespaceInvalid,
    ProcessNotFound,
)
from hybrid.server.udp_sharing import process_from_url
from hybrid.server.udp_store import UdpStore
from tests.server_helpers import local_connection
from tests.stac_fixtures import static_site

ROOT = "http://127.0.0.1:8000"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[UdpStore]:
    udps = UdpStore(tmp_path / "udps.sqlite")
    graph = {"a": {"process_id": "absolute", "arguments": {"x": 1}, "result": True}}
    udps.put("alice", {"id": "f", "process_graph": graph, "public": True})
    yield udps
    udps.close()


@pytest.mark.parametrize(
    "url",
    [f"{ROOT}/processes/u:alice/f", "http://localhost:8000/processes/u:alice/f"],
)
def test_own_url_by_any_loopback_name(store: UdpStore, url: str) -> None:
    assert process_from_url(store, "f", url, ROOT)["id"] == "f"


def test_another_port_is_another_server_whose_failed_fetch_is_one_clear_400(
    store: UdpStore,
) -> None:
    """Copernicus's failed fetch (definitions.py L67-74): the URL and the cause."""
    url = f"http://127.0.0.1:{_closed_port()}/processes/u:alice/f"
    with pytest.raises(ProcessNamespaceInvalid, match="ConnectionError") as info:
        process_from_url(store, "f", url, ROOT)
    assert info.value.status == 400 and url in str(info.value)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


_PROCESS = {
    "id": "scaled",
    "parameters": [{"name": "v", "description": "a number", "schema": {"type": "number"}}],
    "process_graph": {
        "m": {"process_id": "multiply", "arguments": {"x": {"from_parameter": "v"}, "y": 3},
              "result": True},
    },
}  # fmt: skip


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A static web server on 127.0.0.1 publishing processes as the APEx catalogue does
    (raw JSON files): one process, a listing, and documents that are neither."""
    folder = tmp_path_factory.mktemp("www")
    listing = {"processes": [_PROCESS, {"id": "other"}], "links": []}
    for name, document in (
        ("scaled.json", _PROCESS), ("listing.json", listing), ("array.json", [_PROCESS]),
        ("other.json", {"title": "no process"}),
    ):  # fmt: skip
        (folder / name).write_text(json.dumps(document), encoding="utf-8")
    with static_site(folder) as url:
        yield url


@pytest.mark.parametrize("name", ["scaled.json", "listing.json"])
def test_another_servers_process_or_listing_is_fetched(
    store: UdpStore, published: str, name: str
) -> None:
    """definitions.py ``_get_process_definition_from_url`` L78-107."""
    found = process_from_url(store, "scaled", f"{published}/{name}", ROOT)
    assert found["process_graph"] == _PROCESS["process_graph"]


@pytest.mark.parametrize(
    ("process_id", "name", "error"),
    [
        ("absent", "scaled.json", ProcessIdMismatch),
        ("other", "listing.json", ProcessNotFound),  # no graph: not listed as callable
        ("scaled", "other.json", ProcessNotFound),
        ("scaled", "array.json", ProcessNamespaceInvalid),
        ("scaled", "missing.json", ProcessNamespaceInvalid),  # 404
    ],
)
def test_what_the_fetched_document_lacks_is_one_clear_400(
    store: UdpStore, published: str, process_id: str, name: str, error: type
) -> None:
    with pytest.raises(error) as info:
        process_from_url(store, process_id, f"{published}/{name}", ROOT)
    assert info.value.status == 400 and name in str(info.value)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Defining user-defined process")
def test_the_client_runs_a_process_published_on_another_server(
    tmp_path: Path, published: str
) -> None:
    """An APEx-style ``datacube_from_process(..., namespace=URL)`` runs through the real
    client, synchronously and as a batch job (it was refused: "offline, only this
    server's published processes"); storing a process that calls it fetches nothing."""
    with local_connection(tmp_path / "serve") as connection:
        conformance = connection.get("/conformance").json()["conformsTo"]
        assert "https://api.openeo.org/extensions/remote-process-definition/0.1.0" in conformance
        url = f"{published}/scaled.json"
        assert connection.datacube_from_process("scaled", namespace=url, v=7).execute() == 21
        cube = connection.datacube_from_process("scaled", namespace=f"{published}/gone.json", v=1)
        connection.save_user_defined_process("later", cube.flat_graph())
        job = connection.datacube_from_process("scaled", namespace=url, v=2).create_job(
            out_format="JSON"
        )
        job.start_and_wait(print=lambda *a: None)
        assert json.loads(job.get_results().get_asset().load_bytes()) == 6
