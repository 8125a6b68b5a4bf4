"""Bad input: unreachable or failing STAC APIs, missing and corrupt assets."""

from __future__ import annotations

import time

import pytest

from hybrid.backends.local import LocalBackend, LocalSettings
from hybrid.errors import DataSourceError
from hybrid.grid import BBox
from hybrid.params import Workflow
from hybrid.stac.api import search_api
from hybrid.stac.query import SceneQuery
from hybrid.workflow_graph import build_graph
from tests.pgstac import free_port
from tests.stac_fixtures import TinyScene, serving_status, tiny_bbox, write_tiny_catalog

QUERY = SceneQuery(BBox(6.65, 45.22, 6.68, 45.27), "2023-05-01", "2023-06-01", 20.0)
SCENE = TinyScene("S2A_32TLR_20230502_0_L2A", "2023-05-02T10:30:00Z", 5.0)


def test_closed_port_fails_after_bounded_retries_with_one_line():
    url = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    with pytest.raises(DataSourceError) as info:
        search_api(url, None, QUERY, retries=2, backoff=0.2)
    elapsed = time.monotonic() - started
    message = str(info.value)
    assert url in message and "retries" in message and "\n" not in message
    assert 0.15 <= elapsed < 20  # backed off, but bounded


def test_server_answering_500_fails_after_retries(tmp_path):
    with serving_status(500) as url:
        started = time.monotonic()
        with pytest.raises(DataSourceError) as info:
            search_api(url, None, QUERY, retries=2, backoff=0.2)
        elapsed = time.monotonic() - started
    message = str(info.value)
    assert url in message and "500" in message and "\n" not in message
    assert 0.15 <= elapsed < 20


def _workflow() -> Workflow:
    west, south, east, north = tiny_bbox()
    dx, dy = (east - west) / 4, (north - south) / 4
    aoi = {
        "type": "Polygon",
        "coordinates": [[[west + dx, south + dy], [east - dx, south + dy], [east - dx, north - dy],
                         [west + dx, north - dy], [west + dx, south + dy]]],
    }  # fmt: skip
    return Workflow(
        aoi=aoi, start="2023-05-01", end="2023-06-01", kernel_size=3, bands=("B04", "B08", "SCL")
    )


@pytest.mark.parametrize("damage", ["missing", "corrupt"])
def test_bad_asset_names_item_and_asset_and_writes_nothing(tmp_path, damage):
    catalog = write_tiny_catalog(tmp_path / "cat", [SCENE])
    cog = catalog.parent / SCENE.id / "nir.tif"
    if damage == "missing":
        cog.unlink()
    else:
        cog.write_bytes(b"II*\x00" + b"\x17" * 200)
    out = tmp_path / "out"
    out.mkdir()
    backend = LocalBackend(LocalSettings(stac=str(catalog)))
    with pytest.raises(DataSourceError) as info:
        backend.execute(build_graph(_workflow()), out_dir=out)
    message = str(info.value)
    assert SCENE.id in message and "'nir'" in message, message
    assert list(out.iterdir()) == []


def test_an_item_collection_is_a_source_and_other_json_is_one_line(tmp_path, capsys):
    """What a STAC search saves (``stac-client search ... --save items.json``, a
    FeatureCollection of Items) is read as a static source, asset hrefs relative to
    it; a JSON file that is no STAC object is one line, exit 2 (it was a pystac
    traceback)."""
    import json

    from hybrid.cli import main
    from hybrid.stac.source import search

    catalog = write_tiny_catalog(tmp_path / "cat", [SCENE])
    folder = catalog.parent if catalog.is_file() else catalog
    item = json.loads((folder / SCENE.id / f"{SCENE.id}.json").read_text())
    item["links"] = []
    for asset in item["assets"].values():
        asset["href"] = f"./{SCENE.id}/{asset['href'][2:]}"
    saved = folder / "items.json"
    saved.write_text(json.dumps({"type": "FeatureCollection", "features": [item]}))
    from_catalog, from_search = search(catalog, QUERY), search(saved, QUERY)
    assert [i.id for i in from_search] == [i.id for i in from_catalog] == [SCENE.id]
    hrefs = {k: a.href for k, a in from_search[0].assets.items()}
    assert hrefs == {k: a.href for k, a in from_catalog[0].assets.items()}
    not_stac = {
        "empty.json": {},
        "aoi.geojson": {"type": "FeatureCollection", "features": [{"type": "Feature"}]},
        "feature.json": {"type": "Feature", "id": "x", "properties": {}},
    }
    for name, document in not_stac.items():
        (tmp_path / name).write_text(json.dumps(document))
        code = main(["scenes", "--stac", str(tmp_path / name), "--start", "2023-05-01",
                     "--end", "2023-06-01"])  # fmt: skip
        err = capsys.readouterr().err
        assert code == 2 and err.count("\n") == 1, err
        assert f"cannot read STAC file {tmp_path / name}" in err and "ItemCollection" in err
