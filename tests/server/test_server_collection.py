"""hybrid.collection builds the Copernicus SENTINEL2_L2A metadata in code."""

from __future__ import annotations

import json

import pytest

from hybrid.collection import band_names, sentinel2_l2a
from tests.server_helpers import SHARED

CDSE = SHARED / "cdse" / "SENTINEL2_L2A.json"


@pytest.fixture(scope="module")
def cdse() -> dict:
    if not CDSE.is_file():
        pytest.skip("../shared/cdse/SENTINEL2_L2A.json is absent")
    data = json.loads(CDSE.read_text(encoding="utf-8"))
    data.pop("_vito", None)
    return data


def test_important_parts_equal_the_copernicus_layer_catalog(cdse: dict) -> None:
    built = sentinel2_l2a()
    assert built["id"] == cdse["id"] == "SENTINEL2_L2A"
    assert built["cube:dimensions"] == cdse["cube:dimensions"]
    assert built["extent"] == cdse["extent"]
    assert [b["name"] for b in built["summaries"]["eo:bands"]] == [
        b["name"] for b in cdse["summaries"]["eo:bands"]
    ]
    assert built["summaries"]["eo:bands"] == cdse["summaries"]["eo:bands"]


def test_whole_document_equals_the_catalog_without_vito(cdse: dict) -> None:
    built = sentinel2_l2a()
    differing = sorted(k for k in set(built) | set(cdse) if built.get(k) != cdse.get(k))
    assert differing == []


def test_band_facts_match_field_notes() -> None:
    bands = {b["name"]: b for b in sentinel2_l2a()["summaries"]["eo:bands"]}
    assert [n for n in band_names() if bands[n].get("gsd") == 10] == ["B02", "B03", "B04", "B08"]
    assert {n for n in band_names() if bands[n].get("gsd") == 20} == {
        "B05",
        "B06",
        "B07",
        "B8A",
        "B11",
        "B12",
        "SCL",
    }
    assert bands["B04"]["common_name"] == "red" and bands["B08"]["common_name"] == "nir"
    assert sentinel2_l2a()["cube:dimensions"]["bands"]["values"] == band_names()


def test_returns_an_independent_copy() -> None:
    first = sentinel2_l2a()
    first["summaries"]["eo:bands"].clear()
    assert len(sentinel2_l2a()["summaries"]["eo:bands"]) == 19
