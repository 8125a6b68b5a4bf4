"""Copernicus's own load_stac tests replayed against hybrid's local engine.

openeo-geopyspark-driver (9baf2e10) ``tests/test_api_result.py`` ``TestLoadStac`` and
``tests/test_load_stac.py`` write down what a load gives for a layout; their data
(``tests/data/stac/...``: 10 x 10 px in EPSG:4326 over 5-6 E, 50-51 N, bands of constant
value 1, 2, 3...) is rebuilt here in code as real COGs and STAC JSON on disk, and the
in-process engine's netCDF is compared with what the driver's test asserts.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

BBOX = [5.0, 50.0, 6.0, 51.0]
RASTER = "image/tiff; application=geotiff"


def _cog(path: Path, values: list[int], *, gap: bool = False) -> Path:
    """A 10 x 10 px COG over ``BBOX``, band i constant ``values[i]``; with ``gap`` its
    first row 0 (GeoTrellis's default nodata of uint8)."""
    import rasterio
    from rasterio.transform import from_bounds

    profile = {"driver": "COG", "height": 10, "width": 10, "count": len(values)}
    profile.update(dtype="uint8", crs="EPSG:4326", transform=from_bounds(*BBOX, 10, 10))
    with rasterio.open(path, "w", **profile) as ds:
        for index, value in enumerate(values, 1):
            band = np.full((10, 10), value, "uint8")
            band[0, :] = 0 if gap else value
            ds.write(band, index)
    return path


def _asset(href: Path | str, names: list[str] | None, key: str = "eo:bands") -> dict:
    asset: dict[str, Any] = {"href": str(href), "type": RASTER, "roles": ["data"]}
    if names is not None:
        asset[key] = [{"name": name} for name in names]
    return asset


def _item(item_id: str, properties: dict, assets: dict) -> dict:
    west, south, east, north = BBOX
    ring = [[west, south], [west, north], [east, north], [east, south], [west, south]]
    properties = {"proj:epsg": 4326, "proj:bbox": BBOX, "proj:shape": [10, 10], **properties}
    return {
        "stac_version": "1.0.0", "type": "Feature", "id": item_id, "bbox": BBOX,
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": properties, "assets": assets,
        "links": [{"rel": "collection", "href": "collection.json"}],
    }  # fmt: skip


def _collection(root: Path, items: list[dict], summaries: dict | None = None) -> Path:
    """A static Collection of ``items`` (one JSON file each) in ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    for item in items:
        (root / f"{item['id']}.json").write_text(json.dumps(item))
    collection = {
        "type": "Collection", "id": "collection", "stac_version": "1.0.0",
        "description": "generated", "license": "proprietary",
        "extent": {"spatial": {"bbox": [[-180, -90, 180, 90]]},
                   "temporal": {"interval": [["1982-08-22T00:00:00Z", None]]}},
        "links": [{"rel": "item", "href": f"{item['id']}.json"} for item in items],
        "summaries": summaries or {},
    }  # fmt: skip
    (root / "collection.json").write_text(json.dumps(collection))
    return root / "collection.json"


def _load(url: Path | str, out: Path, **arguments: Any) -> xr.Dataset:
    """The netCDF the in-process engine writes for load_stac of ``url``, opened."""
    from hybrid.backends.local import LocalBackend, LocalSettings

    graph = {
        "load": {"process_id": "load_stac", "arguments": {"url": str(url), **arguments}},
        "save": {"process_id": "save_result",
                 "arguments": {"data": {"from_node": "load"}, "format": "netCDF"},
                 "result": True},
    }  # fmt: skip
    (path,) = LocalBackend(LocalSettings()).execute(graph, out_dir=out).files
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load()


def _days(ds: xr.Dataset) -> list[str]:
    return [str(t)[:10] for t in ds.t.values]


def _bands(ds: xr.Dataset) -> dict[str, list[float]]:
    """Each band's distinct values, in the file's band order."""
    return {name: np.unique(ds[name].values).tolist() for name in ds.data_vars if name != "crs"}


@pytest.fixture(scope="module")
def cogs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The driver's ``binary/load_stac/collection01`` assets: 3 bands (1, 2, 3) and 2
    bands (4, 5), and a one-band file of 4."""
    root = tmp_path_factory.mktemp("cogs")
    _cog(root / "asset01.tif", [1, 2, 3])
    _cog(root / "asset02.tif", [4, 5])
    _cog(root / "band4.tif", [4])
    return root


THREE = ["band1", "band2", "band3"]


@pytest.mark.parametrize(
    ("start", "end", "days", "key"),
    [
        ("2021-02-03", "2021-02-03", ["2021-02-03"], "eo:bands"),  # "backwards compatibility"
        ("2021-02-03", "2021-02-04", ["2021-02-03"], "bands"),
        ("2021-02-03", "2021-02-05", ["2021-02-03", "2021-02-04"], "eo:bands"),
        ("2021-02-03T00:00:00Z", "2021-02-04T00:00:00Z", ["2021-02-03"], "bands"),
        ("2021-02-03T00:00:00Z", "2021-02-04T00:00:01Z", ["2021-02-03", "2021-02-04"], "eo:bands"),
    ],
)
def test_upper_temporal_bound_is_exclusive(
    cogs: Path, tmp_path: Path, start: str, end: str, days: list[str], key: str
) -> None:
    """TestLoadStac.test_load_stac_from_stac_collection_upper_temporal_bound
    (test_api_result.py L3595-3679, data issue609-collection-temporal-bound-exclusive-*):
    the end is exclusive, but a start equal to the end keeps that day, with a warning
    naming load_stac (it named load_collection)."""
    import warnings

    from hybrid.errors import HybridWarning

    asset = {"asset1": _asset(cogs / "asset01.tif", THREE, key)}
    items = [
        _item("item01", {"datetime": "2021-02-03T00:00:00Z"}, asset),
        _item("item02", {"datetime": "2021-02-04T00:00:00Z"}, asset),
    ]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", HybridWarning)
        got = _load(_collection(tmp_path / "stac", items), tmp_path, temporal_extent=[start, end])
    same_day = [str(w.message) for w in caught if "same start and end" in str(w.message)]
    assert [m.split(":")[0] for m in same_day] == (["load_stac"] if start == end else [])
    assert _days(got) == days
    assert _bands(got) == {"band1": [1.0], "band2": [2.0], "band3": [3.0]}
    assert got.sizes == {"t": len(days), "y": 10, "x": 10}
    assert float(got.x.min()) == pytest.approx(5.05) and float(got.y.min()) == pytest.approx(50.05)


def test_start_datetime_in_zulu_time_labels_its_day(cogs: Path, tmp_path: Path) -> None:
    """test_load_stac_from_stac_collection_item_start_datetime_zulu (L3821-3874, data
    issue646_start_datetime_zulu-*): an item with a null datetime and a ``Z``
    start_datetime is loaded at that day's midnight UTC."""
    times = {"datetime": None, "start_datetime": "2022-03-04T00:00:00Z"}
    times["end_datetime"] = "2022-03-05T00:00:00Z"
    item = _item("item01", times, {"asset1": _asset(cogs / "asset01.tif", THREE)})
    got = _load(_collection(tmp_path / "stac", [item]), tmp_path)
    assert [str(t)[:13] for t in got.t.values] == ["2022-03-04T00"]
    assert list(_bands(got)) == THREE


@pytest.mark.parametrize("document", ["item03.json", "collection.json"])
def test_bands_follow_the_collection_summaries_order(
    cogs: Path, tmp_path: Path, document: str
) -> None:
    """test_load_stac_from_stac_item_respects_collection_bands_order (L3538-3593, data
    item03-eo-bands.json, collection01-eo-bands.json): the bands of two assets are
    ordered as the collection's ``summaries`` ``eo:bands`` list them, from the item's URL
    (through its ``collection`` link) and from the collection's."""
    assets = {"asset1": _asset(cogs / "asset01.tif", THREE)}
    assets["asset2"] = _asset(cogs / "asset02.tif", ["band4", "band5"])
    order = ["band5", "band1", "band4", "band2", "band3"]
    summaries = {"eo:bands": [{"name": name} for name in order]}
    root = _collection(
        tmp_path / "stac", [_item("item03", {"datetime": "2021-02-03"}, assets)], summaries
    ).parent
    got = _load(root / document, tmp_path)
    assert _days(got) == ["2021-02-03"]
    assert _bands(got) == {name: [float(name[-1])] for name in order}


def test_an_asset_without_band_metadata_is_named_by_its_key(cogs: Path, tmp_path: Path) -> None:
    """test_load_stac_loads_assets_without_eo_bands (L4476-4557, data
    issue762-api-no-eo-bands): an asset without ``eo:bands`` is one band named after its
    asset key, after the bands of the asset that has them."""
    assets = {
        "asset1": _asset(cogs / "asset01.tif", THREE),
        "band4": _asset(cogs / "band4.tif", None),
    }
    item = _item("item01", {"datetime": "2021-02-03T00:00:00Z"}, assets)
    got = _load(
        _collection(tmp_path / "stac", [item]),
        tmp_path,
        temporal_extent=["2021-02-01", "2021-03-01"],
    )
    assert _days(got) == ["2021-02-03"]
    assert _bands(got) == {"band1": [1.0], "band2": [2.0], "band3": [3.0], "band4": [4.0]}


@pytest.mark.parametrize("alternate", ["local", "s3", "local-file-url"])
def test_an_alternate_local_file_is_read_instead_of_the_href(
    cogs: Path, tmp_path: Path, alternate: str
) -> None:
    """test_load_stac_issue830_alternate_url (L3681-3750): an asset whose href cannot be
    read but whose ``alternate`` ``local`` or ``s3`` href is a file on this machine is
    read from that file (load_stac.py ``get_best_url`` L2417-2441); another alternate
    key, or one naming no file here, is passed over."""
    path = cogs / "band4.tif"
    key, href = (
        ("local", path.as_uri()) if alternate == "local-file-url" else (alternate, str(path))
    )
    asset = _asset("https://invalid.test/nope.tiff", ["B02"])
    asset["alternate"] = {"https": {"href": "https://invalid.test/other.tiff"},
                          "s3" if key == "local" else "local": {"href": str(tmp_path / "gone.tif")},
                          key: {"href": href}}  # fmt: skip
    item = _item("item-123", {"datetime": "2024-05-01T00:00:00Z"}, {"asset-1": asset})
    got = _load(_collection(tmp_path / "stac", [item]), tmp_path)
    assert _days(got) == ["2024-05-01"]
    assert _bands(got) == {"B02": [4.0]}
    assert got.sizes == {"t": 1, "y": 10, "x": 10}


def _flagged_load(url: Path, bands: list[str], bbox: dict, flags: dict | None) -> dict:
    arguments: dict[str, Any] = {"url": str(url), "bands": bands, "spatial_extent": bbox}
    if flags is not None:
        arguments["featureflags"] = flags
    return {"process_id": "load_stac", "arguments": arguments}


@pytest.mark.parametrize("flags", [None, {"allow_empty_cube": False}, {"allow_empty_cube": True}])
def test_allow_empty_cube_gives_the_requested_bands_without_dates(
    cogs: Path, tmp_path: Path, flags: dict | None
) -> None:
    """test_empty_cube_from_non_intersecting_item (test_load_stac.py L561-601) and
    TestLoadStac.test_empty_data_cube (test_api_result.py L4645-4673, data
    issue1049-api-empty-data-cube): a load_stac finding no item is NoDataAvailable
    (load_stac.py L268-269) unless its ``featureflags`` say ``allow_empty_cube``
    (L212): then a cube of the requested bands without dates (``empty_pyramid_seq``,
    L842-846) on the UTM grid of the extent at 10 m (L623-660), which merge_cubes joins
    as all-nodata bands."""
    from hybrid.backends.local import LocalBackend, LocalSettings
    from hybrid.errors import NoDataAvailable

    names = ["flat1", "flat2", "flat3"]
    asset = {"asset1": _asset(cogs / "asset01.tif", names)}
    items = [_item(f"i{d}", {"datetime": f"2025-01-{d}T00:00:00Z"}, asset) for d in ("05", "15")]
    url = _collection(tmp_path / "stac", items)
    inside = {"west": 5.2, "south": 50.2, "east": 5.6, "north": 50.6}
    outside = {"west": 0.0, "south": 50.2, "east": 0.4, "north": 50.6}
    graph = {
        "full": _flagged_load(url, ["flat1", "flat2"], inside, None),
        "empty": _flagged_load(url, ["B02", "B03"], outside, flags),
        "merge": {"process_id": "merge_cubes",
                  "arguments": {"cube1": {"from_node": "full"}, "cube2": {"from_node": "empty"}}},
        "save": {"process_id": "save_result",
                 "arguments": {"data": {"from_node": "merge"}, "format": "netCDF"}, "result": True},
    }  # fmt: skip
    engine = LocalBackend(LocalSettings())
    if not (flags or {}).get("allow_empty_cube"):
        with pytest.raises(NoDataAvailable, match=r"no item of .* intersects"):
            engine.execute(graph, out_dir=tmp_path / "merged")
        return
    (merged,) = engine.execute(graph, out_dir=tmp_path / "merged").files
    with xr.open_dataset(merged, engine="h5netcdf") as ds:
        got = ds.load()
    assert _days(got) == ["2025-01-05", "2025-01-15"]
    assert list(_bands(got)) == ["flat1", "flat2", "B02", "B03"]
    assert _bands(got)["flat1"] == [1.0] and _bands(got)["flat2"] == [2.0]
    assert bool(got["B02"].isnull().all()) and bool(got["B03"].isnull().all())

    graph["save"]["arguments"]["data"] = {"from_node": "empty"}
    (alone,) = engine.execute(graph, out_dir=tmp_path / "alone").files
    with xr.open_dataset(alone, engine="h5netcdf") as ds:
        assert ds.sizes["t"] == 0 and [v for v in ds.data_vars if v != "crs"] == ["B02", "B03"]
        assert ds.crs.attrs["crs_wkt"].count("UTM zone 31N") == 1
        assert float(ds.x[1] - ds.x[0]) == 10.0


def test_products_of_a_day_merge_in_the_first_bands_asset_path_order(
    cogs: Path, tmp_path: Path
) -> None:
    """Two items of one day over the same pixels: merged per pixel, the first valid value
    winning, in the ascending path of the asset of the load's first band, for every band
    (geotrellis-extensions FileLayerProvider.scala ``rasterRegionsToTiles`` L859-867
    ``sortableSourceName``, L127 a product's name is its first band's source), not in the
    order the collection lists the items (it was)."""
    import shutil

    def copy(name: str, source: str) -> Path:
        return Path(shutil.copy(cogs / source, tmp_path / name))

    first = _cog(tmp_path / "p1_b.tif", [7], gap=True)
    y_assets = {"b": _asset(_cog(tmp_path / "p2_b.tif", [2]), ["b"]),
                "c": _asset(copy("q0_c.tif", "band4.tif"), ["c"])}  # fmt: skip
    x_assets = {"b": _asset(first, ["b"]), "c": _asset(_cog(tmp_path / "q9_c.tif", [9]), ["c"])}
    day = {"datetime": "2021-02-03T10:00:00Z"}
    items = [_item("y", day, y_assets), _item("x", day, x_assets)]  # y listed first
    got = _load(_collection(tmp_path / "stac", items), tmp_path)
    assert _days(got) == ["2021-02-03"]
    assert np.unique(got["b"].values[0, 1:]).tolist() == [7.0]  # x: p1_b.tif < p2_b.tif
    assert np.unique(got["b"].values[0, 0]).tolist() == [2.0]  # x's gap filled from y
    assert _bands(got)["c"] == [9.0]  # x's c too, though q0_c.tif < q9_c.tif


# ------------------------------------------------------------- through a STAC API


@pytest.fixture(scope="module")
def stac_api(cogs: Path) -> Iterator[str]:
    """A real STAC API (pgstac) holding collection ``c``: items of 2021-02-03 and
    2021-02-04 (3 bands), and one of 2024-06-01 with an asset without href."""
    from tests.pgstac import load_into_pgstac, missing_reason, running_pgstac

    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    good = {"asset1": _asset((cogs / "asset01.tif").as_uri(), THREE)}
    items = [_item(f"item{d}", {"datetime": f"2021-02-0{d}T00:00:00Z"}, good) for d in (3, 4)]
    bad = {**good, "bad-asset": {"type": RASTER, "roles": ["data"]}}
    items.append(_item("item-with-bad-asset", {"datetime": "2024-06-01T00:00:00Z"}, bad))
    for item in items:
        item.update(collection="c", links=[])
    collection = json.loads(_collection(cogs / "api", []).read_text())
    collection.update(id="c", links=[])
    with running_pgstac() as server:
        load_into_pgstac(server, collection, items)
        yield f"{server.url}/collections/c"


@pytest.mark.pgstac
@pytest.mark.parametrize(
    ("start", "end", "days"),
    [
        ("2021-02-03", "2021-02-03", ["2021-02-03"]),
        ("2021-02-03", "2021-02-04", ["2021-02-03"]),
        ("2021-02-03", "2021-02-05", ["2021-02-03", "2021-02-04"]),
        ("2021-02-03T00:00:00Z", "2021-02-04T00:00:00Z", ["2021-02-03"]),
        ("2021-02-03T00:00:00Z", "2021-02-04T00:00:01Z", ["2021-02-03", "2021-02-04"]),
    ],
)
def test_api_upper_temporal_bound_is_exclusive(
    stac_api: str, tmp_path: Path, start: str, end: str, days: list[str]
) -> None:
    """test_load_stac_from_stac_api_upper_temporal_bound (test_api_result.py L3752-3826,
    data issue609-api-temporal-bound-exclusive-*): as from a static collection."""
    got = _load(stac_api, tmp_path, temporal_extent=[start, end])
    assert _days(got) == days
    assert _bands(got) == {"band1": [1.0], "band2": [2.0], "band3": [3.0]}


@pytest.mark.pgstac
def test_api_asset_without_href_is_dropped_not_fatal(stac_api: str, tmp_path: Path) -> None:
    """test_from_stac_api_asset_missing_href_is_skipped (test_load_stac.py L3124-3209) and
    test_pystac_item_from_dict_lenient (L4788-4810): a searched item's asset without
    ``href`` is dropped with a warning (load_stac.py L1619, L1692-1706), the item's other
    assets load; it was a 400 ``KeyError: 'href'``."""
    from hybrid.errors import HybridWarning

    with pytest.warns(HybridWarning, match="'item-with-bad-asset': asset.s. bad-asset without"):
        got = _load(stac_api, tmp_path, temporal_extent=["2024-06-01", "2024-06-02"])
    assert _days(got) == ["2024-06-01"]
    assert _bands(got) == {"band1": [1.0], "band2": [2.0], "band3": [3.0]}
