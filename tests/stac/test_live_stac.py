"""Live searches and reads against Earth Search v1 and Planetary Computer (opt-in: network)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from hybrid.aoi import geometry_bbox
from hybrid.backends.local.loader import LoadRequest, load_s2
from hybrid.stac.query import SceneQuery
from hybrid.stac.selection import acquisition_date, mgrs_tile
from hybrid.stac.source import search

pytestmark = pytest.mark.network

START, END = "2023-07-01", "2023-08-01"


@pytest.mark.parametrize("provider", ["earth-search", "planetary-computer"])
def test_provider_search_honours_the_cloud_limit(provider, seed_aoi):
    query = SceneQuery(geometry_bbox(seed_aoi), START, END, 20.0)
    items = search(provider, query)
    assert items, f"{provider}: no scene for the seed AOI in {START}..{END}"
    assert all(float(i.properties["eo:cloud_cover"]) <= 20.0 for i in items)
    assert {mgrs_tile(i) for i in items} <= {"31TGL", "32TLR"}


def test_same_scene_in_both_layouts_gives_identical_values(seed_aoi):
    """One real granule through Earth Search (common names, raster:bands) and Planetary
    Computer (B04.., baseline property, signed blob hrefs): identical harmonised DN."""
    bbox = geometry_bbox(seed_aoi)
    query = SceneQuery(bbox, START, END, 20.0)
    es = {(acquisition_date(i), mgrs_tile(i)): i for i in search("earth-search", query)}
    pc = {(acquisition_date(i), mgrs_tile(i)): i for i in search("planetary-computer", query)}
    common = sorted(k for k in es.keys() & pc.keys() if k[1] == "32TLR")
    assert common, "no granule found in both catalogs"
    day = common[0][0].isoformat()
    next_day = (common[0][0] + dt.timedelta(days=1)).isoformat()
    request = LoadRequest(bbox, day, next_day, ("B04", "B08", "SCL"), 20.0)
    a = load_s2("earth-search", request).cube.compute()
    b = load_s2("planetary-computer", request).cube.compute()
    assert a.shape == b.shape
    np.testing.assert_array_equal(np.isnan(a.values), np.isnan(b.values))
    np.testing.assert_array_equal(a.values, b.values)
