"""A remote COG whose server keeps failing: the run fails after a few retries with one
clear error, instead of odc-stac's ten retries with GDAL's growing backoff (the same
run did not end within 300 s; with odc-stac's count restored this test fails on its
150 s timeout). A server that fails a moment (its first requests of each file answered
503, the header check's among them) costs a retry, not the run.

The embedded sample's COGs are served over HTTP by a server that answers every ranged
read past the header with 503, so the header check before the load passes and the
pixel reads fail. Each run is a child process (a read inside GDAL holds the GIL, so
no timeout in the process that waits could fire), with GDAL's first wait before a retry
set to :data:`QUICK_RETRY_DELAY` through ``GDAL_HTTP_RETRY_DELAY`` (the same retries,
sooner; odc-stac's ten retries would still outlast the timeout).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from hybrid.stac.access import HTTP_RETRIES, HTTP_RETRY_DELAY, RETRY_DELAY, pixel_read_options
from tests.stac_fixtures import RangeHandler, copy_with_hrefs, serving

ROOT = Path(__file__).resolve().parents[2]
#: GDAL's first wait before a retry in the child runs, seconds (ours is 0.5)
QUICK_RETRY_DELAY = "0.1"


def child_env(retries: str | None = None) -> dict[str, str]:
    """This environment without a retry count of its own (``retries`` if given) and with
    the quick first wait."""
    env = {k: v for k, v in os.environ.items() if k != "GDAL_HTTP_MAX_RETRY"}
    if retries is not None:  # the user's own setting wins
        env["GDAL_HTTP_MAX_RETRY"] = retries
    return {**env, RETRY_DELAY: QUICK_RETRY_DELAY}


def test_the_first_wait_before_a_retry_is_gdals_option_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(RETRY_DELAY, raising=False)
    assert pixel_read_options()[RETRY_DELAY] == str(HTTP_RETRY_DELAY)
    monkeypatch.setenv(RETRY_DELAY, QUICK_RETRY_DELAY)
    assert pixel_read_options()[RETRY_DELAY] == QUICK_RETRY_DELAY


def failing_reads(kind: str, sample: str, out: str) -> None:
    """Serve ``sample`` (header reads only) and load B04 of two dates over it (``kind``:
    load_collection over a catalog of the served files, or load_stac of the served
    collection); prints the engine's error and the ranged requests the server saw."""
    root = Path(sample).parent
    seen: list[str] = []

    class Failing(RangeHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(root), **kwargs)

        def send_head(self) -> Any:
            ranged = self.headers.get("Range") or ""
            if self.path.endswith(".tif") and ranged and not ranged.startswith("bytes=0-"):
                seen.append(f"{self.path} {ranged}")
                self.send_error(503)
                return None
            return super().send_head()

    print(json.dumps({"error": load_served(Failing, kind, sample, out), "seen": seen}))


def passing_failures(sample: str, out: str, times: str) -> None:
    """Serve ``sample`` answering the first ``times`` requests of each COG with 503 and
    load B04 of two dates over it; prints the engine's error and the 503s per file."""
    root = Path(sample).parent
    failed: Counter[str] = Counter()
    lock = threading.Lock()

    class Passing(RangeHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(root), **kwargs)

        def send_head(self) -> Any:
            with lock:
                fail = self.path.endswith(".tif") and failed[self.path] < int(times)
                if fail:
                    failed[self.path] += 1
            if fail:
                self.send_error(503)
                return None
            return super().send_head()

    error = load_served(Passing, "load_collection", sample, out)
    print(json.dumps({"error": error, "failed": failed}))


def load_served(handler: Any, kind: str, sample: str, out: str) -> str:
    """The error (or "") of loading B04 of two dates over ``sample`` served by
    ``handler``: by ``kind`` over a catalog of the served files or the served
    collection."""
    from hybrid.backends.local import LocalBackend, LocalSettings
    from tests.server_helpers import SEED_BBOX

    root = Path(sample).parent
    error = ""
    with serving(handler) as base:
        copy_with_hrefs(
            root,
            Path(out) / "catalog",
            "S2*/*.json",
            lambda item, href: f"{base}/{item.parent.name}/{Path(href).name}",
        )
        extents = {"spatial_extent": SEED_BBOX, "temporal_extent": ["2023-06-01", "2023-06-10"]}
        if kind == "load_stac":
            arguments = {"url": f"{base}/{Path(sample).name}", **extents, "bands": ["B04"]}
        else:
            arguments = {"id": "SENTINEL2_L2A", **extents, "bands": ["B04"]}
        graph = {
            "load": {"process_id": kind, "arguments": arguments},
            "save": {"process_id": "save_result",
                     "arguments": {"data": {"from_node": "load"}, "format": "netCDF"},
                     "result": True},
        }  # fmt: skip
        settings = LocalSettings(stac=str(Path(out) / "catalog" / Path(sample).name))
        try:
            LocalBackend(settings).execute(graph, out_dir=Path(out) / "result")
        except Exception as exc:  # the error the engine gives a user
            error = f"{type(exc).__name__}: {exc}"
    return error


@pytest.mark.slow
@pytest.mark.parametrize(
    ("kind", "retries"),
    [("load_collection", None), ("load_collection", "1"), ("load_stac", None)],
)
def test_a_failing_server_ends_the_run_after_a_few_retries(
    kind: str, retries: str | None, sample_catalog: Path, tmp_path: Path
) -> None:
    child = (
        "import sys; from tests.engine.test_remote_read_retries import failing_reads; "
        "failing_reads(*sys.argv[1:])"
    )
    done = subprocess.run(
        [sys.executable, "-c", child, kind, str(sample_catalog), str(tmp_path)],
        cwd=ROOT, env=child_env(retries), capture_output=True, text=True, timeout=150,
        check=True,
    )  # fmt: skip
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    if kind == "load_stac":  # it names the URL, and GDAL's reason
        assert answer["error"].startswith("DataSourceError: load_stac: cannot read http://")
        assert "B04.tif, band 1: IReadBlock failed" in answer["error"]
    else:
        # the first read may be the empty-dates probe's warped window: GDAL's reason is
        # then "Chunk and warp failed", the block read's message (naming the file) its cause
        want = "DataSourceError: cannot read a Sentinel-2 COG (B04.tif, band 1: IReadBlock"
        assert answer["error"].startswith(want)
        assert "the server that serves it failed" in answer["error"]
    asked = Counter(answer["seen"])
    # each read of a range is tried 1 + retries times, not more; the empty-dates probe
    # (backends/local/empty_dates.py) and the load's tasks may read one range a few times
    tries = 1 + int(retries or HTTP_RETRIES)
    assert tries <= max(asked.values()) <= 3 * tries, asked
    assert not list((tmp_path / "result").glob("*")), "nothing half-written"


@pytest.mark.slow
@pytest.mark.parametrize("times", [2, 100])
def test_a_server_failing_a_moment_costs_a_retry_not_the_run(
    times: int, sample_catalog: Path, tmp_path: Path
) -> None:
    child = (
        "import sys; from tests.engine.test_remote_read_retries import passing_failures; "
        "passing_failures(*sys.argv[1:])"
    )
    done = subprocess.run(
        [sys.executable, "-c", child, str(sample_catalog), str(tmp_path), str(times)],
        cwd=ROOT, env=child_env(), capture_output=True, text=True, timeout=150, check=True,
    )  # fmt: skip
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    if times == 2:  # retried at the header check and on
        assert answer["error"] == ""
        assert answer["failed"] and set(answer["failed"].values()) == {2}, answer["failed"]
        assert list((tmp_path / "result").glob("*.nc")), "the result is written"
        return
    # a server that keeps failing at the header check: named, and said to be failing
    assert answer["error"].startswith("DataSourceError: item S2"), answer["error"]
    assert "HTTP response code: 503; the server is failing (retried 4 times)" in answer["error"]
    assert max(answer["failed"].values()) == 1 + HTTP_RETRIES, answer["failed"]
    assert not list((tmp_path / "result").glob("*")), "nothing half-written"
