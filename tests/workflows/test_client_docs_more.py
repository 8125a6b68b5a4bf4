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
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from tests.workflows.raw import DATES, raw_bands

#: a few pixels of the seed field (6 x 5 px)
SMALL_BBOX = {"west": 6.6640, "south": 45.2400, "east": 6.6645, "north": 45.2404}


def _nc(path: Path) -> xr.Dataset:
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load()


def _load(connection: Any, bands: list[str] | None, **load: Any) -> Any:
    load.setdefault("temporal_extent", DATES)
    return connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=SMALL_BBOX, bands=bands, **load
    )


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
    (``load_my_vector_cube``, a custom process) and docs/cookbook/tricks.rst "Legacy
    ``read_vector`` usage" (a path on the back-end's file system): one 400 each."""
    from openeo.processes import process

    cube = _load(connection, ["B04"])
    for pid, args in (
        ("load_my_vector_cube", {"url": "https://geo.example/features.db"}),
        ("read_vector", {"filename": "/backend/path/to/geometries.json"}),
    ):
        res = cube.aggregate_spatial(geometries=process(pid, **args), reducer="mean")
        error = _refused(res.execute, "ProcessUnsupported")
        assert pid in error.message


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
    spatial extent as a shapely polygon and as GeoJSON; the dates as ``datetime.date``."""
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
