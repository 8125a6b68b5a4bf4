"""ESA APEx algorithm catalogue, more of its published ``openeo_udp/*.json`` over
SENTINEL2_L2A (developmentseed snow_classifier, swbm, fire_boundary; vito max_ndvi,
bap_composite), run against ``hybrid serve`` as written, changed only in AOI and dates,
and checked against numpy on the raw bands downloaded from the same server.

Not replayable here (only their refusal is checked): developmentseed urban_areas loads
SENTINEL1_GRD; vito ppi loads ``https://stac.openeo.vito.be/collections/MDVI`` with
``load_stac`` (a VITO collection, over the network); vito variabilitymap runs a UDF
importing ``biopar``, a package not installed here. The UDPs are read from the
checkout named by ``HYBRID_APEX_ALGORITHMS`` (skipped without one).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from tests.workflows.raw import BBOX, DATES, nanmax_t, pixels_inside, raw_bands
from tests.workflows.test_apex_developmentseed import (
    CATALOG_ENV,
    first_valid,
    pytestmark,
    run_udp,
    udp_json,
)
from tests.workflows.test_community_examples_third import (
    AREA,
    _nc,
    assert_best_pixel_per_month,
    scl_at_20_m,
)

__all__ = ["CATALOG_ENV", "pytestmark"]


def _first_at(connection: Any, bands: list[str], resolution: float, path: Path) -> dict:
    """Each band's first valid value over t (cloud cover <= 30 %) resampled by the
    server to ``resolution`` with ``near``, as reflectance (DN / 10000)."""
    loaded = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=BBOX, temporal_extent=DATES, bands=bands,
        max_cloud_cover=30,
    )  # fmt: skip
    cube = loaded.reduce_dimension("t", reducer="first")
    cube.resample_spatial(resolution, method="near").download(path, format="netCDF")
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return {band: ds[band].values.astype(np.float64) / 10000.0 for band in bands}


def _divide(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """x / y with x / 0 = NaN, as geotrellis Divide gives it on Copernicus."""
    with np.errstate(all="ignore"):
        out: np.ndarray = np.where(y == 0, np.nan, x / np.where(y == 0, 1.0, y))
    return out


def _scaled(rgb: list[np.ndarray]) -> np.ndarray:
    """``linear_scale_range(x, 0, 1, 0, 255)`` as Copernicus computes it on float32
    values: scaled in double, rounded to float32, clipped to 0-255; integer output bounds
    keep the integer part (a uint8 tile: geotrellis-extensions
    OpenEOProcessScriptBuilder.scala ``linearScaleRangeFunction`` L1271-1322)."""
    values = np.stack(rgb).astype(np.float32).astype(np.float64)
    return np.trunc(np.clip((values * 255.0).astype(np.float32), 0.0, 255.0))


def test_snow_classifier_at_20_m(connection: Any, tmp_path: Path) -> None:
    """snow_classifier: ``first`` over t, ``resample_spatial(20, near)``; snow where
    (NDSI >= 0.4 or |NDVI - 0.1| <= 0.025) and B03 > 0.3 is [1, 0.8, 0.4], else
    2.5 (B04, B03, B02); ``linear_scale_range`` 0-1 -> 0-255. No save_result."""
    got = run_udp(connection, "snow_classifier", tmp_path / "snow.tif")
    b = _first_at(connection, ["B02", "B03", "B04", "B08", "B11"], 20, tmp_path / "raw20.nc")
    ndvi = _divide(b["B08"] - b["B04"], b["B08"] + b["B04"])
    ndsi = _divide(b["B03"] - b["B11"], b["B03"] + b["B11"])
    with np.errstate(invalid="ignore"):
        snow = ((ndsi >= 0.4) | (np.abs(ndvi - 0.1) <= 0.025)) & (b["B03"] > 0.3)
    colours = ((1.0, "B04"), (0.8, "B03"), (0.4, "B02"))
    want = _scaled([np.where(snow, c, 2.5 * b[band]) for c, band in colours])
    assert got.shape == want.shape and snow.any() and np.isfinite(got).mean() > 0.9
    np.testing.assert_allclose(got, want.astype(np.float32), rtol=1e-6)


def test_swbm_water_bodies(connection: Any, tmp_path: Path) -> None:
    """swbm (surface water body mapping): ``first`` over t, 20 m; water where MNDWI > 0.1
    or NDWI > 0.2 or 1 / (B02 - B11)^0.5 > 0.03 (a negative base gives NaN, no water)
    is [0, 0, 1], else 2 (B04, B03, B02); 0-255. No save_result (its ``context`` of
    thresholds is not read by the callback)."""
    got = run_udp(connection, "swbm", tmp_path / "swbm.tif")
    b = _first_at(connection, ["B02", "B03", "B04", "B08", "B11"], 20, tmp_path / "raw20.nc")
    mndwi = _divide(b["B03"] - b["B11"], b["B03"] + b["B11"])
    ndwi = _divide(b["B03"] - b["B08"], b["B03"] + b["B08"])
    with np.errstate(all="ignore"):
        swi = _divide(np.ones_like(mndwi), np.power(b["B02"] - b["B11"], 0.5))
        water = (mndwi > 0.1) | (ndwi > 0.2) | (swi > 0.03)
    colours = ((0.0, "B04"), (0.0, "B03"), (1.0, "B02"))
    want = _scaled([np.where(water, c, 2.0 * b[band]) for c, band in colours])
    assert got.shape == want.shape and water.any() and not water.all()
    np.testing.assert_allclose(got, want.astype(np.float32), rtol=1e-6)


def test_fire_boundary_brightness_steps(connection: Any, tmp_path: Path) -> None:
    """fire_boundary: r = 8.5 (B12 - B11) / (B12 + B11 + 0.25) of the first valid values,
    0 where r <= -1, 0.46295 (r + 1) where r <= 1, 0.9259 + 0.03705 (r - 1) where
    r <= 3, else 1; one band, 0-255, GTiff."""
    got = run_udp(connection, "fire_boundary", tmp_path / "fire.tif")
    b = first_valid(connection, ["B11", "B12"], tmp_path / "raw.nc")
    r = _divide(8.5 * (b["B12"] - b["B11"]), b["B12"] + b["B11"] + 0.25)
    with np.errstate(invalid="ignore"):
        out = np.where((r > 1) & (r <= 3), 0.9259 + 0.03705 * (r - 1), 1.0)
        out = np.where((r > -1) & (r <= 1), 0.46295 * (r + 1), out)
        out = np.where(r <= -1, 0.0, out)
    want = _scaled([out])
    assert got.shape == want.shape and len(np.unique(got)) > 10
    # float32 at every step on the server, float64 here
    np.testing.assert_allclose(got, want.astype(np.float32), rtol=1e-5)


def test_vito_max_ndvi(connection: Any, tmp_path: Path) -> None:
    """vito max_ndvi: NDVI of the int16 DN per date (every scene, no cloud filter, no
    mask), ``max`` over t (nodata skipped)."""
    got = run_udp(connection, "max_ndvi", tmp_path / "max_ndvi.tif", owner="vito")
    raw = raw_bands(connection, ["B04", "B08"], tmp_path / "raw.nc")
    b4, b8 = (raw[band].values.astype(np.float64) for band in ("B04", "B08"))
    ndvi = _divide(b8 - b4, b8 + b4)
    want = nanmax_t(ndvi)[None]
    assert got.shape == want.shape and np.isfinite(got).mean() > 0.9
    np.testing.assert_allclose(got, want.astype(np.float32), rtol=1e-6)


def test_vito_bap_composite_best_available_pixel(connection: Any, tmp_path: Path) -> None:
    """vito bap_composite, stored and called with a GeoJSON ``geometry`` (its cloud cover
    parameter sits in a property filter): SCL at 20 m (nodata 0), cloud = SCL 3, 8, 9, 10;
    score = (1 - cloud * 151 px Gaussian + 0.1 date score + 0.5 clear share of the
    polygon) / 1.6, nodata where SCL is 0; per month the dates of the best score,
    not cloudy, mask the 10 m B04, B03, B02; ``aggregate_temporal_period(month, first)``.
    The date score exp(-((day - 15) / 5)^2 / 2) comes from each label by
    ``apply_neighborhood`` per month with ``date_replace_component``/``date_difference``.
    Two months of the sample, not DATES: in DATES one clear day wins June and July has
    one date, so neither the date score nor the rank would be exercised."""
    from scipy.ndimage import convolve
    from shapely.geometry import shape

    dates = ["2023-06-10", "2023-07-31"]

    text = udp_json("bap_composite", "vito")
    udp = json.loads(text)
    connection.save_user_defined_process(
        "bap_composite", udp["process_graph"], parameters=udp["parameters"]
    )
    cube = connection.datacube_from_process("bap_composite", geometry=AREA, temporal_extent=dates)
    cube.execute_batch(tmp_path / "bap.nc", out_format="netCDF")
    got = _nc(tmp_path / "bap.nc")

    raw20 = scl_at_20_m(connection, dates, 75, tmp_path / "scl.nc")
    polygon = shape(AREA["features"][0]["geometry"])
    scl = np.nan_to_num(raw20["SCL"].values.astype(np.float64), nan=0.0)
    days = raw20["t"].values.astype("datetime64[D]")
    day = (days - days.astype("datetime64[M]")).astype(np.float64) + 1
    cloud = np.isin(scl, [3, 8, 9, 10]).astype(np.float64)
    assert 0 < cloud.mean() < 0.9 and len(np.unique(days.astype("datetime64[M]"))) == 2
    inside = pixels_inside(raw20, polygon)
    coverage = np.array([(1 - c)[inside].mean() for c in cloud])[:, None, None]
    date_score = np.exp(-0.5 * ((day - 15) * 0.2) ** 2)[:, None, None]
    kernel = np.asarray(udp["process_graph"]["applykernel1"]["arguments"]["kernel"])
    dtc = 1 - np.stack([convolve(c, kernel, mode="constant", cval=0.0) for c in cloud])
    score = (dtc + 0.1 * date_score + 0.5 * np.where(inside, coverage, np.nan)) / 1.6
    score = np.where(scl == 0, np.nan, score)
    assert np.nanmax(score) - np.nanmin(score) > 0.05

    assert [str(t)[:10] for t in got["t"].values] == ["2023-06-01", "2023-07-01"]
    bands = ["B04", "B03", "B02"]
    raw = raw_bands(connection, bands, tmp_path / "raw.nc", dates=dates, max_cloud_cover=75)
    assert_best_pixel_per_month(got, score, cloud, raw20, raw, polygon, bands)


@pytest.mark.parametrize(
    ("owner", "name", "spatial", "status", "code", "says"),
    [
        ("developmentseed", "urban_areas", "bounding_box", 404, "CollectionNotFound",
         "'SENTINEL1_GRD'"),
        ("vito", "ppi", "geometry", 400, "ProcessParameterInvalid",
         "https://stac.openeo.vito.be/collections/MDVI"),
        ("vito", "variabilitymap", "spatial_extent", 400, "BadRequest", "biopar"),
        ("vito", "parcel_delineation", "spatial_extent", 400, "BadRequest", "onnxruntime"),
        ("eurac", "eurac_pv_farm_detection", "spatial_extent", 400, "BadRequest",
         "onnxruntime"),
    ],
)  # fmt: skip
def test_udps_needing_what_is_not_here_are_refused(
    connection: Any, tmp_path: Path, owner: str, name: str, spatial: str, status: int,
    code: str, says: str,
) -> None:  # fmt: skip
    """Not replayable offline, refused with a 4xx naming what is missing: urban_areas
    loads SENTINEL1_GRD, ppi a VITO collection over the network (``load_stac``),
    variabilitymap a UDF importing ``biopar`` (not installed), parcel_delineation and
    eurac_pv_farm_detection UDFs running ONNX models (``onnxruntime``, and models that
    Copernicus unpacks from the job options' dependency archives)."""
    from openeo.rest import OpenEoApiError

    udp = json.loads(udp_json(name, owner))
    connection.save_user_defined_process(name, udp["process_graph"], parameters=udp["parameters"])
    area = BBOX if spatial == "bounding_box" else AREA
    time = "time" if owner == "developmentseed" else "temporal_extent"
    cube = connection.datacube_from_process(name, **{spatial: area, time: DATES})
    with pytest.raises(OpenEoApiError) as info:
        cube.download(tmp_path / "out.nc", format="netCDF")
    assert (info.value.http_status_code, info.value.code) == (status, code)
    assert says in info.value.message
