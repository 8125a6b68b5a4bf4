"""Time-series and sampling examples of the openeo Python client's documentation
(docs/basics.rst, docs/cookbook/sampling.md) through the client against ``hybrid serve``,
changed only in area and dates.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from tests.workflows.client_docs_evi import SMALL_BBOX, _covered, _evi, _nan_stat, _nc
from tests.workflows.raw import BBOX, DATES, FIELDS, raw_bands

# -- docs/basics.rst "Computing multiple statistics", docs/cookbook/sampling.md ------------


@pytest.fixture(scope="module")
def statistics(connection: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """docs/basics.rst: the masked EVI cube aggregated with
    ``array_create([mean(x), sd(x), median(x), count(x)])`` over the two fields; the
    expected values from numpy per (date, field, statistic)."""
    from openeo.processes import array_create, count, mean, median, sd

    tmp = tmp_path_factory.mktemp("statistics")
    sentinel2_cube = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=BBOX, temporal_extent=DATES,
        bands=["B02", "B04", "B08", "SCL"],
    )  # fmt: skip
    blue = sentinel2_cube.band("B02") * 0.0001
    red = sentinel2_cube.band("B04") * 0.0001
    nir = sentinel2_cube.band("B08") * 0.0001
    evi = 2.5 * (nir - red) / (nir + 6.0 * red - 7.5 * blue + 1.0)
    scl = sentinel2_cube.band("SCL")
    evi_masked = evi.mask(scl != 4)
    evi_aggregation = evi_masked.aggregate_spatial(
        geometries=FIELDS,
        reducer=lambda x: array_create([mean(x), sd(x), median(x), count(x)]),
    )

    raw = raw_bands(connection, ["B02", "B04", "B08", "SCL"], tmp / "raw.nc")
    evi_values = np.where(raw["SCL"].values == 4, _evi(raw), np.nan)
    want = np.full((raw.sizes["t"], len(FIELDS["features"]), 4), np.nan)
    for index, feature in enumerate(FIELDS["features"]):
        inside = _covered(raw, feature["geometry"])
        for t in range(raw.sizes["t"]):
            values = evi_values[t][inside]
            want[t, index] = [
                _nan_stat(np.mean, values),
                _nan_stat(lambda v: np.std(v, ddof=1) if v.size > 1 else np.nan, values),
                _nan_stat(np.median, values),
                np.isfinite(values).sum(),
            ]
    assert np.isfinite(want[..., 0]).sum() >= 3, "some dates must have vegetation"
    return evi_aggregation, raw["t"].values, want


def test_multiple_statistics_as_json(statistics: Any, tmp_path: Path) -> None:
    """docs/basics.rst "Computing multiple statistics", downloaded as the page's JSON:
    date -> one list per field -> the four statistics (null for none)."""
    cube, dates, want = statistics
    cube.download(tmp_path / "evi-aggregation.json")
    doc = json.loads((tmp_path / "evi-aggregation.json").read_text())
    assert [np.datetime64(d.rstrip("Z")) for d in doc] == list(dates)
    got = np.array([[[np.nan if v is None else v for v in f] for f in fs] for fs in doc.values()])
    np.testing.assert_allclose(got, want, rtol=1e-5, equal_nan=True)


def test_multiple_statistics_as_csv_and_netcdf(statistics: Any, tmp_path: Path) -> None:
    """docs/basics.rst "other useful formats are CSV and netCDF": the same statistics in
    Copernicus's CSV (date, feature_index, Spark's names of the aggregates) and netCDF
    (feature x t, band_0..) layouts."""
    cube, dates, want = statistics
    cube.download(tmp_path / "stats.csv", format="CSV")
    frame = pd.read_csv(tmp_path / "stats.csv")
    # Spark's names of the four aggregates of the band-less EVI cube's column (Copernicus
    # renames them by the band labels only when there are as many: AggregatePolygonProcess
    # .scala L349-355)
    spark = ["avg({c})", "stddev_samp({c})", "CAST(median({c}) AS DOUBLE)", "count({c})"]
    names = [name.format(c="band_unnamed") for name in spark]
    assert list(frame.columns) == ["date", "feature_index", *names]
    frame["date"] = pd.to_datetime(frame["date"]).dt.tz_localize(None)
    frame = frame.set_index(["date", "feature_index"]).sort_index()
    for t, date in enumerate(dates):
        for index in range(len(FIELDS["features"])):
            row = frame.loc[(pd.Timestamp(date), index)].to_numpy(dtype=float)
            np.testing.assert_allclose(row, want[t, index], rtol=1e-5, equal_nan=True)

    cube.download(tmp_path / "stats.nc", format="netCDF")
    got = _nc(tmp_path / "stats.nc")
    np.testing.assert_array_equal(got["t"].values, dates)
    for band in range(4):
        values = got[f"band_{band}"].transpose("t", "feature").values
        np.testing.assert_allclose(values, want[..., band], rtol=1e-5, equal_nan=True)


def test_sampling_at_point_locations(connection: Any, tmp_path: Path) -> None:
    """docs/cookbook/sampling.md "Sampling at point locations": ``aggregate_spatial`` over
    points with ``mean`` gives the value of the pixel each point falls in."""
    import pyproj

    points = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"id": name},
             "geometry": {"type": "Point", "coordinates": [lon, lat]}}
            for name, lon, lat in (("a", 6.66251, 45.23852), ("b", 6.66553, 45.24248))
        ],
    }  # fmt: skip
    cube = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=BBOX, temporal_extent=DATES, bands=["B04", "B08"]
    )
    cube.aggregate_spatial(geometries=points, reducer="mean").download(tmp_path / "points.json")
    doc = json.loads((tmp_path / "points.json").read_text())

    raw = raw_bands(connection, ["B04", "B08"], tmp_path / "raw.nc")
    crs = pyproj.CRS.from_wkt(raw["crs"].attrs["crs_wkt"])
    to_grid = pyproj.Transformer.from_crs(4326, crs, always_xy=True)
    assert len(doc) == raw.sizes["t"]
    for index, feature in enumerate(points["features"]):
        x, y = to_grid.transform(*feature["geometry"]["coordinates"])
        pixel = raw.sel(x=x, y=y, method="nearest")
        for t, values in enumerate(doc.values()):
            want = [float(pixel[band].values[t]) for band in ("B04", "B08")]
            np.testing.assert_allclose(values[index], want)


# -- docs/cookbook/sampling.md "Sampling polygons as rasters" -------------------------------


def _sampled_job(connection: Any, tmp_path: Path, **format_options: Any) -> list[Path]:
    """The page's job: no spatial extent, ``filter_spatial`` over the fields, a batch job
    with ``sample_by_feature=True``; its files downloaded into ``tmp_path / "job"``."""
    s2_bands = connection.load_collection("SENTINEL2_L2A", bands=["B04"], temporal_extent=DATES)
    s2_bands = s2_bands.filter_spatial(FIELDS)
    job = s2_bands.create_job(
        title="Sentinel2", description="Sentinel-2 L2A bands", sample_by_feature=True,
        **format_options,
    )  # fmt: skip
    job.start_and_wait(max_poll_interval=1, print=lambda *a, **k: None)
    return sorted(job.get_results().download_files(tmp_path / "job"))


def test_filter_spatial_sample_by_feature_writes_one_netcdf_per_field(
    connection: Any, tmp_path: Path
) -> None:
    """docs/cookbook/sampling.md: one netCDF per feature, ``openEO_{index}.nc``, holding the
    feature's pixels in its bounds (openeo-geotrellis-extensions NetCDFRDDWriter.scala
    ``saveSamples``, ``getSamplePath``)."""
    files = [
        p for p in _sampled_job(connection, tmp_path, out_format="netCDF") if p.suffix == ".nc"
    ]
    assert [p.name for p in files] == ["openEO_0.nc", "openEO_1.nc"]
    raw = raw_bands(connection, ["B04"], tmp_path / "raw.nc")
    for path, feature in zip(files, FIELDS["features"], strict=True):
        got = _nc(path)
        inside = _covered(raw, feature["geometry"])
        rows, cols = np.flatnonzero(inside.any(axis=1)), np.flatnonzero(inside.any(axis=0))
        # the feature's bounds widened to whole pixels hold its pixels, nothing else has data
        assert got.sizes["x"] >= cols.size and got.sizes["y"] >= rows.size
        want = raw["B04"].where(xr.DataArray(inside, dims=("y", "x")))
        want = want.sel(x=got["x"].values, y=got["y"].values, t=got["t"].values)
        np.testing.assert_array_equal(got["B04"].values, want.values)
        assert int(np.isfinite(got["B04"].values[0]).sum()) == int(inside.sum())
    # synchronously: one file, as Copernicus without batch_mode (geopysparkdatacube.py L2593)
    one = connection.load_collection("SENTINEL2_L2A", bands=["B04"], temporal_extent=DATES)
    one = one.filter_spatial(FIELDS).save_result("netCDF", options={"sample_by_feature": True})
    one.download(tmp_path / "sync.nc")
    assert _nc(tmp_path / "sync.nc")["B04"].sizes["x"] > max(_nc(p).sizes["x"] for p in files)


def test_sample_by_feature_as_gtiff_named_by_a_property(connection: Any, tmp_path: Path) -> None:
    """docs/cookbook/sampling.md, GTiff ("available for the netCDF and GTiff output
    formats") with ``feature_id_property``: ``openEO_{date}_{label}.tif`` per date and
    feature (geotiff/package.scala ``saveSamples``; geopysparkdatacube.py ``get_labels``)."""
    files = _sampled_job(connection, tmp_path, out_format="GTiff", feature_id_property="name")
    tiffs = [p.name for p in files if p.suffix == ".tif"]
    raw = raw_bands(connection, ["B04"], tmp_path / "raw.nc")
    dates = [str(d)[:10] for d in raw["t"].values]
    assert tiffs == sorted(f"openEO_{d}Z_{label}.tif" for d in dates for label in "AB")


def test_sample_by_feature_without_filter_spatial_fails_the_job(
    connection: Any, tmp_path: Path
) -> None:
    """docs/cookbook/sampling.md: the geometries come from ``filter_spatial``; without one
    Copernicus's job fails (deploy/batch_job.py L417-426 logs it, then the writer misses
    them): here the job fails with one clear message."""
    from openeo.rest import JobFailedException

    cube = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=SMALL_BBOX, temporal_extent=DATES, bands=["B04"]
    )
    job = cube.create_job(out_format="netCDF", sample_by_feature=True)
    with pytest.raises(JobFailedException):
        job.start_and_wait(max_poll_interval=1, soft_error_max=0, print=lambda *a, **k: None)
    errors = [e["message"] for e in job.logs(level="error")]
    assert any("sample_by_feature" in m and "filter_spatial" in m for m in errors), errors
