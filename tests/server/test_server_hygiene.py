"""HTTP hygiene of the emulator: openEO error JSON, reusable keep-alive connections, limits.

One real server (uvicorn in a thread, ``LocalBackend``) on 127.0.0.1; requests over real HTTP.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from hybrid.limits import MAX_CALLBACK_DEPTH, MAX_JSON_DEPTH, MAX_NODES, MAX_PAGE_SIZE
from tests.server_helpers import ThreadServer, write_users_file


class Engine:
    """A stand-in engine whose ``execute`` fails unexpectedly (a bug, not bad input)."""

    name = "broken"

    def validate(self, graph: Any, *, job: bool = False) -> None:
        return None

    def execute(self, graph: Any, *, out_dir: Path) -> Any:
        raise ZeroDivisionError("a bug inside the engine")

    def process_specs(self) -> list[dict[str, Any]]:
        return []


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadServer]:
    from hybrid.server.app import create_app
    from hybrid.server.settings import ServerSettings

    tmp = tmp_path_factory.mktemp("hygiene")
    users = write_users_file(tmp / "users.toml", {"alice": "a-pass"})
    settings = ServerSettings(data_dir=tmp / "data", users_file=users, workers=1)
    with ThreadServer(create_app(settings, Engine())) as running:  # type: ignore[arg-type]
        yield running


@pytest.fixture(scope="module")
def token(server: ThreadServer) -> str:
    answer = requests.get(f"{server.url}/credentials/basic", auth=("alice", "a-pass"), timeout=10)
    return f"Bearer basic//{answer.json()['access_token']}"


def _graph(nodes: dict[str, Any]) -> dict[str, Any]:
    return {"process": {"process_graph": nodes}}


def _chain(length: int) -> dict[str, Any]:
    nodes = {
        f"n{i}": {"process_id": "absolute", "arguments": {"x": {"from_node": f"n{i + 1}"}}}
        for i in range(length - 1)
    }
    nodes[f"n{length - 1}"] = {"process_id": "absolute", "arguments": {"x": 1}}
    nodes["n0"]["result"] = True
    return nodes


def _saved() -> dict[str, Any]:
    """A graph a batch job accepts (it saves its result)."""
    nodes = _chain(2)
    del nodes["n0"]["result"]
    save = {"data": {"from_node": "n0"}, "format": "JSON"}
    nodes["save"] = {"process_id": "save_result", "arguments": save, "result": True}
    return _graph(nodes)


def _nested(depth: int) -> dict[str, Any]:
    graph: dict[str, Any] = {"r": {"process_id": "absolute", "arguments": {"x": 1}, "result": True}}
    for _ in range(depth):
        callback = {"process": {"process_graph": graph}}
        graph = {"r": {"process_id": "apply", "arguments": {"data": 1, **callback}, "result": True}}
    return graph


def _nested_text(depth: int) -> str:
    """The body of :func:`_nested` for depths ``json.dumps`` cannot encode (built as text)."""
    head = '{"r": {"process_id": "apply", "arguments": {"data": 1, "process": {"process_graph": '
    tail = '}}, "result": true}}'
    inner = '{"r": {"process_id": "absolute", "arguments": {"x": 1}, "result": true}}'
    return '{"process": {"process_graph": ' + head * depth + inner + tail * depth + "}}"


def _cycle() -> dict[str, Any]:
    nodes = _chain(3)
    nodes["n2"]["arguments"]["x"] = {"from_node": "n0"}
    return nodes


def _malformed(reference: dict[str, Any], *, in_callback: bool = False) -> dict[str, Any]:
    """A two-node chain whose link is ``reference`` (in a callback of apply when asked)."""
    nodes = _chain(2)
    if not in_callback:
        nodes["n0"]["arguments"]["x"] = reference
        return nodes
    callback = {"r": {"process_id": "absolute", "arguments": {"x": reference}, "result": True}}
    nodes["n0"] = {"process_id": "apply", "result": True, "arguments": {
        "data": {"from_node": "n1"}, "process": {"process_graph": callback},
    }}  # fmt: skip
    return nodes


def _openeo_error(response: requests.Response) -> tuple[int, str]:
    body = response.json()
    assert {"id", "code", "message", "links"} <= set(body), body
    return response.status_code, body["code"]


def test_one_connection_survives_a_hundred_requests_half_of_them_errors(
    server: ThreadServer, token: str
) -> None:
    """A requests.Session reuses one connection; errors (500 included) never reset it."""
    erroneous: list[tuple[str, str, Any]] = [
        ("GET", "/nowhere", None),  # 404
        ("DELETE", "/", None),  # 405
        ("POST", "/result", b"{not json"),  # 400
        ("GET", "/jobs/unknown", None),  # 404 JobNotFound
        ("POST", "/result", json.dumps(_graph(_chain(2))).encode()),  # 500: the engine's bug
    ]
    statuses = []
    with requests.Session() as session:
        session.headers["Authorization"] = token
        for i in range(100):
            if i % 2:
                method, path, data = erroneous[i // 2 % len(erroneous)]
            else:
                method, path, data = "GET", "/", None
            response = session.request(method, f"{server.url}{path}", data=data, timeout=30)
            statuses.append(response.status_code)
            if i % 2:
                assert response.status_code >= 400
                _openeo_error(response)
            else:
                assert response.status_code == 200
        pools = session.get_adapter(server.url).poolmanager.pools
        # RecentlyUsedContainer cannot be iterated, only its keys()
        opened = sum(pools[key].num_connections for key in pools.keys())  # noqa: SIM118
    assert 500 in statuses
    # urllib3 opens a new connection whenever it finds the previous one closed
    assert opened == 1, f"{opened} connections were opened for 100 requests"


def test_unexpected_error_is_openeo_json_and_keeps_the_connection(
    server: ThreadServer, token: str
) -> None:
    """An unexpected server error is a JSON openEO error (500 Internal) and the keep-alive
    connection stays usable."""
    host, port = server.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    body = json.dumps(_graph(_chain(2)))
    headers = {"Authorization": token, "Content-Type": "application/json"}
    connection.request("POST", "/result", body=body, headers=headers)
    answer = connection.getresponse()
    payload = json.loads(answer.read())
    assert answer.status == 500
    assert payload["code"] == "Internal" and "ZeroDivisionError" in payload["message"]
    assert answer.getheader("Access-Control-Allow-Origin") == "*"  # CORS on errors too
    connection.request("GET", "/")  # same socket: would raise if the server had closed it
    assert connection.getresponse().status == 200
    connection.close()


def test_cors_headers_on_every_answer_and_204_to_preflights(
    server: ThreadServer, token: str
) -> None:
    """The API's CORS section (Copernicus: flask-cors): ``Access-Control-Allow-Origin``
    and the exposed headers on every answer, errors included; ``OPTIONS`` on any endpoint
    is 204 without a body, with the methods and the headers asked for. A preflight was
    405 and no answer had the headers: a browser client (the Web Editor) could not work."""
    exposed = {"Link", "Location", "OpenEO-Costs", "OpenEO-Identifier"}
    for answer in (
        requests.get(f"{server.url}/", timeout=10),
        requests.get(f"{server.url}/jobs", headers={"Authorization": token}, timeout=10),
        requests.get(f"{server.url}/jobs/absent", headers={"Authorization": token}, timeout=10),
        requests.get(f"{server.url}/jobs", timeout=10),  # 401
    ):
        assert answer.headers["Access-Control-Allow-Origin"] == "*", answer.url
        names = {h.strip() for h in answer.headers["Access-Control-Expose-Headers"].split(",")}
        assert exposed <= names
    asked = {
        "Origin": "https://editor.openeo.org",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Authorization, Content-Type",
    }
    for path in ("/jobs", "/jobs/j-1/results", "/process_graphs/p1", "/"):
        answer = requests.options(f"{server.url}{path}", headers=asked, timeout=10)
        assert answer.status_code == 204 and answer.content == b""
        assert answer.headers["Access-Control-Allow-Origin"] == "*"
        methods = {m.strip() for m in answer.headers["Access-Control-Allow-Methods"].split(",")}
        assert {"GET", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"} <= methods
        assert "Authorization" in answer.headers["Access-Control-Allow-Headers"]
        assert answer.headers["Content-Type"] == "application/json"


@pytest.mark.parametrize("path", ["/jobs", "/jobs/x/logs"])
@pytest.mark.parametrize("limit", [str(2**63), "-58800", "0", str(MAX_PAGE_SIZE + 1), "ten"])
def test_limit_out_of_range_is_400(server: ThreadServer, token: str, path: str, limit: str) -> None:
    """limit=0, negative, 2^63, above the maximum or text on /jobs and /jobs/{id}/logs: 400
    with an openEO error, never an overflow."""
    if path == "/jobs/x/logs":  # a real job, so the limit is what fails
        created = requests.post(
            f"{server.url}/jobs",
            json=_saved(),
            headers={"Authorization": token},
            timeout=10,
        )
        path = f"/jobs/{created.headers['OpenEO-Identifier']}/logs"
    answer = requests.get(
        f"{server.url}{path}", params={"limit": limit}, headers={"Authorization": token}, timeout=10
    )
    assert _openeo_error(answer) == (400, "BadRequest")
    assert "limit" in answer.json()["message"]


def _pages(url: str, token: str, key: str) -> tuple[list[str], int]:
    """The ids of a listing read page by page along its ``next`` links, and the pages."""
    ids: list[str] = []
    pages = 0
    while url:
        answer = requests.get(url, headers={"Authorization": token}, timeout=10).json()
        ids += [item["id"] for item in answer[key]]
        pages += 1
        url = next((link["href"] for link in answer["links"] if link["rel"] == "next"), "")
        assert pages < 50, "the next links must end"
    return ids, pages


def test_pages_link_to_the_next_until_the_last(server: ThreadServer, token: str) -> None:
    """/jobs and /process_graphs with ``limit``: every page but the last links to the
    next (the API's links_pagination; Copernicus's ``page``); the pages hold the whole
    list in order. The links were empty, the rest of the list out of reach."""
    auth = {"Authorization": token}
    for _ in range(5):
        requests.post(f"{server.url}/jobs", json=_saved(), headers=auth, timeout=10)
    for name in ("p1", "p2", "p3"):
        body = {"id": name, "process_graph": _chain(1)}
        requests.put(f"{server.url}/process_graphs/{name}", json=body, headers=auth, timeout=10)
    for path, key in (("/jobs", "jobs"), ("/process_graphs", "processes")):
        whole = requests.get(f"{server.url}{path}", headers=auth, timeout=10).json()
        assert whole["links"] == []
        want = [item["id"] for item in whole[key]]
        assert len(want) >= 3
        got, pages = _pages(f"{server.url}{path}?limit=2", token, key)
        assert got == want and pages == -(-len(want) // 2)
    answer = requests.get(f"{server.url}/jobs?limit=2&page=-1", headers=auth, timeout=10)
    assert _openeo_error(answer) == (400, "BadRequest") and "page" in answer.json()["message"]


def test_pages_count_from_zero_as_copernicus(server: ThreadServer, token: str) -> None:
    """Copernicus's ``page`` counts from 0: the first page (``page=0`` or none) links to
    ``page=1``, the second page (python-driver 9e5b49b2 jobregistry.py ``list_user_jobs``
    L689-721, its test ``test_list_user_jobs_paginated``; geopyspark-driver
    job_registry.py L168-180). Here ``page=0`` was a 400, the first page linked to
    ``page=2`` and ``page=1`` was the first page again."""
    auth = {"Authorization": token}
    for _ in range(3):
        requests.post(f"{server.url}/jobs", json=_saved(), headers=auth, timeout=10)
    every = requests.get(f"{server.url}/jobs", headers=auth, timeout=10).json()["jobs"]
    want = [job["id"] for job in every]

    def page(query: str) -> dict[str, Any]:
        answer = requests.get(f"{server.url}/jobs?limit=1{query}", headers=auth, timeout=10)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    first = page("")
    assert page("&page=0") == first
    assert [job["id"] for job in first["jobs"]] == want[:1]
    (link,) = [link["href"] for link in first["links"] if link["rel"] == "next"]
    assert "page=1" in link and "limit=1" in link
    assert [job["id"] for job in page("&page=1")["jobs"]] == want[1:2]


def test_empty_limit_means_no_limit(server: ThreadServer, token: str) -> None:
    """An empty limit= is no limit (the whole list), not an error."""
    answer = requests.get(f"{server.url}/jobs?limit=", headers={"Authorization": token}, timeout=10)
    assert answer.status_code == 200 and "jobs" in answer.json()
    answer = requests.get(
        f"{server.url}/jobs?limit={MAX_PAGE_SIZE}", headers={"Authorization": token}, timeout=10
    )
    assert answer.status_code == 200


@pytest.mark.parametrize("path", ["/validation", "/result", "/jobs"])
@pytest.mark.parametrize(
    ("nodes", "code", "words"),
    [
        (_cycle(), "ProcessGraphInvalid", "cycle"),
        (_chain(MAX_NODES + 1), "ProcessGraphComplexity", "MAX_NODES"),
        (_chain(10_000), "ProcessGraphComplexity", "MAX_NODES"),
        (_nested(MAX_CALLBACK_DEPTH), "ProcessGraphComplexity", "MAX_CALLBACK_DEPTH"),
        (_nested_text(3000), "BadRequest", "MAX_JSON_DEPTH"),
        (_malformed({"from_node": ["n1"]}), "ProcessGraphInvalid", "no reference"),
        (_malformed({"from_node": "n1", "x": 1}), "ProcessGraphInvalid", "no reference"),
        (_malformed({"from_parameter": 5}, in_callback=True), "ProcessGraphInvalid", "'r'"),
    ],
    ids=[
        "cycle",
        "nodes",
        "chain-10000",
        "callbacks",
        "callbacks-3000",
        "from_node-list",
        "from_node-extra-key",
        "from_parameter-number",
    ],
)
def test_hostile_graphs_get_a_4xx_naming_the_limit(
    server: ThreadServer, token: str, path: str, nodes: dict[str, Any] | str, code: str, words: str
) -> None:
    """Cyclic graphs, 10,000-node chains, callbacks nested too deep (also 3,000 deep as
    text) and reference objects the API does not allow (a list as ``from_node`` was a 500):
    400 naming the limit or the node at /validation, /result and POST /jobs."""
    body = nodes if isinstance(nodes, str) else json.dumps(_graph(nodes))
    headers = {"Authorization": token, "Content-Type": "application/json"}
    answer = requests.post(f"{server.url}{path}", data=body, headers=headers, timeout=30)
    assert _openeo_error(answer) == (400, code)
    assert words in answer.json()["message"]


def test_graphs_within_the_limits_pass(server: ThreadServer) -> None:
    """Graphs right at the node-count and nesting limits still validate."""
    for nodes in (_chain(MAX_NODES), _nested(MAX_CALLBACK_DEPTH - 1)):
        answer = requests.post(f"{server.url}/validation", json=_graph(nodes), timeout=30)
        assert answer.status_code == 200 and answer.json() == {"errors": []}


def test_json_nested_200000_deep_is_refused_before_parsing(server: ThreadServer) -> None:
    """A JSON body nested 200,000 deep is refused before parsing (no RecursionError)."""
    body = b"[" * 200_000 + b"]" * 200_000
    answer = requests.post(f"{server.url}/validation", data=body, timeout=30)
    assert _openeo_error(answer) == (400, "BadRequest")
    assert str(MAX_JSON_DEPTH) in answer.json()["message"]
    # brackets inside strings do not count
    text = json.dumps({"process_graph": {"a": {"process_id": "[" * 1000, "arguments": {}}}})
    assert requests.post(f"{server.url}/validation", data=text, timeout=30).status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/files"),
        ("PUT", "/files/a.txt"),
        ("GET", "/services"),
        ("POST", "/services"),
        ("GET", "/services/s1"),
        ("GET", "/services/s1/logs"),
        ("GET", "/jobs/j1/estimate"),
        ("GET", "/me"),
    ],
)
def test_anonymous_calls_to_protected_endpoints_are_401(
    server: ThreadServer, method: str, path: str
) -> None:
    """Anonymous calls to protected endpoints answer 401 AuthenticationRequired, as the spec
    says."""
    answer = requests.request(method, f"{server.url}{path}", timeout=10)
    assert _openeo_error(answer) == (401, "AuthenticationRequired")


def test_unimplemented_endpoints_answer_404_to_a_user(server: ThreadServer, token: str) -> None:
    """An endpoint the emulator does not implement answers 404 NotFound as an openEO error."""
    answer = requests.get(f"{server.url}/files", headers={"Authorization": token}, timeout=10)
    assert _openeo_error(answer) == (404, "NotFound")


@pytest.mark.parametrize("path", ["/", "/jobs", "/nowhere"])
def test_trace_is_refused(server: ThreadServer, path: str) -> None:
    """TRACE is refused (404/405), never echoed."""
    answer = requests.request("TRACE", f"{server.url}{path}", timeout=10)
    assert answer.status_code in (404, 405)
    _openeo_error(answer)


def test_secondary_web_services_none_offered(server: ThreadServer, token: str) -> None:
    """The /services endpoints answer as a backend with no service type (Copernicus has no
    such routes: 404): the real openeo client's ``list_services()`` is empty, creating a
    service is 400 ServiceUnsupported (nothing stored), and any service id is 404
    ServiceNotFound."""
    import openeo

    connection = openeo.connect(server.url)
    connection.session.headers["Authorization"] = token
    assert connection.list_services() == []
    headers = {"Authorization": token}
    wmts = {"type": "WMTS", "process": _saved()["process"]}
    created = requests.post(f"{server.url}/services", json=wmts, headers=headers, timeout=10)
    assert _openeo_error(created) == (400, "ServiceUnsupported")
    assert "'WMTS' is not supported" in created.json()["message"]
    assert connection.list_services() == []
    for method in ("GET", "PATCH", "DELETE"):
        answer = requests.request(
            method, f"{server.url}/services/wmts-1", json={}, headers=headers, timeout=10
        )
        assert _openeo_error(answer) == (404, "ServiceNotFound"), method
    logs = requests.get(f"{server.url}/services/wmts-1/logs", headers=headers, timeout=10)
    assert _openeo_error(logs) == (404, "ServiceNotFound")
    listed = requests.get(f"{server.url}/", timeout=10).json()["endpoints"]
    assert {"path": "/services", "methods": ["GET", "POST"]} in listed


def test_service_types_and_estimate(server: ThreadServer, token: str) -> None:
    """GET /service_types is empty (no web services); a job's estimate answers as the spec says."""
    assert requests.get(f"{server.url}/service_types", timeout=10).json() == {}
    created = requests.post(
        f"{server.url}/jobs", json=_saved(), headers={"Authorization": token}, timeout=10
    )
    job_id = created.headers["OpenEO-Identifier"]
    estimate = requests.get(
        f"{server.url}/jobs/{job_id}/estimate", headers={"Authorization": token}, timeout=10
    ).json()
    assert estimate["costs"] == 0
