"""Which namespace URLs name this server's published processes
(:func:`hybrid.server.udp_sharing.process_from_url`, by the rule of
:mod:`hybrid.server.own_urls` that load_stac of job results uses too)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hybrid.server.udp_sharing import ProcessNamespaceInvalid, process_from_url
from hybrid.server.udp_store import UdpStore

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


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8001/processes/u:alice/f",  # another port: another server
        "http://192.0.2.1:8000/processes/u:alice/f",  # another host, not fetched offline
    ],
)
def test_another_servers_url_is_one_clear_400(store: UdpStore, url: str) -> None:
    with pytest.raises(ProcessNamespaceInvalid, match="offline") as info:
        process_from_url(store, "f", url, ROOT)
    assert info.value.status == 400 and url in str(info.value)
