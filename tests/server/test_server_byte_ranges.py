"""A result download's ``Range`` served as Copernicus's werkzeug serves it, where Starlette's
own range parser answers otherwise (werkzeug 3.1 ``Response._process_range_request``,
``Range.range_for_length``; openeo-python-driver views.py L1432-1433 sends the file)."""

from __future__ import annotations

import zlib
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
    # the view refuses another unit first, whatever the file (views.py L1364-1368)
    other = requests.get(link, headers={"Range": "items=0-9"}, timeout=30)
    assert other.status_code == 416, other.text
    assert other.json()["code"] == "RangeNotSatisfiable"
    assert requests.get(link, headers={"Range": "items=x"}, timeout=30).status_code == 200


def test_a_download_carries_the_headers_flask_sends(
    served: tuple[ThreadServer, str, str],
) -> None:
    """werkzeug ``send_file`` as Copernicus calls it (python-driver views.py L1432-1433):
    ``Content-Disposition: inline; filename=NAME``, ``Cache-Control: no-cache`` and the
    ``ETag`` ``"MTIME-SIZE-ADLER32(path)"``, on GET and HEAD alike; Starlette sent
    ``attachment``, no ``Cache-Control`` and an MD5 tag."""
    running, job_id, href = served
    path = (running.app.state.runner.result_dir(job_id) / "openEO.nc").resolve()
    stat = path.stat()
    check = zlib.adler32(str(path).encode()) & 0xFFFFFFFF
    for answer in (requests.get(href, timeout=30), requests.head(href, timeout=30)):
        assert answer.status_code == 200
        assert answer.headers["Content-Disposition"] == "inline; filename=openEO.nc"
        assert answer.headers["Cache-Control"] == "no-cache"
        assert answer.headers["ETag"] == f'"{stat.st_mtime}-{stat.st_size}-{check}"'
        assert answer.headers["Accept-Ranges"] == "bytes"
        assert answer.headers["Content-Length"] == str(stat.st_size)


def test_an_unchanged_file_is_werkzeugs_304_or_412(
    served: tuple[ThreadServer, str, str],
) -> None:
    """werkzeug ``make_conditional``: a request no range is served to, whose
    ``If-None-Match`` names the file (weakly, or ``*``) or whose ``If-Modified-Since`` is
    not before its ``Last-Modified``, is a 304 without body, ``Content-Length``,
    ``Content-Type`` or ``Last-Modified``; with an ``If-Match`` (that does not name the
    file, or any unchanged request with one) a 412 that still carries the file. A served
    range is a 206 whatever the validators say. Starlette sent the file (200)."""
    _, _, href = served
    whole = requests.get(href, timeout=30)
    etag, modified = whole.headers["ETag"], whole.headers["Last-Modified"]
    for asked in ({"If-None-Match": etag}, {"If-None-Match": f'"other", W/{etag}'},
                  {"If-None-Match": "*"}, {"If-Modified-Since": modified}):  # fmt: skip
        for method in ("GET", "HEAD"):
            answer = requests.request(method, href, headers=asked, timeout=30)
            assert (answer.status_code, answer.content) == (304, b""), (method, asked)
            assert answer.headers["ETag"] == etag and "Last-Modified" not in answer.headers
            assert not {"Content-Type", "Content-Length"} & set(answer.headers), answer.headers
    sent = ({"If-None-Match": '"other"'}, {"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"},
            {"If-Match": etag}, {"If-None-Match": etag, "Range": "bytes=0-9"})  # fmt: skip
    for asked in sent:
        answer = requests.get(href, headers=asked, timeout=30)
        assert answer.status_code == (206 if "Range" in asked else 200), asked
    for asked in ({"If-Match": '"other"'}, {"If-Match": "*"},
                  {"If-Match": etag, "If-None-Match": etag}):  # fmt: skip
        answer = requests.get(href, headers=asked, timeout=30)
        assert answer.status_code == (200 if asked["If-Match"] == etag else 412), asked
        assert answer.content == whole.content


def test_if_range_is_read_with_the_other_validators_as_werkzeug_reads_it(
    served: tuple[ThreadServer, str, str],
) -> None:
    """werkzeug ``_is_range_request_processable`` asks ``is_resource_modified``, where an
    ``If-Range`` date stands for ``If-Modified-Since`` and leaves ``If-None-Match`` and
    ``If-Match`` the last word, and an empty ``If-Range`` is neither date nor tag: an empty
    one with ``If-None-Match`` naming the file serves the range (was the whole file), a
    date with an ``If-None-Match`` naming another tag sends the whole file (was 206)."""
    _, _, href = served
    etag = requests.head(href, timeout=30).headers["ETag"]
    later = "Fri, 01 Jan 2100 00:00:00 GMT"
    cases = (
        ({"If-Range": "", "If-None-Match": etag}, 206),
        ({"If-Range": "", "If-Modified-Since": later}, 206),
        ({"If-Range": later, "If-None-Match": '"other"'}, 200),
        ({"If-Range": "Mon, 01 Jan 2001 00:00:00 GMT", "If-Match": '"other"'}, 206),
        ({"If-Range": '"other"', "If-None-Match": etag}, 304),
    )
    for asked, status in cases:
        answer = requests.get(href, headers={"Range": "bytes=0-9", **asked}, timeout=30)
        assert answer.status_code == status, asked
