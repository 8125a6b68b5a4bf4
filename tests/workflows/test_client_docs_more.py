"""More examples of the openeo Python client's own documentation
(github.com/Open-EO/openeo-python-client, docs/processes.rst, docs/data_access.rst,
docs/basics.rst, docs/cookbook/tricks.rst, docs/cookbook/ard.rst,
docs/datacube_construction.rst, docs/machine_learning.rst) through the client against
``hybrid serve``, changed only in URL, AOI and dates.

Each test holds the documented client calls (the page and section are in its docstring)
and checks the result against numpy on the raw bands downloaded from the same server;
what Copernicus refuses or hybrid cannot do offline must come back as one openEO 4xx error.
"""

from __future__ import annotations

import datetime
import functools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from tests.workflows.raw import BBOX, DATES, nanmax_t, raw_bands, read_tiff

#: a few pixels of the seed field (6 x 5 px)
SMALL_BBOX = {"west": 6.6640, "south": 45.2400, "east": 6.6645, "north": 45.2404}


def _nc(path: Path) -> xr.Dataset:
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load()


def _load(connection: Any, bands: list[str] | None, **load: Any) -> Any:
    load.setdefault("temporal_extent", DATES)
    load.setdefault("spatial_extent", SMALL_BBOX)
    return connection.load_collection("SENTINEL2_L2A", bands=bands, **load)


def _get(cube: Any, path: Path, variable: str = "B04") -> np.ndarray:
    cube.download(path, format="netCDF")
    out: np.ndarray = _nc(path)[variable].values.astype(np.float64)
    return out


@pytest.fixture(scope="module")
def raw(connection: Any, tmp_path_factory: pytest.TempPathFactory) -> xr.Dataset:
    path = tmp_path_factory.mktemp("raw") / "raw.nc"
    return raw_bands(connection, ["B02", "B03", "B04", "B08"], path, bbox=SMALL_BBOX)


def _band(raw: xr.Dataset, name: str) -> np.ndarray:
    out: np.ndarray = raw[name].values.astype(np.float64)
    return out


def _refused(call: Any, code: str | None = None) -> Any:
    """The one openEO error of ``call``: a 4xx with an error code, never a 5xx."""
    from openeo.rest import OpenEoApiError

    with pytest.raises(OpenEoApiError) as caught:
        call()
    assert 400 <= caught.value.http_status_code < 500, caught.value
    if code is not None:
        assert caught.value.code == code, caught.value
    return caught.value


# -- docs/processes.rst "Processes with child callbacks" ---------------------------------


def test_callbacks_as_strings_functions_and_lambdas(
    connection: Any, raw: xr.Dataset, tmp_path: Path
) -> None:
    """docs/processes.rst "Callback as string" and "Callback as a callable": ``apply``
    with ``"absolute"``, a function, a lambda, ``openeo.processes.absolute`` and a chained
    ``x.absolute().cos().add(y=1.23)``; ``reduce_dimension`` over ``t`` with ``"max"``,
    ``openeo.processes.max``, ``openeo.processes.sum`` and a ProcessBuilder function."""
    import openeo.processes
    from openeo.processes import ProcessBuilder, absolute

    cube = _load(connection, ["B04", "B08"])
    red = _band(raw, "B04")

    def transform(x: Any) -> Any:
        return x * 2 + 3

    def avg(data: ProcessBuilder) -> Any:
        return data.mean()

    applied = {
        "absolute": (cube.apply("absolute"), np.abs(red)),
        "function": (cube.apply(transform), red * 2 + 3),
        "lambda": (cube.apply(lambda x: x * 2 + 3), red * 2 + 3),
        "process": (cube.apply(absolute), np.abs(red)),
        "chained": (cube.apply(lambda x: x.absolute().cos().add(y=1.23)), np.cos(red) + 1.23),
        "max": (cube.reduce_dimension(reducer="max", dimension="t"), red.max(axis=0)),
        "pmax": (cube.reduce_dimension(reducer=openeo.processes.max, dimension="t"), red.max(0)),
        "sum": (cube.reduce_dimension(dimension="t", reducer=openeo.processes.sum), red.sum(0)),
        "avg": (cube.reduce_dimension(reducer=avg, dimension="t"), red.mean(axis=0)),
    }
    for name, (result, want) in applied.items():
        got = _get(result, tmp_path / f"{name}.nc")
        np.testing.assert_allclose(got, want, rtol=1e-5, err_msg=name)


def test_three_equivalent_reducer_callbacks(
    connection: Any, raw: xr.Dataset, tmp_path: Path
) -> None:
    """docs/processes.rst "Callback as a callable", "The following examples result in the
    same callback": chained methods, functions, methods mixed with operators (the page
    passes the lambda positionally, where the client's first parameter is ``dimension``:
    here as ``reducer=``). Copernicus computes in float32 cells."""
    from openeo.processes import add, cos, mean

    cube = _load(connection, ["B04"])
    want = np.cos(_band(raw, "B04").mean(axis=0)) + 1.23
    reducers = [
        lambda data: data.mean().cos().add(y=1.23),
        lambda data: add(x=cos(mean(data)), y=1.23),
        lambda data: cos(data.mean()) + 1.23,
    ]
    for index, reducer in enumerate(reducers):
        got = _get(cube.reduce_dimension(reducer=reducer, dimension="t"), tmp_path / f"{index}.nc")
        # cos of a mean near 2000: float32 rounding of the mean moves it by ~1e-4
        np.testing.assert_allclose(got, want, atol=5e-4, err_msg=str(index))


def test_callbacks_as_pgnodes(connection: Any, raw: xr.Dataset, tmp_path: Path) -> None:
    """docs/processes.rst "Callback as ``PGNode``": ``add(cos(absolute(x)), 1.23)`` in
    ``apply`` and ``max`` over ``bands`` in ``reduce_dimension`` (one band left: Copernicus
    writes it as the netCDF variable ``var``)."""
    from openeo.internal.graph_building import PGNode

    cube = _load(connection, ["B04", "B08"])
    red, nir = _band(raw, "B04"), _band(raw, "B08")
    applied = cube.apply(
        PGNode("add", x=PGNode("cos", x=PGNode("absolute", x={"from_parameter": "x"})), y=1.23)
    )
    got = _get(applied, tmp_path / "apply.nc")
    np.testing.assert_allclose(got, np.cos(np.abs(red)) + 1.23, rtol=1e-5)
    reduced = cube.reduce_dimension(
        reducer=PGNode("max", data={"from_parameter": "data"}), dimension="bands"
    )
    np.testing.assert_allclose(_get(reduced, tmp_path / "max.nc", "var"), np.maximum(red, nir))


def test_callbacks_with_array_element_if_and_statistics(
    connection: Any, raw: xr.Dataset, tmp_path: Path
) -> None:
    """docs/processes.rst "Callback as a callable" with the processes of
    docs/process_mapping.rst: ``array_element`` by index, ``x[1]`` and by label over
    ``bands``, ``if_(gt(x, v), x, 0)`` in ``apply``, ``median`` and ``sd`` over ``t``."""
    from openeo.processes import array_element, gt, if_, median, sd

    cube = _load(connection, ["B04", "B08"])
    red, nir = _band(raw, "B04"), _band(raw, "B08")
    threshold = float(np.median(red))
    cases = {
        "element": (lambda x: array_element(x, 1) - array_element(x, 0), nir - red),
        "getitem": (lambda x: x[1] / x[0], nir / red),
        "label": (lambda x: x.array_element(label="B08"), nir),
    }
    for name, (reducer, want) in cases.items():
        result = cube.reduce_dimension(dimension="bands", reducer=reducer)
        got = _get(result, tmp_path / f"{name}.nc", "var")
        np.testing.assert_allclose(got, want, rtol=1e-6, err_msg=name)
    got = _get(cube.apply(lambda x: if_(gt(x, threshold), x, 0)), tmp_path / "if.nc")
    np.testing.assert_array_equal(got, np.where(red > threshold, red, 0))
    got = _get(cube.reduce_dimension(dimension="t", reducer=median), tmp_path / "median.nc")
    np.testing.assert_array_equal(got, np.median(red, axis=0))
    got = _get(cube.reduce_dimension(dimension="t", reducer=sd), tmp_path / "sd.nc")
    np.testing.assert_allclose(got, np.std(red, axis=0, ddof=1), rtol=1e-5)


def test_apply_dimension_with_a_value_per_pixel_against_the_array(
    connection: Any, raw: xr.Dataset, tmp_path: Path
) -> None:
    """docs/processes.rst "Processes with child callbacks" (``apply_dimension``): the
    anomaly ``x - x.mean()`` and the change ``x - x[0]`` over ``t``, ``x / x.max()`` and
    ``array_concat(x, array_create([x.mean()]))`` over ``bands``; Copernicus
    applies the operator between the array and the one value to each element
    (openeo-geotrellis-extensions ``OpenEOProcessScriptBuilder.scala`` ``xyFunction``
    L919-925). It was refused: the reduced value lost the dimension."""
    from openeo.processes import array_concat, array_create

    cube = _load(connection, ["B04", "B08"])
    red, nir = _band(raw, "B04"), _band(raw, "B08")
    anomaly = cube.apply_dimension(dimension="t", process=lambda x: x - x.mean())
    got = _get(anomaly, tmp_path / "anomaly.nc")
    np.testing.assert_allclose(got, red - red.mean(axis=0), atol=1e-3)
    share = cube.apply_dimension(dimension="bands", process=lambda x: x / x.max())
    got = _get(share, tmp_path / "share.nc")
    np.testing.assert_allclose(got, red / np.maximum(red, nir), rtol=1e-6)
    change = cube.apply_dimension(dimension="t", process=lambda x: x - x.array_element(0))
    np.testing.assert_array_equal(_get(change, tmp_path / "change.nc"), red - red[0])
    more = cube.apply_dimension(
        dimension="bands", process=lambda x: array_concat(x, array_create([x.mean()]))
    ).rename_labels("bands", ["B04", "B08", "mean"])
    got = _get(more, tmp_path / "more.nc", "mean")
    np.testing.assert_allclose(got, (red + nir) / 2, rtol=1e-6)


def test_linear_scale_range_resample_spatial_and_filter_labels(
    connection: Any, raw: xr.Dataset, tmp_path: Path
) -> None:
    """docs/process_mapping.rst methods used on docs/processes.rst's ``cube``:
    ``linear_scale_range`` (method and in ``apply``), ``resample_spatial(resolution=20,
    method="average")`` (2 x 2 means of the 10 m pixels, stored as whole numbers in the
    int16 cube: Copernicus reads the files with that method into their integer type,
    ``backends/local/resample_pushdown.py``),
    ``filter_labels`` on ``t`` right after the load (Copernicus applies it to the
    scenes when loading, FIELD_NOTES section 5) and on ``bands``, which Copernicus
    ignores (geopysparkdatacube.py L298-301): the job keeps both bands and its log says
    so."""
    from openeo.processes import date_between

    cube = _load(connection, ["B04", "B08"])
    red = _band(raw, "B04")
    # integer output bounds: the integer part (Copernicus converts the tile to uint16,
    # OpenEOProcessScriptBuilder.scala linearScaleRangeFunction L1271-1322)
    want = np.trunc(np.clip(red, 0, 3000) * 255 / 3000)
    got = _get(cube.linear_scale_range(0, 3000, 0, 255), tmp_path / "lsr.nc")
    np.testing.assert_allclose(got, want, rtol=1e-5)
    scaled = cube.apply(lambda x: x.linear_scale_range(0, 3000, 0, 255))
    np.testing.assert_allclose(_get(scaled, tmp_path / "lsr_apply.nc"), want, rtol=1e-5)

    coarse = _nc_of(cube.resample_spatial(resolution=20, method="average"), tmp_path / "rs.nc")
    assert float(coarse["x"].values[1] - coarse["x"].values[0]) == 20
    # an inner 20 m pixel: the outer ones reach beyond the loaded 10 m pixels
    x0 = int(np.searchsorted(raw["x"].values, coarse["x"].values[1] - 5))
    y0 = int(np.searchsorted(-raw["y"].values, -(coarse["y"].values[1] + 5)))
    block = red[:, y0 : y0 + 2, x0 : x0 + 2].reshape(red.shape[0], -1).mean(axis=1)
    assert np.unique(block).size > 1
    assert np.unique(block % 1).size > 1  # some means are not whole: the rounding shows
    np.testing.assert_array_equal(coarse["B04"].values[:, 1, 1], np.floor(block + 0.5))
    assert coarse["B04"].encoding["dtype"] == np.int16

    job = cube.filter_labels(lambda b: b == "B08", "bands").create_job(out_format="netCDF")
    job.start_and_wait(max_poll_interval=0.2, show_error_logs=False)
    (asset,) = job.get_results().get_assets()
    both = _nc(Path(asset.download(tmp_path / "b.nc")))
    assert [str(v) for v in both.data_vars if v != "crs"] == ["B04", "B08"]
    (note,) = [e["message"] for e in job.logs() if "filter_labels on 'bands'" in e["message"]]
    assert "returns the cube unchanged" in note
    days = cube.filter_labels(lambda t: date_between(t, "2023-06-15", "2023-06-25"), "t")
    times = raw["t"].values
    want_t = times[(times >= np.datetime64("2023-06-15")) & (times < np.datetime64("2023-06-25"))]
    assert 0 < want_t.size < times.size
    np.testing.assert_array_equal(_nc_of(days, tmp_path / "t.nc")["t"].values, want_t)


def _nc_of(cube: Any, path: Path) -> xr.Dataset:
    cube.download(path, format="netCDF")
    return _nc(path)


# -- docs/processes.rst "Generic API for adding processes" ---------------------------------


def test_generic_process_calls(connection: Any, raw: xr.Dataset, tmp_path: Path) -> None:
    """docs/processes.rst "Basics" and "Passing data cube arguments": ``cube.process("mean",
    ...)`` on a literal list (dict and keyword form), ``process("ndvi", data=cube)`` and the
    ``THIS`` chain ``filter_bands`` -> ``mask`` -> ``ndvi``."""
    from openeo.rest.datacube import THIS

    cube = _load(connection, ["B04", "B08"])
    assert cube.process("mean", {"data": [1, 3, -1]}).execute() == 1
    assert cube.process("mean", data=[1, 3, -1]).execute() == 1

    red, nir = _band(raw, "B04"), _band(raw, "B08")
    ndvi = (nir - red) / (nir + red)
    got = _get(cube.process("ndvi", data=cube), tmp_path / "ndvi.nc", "var")
    np.testing.assert_allclose(got, ndvi, rtol=1e-5)

    threshold = float(np.median(red))
    mask = cube.band("B04") > threshold
    res = (
        cube.process("filter_bands", data=THIS, bands=["B04", "B08"])
        .process("mask", data=THIS, mask=mask)
        .process("ndvi", data=THIS)
    )
    want = np.where(red > threshold, np.nan, ndvi)
    assert np.isnan(want).any() and np.isfinite(want).any()
    got = _get(res, tmp_path / "masked.nc", "var")
    np.testing.assert_allclose(got, want, rtol=1e-5, equal_nan=True)


def test_unknown_and_backend_file_processes_are_refused(connection: Any) -> None:
    """docs/processes.rst "Passing results from other process calls as arguments"
    (``load_my_vector_cube``, a custom process): one 400 ProcessUnsupported; and
    docs/cookbook/tricks.rst "Legacy ``read_vector`` usage", a path on the back-end's file
    system that is not there: one 400 naming the path (read_vector reads a file that is:
    tests/workflows/test_vector_cube_loads.py)."""
    from openeo.processes import process

    cube = _load(connection, ["B04"])
    custom = process("load_my_vector_cube", url="https://geo.example/features.db")
    res = cube.aggregate_spatial(geometries=custom, reducer="mean")
    assert "load_my_vector_cube" in _refused(res.execute, "ProcessUnsupported").message
    legacy = process("read_vector", filename="/backend/path/to/geometries.json")
    res = cube.aggregate_spatial(geometries=legacy, reducer="mean")
    error = _refused(res.execute, "ProcessParameterInvalid")
    assert "there is no file /backend/path/to/geometries.json" in error.message


def test_update_arguments_with_a_non_standard_argument(
    connection: Any, raw: xr.Dataset, tmp_path: Path
) -> None:
    """docs/processes.rst "Advanced argument tweaking": ``feature_flags`` added to the
    ``load_collection`` node is ignored, as Copernicus reads only the arguments it knows
    (openeo-python-driver ``ProcessGraphDeserializer.py`` ``load_collection``)."""
    cube = _load(connection, ["B04"])
    cube.result_node().update_arguments(feature_flags="rXPk")
    assert "feature_flags" in cube.flat_graph()["loadcollection1"]["arguments"]
    np.testing.assert_array_equal(_get(cube, tmp_path / "ff.nc"), _band(raw, "B04"))


# -- docs/data_access.rst ------------------------------------------------------------------


def _same(got: xr.Dataset, want: xr.Dataset, bands: list[str]) -> None:
    assert [str(v) for v in got.data_vars if v != "crs"] == bands
    np.testing.assert_array_equal(got["t"].values, want["t"].values)
    for band in bands:
        np.testing.assert_array_equal(got[band].values, want[band].values, err_msg=band)


def test_filters_after_load_collection_and_spatial_extent_forms(
    connection: Any, raw: xr.Dataset, tmp_path: Path
) -> None:
    """docs/data_access.rst "Loading a data cube from a collection": ``load_collection``
    then ``filter_bbox(**bbox)``, ``filter_temporal(start, end)``, ``filter_bands``; the
    spatial extent as a shapely polygon, as GeoJSON and as a bbox with a ``crs`` (the
    UTM edges of the raw grid); the dates as ``datetime.date``."""
    import pyproj
    import shapely.geometry

    bands = ["B04", "B03", "B02"]
    cube = connection.load_collection("SENTINEL2_L2A")
    cube = cube.filter_bbox(**SMALL_BBOX).filter_temporal(*DATES).filter_bands(bands)
    cube.download(tmp_path / "filters.nc", format="netCDF")
    _same(_nc(tmp_path / "filters.nc"), raw, bands)

    box = shapely.geometry.box(*(SMALL_BBOX[k] for k in ("west", "south", "east", "north")))
    dates = [datetime.date.fromisoformat(d) for d in DATES]
    for name, extent in (("shapely", box), ("geojson", shapely.geometry.mapping(box))):
        cube = connection.load_collection(
            "SENTINEL2_L2A", spatial_extent=extent, temporal_extent=dates, bands=bands
        )
        cube.download(tmp_path / f"{name}.nc", format="netCDF")
        _same(_nc(tmp_path / f"{name}.nc"), raw, bands)

    half = 5.0  # the raw grid's outer edges, in its own UTM CRS
    xs, ys = raw["x"].values, raw["y"].values
    utm = {"west": xs.min() - half, "east": xs.max() + half, "south": ys.min() - half}
    epsg = pyproj.CRS.from_wkt(raw["crs"].attrs["crs_wkt"]).to_epsg()
    utm.update(north=ys.max() + half, crs=epsg)
    cube = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=utm, temporal_extent=DATES, bands=bands
    )
    cube.download(tmp_path / "utm.nc", format="netCDF")
    _same(_nc(tmp_path / "utm.nc"), raw, bands)


@pytest.mark.slow
def test_temporal_extent_shorthands(connection: Any, tmp_path: Path) -> None:
    """docs/data_access.rst "Year/month shorthand notation" and "Single string temporal
    extents": the four ``filter_temporal`` forms of months, ``extent="2023-06"`` and
    ``load_collection(temporal_extent="2023-06")`` all load June (left-closed); a day as
    a single string loads that day; an RFC 3339 end excludes what follows it."""
    month = ["2023-06-01", "2023-07-01"]
    june = _nc_times(connection, tmp_path / "june.nc", temporal_extent=month)
    assert june.size >= 5
    assert (june >= np.datetime64(month[0])).all() and (june < np.datetime64(month[1])).all()
    cube = _load(connection, ["B04"], temporal_extent=None)
    forms = {
        "positional": cube.filter_temporal("2023-06", "2023-07"),
        "list": cube.filter_temporal(["2023-06", "2023-07"]),
        "keywords": cube.filter_temporal(start_date="2023-06", end_date="2023-07"),
        "extent": cube.filter_temporal(extent=("2023-06", "2023-07")),
        "single": cube.filter_temporal(extent="2023-06"),
    }
    for name, form in forms.items():
        form.download(tmp_path / f"{name}.nc", format="netCDF")
        np.testing.assert_array_equal(_nc(tmp_path / f"{name}.nc")["t"].values, june, name)
    got = _nc_times(connection, tmp_path / "load.nc", temporal_extent="2023-06")
    np.testing.assert_array_equal(got, june)
    day = str(june[3])[:10]
    got = _nc_times(connection, tmp_path / "day.nc", temporal_extent=day)
    np.testing.assert_array_equal(got, june[3:4])
    rfc = [f"{day}T00:00:00Z", f"{str(june[4])[:10]}T00:00:00Z"]
    got = _nc_times(connection, tmp_path / "rfc.nc", temporal_extent=rfc)
    np.testing.assert_array_equal(got, june[3:4])


def _nc_times(connection: Any, path: Path, **load: Any) -> np.ndarray:
    _load(connection, ["B04"], **load).download(path, format="netCDF")
    out: np.ndarray = _nc(path)["t"].values
    return out


def _clear_dates(sample_catalog: Path, limit: float) -> list[np.datetime64]:
    """The dates whose sample items over SMALL_BBOX have at most ``limit`` % cloud."""
    import shapely.geometry

    box = shapely.geometry.box(*(SMALL_BBOX[k] for k in ("west", "south", "east", "north")))
    dates: dict[str, bool] = {}
    for item_path in sample_catalog.parent.glob("*/*.json"):
        item = json.loads(item_path.read_text())
        day = item["properties"]["datetime"][:10]
        if DATES[0] <= day < DATES[1] and shapely.geometry.shape(item["geometry"]).intersects(box):
            clear = item["properties"]["eo:cloud_cover"] <= limit
            dates[day] = dates.get(day, False) or clear
    return sorted(np.datetime64(day, "ns") for day, clear in dates.items() if clear)


def test_cloud_cover_property_filters(
    connection: Any, raw: xr.Dataset, sample_catalog: Path, tmp_path: Path
) -> None:
    """docs/data_access.rst "Filter on collection properties": ``max_cloud_cover=50``,
    ``properties={"eo:cloud_cover": lambda x: x <= 50}`` and
    ``openeo.collection_property("eo:cloud_cover") <= 50`` keep the dates whose items
    have at most 50 % cloud (read from the sample's STAC items), with the raw values."""
    import openeo

    want = _clear_dates(sample_catalog, 50)
    assert 0 < len(want) < raw.sizes["t"], "some dates must be cloudier than 50 %"
    filters = {
        "max_cloud_cover": {"max_cloud_cover": 50},
        "lambda": {"properties": {"eo:cloud_cover": lambda x: x <= 50}},
        "collection_property": {"properties": [openeo.collection_property("eo:cloud_cover") <= 50]},
    }
    for name, load in filters.items():
        _load(connection, ["B04"], **load).download(tmp_path / f"{name}.nc", format="netCDF")
        got = _nc(tmp_path / f"{name}.nc")
        np.testing.assert_array_equal(got["t"].values, want, name)
        np.testing.assert_array_equal(got["B04"].values, raw["B04"].sel(t=want).values, name)


def test_load_collection_without_bands_loads_every_band(
    connection: Any, raw: xr.Dataset, tmp_path: Path
) -> None:
    """docs/datacube_construction.rst "The load_collection process" and
    docs/data_access.rst: ``load_collection`` without ``bands`` loads all the
    collection's bands, in the order of its ``cube:dimensions``."""
    listed = connection.describe_collection("SENTINEL2_L2A")["cube:dimensions"]["bands"]["values"]
    day = [str(raw["t"].values[0])[:10], str(raw["t"].values[1])[:10]]
    _load(connection, None, temporal_extent=day).download(tmp_path / "all.nc", format="netCDF")
    got = _nc(tmp_path / "all.nc")
    assert [str(v) for v in got.data_vars if v != "crs"] == listed
    np.testing.assert_array_equal(got["B08"].values, raw["B08"].values[:1])


# -- docs/cookbook/tricks.rst --------------------------------------------------------------


def test_execute_and_download_raw_json(connection: Any, raw: xr.Dataset, tmp_path: Path) -> None:
    """docs/cookbook/tricks.rst "Export a process graph" and "Execute a process graph
    directly from raw JSON": ``connection.execute`` of a JSON string, ``download`` and
    ``create_job`` of a graph exported with ``cube.to_json()`` to a local file. The
    exported graph has no save_result: Copernicus writes a batch job's cube as GTiff then
    (geopyspark-driver ``deploy/batch_job.py`` L368-372)."""
    assert (
        connection.execute(
            '{"add": {"process_id": "add", "arguments": {"x": 3, "y": 5}, "result": true}}'
        )
        == 8
    )
    cube = _load(connection, ["B04", "B08"]).reduce_dimension(dimension="t", reducer="max")
    export_path = tmp_path / "export.json"
    export_path.write_text(cube.to_json(), encoding="utf8")
    want = np.stack([_band(raw, "B04").max(axis=0), _band(raw, "B08").max(axis=0)])
    connection.download(str(export_path), tmp_path / "sync.tif")
    np.testing.assert_array_equal(read_tiff(tmp_path / "sync.tif"), want)

    job = connection.create_job(str(export_path)).start_and_wait()
    assets = job.get_results().get_assets()
    assert [a.key for a in assets] == ["openEO.tif"]
    assets[0].download(tmp_path / "job.tif")
    np.testing.assert_array_equal(read_tiff(tmp_path / "job.tif"), want)


# -- docs/datacube_construction.rst --------------------------------------------------------


def _convolved(values: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """The inner pixels of each date convolved with a 3 x 3 kernel (the border pixels
    read neighbours outside the loaded extent)."""
    rows, cols = values.shape[-2:]
    out = np.zeros((*values.shape[:-2], rows - 2, cols - 2))
    for dy in range(3):
        for dx in range(3):
            out += kernel[2 - dy, 2 - dx] * values[..., dy : rows - 2 + dy, dx : cols - 2 + dx]
    return out


def test_datacube_from_json_with_apply_kernel(
    connection: Any, raw: xr.Dataset, tmp_path: Path
) -> None:
    """docs/datacube_construction.rst "Construct a DataCube from JSON", "Some examples":
    ``load_collection`` -> ``apply_kernel`` as raw JSON, then with the kernel as a
    parameter with a default; the factor 1, so the weights sum to 17."""
    kernel = [[1, 2, 1], [2, 5, 2], [1, 2, 1]]
    load = {
        "id": "SENTINEL2_L2A",
        "spatial_extent": SMALL_BBOX,
        "temporal_extent": DATES,
        "bands": ["B04"],
    }
    graph = {
        "lc": {"process_id": "load_collection", "arguments": load},
        "ak": {
            "process_id": "apply_kernel",
            "arguments": {"data": {"from_node": "lc"}, "kernel": kernel},
            "result": True,
        },
    }
    with_parameter = {
        "parameters": [{"name": "kernel", "schema": {"type": "array"}, "default": kernel}],
        "process_graph": json.loads(json.dumps(graph)),
    }
    with_parameter["process_graph"]["ak"]["arguments"]["kernel"] = {"from_parameter": "kernel"}
    want = _convolved(_band(raw, "B04"), np.array(kernel, dtype=np.float64))
    for name, document in (("raw", graph), ("parameter", with_parameter)):
        cube = connection.datacube_from_json(json.dumps(document))
        got = _get(cube, tmp_path / f"{name}.nc")
        np.testing.assert_allclose(got[:, 1:-1, 1:-1], want, rtol=1e-6, err_msg=name)


def test_datacube_from_json_parameters(connection: Any) -> None:
    """docs/datacube_construction.rst "Parameterization": ``add(5, increment)`` with
    ``parameters={"increment": 4}`` is 9, with the default 100 it is 105."""
    add = {
        "process_id": "add",
        "arguments": {"x": 5, "y": {"from_parameter": "increment"}},
        "result": True,
    }
    cube = connection.datacube_from_json(json.dumps({"add": add}), parameters={"increment": 4})
    assert cube.execute() == 9
    document = {
        "parameters": [{"name": "increment", "schema": {"type": "number"}, "default": 100}],
        "process_graph": {"add": add},
    }
    assert connection.datacube_from_json(json.dumps(document)).execute() == 105


def test_datacube_from_flat_graph_and_process_on_it(
    connection: Any, raw: xr.Dataset, tmp_path: Path
) -> None:
    """docs/datacube_construction.rst, ``Connection.datacube_from_flat_graph`` of a
    temporal mean, then ``process("linear_scale_range", x=THIS, ...)`` on that cube."""
    from openeo.rest.datacube import THIS

    flat = _load(connection, ["B04"]).reduce_dimension(dimension="t", reducer="mean").flat_graph()
    cube = connection.datacube_from_flat_graph(flat)
    mean = _band(raw, "B04").mean(axis=0)
    np.testing.assert_allclose(_get(cube, tmp_path / "mean.nc"), mean, rtol=1e-6)
    scaled = cube.process(
        "linear_scale_range", x=THIS, inputMin=0, inputMax=3000, outputMin=0, outputMax=255
    )
    # integer output bounds: the integer part (geopysparkdatacube.py linear_scale_range
    # converts to uint16); the mean of B04 stays below 3000 here, where it would not clip
    assert np.nanmax(mean) < 3000
    want = np.trunc(np.asarray(mean * 255 / 3000, np.float32))
    np.testing.assert_allclose(_get(scaled, tmp_path / "scaled.nc"), want, rtol=1e-5)


def test_multiple_result_nodes_in_one_job(connection: Any, raw: xr.Dataset, tmp_path: Path) -> None:
    """docs/datacube_construction.rst "Building process graphs with multiple result
    nodes": ``connection.create_job([res1, res2])``, a GTiff per date and a netCDF."""
    cube = _load(connection, ["B04"])
    res1 = cube.save_result(format="GTiff")
    res2 = cube.reduce_dimension(dimension="t", reducer="max").save_result(format="netCDF")
    job = connection.create_job([res1, res2]).start_and_wait()
    assets = {a.key: a for a in job.get_results().get_assets()}
    dates = [str(t)[:10] for t in raw["t"].values]
    assert sorted(assets) == sorted([f"openEO_{d}Z.tif" for d in dates] + ["openEO.nc"])
    assets["openEO.nc"].download(tmp_path / "max.nc")
    got = _nc(tmp_path / "max.nc")["B04"].values
    np.testing.assert_array_equal(got, _band(raw, "B04").max(axis=0))
    assets[f"openEO_{dates[2]}Z.tif"].download(tmp_path / "day.tif")
    np.testing.assert_array_equal(read_tiff(tmp_path / "day.tif")[0], _band(raw, "B04")[2])


# -- docs/cookbook/ard.rst, docs/machine_learning.rst -------------------------------------


def test_ard_processes_are_refused_and_the_machine_learning_page_runs(
    connection: Any, tmp_path: Path
) -> None:
    """docs/cookbook/ard.rst (``atmospheric_correction``, ``sar_backscatter``, the CARD4L
    variants): Copernicus has them, hybrid cannot run them offline, so each is one 400
    ``ProcessUnsupported`` naming the process. docs/machine_learning.rst runs: its one
    sample point trains a model (a single class, 3) in a batch job, and
    ``predict_random_forest`` with the model by the job's id predicts 3 wherever the
    bands have data; a model id that is no job and no URL is one 400."""
    cube = _load(connection, ["B02", "B03", "B04"])
    calls = {
        "atmospheric_correction": lambda: cube.atmospheric_correction(method="iCor"),
        "ard_surface_reflectance": lambda: cube.ard_surface_reflectance(
            atmospheric_correction_method="FORCE", cloud_detection_method="Fmask"
        ),
        "sar_backscatter": lambda: cube.sar_backscatter(),
        "ard_normalized_radar_backscatter": lambda: cube.ard_normalized_radar_backscatter(),
    }
    for pid, build in calls.items():
        error = _refused(functools.partial(build().download, format="GTiff"), "ProcessUnsupported")
        assert pid in error.message, error
    points = {"type": "Point", "coordinates": [6.6642, 45.2402]}
    samples = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": {"target": 3}, "geometry": points}],
    }
    composite = cube.reduce_dimension(dimension="t", reducer="mean")
    predictors = composite.aggregate_spatial(samples, reducer="mean")
    job = predictors.fit_class_random_forest(target=samples).save_ml_model().create_job()
    job.start_and_wait()
    assert list(job.get_results().get_metadata()["assets"]) == ["randomforest.model.tar.gz"]
    predicted = composite.predict_random_forest(model=job.job_id, dimension="bands")
    predicted.download(tmp_path / "classes.tif", format="GTiff")
    classes = read_tiff(tmp_path / "classes.tif")[0]
    assert set(np.unique(classes[~np.isnan(classes)])) == {3.0}
    unknown = composite.predict_random_forest(model="j-123", dimension="bands")
    error = _refused(functools.partial(unknown.download, format="GTiff"), "ProcessParameterInvalid")
    assert "load_ml_model" in error.message


# -- docs/basics.rst -----------------------------------------------------------------------


def test_evi_composites_downloaded_by_file_extension(connection: Any, tmp_path: Path) -> None:
    """docs/basics.rst "Download (synchronously)" and "Applying a cloud mask":
    ``evi_cube.max_time().download("evi-composite.tiff")`` (the format from the
    extension) and the SCL mask from a second ``load_collection``, resampled onto the EVI
    cube, then ``max_time`` again; the same composite as ``.nc``. Over the seed field:
    the few pixels elsewhere have no vegetation."""
    s2 = _load(connection, ["B02", "B04", "B08"], spatial_extent=BBOX)
    blue = s2.band("B02") * 0.0001
    red = s2.band("B04") * 0.0001
    nir = s2.band("B08") * 0.0001
    evi_cube = 2.5 * (nir - red) / (nir + 6.0 * red - 7.5 * blue + 1.0)
    evi_cube.max_time().download(tmp_path / "evi-composite.tiff")
    raw = raw_bands(connection, ["B02", "B04", "B08", "SCL"], tmp_path / "raw.nc")
    b, r, n = (_band(raw, x) * 0.0001 for x in ("B02", "B04", "B08"))
    evi = 2.5 * (n - r) / (n + 6.0 * r - 7.5 * b + 1.0)
    got = read_tiff(tmp_path / "evi-composite.tiff")[0]
    np.testing.assert_allclose(got, evi.max(axis=0), rtol=1e-5)

    s2_scl = _load(connection, ["SCL"], spatial_extent=BBOX)
    scl = raw["SCL"].values
    mask_resampled = (s2_scl.band("SCL") != 4).resample_cube_spatial(evi_cube)
    masked = evi_cube.mask(mask_resampled).max_time()
    masked.download(tmp_path / "evi-masked-composite.tiff")
    masked.download(tmp_path / "evi-masked-composite.nc")
    want = nanmax_t(np.where(scl == 4, evi, np.nan))
    assert np.isfinite(want).any() and (np.where(scl == 4, evi, -9) < evi.max(0)).any()
    got = read_tiff(tmp_path / "evi-masked-composite.tiff")[0]
    np.testing.assert_allclose(got, want, rtol=1e-5, equal_nan=True)
    got = _nc(tmp_path / "evi-masked-composite.nc")["var"].values
    np.testing.assert_allclose(got, want, rtol=1e-5, equal_nan=True)


def test_download_as_png(connection: Any, raw: xr.Dataset, tmp_path: Path) -> None:
    """docs/basics.rst "Download (synchronously)", ``download("...png")``: the client
    takes the format from the extension if the back-end lists it; Copernicus lists PNG
    and writes 8-bit greyscale or RGB (geopyspark-driver ``backend.py`` L580-600,
    geotrellis-extensions ``png/package.scala`` ``toScanLines``: the integer part, low 8
    bits). An RGB composite scaled to 0-255, and one band as greyscale."""
    pil = pytest.importorskip("PIL.Image")
    rgb = _load(connection, ["B04", "B03", "B02"]).max_time()
    rgb.linear_scale_range(0, 3000, 0, 255).download(tmp_path / "rgb.png")
    composite = [_band(raw, b).max(axis=0) for b in ("B04", "B03", "B02")]
    scaled = [np.clip(values, 0, 3000) / 3000 * 255 for values in composite]
    want = np.trunc(np.stack(scaled, axis=-1))
    np.testing.assert_array_equal(np.asarray(pil.open(tmp_path / "rgb.png")), want)
    rgb.band("B04").download(tmp_path / "red.png", format="PNG")
    want_grey = _band(raw, "B04").max(axis=0).astype(np.int64) & 0xFF
    np.testing.assert_array_equal(np.asarray(pil.open(tmp_path / "red.png")), want_grey)
