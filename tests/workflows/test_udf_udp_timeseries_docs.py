"""UDF, user-defined process and time-series examples of the openeo Python client's
documentation (github.com/Open-EO/openeo-python-client, docs/udf.rst, docs/udp.rst,
docs/datacube_construction.rst, docs/basics.rst, docs/cookbook/sampling.md) through the
client against ``hybrid serve``, changed only in URL, AOI and dates.

Each test holds the documented client calls (the page is in its docstring) and checks the
result against numpy on the raw bands downloaded from the same server: the mean of a
polygon over the pixels whose centre lies inside it, a point's value that of the pixel it
falls in.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from tests.workflows.raw import BBOX, DATES, FIELDS, pixels_inside, raw_bands

#: a few pixels of the seed field: the UDF tests start a worker process each
SMALL_BBOX = {"west": 6.6640, "south": 45.2400, "east": 6.6660, "north": 45.2410}


def _nc(path: Path) -> xr.Dataset:
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load()


def _covered(raw: xr.Dataset, geometry: dict[str, Any]) -> np.ndarray:
    inside = pixels_inside(raw, geometry)
    assert inside.sum() >= 6, "a field must cover a few pixels"
    return inside


def _evi(raw: xr.Dataset) -> np.ndarray:
    blue, red, nir = (raw[b].values.astype(np.float64) * 0.0001 for b in ("B02", "B04", "B08"))
    with np.errstate(all="ignore"):
        out: np.ndarray = 2.5 * (nir - red) / (nir + 6.0 * red - 7.5 * blue + 1.0)
    return out


def _evi_cube(connection: Any, temporal_extent: Any = DATES, **load: Any) -> Any:
    """docs/basics.rst: EVI by band math on the rescaled bands."""
    cube = connection.load_collection(
        "SENTINEL2_L2A", temporal_extent=temporal_extent, bands=["B02", "B04", "B08"], **load
    )
    blue = cube.band("B02") * 0.0001
    red = cube.band("B04") * 0.0001
    nir = cube.band("B08") * 0.0001
    return 2.5 * (nir - red) / (nir + 6.0 * red - 7.5 * blue + 1.0)


def _nan_stat(function: Any, values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(function(finite)) if finite.size else float("nan")


# -- docs/udp.rst, docs/datacube_construction.rst ------------------------------------------


def test_fahrenheit_to_celsius_stored_three_ways_and_evaluated(
    connection: Any, tmp_path: Path
) -> None:
    """docs/udp.rst "Through process functions", "Using a predefined dictionary", "Store to
    a file" (``build_process_dict``, stored here with a plain PUT) and "Evaluate
    user-defined processes": ``connection.execute(process("fahrenheit_to_celsius", f=70))``
    prints 21.11111111111111."""
    import openeo
    from openeo.api.process import Parameter
    from openeo.processes import divide, subtract
    from openeo.rest.udp import build_process_dict

    f = Parameter.number("f", description="Degrees Fahrenheit.")
    fahrenheit_to_celsius = divide(x=subtract(x=f, y=32), y=1.8)
    connection.save_user_defined_process(
        "fahrenheit_to_celsius", fahrenheit_to_celsius, parameters=[f]
    )
    pg = openeo.processes.process("fahrenheit_to_celsius", f=70)
    assert connection.execute(pg) == pytest.approx((70 - 32) / 1.8, rel=1e-12)

    as_dict = {
        "subtract1": {"process_id": "subtract",
                      "arguments": {"x": {"from_parameter": "f"}, "y": 32}},
        "divide1": {"process_id": "divide",
                    "arguments": {"x": {"from_node": "subtract1"}, "y": 1.8}, "result": True},
    }  # fmt: skip
    connection.save_user_defined_process(
        user_defined_process_id="f_to_c_dict",
        process_graph=as_dict,
        parameters=[Parameter.number(name="f", description="Degrees Fahrenheit")],
    )
    assert connection.execute(openeo.processes.process("f_to_c_dict", f=212)) == pytest.approx(100)

    spec = build_process_dict(
        process_id="f_to_c_file", process_graph=fahrenheit_to_celsius, parameters=[f]
    )
    (tmp_path / "fahrenheit_to_celsius.json").write_text(json.dumps(spec, indent=2))
    stored = json.loads((tmp_path / "fahrenheit_to_celsius.json").read_text())
    connection.put("/process_graphs/f_to_c_file", json=stored, expected_status=200)
    assert connection.execute(openeo.processes.process("f_to_c_file", f=32)) == pytest.approx(0)
    assert connection.user_defined_process("f_to_c_file").describe()["parameters"][0]["name"] == "f"


def test_user_defined_process_calling_another_one_with_a_default(connection: Any) -> None:
    """docs/udp.rst "Declaring Parameters" (a default value) and a UDP built on another
    stored UDP (the "library of reusable building blocks" of its introduction)."""
    import openeo
    from openeo.api.process import Parameter
    from openeo.processes import add, divide, subtract

    f = Parameter.number("f", description="Degrees Fahrenheit.", default=32)
    connection.save_user_defined_process(
        "f_to_c_default", divide(x=subtract(x=f, y=32), y=1.8), parameters=[f]
    )
    c = Parameter.number("c", description="Degrees Celsius.")
    connection.save_user_defined_process("c_to_k", add(x=c, y=273.15), parameters=[c])
    g = Parameter.number("g", description="Degrees Fahrenheit.")
    chained = openeo.processes.process("c_to_k", c=openeo.processes.process("f_to_c_default", f=g))
    connection.save_user_defined_process("f_to_k", chained, parameters=[g])

    assert connection.execute(openeo.processes.process("f_to_k", g=212)) == pytest.approx(373.15)
    assert connection.execute(openeo.processes.process("f_to_c_default")) == pytest.approx(0)


def test_datacube_from_process_and_from_json(connection: Any) -> None:
    """docs/datacube_construction.rst: ``datacube_from_process("mean", data=[2, 3, 5, 8])``
    executes to 4.5; ``datacube_from_json`` with a parameter value (9) and with the
    parameter's default (105)."""
    assert connection.datacube_from_process("mean", data=[2, 3, 5, 8]).execute() == 4.5
    raw_json = """{"add": {
        "process_id": "add",
        "arguments": {"x": 5, "y": {"from_parameter": "increment"}},
        "result": true
    }}"""
    assert connection.datacube_from_json(raw_json, parameters={"increment": 4}).execute() == 9
    with_default = """{
        "parameters": [
            {"name": "increment", "schema": {"type": "number"}, "default": 100}
        ],
        "process_graph": {
            "add": {"process_id": "add", "arguments": {"x": 5, "y": {"from_parameter": "increment"}}, "result": true}
        }
    }"""  # noqa: E501
    assert connection.datacube_from_json(with_default).execute() == 105


def test_fancy_load_collection_with_a_default_bbox(connection: Any, tmp_path: Path) -> None:
    """docs/udp.rst "From a parameterized data cube": a ``load_collection`` with its
    spatial extent a parameter with a default, stored and used through
    ``datacube_from_process`` with ``filter_temporal`` after it (netCDF instead of the
    page's GTiff: a cube of several dates is one file per date there)."""
    from openeo.api.process import Parameter

    spatial_extent = Parameter(
        name="bbox", schema="object", default=BBOX, description="The area to load."
    )
    cube = connection.load_collection("SENTINEL2_L2A", spatial_extent=spatial_extent, bands=["B04"])
    connection.save_user_defined_process("fancy_load_collection", cube, parameters=[spatial_extent])

    cube = connection.datacube_from_process("fancy_load_collection")
    cube = cube.filter_temporal(*DATES)
    cube.download(tmp_path / "fancy.nc", format="netCDF")
    got = _nc(tmp_path / "fancy.nc")
    raw = raw_bands(connection, ["B04"], tmp_path / "raw.nc")
    np.testing.assert_array_equal(got["t"].values, raw["t"].values)
    np.testing.assert_array_equal(got["B04"].values, raw["B04"].values)


def test_evi_timeseries_udp_with_a_geometry_parameter(connection: Any, tmp_path: Path) -> None:
    """docs/udp.rst "UDP Example: EVI timeseries": ``load_collection`` without spatial
    extent, ``aggregate_spatial`` over a geometry parameter, stored, then run through
    ``datacube_from_process`` with a polygon and read with ``timeseries_json_to_pandas``
    (docs/basics.rst)."""
    from openeo.api.process import Parameter
    from openeo.rest.conversions import timeseries_json_to_pandas

    temporal_extent = Parameter(
        name="temporal_extent",
        description="The date range to calculate the EVI for.",
        schema={"type": "array", "subtype": "temporal-interval"},
        default=["2018-06-15", "2018-06-27"],
    )
    geometry = Parameter(
        name="geometry",
        description="The geometry (a single (multi)polygon or a feature collection of "
        "(multi)polygons) of to calculate the EVI for.",
        schema={"type": "object", "subtype": "geojson"},
    )
    evi = _evi_cube(connection, temporal_extent=temporal_extent)
    evi_aggregation = evi.aggregate_spatial(geometries=geometry, reducer="mean")
    connection.save_user_defined_process(
        user_defined_process_id="evi_timeseries",
        process_graph=evi_aggregation,
        parameters=[temporal_extent, geometry],
    )

    polygon = FIELDS["features"][0]["geometry"]
    evi_timeseries = connection.datacube_from_process(
        process_id="evi_timeseries", temporal_extent=DATES, geometry=polygon
    )
    evi_timeseries.download(tmp_path / "evi-aggregation.json")
    series = timeseries_json_to_pandas(json.loads((tmp_path / "evi-aggregation.json").read_text()))

    raw = raw_bands(connection, ["B02", "B04", "B08"], tmp_path / "raw.nc")
    inside, evi_values = _covered(raw, polygon), _evi(raw)
    want = [_nan_stat(np.mean, evi_values[t][inside]) for t in range(raw.sizes["t"])]
    assert list(pd.to_datetime(series.index).tz_localize(None)) == list(raw["t"].values)
    np.testing.assert_allclose(series.values.astype(float), want, rtol=1e-5)
    assert np.isfinite(want).sum() >= 2


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


# -- docs/udf.rst ------------------------------------------------------------------------------

#: openeo/udf/udf_signatures.py ``apply_metadata``: a UDF over the bands that returns new
#: bands and says so in its ``apply_metadata``
BANDS_UDF = """
import xarray
from openeo.metadata import CollectionMetadata


def apply_metadata(metadata: CollectionMetadata, context: dict) -> CollectionMetadata:
    return metadata.rename_labels(dimension="bands", target=["ndvi", "ratio"])


def apply_datacube(cube: xarray.DataArray, context: dict) -> xarray.DataArray:
    red = cube.sel(bands="B04")
    nir = cube.sel(bands="B08")
    return xarray.concat([(nir - red) / (nir + red), nir / red], dim="bands")
"""


def test_apply_dimension_over_bands_with_apply_metadata(connection: Any, tmp_path: Path) -> None:
    """docs/udf.rst "apply_dimension ... all band values for a given pixel" and "UDF's
    that transform cube metadata": the bands are named as ``apply_metadata`` says
    (geopysparkdatacube.py ``apply_metadata``, called from ``_run_udf_dimension``)."""
    import openeo

    cube = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=SMALL_BBOX, temporal_extent=DATES, bands=["B04", "B08"]
    )
    cube.apply_dimension(process=openeo.UDF(BANDS_UDF), dimension="bands").download(
        tmp_path / "bands.nc"
    )
    got = _nc(tmp_path / "bands.nc")
    raw = raw_bands(connection, ["B04", "B08"], tmp_path / "raw.nc", bbox=SMALL_BBOX)
    red, nir = (raw[b].values.astype(np.float64) for b in ("B04", "B08"))
    assert [str(v) for v in got.data_vars if v != "crs"] == ["ndvi", "ratio"]
    np.testing.assert_allclose(got["ndvi"].values, (nir - red) / (nir + red), rtol=1e-5)
    np.testing.assert_allclose(got["ratio"].values, nir / red, rtol=1e-5)


def test_legacy_apply_dimension_with_code_and_runtime(connection: Any, tmp_path: Path) -> None:
    """docs/udf.rst "openeo.UDF API and usage changes in version 0.13.0": the legacy
    ``cube.apply_dimension(code=udf_code, runtime="Python", dimension="t")`` still works."""
    udf_code = """
import xarray

def apply_datacube(cube: xarray.DataArray, context: dict) -> xarray.DataArray:
    return cube.cumsum(dim="t")
"""
    cube = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=SMALL_BBOX, temporal_extent=DATES, bands=["B04"]
    )
    with pytest.warns(Warning, match="deprecated"):
        legacy = cube.apply_dimension(code=udf_code, runtime="Python", dimension="t")
    legacy.download(tmp_path / "legacy.nc")
    raw = raw_bands(connection, ["B04"], tmp_path / "raw.nc", bbox=SMALL_BBOX)
    want = np.cumsum(raw["B04"].values.astype(np.float64), axis=0)
    np.testing.assert_allclose(_nc(tmp_path / "legacy.nc")["B04"].values, want, rtol=1e-6)


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


def test_udf_inspect_logging_in_the_job_logs(connection: Any) -> None:
    """docs/udf.rst "Logging from a UDF": ``inspect(data=[cube.shape], message=...)`` in a
    UDF shows in the batch job's logs, with its data (the chunk's bands, y, x)."""
    import openeo

    udf = openeo.UDF("""
from openeo.udf import inspect
import xarray


def apply_datacube(cube: xarray.DataArray, context: dict) -> xarray.DataArray:
    inspect(data=[cube.shape], message="UDF logging shape of my cube")
    cube.values = 0.0001 * cube.values
    return cube
""")
    cube = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=SMALL_BBOX, temporal_extent=DATES,
        bands=["B02", "B03", "B04"],
    )  # fmt: skip
    job = cube.apply(process=udf).create_job(out_format="netCDF")
    job.start_and_wait(max_poll_interval=1, print=lambda *a, **k: None)
    logged = [e for e in job.logs() if e["message"] == "UDF logging shape of my cube"]
    assert logged, job.logs()
    for entry in logged:
        assert entry["level"] == "info" and entry["code"] == "User"
        bands, rows, cols = entry["data"][0]
        assert bands == 3 and rows * cols > 0
