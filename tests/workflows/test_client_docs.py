"""Examples of the openeo Python client's own documentation
(github.com/Open-EO/openeo-python-client, docs/) through the client against
``hybrid serve``, changed only in URL, AOI and dates.

Each test holds the documented client calls (the source path is in its docstring) and
checks the result against numpy on the raw bands downloaded from the same server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from tests.workflows.raw import DATES, raw_bands

#: a few pixels of the seed field (a callback that multiplies the band count by the
#: pixel count stays small enough to fail fast)
SMALL_BBOX = {"west": 6.6640, "south": 45.2400, "east": 6.6645, "north": 45.2404}


def _nc(path: Path) -> xr.Dataset:
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load()


def test_append_indices_adds_the_indices_as_bands(connection: Any, tmp_path: Path) -> None:
    """docs/cookbook/spectral_indices.rst: ``append_indices`` keeps the bands and adds one
    per index (``apply_dimension`` over bands with ``array_modify``, then
    ``rename_labels``), as Copernicus's arrayModifyFunction inserts the values."""
    from openeo.extra.spectral_indices import append_indices

    cube = connection.load_collection(
        "SENTINEL2_L2A",
        spatial_extent=SMALL_BBOX,
        temporal_extent=DATES,
        bands=["B02", "B04", "B08"],
    )
    cube = append_indices(cube, ["NDVI", "EVI"])
    cube.download(tmp_path / "indices.nc", format="netCDF")
    got = _nc(tmp_path / "indices.nc")

    raw = raw_bands(connection, ["B02", "B04", "B08"], tmp_path / "raw.nc", bbox=SMALL_BBOX)
    b, r, n = (raw[x].values.astype(np.float64) for x in ("B02", "B04", "B08"))
    assert [str(v) for v in got.data_vars if v != "crs"] == ["B02", "B04", "B08", "NDVI", "EVI"]
    for band, values in (("B02", b), ("B04", r), ("B08", n)):
        np.testing.assert_array_equal(got[band].values, values)
    with np.errstate(all="ignore"):  # on the digital numbers: the client does not rescale
        ndvi = (n - r) / (n + r)
        evi = 2.5 * (n - r) / (n + 6.0 * r - 7.5 * b + 1.0)
    np.testing.assert_allclose(got["NDVI"].values, ndvi, rtol=1e-5, equal_nan=True)
    np.testing.assert_allclose(got["EVI"].values, evi, rtol=1e-5, equal_nan=True)


def test_merge_cubes_with_a_reducer_as_overlap_resolver(connection: Any, tmp_path: Path) -> None:
    """openeo/rest/datacube.py ``merge_cubes(other, overlap_resolver="max")``: the client
    writes the reducer as ``max(data=[x, y])``, references inside a list. Copernicus takes
    a one-process resolver by its process id (openeo-python-driver
    ``process_implementations/cubes.py`` ``merge_cubes``)."""
    red = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=SMALL_BBOX, temporal_extent=DATES, bands=["B04"]
    )
    doubled = red.apply(lambda x: x * 2)
    raw = raw_bands(connection, ["B04"], tmp_path / "raw.nc", bbox=SMALL_BBOX)
    for name, want in (("max", 2.0), ("min", 1.0), ("sum", 3.0)):
        merged = red.merge_cubes(doubled, overlap_resolver=name)
        merged.download(tmp_path / f"{name}.nc", format="netCDF")
        got = _nc(tmp_path / f"{name}.nc")["B04"].values
        np.testing.assert_allclose(got, want * raw["B04"].values, rtol=1e-6, err_msg=name)


def test_apply_dimension_over_time_with_fewer_values_keeps_dates(
    connection: Any, tmp_path: Path
) -> None:
    """``apply_dimension(dimension="t", process=lambda x: x.quantiles(...))`` returns
    fewer values than dates: Copernicus gives them the first dates in order
    (openeo-geotrellis-extensions ``OpenEOProcesses.scala`` ``createTemporalCallback``:
    ``labels.zip(resultTiles)``), not integers a netCDF then reads as seconds after 1970."""
    cube = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=SMALL_BBOX, temporal_extent=DATES, bands=["B04"]
    )
    probabilities = [0.1, 0.5, 0.9]
    quantiles = cube.apply_dimension(
        dimension="t", process=lambda x: x.quantiles(probabilities=probabilities)
    )
    quantiles.download(tmp_path / "quantiles.nc", format="netCDF")
    got = _nc(tmp_path / "quantiles.nc")

    raw = raw_bands(connection, ["B04"], tmp_path / "raw.nc", bbox=SMALL_BBOX)
    assert raw.sizes["t"] > len(probabilities)
    np.testing.assert_array_equal(got["t"].values, raw["t"].values[: len(probabilities)])
    want = np.quantile(raw["B04"].values.astype(np.float64), probabilities, axis=0)
    # stored into int16 tiles there (multibandMapToNewTiles): the integer part
    np.testing.assert_array_equal(got["B04"].values, np.trunc(want))


def test_array_concat_of_new_values_adds_bands(connection: Any, tmp_path: Path) -> None:
    """``apply_dimension`` over bands with ``array_concat(x, array_create([...]))``: one
    band per new value, as Copernicus's arrayConcatFunction
    (openeo-geotrellis-extensions ``OpenEOProcessScriptBuilder.scala``)."""
    from openeo.processes import array_concat, array_create

    cube = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=SMALL_BBOX, temporal_extent=DATES, bands=["B04", "B08"]
    )
    more = cube.apply_dimension(
        dimension="bands",
        process=lambda x: array_concat(
            x, array_create([x.array_element(0) * 2, x.array_element(1) - x.array_element(0)])
        ),
    ).rename_labels("bands", ["B04", "B08", "red2", "diff"])
    more.download(tmp_path / "more.nc", format="netCDF")
    got = _nc(tmp_path / "more.nc")

    raw = raw_bands(connection, ["B04", "B08"], tmp_path / "raw.nc", bbox=SMALL_BBOX)
    r, n = (raw[x].values.astype(np.float64) for x in ("B04", "B08"))
    assert [str(v) for v in got.data_vars if v != "crs"] == ["B04", "B08", "red2", "diff"]
    np.testing.assert_array_equal(got["B08"].values, n)
    np.testing.assert_allclose(got["red2"].values, 2 * r)
    np.testing.assert_allclose(got["diff"].values, n - r)


def test_renamed_dimensions_are_written_as_copernicus_writes_them(
    connection: Any, tmp_path: Path
) -> None:
    """``rename_dimension`` renames the metadata only on Copernicus (geopysparkdatacube.py
    L304-305), so later processes use the new names and the file is the same as without
    the renaming: ``t``, and one variable per band."""
    cube = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=SMALL_BBOX, temporal_extent=DATES, bands=["B04", "B08"]
    )
    cube.download(tmp_path / "plain.nc", format="netCDF")
    renamed = cube.rename_dimension("t", "time").rename_dimension("bands", "spectral")
    renamed.download(tmp_path / "renamed.nc", format="netCDF")
    plain, got = _nc(tmp_path / "plain.nc"), _nc(tmp_path / "renamed.nc")
    assert dict(got.sizes) == dict(plain.sizes)
    for band in ("B04", "B08"):
        np.testing.assert_array_equal(got[band].values, plain[band].values)
    np.testing.assert_array_equal(got["t"].values, plain["t"].values)
    mean = renamed.reduce_dimension(dimension="time", reducer="mean")
    mean.download(tmp_path / "mean.nc", format="netCDF")
    with np.errstate(all="ignore"):
        expected = np.nanmean(plain["B08"].values.astype(np.float64), axis=0)
    np.testing.assert_allclose(_nc(tmp_path / "mean.nc")["B08"].values, expected, rtol=1e-6)


def test_dimensions_added_or_targeted_are_written_as_copernicus_writes_them(
    connection: Any, tmp_path: Path
) -> None:
    """``add_dimension`` of type other adds to the metadata only on Copernicus
    (geopysparkdatacube.py L447-461): the file is the plain one (it was a 400, "must be
    a permuted list"). ``apply_dimension`` with a new ``target_dimension`` computes in
    place and renames the dimension (openeo-python-driver process_implementations/
    cubes.py L111-125): over bands the band variables keep their names (they were "0",
    "1"), over time the dates (it was a 400 at save)."""
    from openeo.processes import array_append, array_element

    cube = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=SMALL_BBOX, temporal_extent=DATES, bands=["B04", "B08"]
    )
    cube.download(tmp_path / "plain.nc", format="netCDF")
    plain = _nc(tmp_path / "plain.nc")
    cube.add_dimension("extra", "foo", type="other").download(tmp_path / "added.nc")
    added = _nc(tmp_path / "added.nc")
    assert dict(added.sizes) == dict(plain.sizes)
    np.testing.assert_array_equal(added["B08"].values, plain["B08"].values)
    twice = cube.apply_dimension(
        dimension="bands", target_dimension="newbands", process=lambda d: d * 2
    )
    twice.download(tmp_path / "twice.nc")
    got = _nc(tmp_path / "twice.nc")
    assert [str(v) for v in got.data_vars if v != "crs"] == ["B04", "B08"]
    np.testing.assert_array_equal(got["B04"].values, 2 * plain["B04"].values)
    steps = cube.apply_dimension(dimension="t", target_dimension="steps", process="cumsum")
    steps.download(tmp_path / "steps.nc")
    got = _nc(tmp_path / "steps.nc")
    np.testing.assert_array_equal(got["t"].values, plain["t"].values)
    want = np.cumsum(plain["B08"].values.astype(np.float64), axis=0)
    np.testing.assert_allclose(got["B08"].values, want, rtol=1e-6)
    appended = cube.apply_dimension(
        dimension="bands",
        process=lambda d: array_append(
            d, array_element(d, label="B08") - array_element(d, label="B04")
        ),
    ).rename_labels("bands", ["B04", "B08", "diff"])
    appended.download(tmp_path / "appended.nc")
    got = _nc(tmp_path / "appended.nc")
    np.testing.assert_allclose(got["diff"].values, plain["B08"].values - plain["B04"].values)


def test_a_raster_saved_as_json_is_copernicus_xarray_json(connection: Any, tmp_path: Path) -> None:
    """``save_result(format="JSON")`` of a raster cube: Copernicus writes the collected
    DataArray with the client's ``XarrayIO.to_json_file`` (geopysparkdatacube.py
    ``write_assets``, ``_collect_as_xarray``: dims t, bands, x, y; x and y ascending), so
    ``XarrayIO.from_json_file`` reads it back with the values of the netCDF."""
    from openeo.udf.xarraydatacube import XarrayIO

    cube = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=SMALL_BBOX, temporal_extent=DATES, bands=["B04", "B08"]
    )
    cube.download(tmp_path / "cube.nc", format="netCDF")
    cube.download(tmp_path / "cube.json", format="JSON")
    got = XarrayIO.from_json_file(tmp_path / "cube.json")
    plain = _nc(tmp_path / "cube.nc")
    assert got.dims == ("t", "bands", "x", "y")
    assert list(got["bands"].values) == ["B04", "B08"]
    assert (np.diff(got["y"].values) > 0).all() and (np.diff(got["x"].values) > 0).all()
    assert "+proj=utm" in got.attrs["crs"] and got.attrs["grid_mapping"] == "spatial_ref"
    for i, band in enumerate(("B04", "B08")):
        expected = plain[band].transpose("t", "x", "y").sortby("y").values
        np.testing.assert_array_equal(got.isel(bands=i).values, expected)
    np.testing.assert_array_equal(got["t"].values, plain["t"].values)


def test_array_concat_of_an_array_create_and_a_list_over_time(
    connection: Any, tmp_path: Path
) -> None:
    """``apply_dimension`` over ``t`` returning ``array_concat(array_create([a]), [b])``
    (as the Dynamic land cover notebook builds its features): the values in order, on
    the first dates, as Copernicus's arrayConcatFunction and createTemporalCallback
    (openeo-geotrellis-extensions ``OpenEOProcessScriptBuilder.scala``,
    ``OpenEOProcesses.scala``)."""
    from openeo.processes import array_concat, array_create

    cube = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=SMALL_BBOX, temporal_extent=DATES, bands=["B04", "B08"]
    )
    picked = cube.apply_dimension(
        dimension="t",
        process=lambda x: array_concat(
            array_create([x.array_element(2)]), [x.array_element(4), x.array_element(0)]
        ),
    )
    picked.download(tmp_path / "picked.nc", format="netCDF")
    got = _nc(tmp_path / "picked.nc")

    raw = raw_bands(connection, ["B04", "B08"], tmp_path / "raw.nc", bbox=SMALL_BBOX)
    assert raw.sizes["t"] >= 5
    np.testing.assert_array_equal(got["t"].values, raw["t"].values[:3])
    for band in ("B04", "B08"):
        want = raw[band].values[[2, 4, 0]].astype(np.float64)
        np.testing.assert_array_equal(got[band].values, want)
