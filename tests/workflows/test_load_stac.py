"""load_stac as the openeo client documents it (
``Connection.load_stac``, ``Connection.load_stac_from_job``) against ``hybrid serve``:
one job's results chained into a second graph, and a static STAC collection on disk.

Expected values come from the first job's downloaded files (numpy) and from the COGs the
test writes itself; the rules (dates, bands, grid, nodata) are those of
openeo-geopyspark-driver ``openeogeotrellis/load_stac.py`` (see
``hybrid.backends.local.stac_load``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from tests.workflows.raw import read_tiff

#: a few pixels of the seed field, two dates of the sample (06-12 and 06-17)
BBOX = {"west": 6.6640, "south": 45.2400, "east": 6.6650, "north": 45.2408}
DATES = ["2023-06-10", "2023-06-20"]


def _ndvi_job(connection: Any, out_format: str) -> Any:
    cube = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=BBOX, temporal_extent=DATES, bands=["B04", "B08"]
    )
    # a named band: without a band dimension Copernicus's results list no bands and its
    # load_stac names each file's band after the file (load_stac.py L355-357)
    ndvi = cube.ndvi(target_band="NDVI").filter_bands(["NDVI"])
    job = ndvi.save_result(format=out_format).create_job(title=f"ndvi {out_format}")
    job.start_and_wait(max_poll_interval=1)
    return job


@pytest.fixture(scope="module")
def gtiff_job(connection: Any) -> Any:
    return _ndvi_job(connection, "GTiff")


@pytest.fixture(scope="module")
def netcdf_job(connection: Any) -> Any:
    return _ndvi_job(connection, "netCDF")


def _open(path: Path) -> xr.Dataset:
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load()


def test_load_stac_from_job_chains_gtiff_results_into_a_second_graph(
    connection: Any, gtiff_job: Any, tmp_path: Path
) -> None:
    """``load_stac_from_job`` (the canonical link): one label per GeoTIFF date, the file's
    values on its own grid; a second graph computes on them."""
    files = sorted(gtiff_job.get_results().download_files(tmp_path / "first"))
    tifs = [p for p in files if p.suffix == ".tif"]
    assert [p.name for p in tifs] == ["openEO_2023-06-12Z.tif", "openEO_2023-06-17Z.tif"]
    first = np.stack([read_tiff(p)[0] for p in tifs])

    cube = connection.load_stac_from_job(gtiff_job)
    doubled = cube.apply(lambda x: x * 2)
    doubled.download(tmp_path / "second.nc", format="netCDF")
    second = _open(tmp_path / "second.nc")
    assert [str(t)[:10] for t in second.t.values] == ["2023-06-12", "2023-06-17"]
    assert list(second.data_vars) == ["crs", "NDVI"]
    got = second["NDVI"].values
    assert got.shape == first.shape
    np.testing.assert_array_equal(np.isnan(got), np.isnan(first))
    np.testing.assert_allclose(got, first * 2, rtol=1e-6, equal_nan=True)
    import rasterio

    with rasterio.open(tifs[0]) as ds:  # the same grid
        x0 = ds.transform.c + ds.transform.a / 2
    assert second.x.values[0] == pytest.approx(x0)


def test_results_url_with_extents_and_a_reduction(
    connection: Any, gtiff_job: Any, tmp_path: Path
) -> None:
    """``load_stac(job.get_results_metadata_url(full=True))`` with a temporal extent that
    keeps one date, and a max over time in the second graph."""
    files = gtiff_job.get_results().download_files(tmp_path / "first")
    later = read_tiff(next(p for p in files if p.name == "openEO_2023-06-17Z.tif"))[0]
    cube = connection.load_stac(
        gtiff_job.get_results_metadata_url(full=True), temporal_extent=["2023-06-15", "2023-06-30"]
    )
    cube.reduce_dimension("t", reducer="max").download(tmp_path / "max.tif", format="GTiff")
    np.testing.assert_allclose(read_tiff(tmp_path / "max.tif")[0], later, equal_nan=True)


def test_own_results_url_by_localhost_in_a_sync_request_and_a_batch_job(
    connection: Any, gtiff_job: Any, tmp_path: Path
) -> None:
    """The results URL through ``localhost`` while the client reached ``127.0.0.1``: the
    same server (:mod:`hybrid.server.own_urls`); on another port it is another server's,
    refused offline with one 400."""
    from urllib.parse import urlsplit

    from openeo.rest import OpenEoApiError

    url = gtiff_job.get_results_metadata_url(full=True)
    assert urlsplit(url).hostname == "127.0.0.1"
    files = gtiff_job.get_results().download_files(tmp_path / "first")
    later = read_tiff(next(p for p in files if p.name == "openEO_2023-06-17Z.tif"))[0]
    cube = connection.datacube_from_process(
        "load_stac", url=url.replace("127.0.0.1", "localhost"),
        temporal_extent=["2023-06-15", "2023-06-30"],
    ).reduce_dimension("t", reducer="max")  # fmt: skip
    cube.download(tmp_path / "sync.tif", format="GTiff")
    np.testing.assert_allclose(read_tiff(tmp_path / "sync.tif")[0], later, equal_nan=True)
    job = cube.save_result(format="GTiff").create_job(title="from localhost")
    job.start_and_wait(max_poll_interval=1)
    (tif,) = [p for p in job.get_results().download_files(tmp_path / "b") if p.suffix == ".tif"]
    np.testing.assert_allclose(read_tiff(tif)[0], later, equal_nan=True)

    port = urlsplit(url).port
    other = connection.datacube_from_process("load_stac", url=url.replace(f":{port}/", ":1/"))
    with pytest.raises(OpenEoApiError) as caught:
        other.download(tmp_path / "c.nc", format="netCDF")
    assert caught.value.http_status_code == 400
    assert "its host cannot be reached" in caught.value.message  # nothing on port 1


def test_netcdf_results_load_their_first_date_as_copernicus_reads_them(
    connection: Any, netcdf_job: Any, tmp_path: Path
) -> None:
    """A netCDF result is one item dated with the job's start (no date in its name);
    Copernicus reads each band as GDAL's ``NETCDF:file:band`` band 1, its first date
    (openeo-geotrellis-extensions FileLayerProvider.scala L528-543)."""
    (path,) = [
        p for p in netcdf_job.get_results().download_files(tmp_path / "first") if p.suffix == ".nc"
    ]
    first = _open(path)
    assert first.sizes["t"] == 2
    (band,) = [v for v in first.data_vars if v != "crs"]
    cube = connection.load_stac_from_job(netcdf_job)
    cube.download(tmp_path / "second.nc", format="netCDF")
    second = _open(tmp_path / "second.nc")
    assert [str(t)[:10] for t in second.t.values] == ["2023-06-10"]
    np.testing.assert_allclose(
        second[band].values[0], first[band].values[0], rtol=1e-6, equal_nan=True
    )


def test_signed_item_link_loads_one_result_file(
    connection: Any, gtiff_job: Any, tmp_path: Path
) -> None:
    """The signed ``rel: item`` link of one result file is a STAC Item load_stac reads."""
    links = gtiff_job.get_results().get_metadata()["links"]
    item = next(lk["href"] for lk in links if lk["rel"] == "item" and "06-17" in lk["href"])
    files = gtiff_job.get_results().download_files(tmp_path / "first")
    expected = read_tiff(next(p for p in files if p.name == "openEO_2023-06-17Z.tif"))[0]
    connection.load_stac(item).download(tmp_path / "one.nc", format="netCDF")
    got = _open(tmp_path / "one.nc")
    assert [str(t)[:10] for t in got.t.values] == ["2023-06-17"]
    (band,) = [v for v in got.data_vars if v != "crs"]
    np.testing.assert_allclose(got[band].values[0], expected, equal_nan=True)


# ------------------------------------------------------------- a static collection

#: the COGs' grid: 30 x 20 px of 10 m in UTM 32N, at the seed field
_X0, _Y0, _W, _H = 330000.0, 5012000.0, 30, 20
_DAYS = ["2023-06-01T10:30:00Z", "2023-06-04T10:40:00Z", "2023-06-06T10:30:00Z"]


def _values(day: int) -> np.ndarray:
    data = (np.arange(2 * _H * _W).reshape(2, _H, _W) + 1000 * day).astype("int16")
    data[:, 0, 0] = -1  # nodata
    return data


@pytest.fixture(scope="module")
def collection(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A static STAC Collection of three items, each one 2-band int16 COG."""
    import pystac
    import rasterio
    from rasterio.transform import from_origin

    root = tmp_path_factory.mktemp("static-stac")
    extent = pystac.Extent(
        pystac.SpatialExtent([[6.833, 45.239, 6.838, 45.242]]),
        pystac.TemporalExtent([[dt.datetime(2023, 6, 1, tzinfo=dt.UTC), None]]),
    )
    stac = pystac.Collection(id="local", description="test COGs", extent=extent)
    for day, when in enumerate(_DAYS):
        path = root / f"scene{day}.tif"
        profile = {"driver": "COG", "height": _H, "width": _W, "count": 2, "dtype": "int16"}
        profile.update(crs="EPSG:32632", transform=from_origin(_X0, _Y0, 10, 10), nodata=-1)
        with rasterio.open(path, "w", **profile) as ds:
            ds.write(_values(day))
        item = pystac.Item(
            id=f"scene{day}",
            geometry=None,
            bbox=[6.833, 45.239, 6.838, 45.242],
            datetime=dt.datetime.fromisoformat(when),
            properties={},
        )
        item.add_asset(
            "image",
            pystac.Asset(
                href=str(path),
                media_type=pystac.MediaType.COG,
                roles=["data"],
                extra_fields={
                    "eo:bands": [{"name": "red"}, {"name": "nir"}],
                    "proj:epsg": 32632,
                    "proj:bbox": [_X0, _Y0 - 10 * _H, _X0 + 10 * _W, _Y0],
                    "proj:shape": [_H, _W],
                },
            ),
        )
        stac.add_item(item)
    stac.normalize_hrefs(str(root))
    stac.save(pystac.CatalogType.SELF_CONTAINED)
    return root / "collection.json"


def test_static_collection_with_temporal_extent_and_bands(
    connection: Any, collection: Path, tmp_path: Path
) -> None:
    """Items filtered by [start, end), labels at midnight of each item's date, the
    requested band in order, nodata as NaN, the files' own grid."""
    cube = connection.load_stac(
        collection.as_uri(), temporal_extent=["2023-06-01", "2023-06-06"], bands=["nir"]
    )
    cube.download(tmp_path / "out.nc", format="netCDF")
    got = _open(tmp_path / "out.nc")
    assert [str(t)[:19] for t in got.t.values] == ["2023-06-01T00:00:00", "2023-06-04T00:00:00"]
    assert list(got.data_vars) == ["crs", "nir"]
    expected = np.stack([_values(d)[1].astype(np.float32) for d in (0, 1)])
    expected[:, 0, 0] = np.nan
    np.testing.assert_array_equal(got["nir"].values, expected)
    assert got.x.values[0] == _X0 + 5 and got.y.values[0] == _Y0 - 5


def test_static_collection_spatial_extent_crops_to_the_snapped_grid(
    connection: Any, collection: Path, tmp_path: Path
) -> None:
    """A spatial_extent in the files' CRS: the grid snapped outward to 10 m, the bands in
    the collection's order when none are asked for."""
    bbox = {"west": _X0 + 52, "south": _Y0 - 95, "east": _X0 + 118, "north": _Y0 - 21, "crs": 32632}
    cube = connection.load_stac(str(collection), spatial_extent=bbox)
    cube.download(tmp_path / "out.nc", format="netCDF")
    got = _open(tmp_path / "out.nc")
    assert list(got.data_vars) == ["crs", "red", "nir"]
    assert got.sizes == {"t": 3, "y": 8, "x": 7}
    np.testing.assert_array_equal(got["red"].values[2], _values(2)[0, 2:10, 5:12])


def test_static_collection_refuses_property_filters(
    connection: Any, collection: Path, tmp_path: Path
) -> None:
    """A static catalog cannot filter on properties (load_stac.py L1058-1061)."""
    from openeo.rest import OpenEoApiError

    cube = connection.load_stac(
        str(collection), properties={"platform": lambda p: p == "sentinel-2a"}
    )
    with pytest.raises(OpenEoApiError) as caught:
        cube.download(tmp_path / "out.nc", format="netCDF")
    assert caught.value.http_status_code == 400
    assert caught.value.code == "ProcessParameterUnsupported"


def test_static_collection_over_http_loads_as_on_disk(
    connection: Any, collection: Path, tmp_path: Path
) -> None:
    """The same collection served over HTTP on 127.0.0.1, its assets relative to it (so
    read over HTTP too), gives the cube it gives from disk; an item it links that is
    gone is one 400 naming the collection."""

    from openeo.rest import OpenEoApiError

    from tests.stac_fixtures import copy_with_hrefs, serving_directory

    served = tmp_path / "served"
    copy_with_hrefs(
        collection.parent, served, "scene*/scene*.json", lambda _, href: f"../{Path(href).name}"
    )
    args = {"temporal_extent": ["2023-06-01", "2023-06-06"], "bands": ["nir"]}
    connection.load_stac(collection.as_uri(), **args).download(tmp_path / "disk.nc", "netCDF")
    with serving_directory(served) as base:
        cube = connection.datacube_from_process("load_stac", url=f"{base}/collection.json", **args)
        cube.download(tmp_path / "http.nc", format="netCDF")
        (served / "scene1" / "scene1.json").unlink()  # a link to an item gone: one 400
        with pytest.raises(OpenEoApiError) as caught:
            cube.download(tmp_path / "broken.nc", format="netCDF")
    assert caught.value.http_status_code == 400
    assert caught.value.message.startswith(f"load_stac: cannot read {base}/collection.json")
    assert "HTTP 404" in caught.value.message
    want, got = _open(tmp_path / "disk.nc"), _open(tmp_path / "http.nc")
    assert got["nir"].identical(want["nir"]) and list(got.t.values) == list(want.t.values)


# ------------------------------------------------------------------- errors


def test_unknown_job_and_network_urls_are_clear_4xx_errors(
    connection: Any, serve: Any, tmp_path: Path
) -> None:
    from openeo.rest import OpenEoApiError

    from tests.stac_fixtures import serving_status

    unknown = f"{serve.url}/jobs/j-{'0' * 32}/results"
    with pytest.raises(OpenEoApiError) as caught:
        connection.load_stac(unknown).download(tmp_path / "a.nc", format="netCDF")
    assert (caught.value.http_status_code, caught.value.code) == (404, "JobNotFound")
    assert "does not exist" in caught.value.message

    # (built without Connection.load_stac, which would fetch the URL for its metadata)
    remote = "https://earth-search.aws.element84.com/v1/collections/sentinel-2-l2a"
    cube = connection.datacube_from_process("load_stac", url=remote)
    with pytest.raises(OpenEoApiError) as caught:
        cube.download(tmp_path / "b.nc", format="netCDF")
    assert caught.value.http_status_code == 400
    assert f"cannot read {remote}: its host cannot be reached" in caught.value.message

    with serving_status(404) as url:
        cube = connection.datacube_from_process("load_stac", url=f"{url}/collection.json")
        with pytest.raises(OpenEoApiError) as caught:
            cube.download(tmp_path / "c.nc", format="netCDF")
    assert caught.value.http_status_code == 400
    assert caught.value.message.startswith(
        f"load_stac: cannot read {url}/collection.json: HTTP 404"
    )


def test_query_stac_lists_the_items_load_stac_reads(
    connection: Any, collection: Path, tmp_path: Path
) -> None:
    """query_stac of the collection on disk and over HTTP (a synchronous request, the
    client's ``execute``): the Items of the dates as a FeatureCollection, each one the
    document served; an unreachable URL is one 400."""
    import json
    import shutil

    from openeo.rest import OpenEoApiError

    from tests.stac_fixtures import serving_directory

    dates = ["2023-06-01", "2023-06-06"]
    on_disk = connection.datacube_from_process(
        "query_stac", url=str(collection), temporal_extent=dates
    ).execute()
    assert on_disk["type"] == "FeatureCollection"
    assert [f["id"] for f in on_disk["features"]] == ["scene0", "scene1"]
    served = tmp_path / "served"
    shutil.copytree(collection.parent, served)
    with serving_directory(served) as base:
        found = connection.datacube_from_process(
            "query_stac", url=f"{base}/collection.json", temporal_extent=dates
        ).execute()
        for feature in found["features"]:
            item = served / feature["id"] / f"{feature['id']}.json"
            document = json.loads(item.read_text())
            assert feature["properties"] == document["properties"]
            assert feature["assets"] == document["assets"]
        (served / "scene1" / "scene1.json").unlink()
        with pytest.raises(OpenEoApiError) as caught:
            connection.datacube_from_process("query_stac", url=f"{base}/collection.json").execute()
    assert [f["id"] for f in found["features"]] == ["scene0", "scene1"]
    assert caught.value.http_status_code == 400
    assert caught.value.message.startswith(f"query_stac: cannot read {base}/collection.json")
