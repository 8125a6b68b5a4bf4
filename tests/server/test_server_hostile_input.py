"""Requests a careless or hostile user sends that went deep into the server and came
back as a 500: text that is no UTF-8, numbers that overflow, a grid of 10^23 cells.
Each answers a 4xx with an openEO code now, and the server goes on answering."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.server_helpers import ThreadServer, local_server

#: a corner of the embedded sample
BBOX = {"west": 6.660, "south": 45.230, "east": 6.665, "north": 45.233}
ADD = {"a": {"process_id": "add", "arguments": {"x": 1, "y": 2}, "result": True}}


@pytest.fixture(scope="module")
def server(
    sample_catalog: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ThreadServer]:
    with local_server(tmp_path_factory.mktemp("hostile") / "data", sample_catalog) as running:
        yield running


@pytest.fixture(scope="module")
def headers(server: ThreadServer) -> dict[str, str]:
    answer = requests.get(f"{server.url}/credentials/basic", auth=("hybrid", "hybrid"), timeout=30)
    return {"Authorization": f"Bearer basic//{answer.json()['access_token']}"}


def _error(answer: requests.Response) -> tuple[int, str]:
    assert "Traceback" not in answer.text
    return answer.status_code, answer.json()["code"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/jobs", {"process": {"process_graph": ADD}, "title": "\ud800"}),
        ("POST", "/jobs", {"process": {"process_graph": {"\udfff": ADD["a"]}}}),
        ("PUT", "/process_graphs/p1", {"process_graph": ADD, "description": "x\udc80"}),
        ("POST", "/result", {"process": {"process_graph": ADD}, "title": "\ud800"}),
    ],
    ids=["job-title", "node-id", "udp-description", "sync"],
)
def test_a_lone_surrogate_is_a_bad_request(
    server: ThreadServer, headers: dict[str, str], method: str, path: str, body: Any
) -> None:
    """``"\\ud800"`` is valid JSON but no UTF-8 text: POST /jobs answered 500 when its
    store could not encode it. A pair (an emoji) is fine."""
    import json

    text = json.dumps(body)  # ensure_ascii: the lone surrogate as an escape
    answer = requests.request(method, f"{server.url}{path}", data=text, headers=headers, timeout=60)
    assert _error(answer) == (400, "BadRequest")
    assert "lone surrogate" in answer.json()["message"]
    emoji = {"process": {"process_graph": ADD}, "title": "\ud83d\ude00"}
    created = requests.post(
        f"{server.url}/jobs", data=json.dumps(emoji), headers=headers, timeout=60
    )
    assert created.status_code == 201


def _sync(server: ThreadServer, headers: dict[str, str], graph: dict[str, Any]) -> Any:
    body = {"process": {"process_graph": graph}}
    return requests.post(f"{server.url}/result", json=body, headers=headers, timeout=120)


def test_a_date_shifted_beyond_any_calendar_is_a_bad_parameter(
    server: ThreadServer, headers: dict[str, str]
) -> None:
    """date_shift by 10^12 years overflowed in dateutil: a 500 OverflowError."""
    shift = {"date": "2020-01-01", "value": 10**12, "unit": "year"}
    graph = {"d": {"process_id": "date_shift", "arguments": shift, "result": True}}
    answer = _sync(server, headers, graph)
    assert _error(answer) == (400, "ProcessParameterInvalid")
    assert "date_shift" in answer.json()["message"]


def _resampled(resolution: float) -> dict[str, Any]:
    load = {"id": "SENTINEL2_L2A", "spatial_extent": BBOX, "bands": ["B04"],
            "temporal_extent": ["2023-06-01", "2023-06-10"]}  # fmt: skip
    resample = {"data": {"from_node": "lc"}, "resolution": resolution}
    save = {"data": {"from_node": "r"}, "format": "netCDF"}
    return {
        "lc": {"process_id": "load_collection", "arguments": load},
        "r": {"process_id": "resample_spatial", "arguments": resample},
        "s": {"process_id": "save_result", "arguments": save, "result": True},
    }


def test_a_resolution_giving_too_many_pixels_is_too_complex_as_on_copernicus(
    server: ThreadServer, headers: dict[str, str]
) -> None:
    """resample_spatial to 1e-9 m asked odc-geo for a grid of 10^23 cells: a 500
    MemoryError (and the server's memory). Copernicus's load counts the pixels at the
    resolution a resample hands it and refuses more than 10^11 with
    ProcessGraphComplexity (geopyspark-driver layercatalog.py L111-121, L1403-1444);
    a fine but sane resolution still runs."""
    answer = _sync(server, headers, _resampled(1e-9))
    assert _error(answer) == (400, "ProcessGraphComplexity")
    assert "resample_spatial" in answer.json()["message"]
    assert _sync(server, headers, _resampled(5)).status_code == 200


@pytest.mark.parametrize(
    ("repeat", "words"),
    [(10**9, "at most 10000000"), (0, "at least value 1"), (1.5, "at least value 1")],
)
def test_array_create_is_bounded_and_its_repeat_checked_as_on_copernicus(
    server: ThreadServer, headers: dict[str, str], repeat: Any, words: str
) -> None:
    """``array_create([1], repeat=10**9)`` ran for minutes and the next such request had
    the kernel kill the server for its memory; ``repeat`` 0 gave ``[]`` where Copernicus
    refuses it (python-driver process_implementations/array.py L36-46)."""
    arguments = {"data": [1, 2], "repeat": repeat}
    graph = {"a": {"process_id": "array_create", "arguments": arguments, "result": True}}
    answer = _sync(server, headers, graph)
    assert _error(answer) == (400, "ProcessParameterInvalid")
    assert words in answer.json()["message"]
    graph["a"]["arguments"]["repeat"] = 3
    assert _sync(server, headers, graph).json() == [1, 2] * 3


def test_array_create_counts_an_arrays_values_not_one() -> None:
    import numpy as np

    from hybrid.errors import ProcessParameterInvalid
    from hybrid.limits import MAX_ARRAY_ELEMENTS, check_array_repeat

    check_array_repeat(np.zeros(10), MAX_ARRAY_ELEMENTS // 10)  # exactly at the bound: allowed
    with pytest.raises(ProcessParameterInvalid, match="at most"):
        check_array_repeat(np.zeros(10), MAX_ARRAY_ELEMENTS // 10 + 1)
