"""Within one run the loader remembers each search and load
(:mod:`hybrid.backends.local.shared_loads`); the key holds every property condition, so
two load_collection calls that differ only in their tile filter (``grid:code``) never
share a cached item list or a kept cube. (``hybrid cache`` itself keys nothing: it copies
every scene of the area and season with their properties, and a later run's conditions
select among them.)"""

from __future__ import annotations

from pathlib import Path

from hybrid.backends.local.loader import LoadRequest, load_s2
from hybrid.backends.local.shared_loads import shared_loads
from hybrid.grid import BBox
from hybrid.stac.query import Condition

BBOX = BBox(6.664, 45.24, 6.665, 45.2408)


def _tile_load(sample_catalog: Path, tile: str) -> set[str]:
    request = LoadRequest(
        bbox=BBOX, start="2023-06-01", end="2023-07-01", bands=("B04",),
        max_cloud_cover=None, conditions=(Condition("grid:code", "=", tile),),
    )  # fmt: skip
    loaded = load_s2(sample_catalog, request)
    return {item.id for day in loaded.scenes for item in day.items}


def test_loads_with_different_tile_filters_share_no_item_list(sample_catalog: Path) -> None:
    with shared_loads(("B04",)) as shared:
        tlr = _tile_load(sample_catalog, "MGRS-32TLR")
        tgl = _tile_load(sample_catalog, "MGRS-31TGL")
        again = _tile_load(sample_catalog, "MGRS-32TLR")
        searches = len(shared._searches)
    assert tlr and tgl and not tlr & tgl
    assert all("_32TLR_" in i for i in tlr) and all("_31TGL_" in i for i in tgl)
    assert again == tlr and searches == 2
