"""query_stac (backends/local/processes/stac_query.py): the Items of a static STAC
collection or Item within the extents, as pystac's ItemCollection dict, checked against
the catalog's own files read with json (dates and bboxes compared by hand)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hybrid.backends.local.processes.stac_query import query_stac
from hybrid.errors import HybridError
from tests.stac_fixtures import TinyScene, tiny_bbox, write_tiny_catalog

SCENES = [
    TinyScene("S2A_32TLR_20230502_0_L2A", "2023-05-02T10:30:00Z", 10.0),
    TinyScene("S2B_32TLR_20230507_0_L2A", "2023-05-07T10:30:00Z", 50.0),
    TinyScene("S2A_32TLR_20230512_0_L2A", "2023-05-12T10:30:00Z", 90.0),
]


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_catalog(tmp_path_factory.mktemp("query-stac"), SCENES)


def _ids(found: dict[str, Any]) -> list[str]:
    assert found["type"] == "FeatureCollection"
    return [feature["id"] for feature in found["features"]]


def test_the_items_within_the_dates_as_a_feature_collection(catalog: Path) -> None:
    found = query_stac(str(catalog), temporal_extent=["2023-05-05", "2023-05-12T10:30:00Z"])
    assert _ids(found) == ["S2B_32TLR_20230507_0_L2A"]  # the end is excluded
    (feature,) = found["features"]
    on_disk = json.loads((catalog.parent / feature["id"] / f"{feature['id']}.json").read_text())
    assert feature["properties"] == on_disk["properties"]
    assert feature["bbox"] == on_disk["bbox"] and set(feature["assets"]) == set(on_disk["assets"])
    # pystac writes the asset hrefs as the document has them and the item's own link
    assert feature["assets"]["red"]["href"] == on_disk["assets"]["red"]["href"] == "./red.tif"
    (self_link,) = [link["href"] for link in feature["links"] if link["rel"] == "self"]
    assert (Path(self_link).parent / "red.tif").exists()


def test_without_extents_every_item_and_with_a_day_twice_that_day(catalog: Path) -> None:
    assert sorted(_ids(query_stac(str(catalog)))) == sorted(s.id for s in SCENES)
    assert _ids(query_stac(f"file://{catalog}", temporal_extent=["2023-05-12", "2023-05-12"])) == [
        "S2A_32TLR_20230512_0_L2A"
    ]
    open_start = query_stac(str(catalog), temporal_extent=[None, "2023-05-07"])
    assert _ids(open_start) == ["S2A_32TLR_20230502_0_L2A"]


def test_the_bbox_keeps_the_items_it_meets_in_any_crs(catalog: Path) -> None:
    west, south, east, north = tiny_bbox()
    inside = {"west": west, "south": south, "east": east, "north": north}
    assert len(_ids(query_stac(str(catalog), spatial_extent=inside))) == 3
    far = {"west": 10.0, "south": 50.0, "east": 10.1, "north": 50.1}
    assert _ids(query_stac(str(catalog), spatial_extent=far)) == []
    utm = {"west": 300000, "south": 5000000, "east": 300100, "north": 5000100, "crs": 32632}
    assert _ids(query_stac(str(catalog), spatial_extent=utm)) == []


def test_an_item_url_gives_that_item_when_it_meets_the_dates(catalog: Path) -> None:
    item = catalog.parent / SCENES[0].id / f"{SCENES[0].id}.json"
    assert _ids(query_stac(str(item))) == [SCENES[0].id]
    assert _ids(query_stac(str(item), temporal_extent=["2024-01-01", None])) == []


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("relative/collection.json", "query_stac: relative/collection.json is not an http(s)"),
        ("/nowhere/collection.json", "query_stac: no STAC document at /nowhere"),
        ("s3://bucket/collection.json", "s3:// scheme is not readable here"),
    ],
)
def test_a_url_that_cannot_be_read_is_one_clear_error(url: str, words: str) -> None:
    with pytest.raises(HybridError, match=words.replace("(", r"\(").replace(")", r"\)")):
        query_stac(url)


def test_a_temporal_extent_of_one_date_is_refused(catalog: Path) -> None:
    with pytest.raises(HybridError, match=r"query_stac: temporal_extent must be \[start, end\]"):
        query_stac(str(catalog), temporal_extent=["2023-05-02"])


def test_open_bounds_go_to_a_stac_api_search_open() -> None:
    """As Copernicus's ``from_stac_api``: no interval when both ends are open, ``..`` for
    one open end (pystac-client writes None so)."""
    import datetime as dt

    from hybrid.backends.local.stac_items import OPEN_END, OPEN_START, Extent

    day = dt.datetime(2023, 5, 2, tzinfo=dt.UTC)
    assert Extent(OPEN_START, OPEN_END, None).search_interval() is None
    assert Extent(day, OPEN_END, None).search_interval() == (day, None)
    assert Extent(OPEN_START, day, None).search_interval() == (None, day)
    assert Extent(day, day, None).search_interval() == (day, day)
