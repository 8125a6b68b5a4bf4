"""The server's rewrite of load_stac URLs of its own job results
(:mod:`hybrid.server.job_stac`): who may load which job, and the STAC it writes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hybrid.server.job_stac import JobSources
from hybrid.server.jobs import JobStore
from hybrid.server.results import ResultLinks

BASE = "http://127.0.0.1:8000"


@pytest.fixture
def sources(tmp_path: Path) -> Any:
    store = JobStore(tmp_path / "jobs.sqlite")
    yield JobSources(
        store=store,
        results_dir=tmp_path / "jobs",
        links=ResultLinks(secret=b"s" * 32, ttl=60.0),
        data_dir=tmp_path,
    )
    store.close()


def _graph(url: str, **more: Any) -> dict[str, Any]:
    return {"l": {"process_id": "load_stac", "arguments": {"url": url, **more}, "result": True}}


def _finished_job(sources: JobSources, user: str) -> str:
    """A finished job of ``user`` whose one result is a small 1-band GeoTIFF."""
    import numpy as np
    import rasterio
    from rasterio.transform import from_origin

    graph = {"s": {"process_id": "save_result", "arguments": {}, "result": True}}
    job = sources.store.create(user_id=user, process={"process_graph": graph})
    folder = sources.results_dir / job.id
    folder.mkdir(parents=True)
    profile = {"driver": "GTiff", "height": 2, "width": 3, "count": 1, "dtype": "float32"}
    with rasterio.open(
        folder / "openEO_2023-06-12Z.tif",
        "w",
        crs="EPSG:32632",
        transform=from_origin(330000, 5012000, 10, 10),
        **profile,
    ) as ds:
        ds.write(np.ones((1, 2, 3), "float32"))
        ds.set_band_description(1, "NDVI")
    sources.store.update(job.id, status="finished", files=["openEO_2023-06-12Z.tif"])
    return job.id


def test_own_job_results_become_a_local_collection_without_properties(
    sources: JobSources,
) -> None:
    job_id = _finished_job(sources, "alice")
    graph = _graph(f"{BASE}/jobs/{job_id}/results", properties={"x": {}})
    (node,) = sources(graph, "alice", BASE).values()
    path = Path(node["arguments"]["url"])
    assert path == sources.results_dir / job_id / ".stac" / "collection.json"
    assert "properties" not in node["arguments"]
    collection = json.loads(path.read_text())
    assert collection["summaries"]["eo:bands"] == [{"name": "NDVI"}]
    item = json.loads((path.parent / "items" / "openEO_2023-06-12Z.tif.json").read_text())
    assert item["properties"]["datetime"] == "2023-06-12T00:00:00Z"
    (asset,) = item["assets"].values()
    assert asset["href"] == str(sources.results_dir / job_id / "openEO_2023-06-12Z.tif")
    assert (asset["proj:epsg"], asset["proj:shape"]) == (32632, [2, 3])


def test_another_users_job_and_an_unknown_job_are_not_found(sources: JobSources) -> None:
    from hybrid.server.errors import JobNotFound

    job_id = _finished_job(sources, "bob")
    with pytest.raises(JobNotFound, match="does not exist"):
        sources(_graph(f"{BASE}/jobs/{job_id}/results"), "alice", BASE)
    with pytest.raises(JobNotFound, match="does not exist"):
        sources(_graph(f"http://localhost:8000/jobs/j-{'a' * 32}/results"), "alice", BASE)


def test_a_signed_item_link_opens_for_anyone(sources: JobSources) -> None:
    job_id = _finished_job(sources, "bob")
    token = sources.links.token(job_id=job_id, filename="openEO_2023-06-12Z.tif")
    url = f"{BASE}/jobs/{job_id}/results/items/{token}/openEO_2023-06-12Z.tif"
    (node,) = sources(_graph(url), "alice", BASE).values()
    item = json.loads(Path(node["arguments"]["url"]).read_text())
    assert item["id"] == "openEO_2023-06-12Z.tif"


def test_other_urls_stay_and_data_folder_paths_are_refused(sources: JobSources) -> None:
    from hybrid.errors import ProcessParameterInvalid

    remote = f"https://openeo.dataspace.copernicus.eu/openeo/1.2/jobs/j-{'b' * 32}/results"
    assert sources(_graph(remote), "alice", BASE) == _graph(remote)
    assert sources(_graph("/elsewhere/collection.json"), "alice") == _graph(
        "/elsewhere/collection.json"
    )
    inside = (sources.data_dir / "jobs" / "x" / "collection.json").as_uri()
    with pytest.raises(ProcessParameterInvalid, match="data folder"):
        sources(_graph(inside), "alice")


def test_an_unfinished_job_is_refused(sources: JobSources) -> None:
    from hybrid.server.errors import JobNotFinished

    job = sources.store.create(user_id="alice", process={"process_graph": {}})
    with pytest.raises(JobNotFinished, match="not ready"):
        sources(_graph(f"{BASE}/jobs/{job.id}/results"), "alice", BASE)


def test_the_signed_canonical_link_opens_for_anyone_holding_it(sources: JobSources) -> None:
    from hybrid.server.errors import FileNotFound

    job_id = _finished_job(sources, "bob")
    url = sources.links.results_url(base_url=BASE, job_id=job_id)
    assert url.startswith(f"{BASE}/jobs/{job_id}/results/")
    (node,) = sources(_graph(url), "alice", BASE).values()
    assert Path(node["arguments"]["url"]).name == "collection.json"
    other = _finished_job(sources, "bob")  # the token names its job
    with pytest.raises(FileNotFound):
        sources(_graph(url.replace(job_id, other)), "alice", BASE)


def test_own_urls_by_any_loopback_name_and_not_another_port_or_host(
    sources: JobSources,
) -> None:
    """:func:`hybrid.server.own_urls.own_path`: the job is this server's through
    ``localhost`` as through ``127.0.0.1``; on another port or another host the URL is
    another server's, left to the engine (which refuses it: not loadable offline)."""
    job_id = _finished_job(sources, "alice")
    collection = sources.results_dir / job_id / ".stac" / "collection.json"
    for url in (
        f"http://localhost:8000/jobs/{job_id}/results",
        f"http://[::1]:8000/jobs/{job_id}/results",
    ):
        (node,) = sources(_graph(url), "alice", BASE).values()
        assert node["arguments"]["url"] == str(collection)
    for url in (
        f"http://127.0.0.1:8001/jobs/{job_id}/results",
        f"https://127.0.0.1:8000/jobs/{job_id}/results",
        f"http://192.0.2.1:8000/jobs/{job_id}/results",
    ):
        assert sources(_graph(url), "alice", BASE) == _graph(url)
    # a batch job runs against the URL it was created through (Job.root_url)
    (node,) = sources(_graph(f"{BASE}/jobs/{job_id}/results"), "alice", None).values()
    assert node["arguments"]["url"] == str(collection)


def test_the_stac_documents_get_the_permissions_of_a_normal_file(sources: JobSources) -> None:
    """Written through hybrid.atomic.atomic_path: the umask decides (0644 under 022),
    not mkstemp's 0600, and no temporary file is left beside them."""
    import os

    umask = os.umask(0o022)
    os.umask(umask)
    job_id = _finished_job(sources, "alice")
    (node,) = sources(_graph(f"{BASE}/jobs/{job_id}/results"), "alice", BASE).values()
    folder = Path(node["arguments"]["url"]).parent
    written = sorted(p for p in folder.rglob("*") if p.is_file())
    assert [p.name for p in written] == ["collection.json", "openEO_2023-06-12Z.tif.json"]
    assert {p.stat().st_mode & 0o777 for p in written} == {0o666 & ~umask}
