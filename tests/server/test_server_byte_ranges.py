"""A result download's ``Range`` served as Copernicus's werkzeug serves it, where Starlette's
own range parser answers otherwise (werkzeug 3.1 ``Response._process_range_request``,
``Range.range_for_length``; openeo-python-driver views.py L1432-1433 sends the file)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.server_helpers import ThreadServer, local_server, ndvi_cube


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ThreadServer, str, str]]:
    """The server, a finished job and its result file's download link."""
    import openeo

    with local_server(tmp_path_factory.mktemp("ranges")) as running:
        connection = openeo.connect(running.url).authenticate_basic("hybrid", "hybrid")
        job = ndvi_cube(connection).create_job(out_format="netCDF")
        job.start_and_wait(print=lambda *_: None, max_poll_interval=0.5)
        (asset,) = job.get_results().get_assets()
        yield running, job.job_id, asset.href


def test_a_suffix_of_zero_bytes_is_the_whole_file_as_werkzeug_serves_it(
    served: tuple[ThreadServer, str, str],
) -> None:
    """werkzeug reads ``bytes=-0`` as a suffix starting at 0 and serves the whole file
    (206, ``bytes 0-<last>/<size>``); Starlette answered a plain-text 416."""
    _, _, href = served
    whole = requests.get(href, timeout=30).content
    part = requests.get(href, headers={"Range": "bytes=-0"}, timeout=30)
    assert part.status_code == 206, part.text
    assert part.headers["Content-Range"] == f"bytes 0-{len(whole) - 1}/{len(whole)}"
    assert part.content == whole


def test_an_if_range_that_matches_judges_the_range_as_without_it(
    served: tuple[ThreadServer, str, str],
) -> None:
    """With an ``If-Range`` naming the file as it is, werkzeug reads the range as without
    one: an unreadable range is its JSON 416 (code ``Internal``), not Starlette's plain-text
    400; a stale ``If-Range`` gets the whole file (200) either way."""
    _, _, href = served
    head = requests.head(href, timeout=30)
    for validator in (head.headers["ETag"], head.headers["Last-Modified"]):
        answer = requests.get(href, headers={"Range": "bytes=10-5", "If-Range": validator})
        assert answer.status_code == 416, (validator, answer.text)
        assert answer.json()["code"] == "Internal"
        part = requests.get(href, headers={"Range": "bytes=0-9", "If-Range": validator})
        assert (part.status_code, len(part.content)) == (206, 10)
    stale = requests.get(href, headers={"Range": "bytes=10-5", "If-Range": '"stale"'}, timeout=30)
    assert stale.status_code == 200 and stale.content == requests.get(href, timeout=30).content


def test_a_range_of_an_empty_file_is_the_whole_empty_file(
    served: tuple[ThreadServer, str, str],
) -> None:
    """werkzeug serves no range of an empty file (``complete_length == 0``): 200 and no
    bytes, whatever the range; Starlette answered ``bytes=0-`` with a plain-text 416."""
    running, job_id, href = served
    app = running.app
    (app.state.runner.result_dir(job_id) / "empty.txt").write_bytes(b"")
    link = app.state.services.links.url(
        base_url=href.split("/results/")[0], job_id=job_id, filename="empty.txt"
    )
    for asked in ("bytes=0-", "bytes=0-9", "bytes=-5", "bytes=10-5"):
        answer = requests.get(link, headers={"Range": asked}, timeout=30)
        assert (answer.status_code, answer.content) == (200, b""), asked
