"""ESA APEx algorithm catalogue: UDPs whose scripts a vegetation analyst would run, as
their benchmark scenarios call them, against ``hybrid serve``, changed only in
connection, collection, AOI, dates and the URLs of their auxiliary files (served here
from 127.0.0.1), each result checked against numpy on the bands downloaded from the
same server.

- obsgession ``udp_obsgession_w23_lai`` (``openeo_udp/udp_obsgession_w23_lai.json``, made
  by ``udp_generation.py``; ``benchmark_scenarios/udp_obsgession_w23_lai.json``);
- dhi ``RAMONA-herbaceous_rangeland_biomass-country-mosaick`` (``openeo_udp/generate.py``).

The published JSON is read from the checkout named by ``HYBRID_APEX_ALGORITHMS``
(skipped without one); the script's calls are written out here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from tests.stac_fixtures import serving_directory
from tests.workflows.raw import BBOX, DATES, pixels_inside, raw_bands
from tests.workflows.test_apex_developmentseed import CATALOG_ENV, catalogue_json, pytestmark

__all__ = ["CATALOG_ENV", "pytestmark"]

_LAI = "algorithm_catalog/obsgession/udp_obsgession_w23_lai"
#: the western half of the field: the "temperate forests" polygons of the LAI UDP
_W, _S, _E, _N = BBOX["west"], BBOX["south"], BBOX["east"], BBOX["north"]
FOREST = [[_W - 0.001, _S - 0.001], [(_W + _E) / 2, _S - 0.001],
          [(_W + _E) / 2, _N + 0.001], [_W - 0.001, _N + 0.001]]  # fmt: skip
#: the day whose SCL stands in for ESA WorldCover 2021 (its class 10, tree cover, is
#: SCL's thin cirrus, present in part of the field that day)
COVER_DAY = ["2023-06-12", "2023-06-13"]


def _nc(path: Path) -> xr.Dataset:
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load()


def _laea_extent() -> dict[str, Any]:
    """The field in EPSG:3035 metres, as the scenario gives its extent."""
    import pyproj

    to_laea = pyproj.Transformer.from_crs(4326, 3035, always_xy=True)
    xs, ys = to_laea.transform([_W, _E, _E, _W], [_S, _S, _N, _N])
    return {"crs": 3035, "west": round(min(xs), -1), "east": round(max(xs), -1),
            "south": round(min(ys), -1), "north": round(max(ys), -1)}  # fmt: skip


def _forest_parquet(path: Path) -> None:
    import geopandas as gpd
    from shapely.geometry import Polygon

    polygons = gpd.GeoDataFrame({"name": ["forest"]}, geometry=[Polygon(FOREST)], crs=4326)
    polygons.to_parquet(path)


def _lai_udp(base: str) -> dict[str, Any]:
    """The published UDP, WorldCover replaced by ``COVER_DAY``'s SCL, the forests' URL
    by this test's file."""
    udp: dict[str, Any] = json.loads(
        catalogue_json(f"{_LAI}/openeo_udp/udp_obsgession_w23_lai.json")
    )
    graph = udp["process_graph"]
    cover = graph["loadcollection3"]["arguments"]
    assert cover["id"] == "ESA_WORLDCOVER_10M_2021_V2" and cover["bands"] == ["MAP"]
    cover.update(id="SENTINEL2_L2A", bands=["SCL"], temporal_extent=COVER_DAY)
    assert graph["loadurl1"]["arguments"]["format"] == "Parquet"
    graph["loadurl1"]["arguments"]["url"] = f"{base}/forests.parquet"
    return udp


def _lai_reference(connection: Any, tmp_path: Path, extent: dict[str, Any]) -> xr.DataArray:
    """Monthly mean LAI scaled to 0-240 (uint8, NaN where no data), from the masked
    bands the server resamples (``resample_spatial`` and the dilation mask are checked
    elsewhere)."""
    load = {"spatial_extent": extent, "temporal_extent": DATES, "max_cloud_cover": 95}
    bands = connection.load_collection("SENTINEL2_L2A", bands=["B02", "B04", "B08"], **load)
    scl = connection.load_collection("SENTINEL2_L2A", bands=["SCL"], **load)
    clouds = scl.resample_spatial(10, projection=3035).process(
        "to_scl_dilation_mask", data=scl.resample_spatial(10, projection=3035),
        erosion_kernel_size=3, kernel1_size=17, kernel2_size=77,
        mask1_values=[2, 4, 5, 6, 7], mask2_values=[3, 8, 9, 10, 11],
    )  # fmt: skip
    bands.resample_spatial(20, projection=3035).mask(clouds).download(tmp_path / "masked.nc")
    masked = _nc(tmp_path / "masked.nc")
    cover = connection.load_collection(
        "SENTINEL2_L2A", bands=["SCL"], spatial_extent=extent, temporal_extent=COVER_DAY
    )
    cover.resample_spatial(20, projection=3035).download(tmp_path / "cover.nc")
    trees = _nc(tmp_path / "cover.nc")["SCL"].values[0] == 10

    # apply(linear_scale_range(0, 65534, 0, 65534)): integer bounds, a uint16 cube
    b02, b04, b08 = (np.trunc(np.clip(masked[b].values, 0, 65534)) * 0.0001
                     for b in ("B02", "B04", "B08"))  # fmt: skip
    with np.errstate(all="ignore"):
        evi = 2.5 * (b08 - b04) / (b08 + 6 * b04 - 7.5 * b02 + 1)
    lai = 4.0543 * evi + 1.7901
    lai[(lai < 0) | (lai > 7.5)] = np.nan
    series = xr.DataArray(lai, dims=("t", "y", "x"), coords={"t": masked["t"].values})
    with np.errstate(all="ignore"):
        monthly = series.resample(t="MS").mean()
    inside = pixels_inside(masked, {"type": "Polygon", "coordinates": [[*FOREST, FOREST[0]]]})
    kept = monthly.where(trees & inside)
    scaled = np.trunc(np.clip((kept.values / 7.5 * 240).astype(np.float32), 0, 240))
    return kept.copy(data=scaled)


@pytest.mark.slow
def test_obsgession_lai_udp_as_its_benchmark_scenario_calls_it(
    connection: Any, tmp_path: Path
) -> None:
    """The benchmark scenario's graph (the UDP by its namespace URL, no save_result of its
    own: the UDP saves) as a batch job: EVI-based LAI of the dilation-masked 20 m
    EPSG:3035 bands in ``apply_dimension`` over bands, LAI outside 0-7.5 masked via
    ``merge_cubes`` ``or``, the ``if``/``eq`` chain picking the monthly mean, the tree
    mask, ``mask_polygon`` of a Parquet ``load_url``, 0-7.5 scaled to 0-240, GTiff with
    ``filename_prefix``, ``file_metadata`` (its parameters filled in) and
    ``bands_metadata``: one ``EO4Diversity_LAI__<month>Z.tif`` per month, as the
    scenario's reference data names it (geopyspark-driver geopysparkdatacube.py
    L2289-2312: head tags as given, band tags upper-cased)."""
    import rasterio

    scenario = json.loads(catalogue_json(f"{_LAI}/benchmark_scenarios/udp_obsgession_w23_lai.json"))
    graph = scenario[0]["process_graph"]
    node = graph["udpobsgessionw23lai1"]
    extent = _laea_extent()
    root = tmp_path / "served"
    root.mkdir()
    _forest_parquet(root / "forests.parquet")
    with serving_directory(root) as base:
        (root / "udp.json").write_text(json.dumps(_lai_udp(base)))
        node["namespace"] = f"{base}/udp.json"
        node["arguments"].update(spatial_extent=extent, start_date=DATES[0], end_date=DATES[1])
        job = connection.create_job(graph, title="udp_obsgession_w23_lai")
        job.start_and_wait()
        results = job.get_results()
        results.download_files(tmp_path / "out")
    assets = sorted(results.get_metadata()["assets"])
    assert assets == ["EO4Diversity_LAI__2023-06-01Z.tif", "EO4Diversity_LAI__2023-07-01Z.tif"]

    want = _lai_reference(connection, tmp_path, extent)
    assert [str(t)[:10] for t in want["t"].values] == ["2023-06-01", "2023-07-01"]
    for name, month in zip(assets, want, strict=True):
        with rasterio.open(tmp_path / "out" / name) as ds:
            assert ds.dtypes == ("uint8",) and ds.crs.to_epsg() == 3035
            assert ds.res == (20.0, 20.0)
            assert ds.descriptions == ("LAI",)
            tags, band, scales = ds.tags(), ds.tags(1), ds.scales
            got = ds.read(1).astype(np.float64)
            if ds.nodata is not None:
                got[got == ds.nodata] = np.nan
        assert tags["time_start"] == DATES[0] and tags["time_end"] == DATES[1]
        assert tags["tiling_grid"] == "LAEA" and tags["producer"] == "VITO NV"
        assert scales == (0.03125,) and band["NODATA_VALUE"] == "255"
        assert band["UNIT"] == "m2*m-2"
        assert got.shape == month.shape
        valid = np.isfinite(month.values)
        assert 0 < valid.sum() < valid.size / 2
        np.testing.assert_array_equal(np.isfinite(got), valid)
        assert (np.abs(got[valid] - month.values[valid]) > 1).sum() == 0
        assert (got[valid] != month.values[valid]).mean() < 0.02


#: the biomass COGs: 40 x 30 px of 10 m in UTM 32N inside the field
_X0, _Y0, _COLS, _ROWS = 316400.0, 5012600.0, 40, 30
_TIMES = ["2023-05-31T10:30:00Z", "2023-06-01T10:30:00Z", "2023-06-02T10:20:00Z"]
#: the country of the UDP (``benin``), a triangle inside the COGs
_COUNTRY = [[6.6616, 45.2385], [6.6650, 45.2383], [6.6625, 45.2408]]


def _biomass(index: int) -> np.ndarray:
    """int16 biomass (g DW / m2 / month / 0.01) from -50 to 32000, nodata -32768 at 0, 0."""
    values = np.linspace(-50, 32000, _ROWS * _COLS).reshape(1, _ROWS, _COLS) + 7 * index
    out = np.round(values).astype("int16")
    out[0, 0, 0] = -32768
    return out


def _ramona_collection(root: Path) -> Path:
    """A static STAC Collection standing in for RAMONA_HERBACEOUS_BIOMASS: one ``biomass``
    COG per time of ``_TIMES``."""
    import datetime as dt

    import pystac
    import rasterio
    from rasterio.transform import from_origin

    box = [6.660, 45.236, 6.668, 45.244]
    extent = pystac.Extent(
        pystac.SpatialExtent([box]),
        pystac.TemporalExtent([[dt.datetime(2023, 5, 31, tzinfo=dt.UTC), None]]),
    )
    stac = pystac.Collection(id="RAMONA_HERBACEOUS_BIOMASS", description="test", extent=extent)
    for index, when in enumerate(_TIMES):
        path = root / f"biomass{index}.tif"
        profile = {"driver": "COG", "height": _ROWS, "width": _COLS, "count": 1}
        profile.update(dtype="int16", crs="EPSG:32632", nodata=-32768)
        profile.update(transform=from_origin(_X0, _Y0, 10, 10))
        with rasterio.open(path, "w", **profile) as ds:
            ds.write(_biomass(index))
        item = pystac.Item(f"biomass{index}", None, box, dt.datetime.fromisoformat(when), {})
        bounds = [_X0, _Y0 - 10 * _ROWS, _X0 + 10 * _COLS, _Y0]
        fields = {"eo:bands": [{"name": "biomass"}], "proj:epsg": 32632, "proj:bbox": bounds}
        fields["proj:shape"] = [_ROWS, _COLS]
        item.add_asset("biomass", pystac.Asset(str(path), media_type=pystac.MediaType.COG,
                                               roles=["data"], extra_fields=fields))  # fmt: skip
        stac.add_item(item)
    stac.normalize_hrefs(str(root))
    stac.save(pystac.CatalogType.SELF_CONTAINED)
    return root / "collection.json"


def _ramona_udp(connection: Any, collection: str, countries: str) -> dict[str, Any]:
    """dhi/RAMONA-herbaceous_rangeland_biomass-country-mosaick/openeo_udp/generate.py's
    calls (its list of 55 countries cut to the one used), stored as it stores them;
    returns its ``build_process_dict``."""
    from openeo.api.process import Parameter
    from openeo.processes import date_shift, text_concat
    from openeo.rest.udp import build_process_dict

    country_name = Parameter.string(
        name="country", description="Country for which data is to be extracted.",
        values=["benin"], default="benin",
    )  # fmt: skip
    year_param = Parameter.string("year", default="2021", values=["2021", "2022", "2023"])
    months = ["01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12"]
    month_param = Parameter.string(
        "month", description="Data is available between august 2021 and januari 2023.",
        default="10", values=months,
    )  # fmt: skip
    date_param = text_concat([year_param, "-", month_param, "-01T00:00:00Z"])
    format_opts = {
        "filename_prefix": "ramona_hrb",
        "overviews": "AUTO",
        "tile_size": 512,
        "bands_metadata": {"biomass": {"SCALE": 0.01, "Unit": "g DW per m2 per month"}},
    }
    cube = (connection.load_stac(collection,
                                 temporal_extent=[date_param, date_shift(date_param, 1, "day")])
            .filter_spatial(connection.load_url(text_concat([countries, country_name, ".json"]),
                                                format="GeoJSON"))
            .linear_scale_range(-10, 31000, -10, 31000).drop_dimension("t")
            .save_result(format="GTiff", options=format_opts))  # fmt: skip
    name = "RAMONA-herbaceous_rangeland_biomass-country-mosaick"
    udp: dict[str, Any] = build_process_dict(
        process_graph=cube, process_id=name, description="RAMONA",
        parameters=[country_name, year_param, month_param],
        default_job_options={"driver-memory": "15G", "executor-memory": "6G",
                             "python-memory": "50m", "executor-memoryOverhead": "1500m",
                             "driver-memoryOverhead": "5G"},
    )  # fmt: skip
    connection.save_user_defined_process(
        process_graph=cube, user_defined_process_id=name.replace("-", "_"),
        description="RAMONA", parameters=[country_name, year_param, month_param],
    )  # fmt: skip
    return udp


@pytest.mark.slow
def test_ramona_biomass_country_mosaic_as_its_benchmark_scenario_calls_it(
    connection: Any, tmp_path: Path
) -> None:
    """generate.py's graph (``load_stac`` of a collection of our own, its temporal extent
    ``text_concat`` + ``date_shift``: the one product of the month's first day, 1 June
    2023 here, not the next day's; ``filter_spatial`` of the country GeoJSON from
    ``load_url``, ``linear_scale_range`` with integer bounds (int16), ``drop_dimension``)
    called as the scenario calls it (``year``, ``month``, ``country``; its namespace URL
    served here) and as the stored process: one ``ramona_hrb.tif``, as the scenario's
    reference data names it (geotrellis-extensions geotiff/package.scala: the prefix,
    no date without ``t``), 512-px tiles, the band tags upper-cased."""
    import pyproj
    import rasterio

    root = tmp_path / "served"
    (root / "countries").mkdir(parents=True)
    triangle = {"type": "Polygon", "coordinates": [[*_COUNTRY, _COUNTRY[0]]]}
    feature = {"type": "Feature", "properties": {}, "geometry": triangle}
    country = {"type": "FeatureCollection", "features": [feature]}
    (root / "countries" / "benin.json").write_text(json.dumps(country))
    collection = _ramona_collection(tmp_path)
    scenario = [{"process_graph": {"ramona": {
        "process_id": "RAMONA-herbaceous_rangeland_biomass-country-mosaick",
        "arguments": {"year": "2023", "month": "06", "country": "benin"},
        "result": True}}}]  # fmt: skip
    with serving_directory(root) as base:
        udp = _ramona_udp(connection, collection.as_uri(), f"{base}/countries/")
        (root / "ramona.json").write_text(json.dumps(udp))
        scenario[0]["process_graph"]["ramona"]["namespace"] = f"{base}/ramona.json"
        job = connection.create_job(scenario[0]["process_graph"], title="ramona_benin")
        job.start_and_wait()
        results = job.get_results()
        assert sorted(results.get_metadata()["assets"]) == ["ramona_hrb.tif"]
        results.download_files(tmp_path / "out")
        # the stored process saves: called from a graph that does not save again
        call = {"process_id": "RAMONA_herbaceous_rangeland_biomass_country_mosaick",
                "namespace": "user", "arguments": {"year": "2023", "month": "06"}}  # fmt: skip
        connection.download({"ramona": {**call, "result": True}}, tmp_path / "stored.tif")

    with rasterio.open(tmp_path / "out" / "ramona_hrb.tif") as ds:
        assert ds.dtypes == ("int16",) and ds.nodata == -32768 and ds.count == 1
        assert ds.block_shapes == [(512, 512)] and ds.descriptions == ("biomass",)
        assert ds.scales == (0.01,) and ds.tags(1)["UNIT"] == "g DW per m2 per month"
        got, transform = ds.read(1), ds.transform
    with rasterio.open(tmp_path / "stored.tif") as ds:
        np.testing.assert_array_equal(ds.read(1), got)

    # the pixels of the COG the triangle's bounds overlap, masked outside it
    col0, row0 = int((transform.c - _X0) // 10), int((_Y0 - transform.f) // 10)
    window = _biomass(1)[0, row0 : row0 + got.shape[0], col0 : col0 + got.shape[1]]
    xs = _X0 + 10 * (col0 + np.arange(got.shape[1])) + 5
    ys = _Y0 - 10 * (row0 + np.arange(got.shape[0])) - 5
    grid = xr.Dataset(coords={"x": xs, "y": ys})
    grid["crs"] = xr.DataArray(0, attrs={"crs_wkt": pyproj.CRS.from_epsg(32632).to_wkt()})
    inside = pixels_inside(grid, {"type": "Polygon", "coordinates": [[*_COUNTRY, _COUNTRY[0]]]})
    want = np.where(inside, np.clip(window, -10, 31000), -32768)
    assert 0 < inside.sum() < inside.size
    np.testing.assert_array_equal(got, want)


_CLASSES = {"treecover": 10, "shrubland": 20, "grassland": 30, "cropland": 40, "builtup": 50,
            "bare/sparse vegetation": 60, "snow and ice": 70, "water": 80,
            "herbaceous wetland": 90, "mangroves": 95, "moss and lichen": 100}  # fmt: skip


@pytest.mark.slow
def test_worldcover_statistics_notebook_class_shares_per_field(
    connection: Any, tmp_path: Path
) -> None:
    """vito/worldcover_statistics: ``notebooks/worldcover_statistics_example.ipynb`` calls
    ``openeo_udp/worldcover_statistics.json`` by its URL (``ESA_WORLDCOVER_10M_2021_V2``
    / ``MAP`` as ``COVER_DAY``'s ``SCL``): eleven class masks from an ``array_create``
    whose elements are process graphs (each ``eq(data, class)`` on the callback's
    ``data``, as Copernicus's script builder visits them: processgraphvisiting.py
    L72-74), renamed, ``aggregate_spatial`` ``mean`` per field as CSV, then saved AGAIN
    as CSV by the notebook (``.save_result(format="CSV").execute_batch(...)``): the job
    runs as it ran on Copernicus (the notebook shows its finished job and table), one
    ``timeseries.csv``, read as the notebook reads it."""
    import pandas as pd

    name = "algorithm_catalog/vito/worldcover_statistics/openeo_udp/worldcover_statistics.json"
    udp = json.loads(catalogue_json(name))
    load = udp["process_graph"]["load4"]["arguments"]
    assert load["id"] == "ESA_WORLDCOVER_10M_2021_V2" and load["bands"] == ["MAP"]
    load.update(id="SENTINEL2_L2A", bands=["SCL"], temporal_extent=COVER_DAY)
    aoi = {"type": "Polygon", "coordinates": [[*FOREST, FOREST[0]]]}
    root = tmp_path / "served"
    root.mkdir()
    (root / "worldcover_statistics.json").write_text(json.dumps(udp))
    with serving_directory(root) as base:
        job = (
            connection.datacube_from_process(
                namespace=f"{base}/worldcover_statistics.json",
                process_id="worldcover_statistics",
                geometries=aoi,
            )
            .save_result(format="CSV")
            .execute_batch(tmp_path / "worldcover_stats.csv")
        )
    assert sorted(job.get_results().get_metadata()["assets"]) == ["timeseries.csv"]
    assert any("again" in entry["message"] for entry in job.logs())
    df = pd.read_csv(tmp_path / "worldcover_stats.csv")
    df.date = pd.to_datetime(df.date)
    df.set_index(["date", "feature_index"], inplace=True)

    assert list(df.columns) == list(_CLASSES)
    assert [(str(d)[:10], f) for d, f in df.index] == [(COVER_DAY[0], 0)]
    xs, ys = [p[0] for p in FOREST], [p[1] for p in FOREST]
    around = {"west": min(xs) - 0.001, "south": min(ys) - 0.001,
              "east": max(xs) + 0.001, "north": max(ys) + 0.001}  # fmt: skip
    raw = raw_bands(connection, ["SCL"], tmp_path / "scl.nc", bbox=around, dates=COVER_DAY)
    scl = raw["SCL"].values[0][pixels_inside(raw, aoi)]
    want = [float(np.mean(scl == code)) for code in _CLASSES.values()]
    assert 0.05 < want[0] < 0.95, "thin cirrus (SCL 10) over part of the field"
    np.testing.assert_allclose(df.iloc[0].to_numpy(), want, rtol=1e-12)
