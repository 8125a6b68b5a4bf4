"""Users' own repositories, round 8: published openEO client code run unchanged against
``hybrid serve``, read from checkouts (or bare git directories) named by environment
variables, never copied here, skipped without them:

- ``HYBRID_MOUNTAINS_SNOW``: SNOWCOP/openeo_mountains_snow
  ``src/openeo_mountains_snow/snow_cover_fraction.py`` with its ``conf/config.yaml``
  (``SENTINEL2_L1C`` as ``SENTINEL2_L2A``, same band names; ``COPERNICUS_30`` as one
  day's ``B04``; ``ESA_WORLDCOVER_10M_2021_V2``/``MAP`` as one day's ``SCL``, whose
  values never reach the water class 80; hydra's decorator and config object replaced
  by the config file read into attributes).
- ``HYBRID_GFMAP``: Open-EO/openeo-gfmap ``src/openeo_gfmap/preprocessing/``
  ``compositing.py`` and ``interpolation.py``.
- ``HYBRID_OPENEO_CLASSIFICATION``: openEOPlatform/openeo-classification
  ``src/openeo_classification/features.py``.

Only the connection, extents and dates are adapted; each result is checked against
numpy on what the same server downloads.
"""

from __future__ import annotations

import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from tests.workflows.published import published_text
from tests.workflows.raw import BBOX, raw_bands
from tests.workflows.test_apex_udp_scripts import COVER_DAY

pytestmark = pytest.mark.slow

SNOW_ENV = "HYBRID_MOUNTAINS_SNOW"
_SNOW = "src/openeo_mountains_snow/"
#: the snow season of the sample (snow above a rising snow line until June)
SNOW_SEASON = ["2023-05-01", "2023-06-10"]


def _nc(path: Path) -> xr.Dataset:
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load()


def _attributes(value: Any) -> Any:
    if isinstance(value, dict):
        return types.SimpleNamespace(**{k: _attributes(v) for k, v in value.items()})
    return value


def _snow() -> tuple[dict[str, Any], Any]:
    """The namespace of ``snow_cover_fraction.py`` and its config, inputs substituted."""
    import yaml

    def text(relative: str) -> str:
        return published_text(SNOW_ENV, _SNOW + relative, "SNOWCOP/openeo_mountains_snow")

    cfg = _attributes(yaml.safe_load(text("conf/config.yaml")))
    cfg.sentinel2_l1c.collection = "SENTINEL2_L2A"
    cfg.water_mask.collection, cfg.water_mask.band = "SENTINEL2_L2A", "SCL"
    day = f"temporal_extent={COVER_DAY!r}"
    dem = f'"SENTINEL2_L2A", {day}, bands=["B04"], spatial_extent='
    source = text("snow_cover_fraction.py")
    for old, new in [
        ("import hydra\n", ""),
        ("from omegaconf import DictConfig, OmegaConf\n", "DictConfig = object\n"),
        ("@hydra.main(", "# @hydra.main("),
        ("from openeo_mountains_snow.representative_pixels import", "# "),
        ('"COPERNICUS_30", spatial_extent=', dem),
        ("water_mask.band]).max_time()", f"water_mask.band], {day}).max_time()"),
    ]:  # fmt: skip
        assert old in source, old
        source = source.replace(old, new)
    namespace: dict[str, Any] = {"__name__": "snow_cover_fraction"}
    exec(compile(source, _SNOW + "snow_cover_fraction.py", "exec"), namespace)
    return namespace, cfg


def _aoi() -> Any:
    import shapely

    return shapely.box(BBOX["west"], BBOX["south"], BBOX["east"], BBOX["north"])


def test_snow_cloud_mask_any_of_a_list_of_comparisons(connection: Any, tmp_path: Path) -> None:
    """``cloud_water_mask``: ``reduce_dimension(bands, lambda x: any([x == v for v in
    cloud_values]))`` over SCL (and over the water layer), the two masks joined with
    ``|``. ``any`` gets a list of the comparisons' results, which Copernicus folds with
    ``Or`` tile by tile (geotrellis-extensions OpenEOProcessScriptBuilder.scala
    ``reduceFunction`` L573-585, ``"any"`` L1137, the list's tiles ``arrayEnd``
    L1038-1074). Found here: a 400 ("The truth value of an array is ambiguous")."""
    namespace, cfg = _snow()
    mask = namespace["cloud_water_mask"](_aoi(), SNOW_SEASON, connection, cfg)
    mask.download(tmp_path / "mask.nc", format="netCDF")
    got = _nc(tmp_path / "mask.nc")
    raw = raw_bands(connection, ["SCL"], tmp_path / "scl.nc", dates=SNOW_SEASON)
    (name,) = [v for v in got.data_vars if v != "crs"]
    assert got.sizes["t"] == raw.sizes["t"] > 4
    expected = np.isin(raw["SCL"].values, cfg.sentinel2_l2a.cloud_values)
    assert expected.any() and not expected.all()
    np.testing.assert_array_equal(got[name].values == 1, expected)


def test_snow_inputs_append_labelled_indices_to_the_bands(connection: Any, tmp_path: Path) -> None:
    """``snowflake_inputs_cube``: the bands masked by clouds, water and the low-elevation
    mask (``aggregate_spatial`` of the 10th percentile, ``vector_to_raster``), merged with
    slope and aspect for the local solar incidence angle, then ``apply_dimension(bands)``
    appending NDVI, NDSI, diff_B_NIR and SI with ``array_append(bands, value, label)``.
    Copernicus appends the value's tiles and ignores the label (geotrellis-extensions
    OpenEOProcessScriptBuilder.scala ``arrayAppendFunction`` L1387-1399). Found here: a
    400 (the label sent the value to openeo-processes-dask's labelled append, which
    could not broadcast it)."""
    namespace, cfg = _snow()
    cube = namespace["snowflake_inputs_cube"](_aoi(), SNOW_SEASON, connection, cfg)
    cube.download(tmp_path / "inputs.nc", format="netCDF")
    got = _nc(tmp_path / "inputs.nc")
    bands = ["B02", "B03", "B04", "B08", "B11", "local_solar_incidence_angle"]
    assert [v for v in got.data_vars if v != "crs"] == [
        *bands, "NDVI", "NDSI", "diff_B_NIR", "SI"
    ]  # fmt: skip
    b = {name: got[name].values.astype(np.float64) for name in ["B02", "B03", "B04", "B08", "B11"]}
    ndsi = (b["B03"] - b["B11"]) / (b["B03"] + b["B11"])
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = {
            "NDVI": (b["B08"] - b["B04"]) / (b["B08"] + b["B04"]),
            "NDSI": ndsi,
            "diff_B_NIR": (b["B02"] - b["B08"]) / (b["B02"] + b["B08"]),
            "SI": ndsi / b["B03"],
        }
    for name, want in expected.items():
        np.testing.assert_allclose(got[name].values, want, rtol=1e-5, err_msg=name)
    raw = raw_bands(connection, ["SCL"], tmp_path / "scl.nc", dates=SNOW_SEASON)
    cloudy = np.isin(raw["SCL"].sel(t=got["t"].values).values, cfg.sentinel2_l2a.cloud_values)
    assert cloudy.any()
    assert np.isnan(got["NDSI"].values[cloudy]).all()
    assert np.isfinite(got["NDSI"].values).mean() > 0.3


GFMAP_ENV = "HYBRID_GFMAP"
_GFMAP_BANDS = ["B02", "B03", "B04", "B08", "SCL"]
_GFMAP_NAMES = [f"S2-L2A-{b}" for b in _GFMAP_BANDS]
#: two months of the sample, each with several dates
_TWO_MONTHS = ["2023-06-10", "2023-08-01"]


def _gfmap(module: str) -> dict[str, Any]:
    """The namespace of openeo-gfmap's ``src/openeo_gfmap/preprocessing/<module>.py``."""
    relative = f"src/openeo_gfmap/preprocessing/{module}.py"
    source = published_text(GFMAP_ENV, relative, "Open-EO/openeo-gfmap")
    namespace: dict[str, Any] = {"__name__": f"openeo_gfmap.preprocessing.{module}"}
    exec(compile(source, relative, "exec"), namespace)
    return namespace


def _gfmap_cube(connection: Any) -> Any:
    """The bands under gfmap's names, as its extractors rename them."""
    cube = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=BBOX, temporal_extent=_TWO_MONTHS, bands=_GFMAP_BANDS
    )
    return cube.rename_labels(dimension="bands", target=_GFMAP_NAMES, source=_GFMAP_BANDS)


def test_gfmap_max_ndvi_composite_keeps_each_months_greenest_date(
    connection: Any, tmp_path: Path
) -> None:
    """``preprocessing/compositing.py`` ``max_ndvi_compositing(cube, "month")``: ``ndvi``
    of the renamed bands, ``apply_neighborhood`` of 1 x 1 px and ``t`` "month" with
    ``array_apply(x != max)`` (Copernicus: ``aggregate_temporal`` of the month's
    intervals without reducing, geopysparkdatacube.py L1399-1407), ``mask``, then
    ``aggregate_temporal_period(month, first)``: each pixel's values on the date of its
    largest NDVI that month."""
    composite = _gfmap("compositing")["max_ndvi_compositing"](_gfmap_cube(connection), "month")
    composite.download(tmp_path / "composite.nc", format="netCDF")
    got = _nc(tmp_path / "composite.nc")
    raw = raw_bands(connection, _GFMAP_BANDS, tmp_path / "raw.nc", dates=_TWO_MONTHS)
    red, nir = (raw[b].values.astype(np.float32) for b in ("B04", "B08"))
    ndvi = (nir - red) / (nir + red)
    months = raw["t"].dt.month.values
    assert [str(t)[:10] for t in got["t"].values] == ["2023-06-01", "2023-07-01"]
    for k, month in enumerate((6, 7)):
        dates = np.flatnonzero(months == month)
        assert dates.size > 2
        greenest = dates[np.argmax(np.nan_to_num(ndvi[dates], nan=-np.inf), axis=0)]
        for band, name in zip(_GFMAP_BANDS, _GFMAP_NAMES, strict=True):
            want = np.take_along_axis(raw[band].values, greenest[None], axis=0)[0]
            np.testing.assert_array_equal(got[name].values[k], want, err_msg=f"{month} {band}")


CLASSIFICATION_ENV = "HYBRID_OPENEO_CLASSIFICATION"
#: the published index list without NDGI and ANIR, whose formulas in the current
#: client's index table take constants (``lambdaN``...) it has no values for
_INDICES = ["NDVI", "NDMI", "NDRE1", "NDRE2", "NDRE5"]


def _classification() -> dict[str, Any]:
    """openEOPlatform/openeo-classification ``src/openeo_classification/features.py``:
    its connection import dropped (the test passes its own), the positional ``append``
    of ``compute_and_rescale_indices`` (keyword-only since openeo 0.12) named."""
    relative = "src/openeo_classification/features.py"
    source = published_text(CLASSIFICATION_ENV, relative, "openEOPlatform/openeo-classification")
    for old, new in [
        ("from openeo_classification.connection import connection\n", "connection = None\n"),
        ("compute_and_rescale_indices(s2, index_dict, True)",
         "compute_and_rescale_indices(s2, index_dict, append=True)"),
    ]:  # fmt: skip
        assert old in source, old
        source = source.replace(old, new)
    namespace: dict[str, Any] = {"__name__": "openeo_classification.features"}
    exec(compile(source, relative, "exec"), namespace)
    return namespace


def test_classification_features_statistics_of_dekad_composites(
    connection: Any, tmp_path: Path
) -> None:
    """``sentinel2_features`` (provider "sentinelhub", ``sampling=True``): a load with
    Copernicus's ``featureflags`` argument and no spatial extent, ``mask_scl_dilation``
    then ``filter_bands`` without SCL, ``compute_and_rescale_indices`` appended to the
    bands, medians over overlapping 20-day intervals every 10 days
    (``aggregate_temporal``), ``array_interpolate_linear``; then ``compute_statistics``:
    ``apply_dimension(t -> bands)`` of quantiles, ``sd`` and six ``array_element``
    samples with ``if_(is_nodata(...))`` fallbacks, ``rename_labels`` to 70 names,
    ``linear_scale_range(0, 30000, 0, 30000)``; the samples checked against the
    composites downloaded from the same server."""
    import datetime as dt

    features = _classification()
    start, end = dt.date(2023, 5, 1), dt.date(2023, 9, 30)
    index_dict = {
        "collection": {"input_range": [0, 8000], "output_range": [0, 30000]},
        "indices": {i: {"input_range": [-1, 1], "output_range": [0, 30000]} for i in _INDICES},
    }
    dekads = features["sentinel2_features"](
        start, end, lambda: connection, "sentinelhub", index_dict, s2_list=["B06", "B12"],
        processing_opts={"tile_size": 128}, sampling=True,
    )  # fmt: skip
    stats = features["compute_statistics"](dekads, start, end, stepsize=10)
    stats = stats.linear_scale_range(0, 30000, 0, 30000).filter_bbox(**BBOX)
    stats.download(tmp_path / "stats.nc", format="netCDF")
    dekads.filter_bbox(**BBOX).download(tmp_path / "dekads.nc", format="netCDF")
    got, series = _nc(tmp_path / "stats.nc"), _nc(tmp_path / "dekads.nc")
    names = ["B06", "B12", *_INDICES]
    samples = [f"t{i}" for i in range(2, 13, 2)]  # 15 dekads: step 2 from 2
    stats_names = ["p25", "p50", "p75", "sd", *samples]
    assert [v for v in got.data_vars if v != "crs"] == [
        f"{n}_{s}" for n in names for s in stats_names
    ]
    assert series.sizes["t"] == 14  # intervals ending before 30 September
    for name in names:
        values = series[name].values
        assert np.isfinite(values).all(), name  # interpolated: no gaps here
        for label in samples:
            index = int(label[1:])
            np.testing.assert_array_equal(got[f"{name}_{label}"].values, values[index], name)
        quartiles = [got[f"{name}_{q}"].values for q in ("p25", "p50", "p75")]
        assert (quartiles[0] <= quartiles[1]).all() and (quartiles[1] <= quartiles[2]).all()
        assert (got[f"{name}_sd"].values >= 0).all()


def test_gfmap_linear_interpolation_of_the_masked_uint16_cube(
    connection: Any, tmp_path: Path
) -> None:
    """``preprocessing/interpolation.py`` ``linear_interpolation``
    (``apply_dimension(t, "array_interpolate_linear")``) after gfmap's S2 extractor and
    ``mask_scl_dilation`` (``tests/workflows/test_gfmap_s2.py``): the dates kept, each
    masked pixel between two valid dates filled from its neighbours by position in the
    series, the integer part, as the cube is uint16 (``linear_scale_range(0, 65534,
    ...)``); the series' leading and trailing gaps stay nodata."""
    from tests.workflows.test_gfmap_s2 import gfmap_s2_cube

    masked = gfmap_s2_cube(connection, ("2023-06-10", "2023-07-20"))
    masked.download(tmp_path / "masked.nc", format="netCDF")
    filled = _gfmap("interpolation")["linear_interpolation"](masked)
    filled.download(tmp_path / "filled.nc", format="netCDF")
    before, got = _nc(tmp_path / "masked.nc"), _nc(tmp_path / "filled.nc")
    np.testing.assert_array_equal(got["t"].values, before["t"].values)
    values = before["S2-L2A-B04"].values.astype(np.float64)
    position = np.arange(values.shape[0])
    want = np.full_like(values, np.nan)
    for row, col in np.ndindex(*values.shape[1:]):
        series = values[:, row, col]
        valid = np.isfinite(series)
        if valid.any():
            want[:, row, col] = np.interp(
                position, position[valid], series[valid], left=np.nan, right=np.nan
            )
    gaps = np.isnan(values) & np.isfinite(want)
    assert gaps.sum() > 1000 and np.isnan(want).any()
    np.testing.assert_array_equal(got["S2-L2A-B04"].values, np.trunc(want))
