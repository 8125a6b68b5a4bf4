"""Published user scripts outside the Open-EO organisation through the openeo client
against ``hybrid serve``: openEOPlatform/SRR2_notebooks (the notebook's calls and its
``helper.py`` functions as published, ``TERRASCOPE_S2_TOC_V2`` read as ``SENTINEL2_L2A``,
the potato field's box and the year moved into the embedded sample) and a CDSE user's
script (Gweppi/graan ``main.py``), each result checked against numpy on what the same
server downloads."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from tests.workflows.raw import BBOX, dilation_masks, pixels_inside, raw_bands, read_tiff

#: one month of single-tile dates (no 31TGL/32TLR overlap day): the dekads of August
#: only, as Copernicus lays dekads from the month of ``start - 10 days`` (python-driver
#: tests/test_ProcessGraphDeserializer.py ``test_period_to_intervals_dekad``), so 22 and
#: 27 July fall in no period
SEASON = ["2023-07-21", "2023-08-21"]
SCALE = 250
#: 12, 17, 22 and 27 June: an even count of dates
FOUR_DATES = ["2023-06-10", "2023-07-01"]


def _compute_indices(datacube: Any, index_list: list[str], scaling_factor: int) -> Any:
    """helper.py ``compute_indices`` with its ``_callback`` for NDVI, as published: the
    bands rescaled by ``linear_scale_range(0, 8000, 0, f)`` and the index by
    ``linear_scale_range(0, 1, 0, f)`` appended with ``array_modify``."""
    from openeo.processes import array_modify

    def ndvi(B04: Any, B08: Any) -> Any:
        return (B08 - B04) / (B08 + B04)

    indices = {"NDVI": [ndvi, (0, 1)]}

    def callback(x: Any) -> Any:
        index_values = []
        for index_name in index_list:
            index_fun, index_range = indices[index_name]
            names = index_fun.__code__.co_varnames[: index_fun.__code__.co_argcount]
            band_indices = [datacube.metadata.get_band_index(band) for band in names]
            index_result = index_fun(*[x.array_element(i) for i in band_indices])
            index_result = index_result.linear_scale_range(*index_range, 0, scaling_factor)
            index_values.append(index_result)
        x_res = x.linear_scale_range(0, 8000, 0, scaling_factor)
        count = len(datacube.metadata._band_dimension.bands)
        return array_modify(data=x_res, values=index_values, index=count)

    return datacube.apply_dimension(dimension="bands", process=callback).rename_labels(
        "bands", target=datacube.metadata.band_names + index_list
    )


@pytest.fixture(scope="module")
def scaled_ndvi(
    connection: Any, tmp_path_factory: pytest.TempPathFactory
) -> tuple[xr.Dataset, np.ndarray]:
    """(raw, (t, y, x) NDVI as the notebook scales it): ``linear_scale_range(0, 1, 0,
    250)`` clips to [0, 1] and Copernicus keeps the integer part (uint8), NaN where
    ``mask_scl_dilation`` (its defaults) masks. Computed once for both UC3 tests (the
    runs and the 201-px dilation reference take most of their time)."""
    tmp_path = tmp_path_factory.mktemp("uc3")
    raw = raw_bands(connection, ["B04", "B08"], tmp_path / "raw.nc", dates=SEASON)
    cloudy = dilation_masks(connection, tmp_path / "scl.nc", raw, SEASON, kernels=(17, 201, 0))
    red, nir = (raw[b].values.astype(np.float32) for b in ("B04", "B08"))
    with np.errstate(all="ignore"):
        scaled = np.floor(np.clip((nir - red) / (nir + red), 0, 1) * SCALE)
    scaled[cloudy.values] = np.nan
    return raw, scaled


def _dekad_means(raw: xr.Dataset, scaled: np.ndarray) -> dict[str, np.ndarray]:
    """August's dekads (start label -> float32 mean image of their valid values; None
    for a dekad whose every date is masked all over the field)."""
    days = pd.DatetimeIndex(raw["t"].values)
    out: dict[str, np.ndarray | None] = {}
    for first, last in ((1, 10), (11, 20)):
        pick = (days.month == 8) & (days.day >= first) & (days.day <= last)
        assert pick.sum() >= 2
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(scaled[pick].astype(np.float64), axis=0)
        valid = bool(np.isfinite(mean).any())
        out[f"2023-08-{first:02d}T00:00:00Z"] = mean.astype(np.float32) if valid else None
    return out


@pytest.mark.slow
def test_uc3_rule_based_dekad_ndvi_mean_and_sd_of_the_potato_field(
    connection: Any, scaled_ndvi: tuple[xr.Dataset, np.ndarray]
) -> None:
    """UC3 - Crop type feature engineering (rule-based).ipynb: a load without a spatial
    extent (the field's box bounds it), ``mask_scl_dilation`` through ``process()``,
    ``filter_bands``, helper.py's ``compute_indices(..., ["NDVI"], 250)``, dekad means,
    ``array_interpolate_linear`` over ``t``, ``filter_temporal`` of the year,
    ``filter_spatial`` and ``aggregate_spatial`` ``mean`` and ``sd`` of the field's box,
    ``execute()``, ``timeseries_json_to_pandas``, concatenated and divided by 250 as the
    notebook plots them."""
    from openeo.rest.conversions import timeseries_json_to_pandas
    from shapely.geometry import box

    year = 2023
    s2 = connection.load_collection(
        "SENTINEL2_L2A", temporal_extent=SEASON, bands=["B04", "B08", "B11", "SCL"]
    )
    s2_masked = s2.process("mask_scl_dilation", data=s2, scl_band_name="SCL").filter_bands(
        ["B04", "B08", "B11"]
    )
    ndvi = _compute_indices(s2_masked, ["NDVI"], SCALE).filter_bands(["NDVI"])
    bbox_potatofield = (BBOX["west"], BBOX["south"], BBOX["east"], BBOX["north"])
    agg_dekad = ndvi.aggregate_temporal_period(period="dekad", reducer="mean")
    ndvi_dekad = agg_dekad.apply_dimension(
        dimension="t", process="array_interpolate_linear"
    ).filter_temporal([str(year) + "-01-01", str(year) + "-12-31"])
    ndvi_bbox = ndvi_dekad.filter_spatial(geometries=box(*bbox_potatofield))
    timeseries = ndvi_bbox.aggregate_spatial(
        reducer="mean", geometries=box(*bbox_potatofield)
    ).execute()
    timeseries_sd = ndvi_bbox.aggregate_spatial(
        reducer="sd", geometries=box(*bbox_potatofield)
    ).execute()
    timeser = (
        pd.concat(
            [timeseries_json_to_pandas(timeseries), timeseries_json_to_pandas(timeseries_sd)],
            axis=1,
        ).dropna()
        / 250
    )
    timeser.columns = ["Mean NDVI", "SD"]

    raw, scaled = scaled_ndvi
    inside = pixels_inside(raw, box(*bbox_potatofield))
    assert 0.85 < inside.mean() < 1
    dekads = _dekad_means(raw, scaled)
    # 11-20 August: masked all over the field by the 201-px dilation of its few clouds;
    # the date stays in the cube while its layout key keeps values outside the field,
    # so the JSON holds null there, which the notebook's dropna() removes
    assert dekads["2023-08-11T00:00:00Z"] is None
    assert all(timeseries[d] == [[None]] for d in timeseries if dekads.get(d) is None)
    kept = {d: m for d, m in dekads.items() if m is not None}
    assert list(timeser.index) == list(kept)
    values = [dekad[inside].astype(np.float64) for dekad in kept.values()]
    assert all(np.isfinite(v).mean() > 0.3 for v in values)
    np.testing.assert_allclose(
        timeser["Mean NDVI"].to_numpy(), [np.nanmean(v) / 250 for v in values], rtol=1e-6
    )
    np.testing.assert_allclose(
        timeser["SD"].to_numpy(), [np.nanstd(v, ddof=1) / 250 for v in values], rtol=1e-6
    )


@pytest.mark.slow
def test_uc3_quantile_features_of_the_ndvi_over_time_as_netcdf(
    connection: Any, tmp_path: Path, scaled_ndvi: tuple[xr.Dataset, np.ndarray]
) -> None:
    """UC3 - Crop type feature engineering (rule-based).ipynb, its last cell: the scaled
    NDVI's ``quantiles([0.1, 0.5, 0.9])`` over ``t`` by ``apply_dimension`` into
    ``bands``, ``rename_labels`` to ``NDVI_p10``..., ``filter_bbox`` of the field and
    ``execute_batch(out_format="netCDF", job_options=...)``. Copernicus interpolates
    between ranks (commons-math R_7, the numpy default) over the valid dates and keeps
    the integer part of the uint8 cube's quantiles (OpenEOProcessScriptBuilder.scala
    ``quantilesFunction`` L1326-1350, ``linearScaleRangeFunction`` L1271-1322)."""
    s2 = connection.load_collection(
        "SENTINEL2_L2A", temporal_extent=SEASON, bands=["B04", "B08", "B11", "SCL"]
    )
    s2_masked = s2.process("mask_scl_dilation", data=s2, scl_band_name="SCL").filter_bands(
        ["B04", "B08", "B11"]
    )
    ndvi = _compute_indices(s2_masked, ["NDVI"], SCALE).filter_bands(["NDVI"])
    bbox_potatofield = (BBOX["west"], BBOX["south"], BBOX["east"], BBOX["north"])

    def computeStats(input_timeseries: Any) -> Any:
        return input_timeseries.quantiles(probabilities=[0.1, 0.5, 0.9])

    features = ndvi.apply_dimension(dimension="t", target_dimension="bands", process=computeStats)
    features = features.rename_labels(
        "bands",
        [band + "_" + stat for band in ndvi.metadata.band_names for stat in ["p10", "p50", "p90"]],
    )
    job_options = {"driver-memory": "2G", "executor-memory": "2G", "executor-cores": "3"}
    job_feat = features.filter_bbox(
        {
            "west": bbox_potatofield[0],
            "east": bbox_potatofield[2],
            "south": bbox_potatofield[1],
            "north": bbox_potatofield[3],
        }
    ).execute_batch(
        out_format="netCDF",
        title="Extra feature (quantiles)",
        description="Calculating quantiles for a small potato field",
        job_options=job_options,
    )
    results_feat = job_feat.get_results()
    results_feat.download_file(tmp_path / "indices.nc")

    _, scaled = scaled_ndvi
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        want = np.trunc(np.nanquantile(scaled, [0.1, 0.5, 0.9], axis=0))
    assert 0.3 < np.isfinite(want).mean() < 1
    assert (want[0] < want[2]).sum() > 20  # two valid dates, apart
    with xr.open_dataset(tmp_path / "indices.nc", engine="h5netcdf") as got:
        assert [v for v in got.data_vars if v != "crs"] == ["NDVI_p10", "NDVI_p50", "NDVI_p90"]
        assert "t" not in got.dims
        for i, name in enumerate(["NDVI_p10", "NDVI_p50", "NDVI_p90"]):
            np.testing.assert_array_equal(got[name].values, want[i], err_msg=name)


def test_graan_median_composite_then_ndvi_process_as_a_gtiff_job(
    connection: Any, tmp_path: Path
) -> None:
    """Gweppi/graan ``main.py`` (a CDSE user's script; its one day widened to four
    of the sample's dates, so that a median lies between two values):
    ``median_time()``, ``process(process_id="ndvi", arguments=...)`` with ``red``/``nir``,
    ``save_result("GTiff")``, ``create_job()``, ``start_and_wait()``,
    ``download_files("output")``. The median of the int16 cube keeps its integer part
    (geotrellis-extensions OpenEOProcessScriptBuilder.scala L1167-1168: ``median`` with
    ``PRESERVE_DATATYPE_MODE``), the NDVI of it float32."""
    datacube = connection.load_collection(
        "SENTINEL2_L2A",
        spatial_extent={k: BBOX[k] for k in ("west", "south", "east", "north")},
        temporal_extent=FOUR_DATES,
        bands=["B08", "B04"],
    )
    datacube = datacube.median_time()
    datacube = datacube.process(
        process_id="ndvi", arguments={"data": datacube, "red": "B04", "nir": "B08"}
    )
    result = datacube.save_result(format="GTiff")
    job = result.create_job()
    job.start_and_wait()
    paths = job.get_results().download_files(tmp_path / "output")
    (tif,) = [p for p in paths if p.suffix == ".tif"]

    raw = raw_bands(connection, ["B04", "B08"], tmp_path / "raw.nc", dates=FOUR_DATES)
    assert raw.sizes["t"] == 4
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        red, nir = (np.trunc(np.nanmedian(raw[b].values, axis=0)) for b in ("B04", "B08"))
    halves = np.nanmedian(raw["B04"].values, axis=0)
    assert (halves != red).sum() > 10  # medians between two values, cut to integers
    red, nir = red.astype(np.float32), nir.astype(np.float32)
    with np.errstate(all="ignore"):
        want = (nir - red) / (nir + red)
    got = read_tiff(tif)
    assert got.shape == (1, *want.shape)
    np.testing.assert_allclose(got[0], want, rtol=1e-6)


def test_sample_notebooks_python_udf_rescales_a_month_as_netcdf(
    connection: Any, tmp_path: Path
) -> None:
    """openEOPlatform/sample-notebooks ``python_udf.ipynb`` with its ``simple_udf.py``:
    ``openeo.UDF.from_file``, ``apply`` of the UDF (an ``XarrayDataCube`` whose values are
    multiplied by 0.0001 in place), ``download("apply-udf-scaling.nc")``. Copernicus hands
    the UDF float32 tiles and keeps its result float32 (geopysparkdatacube.py ``apply``
    L321-324 -> ``apply_tiles``: float32 in L865, L920, FLOAT32 out L932), so the
    scaling is a float32 product and no-data pixels stay NaN."""
    import openeo

    udf_file = tmp_path / "simple_udf.py"
    udf_file.write_text(
        "from openeo.udf import XarrayDataCube\n\n"
        "def apply_datacube(cube: XarrayDataCube, context: dict) -> XarrayDataCube:\n"
        "    array = cube.get_array()\n"
        "    array.values = 0.0001 * array.values\n"
        "    return cube\n"
    )
    s2_cube = connection.load_collection(
        "SENTINEL2_L2A",
        spatial_extent={k: BBOX[k] for k in ("west", "south", "east", "north")},
        temporal_extent=FOUR_DATES,
        bands=["B02", "B03", "B04"],
    )
    simple_udf = openeo.UDF.from_file(udf_file)
    rescaled = s2_cube.apply(simple_udf)
    rescaled.download(tmp_path / "apply-udf-scaling.nc")

    raw = raw_bands(connection, ["B02", "B03", "B04"], tmp_path / "raw.nc", dates=FOUR_DATES)
    with xr.open_dataset(tmp_path / "apply-udf-scaling.nc", engine="h5netcdf") as got:
        assert list(got["t"].values) == list(raw["t"].values)
        for band in ("B02", "B03", "B04"):
            assert got[band].dtype == np.float32
            want = np.float32(0.0001) * raw[band].values.astype(np.float32)
            assert np.isfinite(want).mean() > 0.9
            np.testing.assert_array_equal(got[band].values, want, err_msg=band)
