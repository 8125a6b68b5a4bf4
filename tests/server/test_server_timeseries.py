"""The CDSE NDVI_Timeseries notebook against ``hybrid serve``, changed only in URL, AOI
and dates (eu-cdse/notebook-samples, openeo/NDVI_Timeseries.ipynb).

load_collection -> NDVI by band math -> aggregate_spatial(mean) over a FeatureCollection
of fields -> a batch job saving CSV (read with pandas as the notebook reads it) and a
synchronous JSON download. The values are checked against an independent computation:
the raw B04/B08 cube downloaded from the same server as netCDF, NDVI in numpy, and the
pixels whose centre shapely finds inside each field (after pyproj reprojection).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from tests.io.test_vector_assets import copernicus_statistics
from tests.server_helpers import SEED_BBOX, TEMPORAL_EXTENT, ServeProcess, basic_client

pytestmark = pytest.mark.slow


def _square(lon: float, lat: float, half: float) -> list[list[float]]:
    return [
        [lon - half, lat - half],
        [lon + half, lat - half],
        [lon + half, lat + half * 0.6],
        [lon - half * 0.3, lat + half],
        [lon - half, lat - half],
    ]


#: three fields inside the embedded sample's seed AOI; the last one a MultiPolygon
FIELDS: dict[str, Any] = {
    "type": "FeatureCollection",
    "features": [
        {"type": "Feature", "properties": {},
         "geometry": {"type": "Polygon", "coordinates": [_square(6.660, 45.235, 0.0020)]}},
        {"type": "Feature", "properties": {},
         "geometry": {"type": "Polygon", "coordinates": [_square(6.667, 45.250, 0.0012)]}},
        {"type": "Feature", "properties": {},
         "geometry": {"type": "MultiPolygon", "coordinates": [
             [_square(6.664, 45.242, 0.0006)], [_square(6.671, 45.256, 0.0009)]]}},
    ],
}  # fmt: skip


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory, sample_catalog: Path) -> Iterator[ServeProcess]:
    data_dir = tmp_path_factory.mktemp("serve-ts") / "data"
    with ServeProcess(data_dir=data_dir, stac=sample_catalog, workers=1) as server:
        yield server


@pytest.fixture(scope="module")
def connection(serve: ServeProcess, tmp_path_factory: pytest.TempPathFactory) -> Any:
    return basic_client(serve.url, tmp_path_factory.mktemp("client"))


def _bands(connection: Any, spatial_extent: Any = SEED_BBOX) -> Any:
    return connection.load_collection(
        "SENTINEL2_L2A",
        spatial_extent=spatial_extent,
        temporal_extent=TEMPORAL_EXTENT,
        bands=["B04", "B08"],
    )


@pytest.fixture(scope="module")
def expected(connection: Any, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """Mean NDVI per (date, field) from the raw bands, computed here with numpy/shapely."""
    import pyproj
    from shapely.geometry import Point, shape
    from shapely.ops import transform

    path = tmp_path_factory.mktemp("raw") / "bands.nc"
    _bands(connection).download(path, format="netCDF")
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        ds = ds.load()
    crs = pyproj.CRS.from_wkt(ds["crs"].attrs["crs_wkt"])
    to_grid = pyproj.Transformer.from_crs(4326, crs, always_xy=True).transform
    ndvi = (ds["B08"] - ds["B04"]) / (ds["B08"] + ds["B04"])
    xs, ys = ds["x"].values, ds["y"].values
    rows = []
    for index, feature in enumerate(FIELDS["features"]):
        field = transform(to_grid, shape(feature["geometry"]))
        inside = np.array([[field.contains(Point(x, y)) for x in xs] for y in ys])
        assert inside.sum() >= 3, "a field must cover a few pixels"
        for t, date in enumerate(ds["t"].values):
            values = ndvi.values[t][inside]
            mean = float(np.nanmean(values)) if np.isfinite(values).any() else np.nan
            rows.append({"date": pd.Timestamp(date), "feature_index": index, "ndvi": mean})
    return pd.DataFrame(rows).set_index(["date", "feature_index"]).sort_index()


def _timeseries(connection: Any, geometries: Any = FIELDS, spatial_extent: Any = SEED_BBOX) -> Any:
    s2cube = _bands(connection, spatial_extent)
    red = s2cube.band("B04")
    nir = s2cube.band("B08")
    ndvi = (nir - red) / (nir + red)
    return ndvi.aggregate_spatial(geometries=geometries, reducer="mean")


def test_notebook_batch_job_csv_matches_numpy(
    connection: Any, expected: pd.DataFrame, tmp_path: Path
) -> None:
    job = _timeseries(connection).execute_batch(out_format="CSV", title="NDVI timeseries")
    assert job.status() == "finished"
    target = tmp_path / "timeseries-basic.csv"
    job.get_results().download_file(target)
    # as the notebook reads it
    df = pd.read_csv(target, index_col=0)
    assert list(df.columns) == ["feature_index", "band_unnamed"]
    df.index = pd.to_datetime(df.index)
    df = df.sort_index()
    got = df.reset_index().assign(date=lambda d: d["date"].dt.tz_localize(None))
    got = got.set_index(["date", "feature_index"]).sort_index()
    assert got.index.equals(expected.index)
    np.testing.assert_allclose(got["band_unnamed"], expected["ndvi"], rtol=1e-5, atol=1e-6)
    assert np.isfinite(got["band_unnamed"]).sum() >= len(FIELDS["features"])


def test_synchronous_json_layout_matches_numpy(
    connection: Any, expected: pd.DataFrame, tmp_path: Path
) -> None:
    target = tmp_path / "timeseries.json"
    _timeseries(connection).download(target, format="JSON")
    doc = json.loads(target.read_text())
    for date, features in doc.items():
        assert date.endswith("T00:00:00Z")
        assert len(features) == len(FIELDS["features"])
        for index, bands in enumerate(features):
            want = expected.loc[(pd.Timestamp(date[:10]), index), "ndvi"]
            if np.isnan(want):
                assert bands == [None]
            else:
                assert bands[0] == pytest.approx(want, rel=1e-5, abs=1e-6)
    assert len(doc) == expected.index.get_level_values("date").nunique()


def test_execute_without_save_result_answers_the_json_layout(
    connection: Any, expected: pd.DataFrame
) -> None:
    doc = _timeseries(connection).execute()
    assert len(doc) == expected.index.get_level_values("date").nunique()
    for date, features in doc.items():
        for index, bands in enumerate(features):
            want = expected.loc[(pd.Timestamp(date[:10]), index), "ndvi"]
            got = np.nan if bands[0] is None else bands[0]
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_batch_job_covjson_matches_numpy(connection: Any, expected: pd.DataFrame) -> None:
    """``save_result(format="CovJSON")``, offered by Copernicus for time series only
    (openeo-python-driver save_result.py ``to_covjson``): one ``timeseries.json``."""
    job = _timeseries(connection).save_result("CovJSON").create_job()
    job.start_and_wait(max_poll_interval=0.2, show_error_logs=False)
    (asset,) = job.get_results().get_assets()
    assert (asset.key, asset.metadata["type"]) == ("timeseries.json", "application/json")
    doc = asset.load_json()
    dates = doc["domain"]["axes"]["t"]["values"]
    fields = doc["domain"]["axes"]["composite"]["values"]
    assert fields == [f["geometry"]["coordinates"] for f in FIELDS["features"]]
    values = doc["ranges"]["band0"]["values"]
    assert doc["ranges"]["band0"]["shape"] == [len(dates), len(fields)]
    for t, date in enumerate(dates):
        for index in range(len(fields)):
            want = expected.loc[(pd.Timestamp(date[:10]), index), "ndvi"]
            got = values[t * len(fields) + index]
            np.testing.assert_allclose(np.nan if got is None else got, want, rtol=1e-5, atol=1e-6)
    assert len(dates) == expected.index.get_level_values("date").nunique()


def test_a_time_series_saved_as_gtiff_is_json_with_a_warning(
    connection: Any, expected: pd.DataFrame
) -> None:
    """Copernicus writes an aggregate_spatial time series in a format it does not hold as
    its JSON (openeo-python-driver save_result.py ``AggregatePolygonResult.write_assets``)."""
    job = _timeseries(connection).save_result("GTiff").create_job()
    job.start_and_wait(max_poll_interval=0.2, show_error_logs=False)
    (asset,) = job.get_results().get_assets()
    assert (asset.key, asset.metadata["type"]) == ("timeseries.json", "application/json")
    doc = asset.load_json()
    assert len(doc) == expected.index.get_level_values("date").nunique()
    warnings = [e["message"] for e in job.logs() if e["level"] == "warning"]
    assert any("written as JSON, not GTiff" in m for m in warnings), warnings


def test_utm_geometries_with_a_crs_member_are_refused_as_on_copernicus(connection: Any) -> None:
    """The client's ``aggregate_spatial(..., crs=...)`` writes the old GeoJSON ``crs``
    member; Copernicus ignores it and refuses coordinates outside lon/lat
    (openeo-python-driver datacube.py ``from_geojson``, ``ignore_crs=True`` since 2024-05)."""
    import pyproj
    from openeo.rest import OpenEoApiError
    from shapely.geometry import shape
    from shapely.ops import transform

    to_utm = pyproj.Transformer.from_crs(4326, 32632, always_xy=True).transform
    field = transform(to_utm, shape(FIELDS["features"][0]["geometry"]))
    with pytest.warns(UserWarning, match="non-Lon-Lat CRS"):  # the client's own caution
        cube = _bands(connection).aggregate_spatial(geometries=field, reducer="mean", crs=32632)
    with pytest.raises(OpenEoApiError) as info:
        cube.execute()
    assert info.value.http_status_code == 400
    assert "'crs' member is ignored" in info.value.message


def test_results_downloaded_in_two_layouts_compare_equivalent(
    connection: Any, expected: pd.DataFrame, tmp_path: Path
) -> None:
    """A user's CI check of an aggregate_spatial time series: the same graph's results
    downloaded as CSV (the notebook's) and as netCDF, each folder as the client writes it
    (``download_files``, job metadata beside the asset), are equivalent to
    ``assert_equivalent``; and to the numpy series written as Copernicus's JSON."""
    from hybrid.testing import assert_equivalent

    folders = {}
    for layout in ("CSV", "netCDF"):
        job = _timeseries(connection).save_result(layout).create_job()
        job.start_and_wait(max_poll_interval=0.2, show_error_logs=False)
        folders[layout] = tmp_path / layout
        job.get_results().download_files(folders[layout])
    report = assert_equivalent(folders["CSV"], folders["netCDF"])
    assert len(report.rows) == expected.index.get_level_values("date").nunique()
    by_date: dict[str, list[list[float | None]]] = {}
    for (date, feature), value in expected["ndvi"].items():
        by_date.setdefault(f"{date:%Y-%m-%dT%H:%M:%SZ}", []).insert(
            feature, [None if np.isnan(value) else float(value)]
        )
    (tmp_path / "numpy.json").write_text(json.dumps(by_date))
    assert_equivalent(folders["CSV"], tmp_path / "numpy.json", atol=1e-5)


def test_a_time_series_asset_describes_its_bands_and_statistics_as_copernicus(
    connection: Any, tmp_path: Path
) -> None:
    """The results document of a two-band time series: the bands as ``eo:bands`` with
    the collection's common names, and for every format but CSV the statistics
    Copernicus computes from its intermediate CSV (pandas over the CSV's rows,
    save_result.py ``AggregatePolygonResultCSV.get_data`` L725-739), here computed so
    from the CSV job's own file."""
    cube = _bands(connection).aggregate_spatial(geometries=FIELDS, reducer="mean")
    assets = {}
    for layout in ("CSV", "JSON"):
        job = cube.save_result(layout).create_job()
        job.start_and_wait(max_poll_interval=0.2, show_error_logs=False)
        (assets[layout],) = job.get_results().get_metadata()["assets"].values()
        if layout == "CSV":
            job.get_results().download_file(tmp_path / "timeseries.csv")
    named = [{"name": "B04", "common_name": "red"}, {"name": "B08", "common_name": "nir"}]
    assert assets["CSV"]["eo:bands"] == assets["JSON"]["eo:bands"] == named
    assert "raster:bands" not in assets["CSV"]
    want = copernicus_statistics(tmp_path / "timeseries.csv")
    got = [entry["statistics"] for entry in assets["JSON"]["raster:bands"]]
    assert got == [pytest.approx(band, rel=1e-9) for band in want]


def test_fields_given_as_a_url_are_read_with_load_url(connection: Any, tmp_path: Path) -> None:
    """The client turns geometries given as a URL into a ``load_url`` node; the fields
    as GeoParquet in UTM, served over HTTP on 127.0.0.1, give the time series the same
    fields inline give; to a load without spatial_extent, the fields as GeoJSON bound
    it as the same fields inline do (Copernicus's dry run reads them)."""
    import geopandas as gpd

    from tests.stac_fixtures import serving_directory

    frame = gpd.GeoDataFrame.from_features(FIELDS["features"], crs=4326)
    frame.to_crs(32632).to_parquet(tmp_path / "fields.parquet")
    (tmp_path / "fields.geojson").write_text(json.dumps(FIELDS), encoding="utf-8")
    with serving_directory(tmp_path) as base:
        cube = _timeseries(connection, geometries=f"{base}/fields.parquet")
        (load,) = [n for n in cube.flat_graph().values() if n["process_id"] == "load_url"]
        assert load["arguments"]["format"] == "Parquet"
        via_url = cube.execute()
        url = f"{base}/fields.geojson"
        unbounded = _timeseries(connection, geometries=url, spatial_extent=None).execute()
    inline = _timeseries(connection).execute()
    inline_unbounded = _timeseries(connection, spatial_extent=None).execute()
    for got, want in ((via_url, inline), (unbounded, inline_unbounded)):
        assert list(got) == list(want)
        for date, fields in want.items():
            assert np.array(got[date], dtype=float) == pytest.approx(
                np.array(fields, dtype=float), rel=1e-9, nan_ok=True
            )


def test_a_batch_job_reads_its_load_url_when_it_runs(connection: Any, tmp_path: Path) -> None:
    """Copernicus stores a job's graph and reads load_url's URL in the dry run that
    starts it: a job whose file is not there yet is created, finds it when started (here
    also bounding a load without spatial_extent), and one whose URL stays unreadable
    fails when run, its log naming the error."""
    from openeo.rest import JobFailedException

    from tests.stac_fixtures import serving_directory

    with serving_directory(tmp_path) as base:
        url = f"{base}/fields.geojson"
        later = _timeseries(connection, geometries=url, spatial_extent=None).create_job()
        never = _timeseries(connection, geometries=f"{base}/absent.geojson").create_job()
        (tmp_path / "fields.geojson").write_text(json.dumps(FIELDS), encoding="utf-8")
        later.start_and_wait(max_poll_interval=0.2)
        with pytest.raises(JobFailedException):
            never.start_and_wait(max_poll_interval=0.2, show_error_logs=False)
        later.get_results().download_file(tmp_path / "later.json")
    logs = " ".join(entry["message"] for entry in never.logs(level="error"))
    assert "absent.geojson" in logs and "404" in logs
    inline = _timeseries(connection, spatial_extent=None).execute()
    got = json.loads((tmp_path / "later.json").read_text())
    assert list(got) == list(inline)
    for date, fields in inline.items():
        assert np.array(got[date], dtype=float) == pytest.approx(
            np.array(fields, dtype=float), rel=1e-9, nan_ok=True
        )
