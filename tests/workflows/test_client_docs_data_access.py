"""Examples of the openeo Python client's documentation (docs/data_access.rst,
docs/datacube_construction.rst, docs/basics.rst) through the client against
``hybrid serve``: loading, extents, property filters, downloads.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from tests.workflows.client_docs_loads import SMALL_BBOX, _band, _load, _nc
from tests.workflows.raw import BBOX, DATES, nanmax_t, raw_bands, read_tiff

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
