"""Third batch of openEO community examples (github.com/Open-EO/openeo-community-examples,
``python/``) and CDSE documentation examples through the openeo client against
``hybrid serve``, changed only in URL, AOI and dates (other collections left out).

Each test holds the notebook's client calls (the source path is in its docstring) and
checks the result against numpy on the raw bands downloaded from the same server.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.netcdf_unsigned import masking
from tests.workflows.raw import BBOX, pixels_inside, raw_bands

#: both notebooks run end to end through the server: each over 5 s
pytestmark = pytest.mark.slow


def _quiet(func: Any, values: np.ndarray, **kwargs: Any) -> np.ndarray:
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        out: np.ndarray = func(values, **kwargs)
    return out


def _nc(path: Path) -> Any:
    import xarray as xr

    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load()


def _only_var(ds: Any) -> np.ndarray:
    (name,) = [v for v in ds.data_vars if v != "crs"]
    out: np.ndarray = ds[name].values
    return out


_W, _S, _E, _N = BBOX["west"], BBOX["south"], BBOX["east"], BBOX["north"]
#: the BAP notebook's test_area.geojson, as its gpd.read_file(...).to_json() gives it
AREA = {
    "type": "FeatureCollection",
    "features": [
        {
            "id": "0",
            "type": "Feature",
            "properties": {},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[_W, _N], [_W, _S], [_E, _S], [_E, _N], [_W, _N]]],
            },
        }
    ],
}


def _bap_composite(connection: Any, temporal_extent: list[str]) -> dict[str, Any]:
    """python/RankComposites/bap_composite.ipynb with its utils_BAP.py, as written."""
    from openeo.api.process import Parameter
    from openeo.processes import if_, is_nan
    from scipy.signal.windows import gaussian

    max_cloud_cover = 70
    spatial_resolution = 20
    area = AREA
    c = connection
    scl = (
        c.load_collection(
            "SENTINEL2_L2A",
            temporal_extent=temporal_extent,
            bands=["SCL"],
            max_cloud_cover=max_cloud_cover,
        )
        .resample_spatial(spatial_resolution)
        .filter_spatial(area)
    )
    scl = scl.apply(lambda x: if_(is_nan(x), 0, x))
    # calculate_cloud_mask
    classification = scl.band("SCL")
    binary = (
        (classification == 3) | (classification == 8) | (classification == 9)
        | (classification == 10)
    )  # fmt: skip
    cloud_mask = binary.add_dimension(name="bands", label="score", type="bands")
    # calculate_cloud_coverage_score
    cloud_coverage = (1 - cloud_mask).aggregate_spatial(geometries=area, reducer="mean")
    coverage_score = cloud_coverage.vector_to_raster(scl)
    coverage_score = coverage_score.rename_labels("bands", ["score"])

    # calculate_date_score
    def day_of_month_calc(input: Any) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            label = Parameter("label")

        def day(x: Any) -> Any:
            return 15 + x.process(
                "date_difference",
                date1=x.process("date_replace_component", date=label, value=15, component="day"),
                date2=label,
                unit="day",
            )

        return input.array_apply(day)

    def date_score_calc(day: Any) -> Any:
        return (
            day.subtract(15).multiply(0.2).multiply(day.subtract(15).multiply(0.2))
            .multiply(-0.5).exp().multiply(0.07978845)
        )  # fmt: skip

    month = [
        {"dimension": "x", "unit": "px", "value": 1},
        {"dimension": "y", "unit": "px", "value": 1},
        {"dimension": "t", "value": "month"},
    ]
    day_of_month = scl.apply_neighborhood(day_of_month_calc, size=month, overlap=[])
    date_score = (1.0 * day_of_month).apply(date_score_calc)
    date_score = date_score.rename_labels("bands", ["score"])

    # calculate_distance_to_cloud_score
    def round_up_to_odd(f: float) -> Any:
        return np.ceil(f) // 2 * 2 + 1

    kernel_size = round_up_to_odd(150 * 20 / spatial_resolution)
    gaussian_1d = gaussian(M=kernel_size, std=kernel_size / 6)
    gaussian_kernel = np.outer(gaussian_1d, gaussian_1d)
    gaussian_kernel /= gaussian_kernel.sum()
    dtc_score = 1 - cloud_mask.apply_kernel(gaussian_kernel)

    weights = [1, 0.8, 0.5]
    score = (weights[0] * dtc_score + weights[1] * date_score + weights[2] * coverage_score) / sum(
        weights
    )
    score = score.mask(scl.band("SCL") == 0)

    # create_rank_mask
    def max_score_selection(score: Any) -> Any:
        max_score = score.max()
        return score.array_apply(lambda x: x != max_score)

    rank_mask = score.apply_neighborhood(max_score_selection, size=month, overlap=[])
    rank_mask = rank_mask.band("score")

    rgb_bands = c.load_collection(
        "SENTINEL2_L2A",
        temporal_extent=temporal_extent,
        bands=["B02", "B03", "B04"],
        max_cloud_cover=max_cloud_cover,
    ).filter_spatial(area)
    composite = (
        rgb_bands.mask(rank_mask).mask(cloud_mask).aggregate_temporal_period("month", "first")
    )
    return {"composite": composite, "day_of_month": day_of_month, "score": score,
            "kernel": gaussian_kernel}  # fmt: skip


def scl_at_20_m(connection: Any, dates: list[str], max_cloud: int, path: Path) -> Any:
    """The SCL of ``AREA`` over ``dates`` resampled to 20 m by the server, as the BAP
    scores read it (also the APEx bap_composite replay)."""
    cube = connection.load_collection(
        "SENTINEL2_L2A", temporal_extent=dates, bands=["SCL"], max_cloud_cover=max_cloud
    ).resample_spatial(20)
    cube.filter_spatial(AREA).download(path, format="netCDF")
    return _nc(path)


def _parent(fine: np.ndarray, coarse: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of the coarse pixel each fine pixel centre lies in, and whether there is one."""
    step = coarse[1] - coarse[0]
    index = np.floor((fine - coarse[0]) / step + 0.5).astype(int)
    ok = (index >= 0) & (index < coarse.size)
    return np.clip(index, 0, coarse.size - 1), ok


def test_bap_composite_best_available_pixel_per_month(connection: Any, tmp_path: Path) -> None:
    """python/RankComposites/bap_composite.ipynb (with utils_BAP.py): SCL at 20 m by
    ``resample_spatial``, ``filter_spatial`` on the area, the coverage score by
    ``aggregate_spatial`` + ``vector_to_raster``, the date score from each date's day of
    month (``apply_neighborhood`` per month, ``array_apply`` with ``date_difference``
    and ``date_replace_component`` on the ``label``), the distance-to-cloud score by a
    151 px Gaussian ``apply_kernel``, the best score per month as a mask (20 m) of the
    10 m RGB bands, ``aggregate_temporal_period("month", "first")``, a netCDF batch job.
    The 20 m SCL is checked as the input; everything after it is recomputed in numpy."""
    from scipy.ndimage import convolve
    from shapely.geometry import shape

    dates = ["2023-06-10", "2023-07-31"]
    cubes = _bap_composite(connection, dates)
    cubes["composite"].execute_batch(tmp_path / "openEO.nc", out_format="netcdf")
    got = _nc(tmp_path / "openEO.nc")
    cubes["day_of_month"].download(tmp_path / "day.nc", format="netCDF")
    day_of_month = _nc(tmp_path / "day.nc")
    cubes["score"].download(tmp_path / "score.nc", format="netCDF")
    got_score = _only_var(_nc(tmp_path / "score.nc"))
    raw20 = scl_at_20_m(connection, dates, 70, tmp_path / "scl.nc")
    polygon = shape(AREA["features"][0]["geometry"])

    scl = np.nan_to_num(raw20["SCL"].values.astype(np.float64), nan=0.0)
    days = raw20["t"].values.astype("datetime64[D]")
    day = (days - days.astype("datetime64[M]")).astype(int) + 1
    assert len(days) >= 6 and float(raw20["x"][1] - raw20["x"][0]) == 20.0
    np.testing.assert_array_equal(_only_var(day_of_month), np.broadcast_to(
        day[:, None, None].astype(np.float64), scl.shape))  # fmt: skip

    cloud = np.isin(scl, [3, 8, 9, 10]).astype(np.float64)
    assert 0 < cloud.mean() < 0.9
    inside = pixels_inside(raw20, polygon)
    coverage = np.array([(1 - c)[inside].mean() for c in cloud])
    coverage_img = np.where(inside, coverage[:, None, None], np.nan)
    date_score = np.exp(-0.5 * ((day - 15) * 0.2) ** 2) * 0.07978845
    kernel = cubes["kernel"]
    dtc = 1 - np.stack([convolve(c, kernel, mode="constant", cval=0.0) for c in cloud])
    score = (dtc + 0.8 * date_score[:, None, None] + 0.5 * coverage_img) / 2.3
    score = np.where(scl == 0, np.nan, score)
    assert np.nanmax(score) - np.nanmin(score) > 0.05
    np.testing.assert_allclose(got_score, score, rtol=0, atol=2e-6, equal_nan=True)
    raw = raw_bands(connection, ["B02", "B03", "B04"], tmp_path / "raw.nc", dates=dates,
                    max_cloud_cover=70)  # fmt: skip
    assert [str(t)[:10] for t in got["t"].values] == ["2023-06-01", "2023-07-01"]
    assert_best_pixel_per_month(got, score, cloud, raw20, raw, polygon, ["B02", "B04"])


def assert_best_pixel_per_month(
    got: Any, score: np.ndarray, cloud: np.ndarray, raw20: Any, raw: Any, polygon: Any,
    bands: list[str],
) -> None:  # fmt: skip
    """``got`` (10 m, one date per month) is the first value per month of the ``raw``
    bands where the 20 m ``score`` is the month's best and ``cloud`` is 0, inside the
    ``polygon``: a rank composite masked by ``apply_neighborhood`` (per month,
    ``array_apply(x != max)``) and the cloud mask, ``aggregate_temporal_period(first)``.
    Pixels whose best two scores are within float32 noise are not checked."""
    days = raw20["t"].values.astype("datetime64[D]")
    months = days.astype("datetime64[M]")
    rank = np.zeros(score.shape, bool)
    ambiguous = np.zeros(score.shape[1:], bool)
    for m in np.unique(months):
        sel = months == m
        best = _quiet(np.nanmax, score[sel], axis=0)
        rank[sel] = (score[sel] != best) & ~(np.isnan(score[sel]) & np.isnan(best))
        ordered = np.sort(np.nan_to_num(score[sel], nan=-1.0), axis=0)
        if ordered.shape[0] > 1:
            ambiguous |= (ordered[-1] - ordered[-2]) < 1e-4  # float32 could swap them

    x, y = got["x"].values, got["y"].values
    cols, ok_x = _parent(x, raw20["x"].values)
    rows, ok_y = _parent(y, raw20["y"].values)
    masked = (rank | (cloud == 1))[:, rows][:, :, cols]
    checked = ok_y[:, None] & ok_x[None, :] & ~ambiguous[rows][:, cols]
    raw = raw.sel(x=x, y=y)
    in10 = pixels_inside(raw, polygon)
    for band in bands:
        values = np.where(masked | ~in10, np.nan, raw[band].values.astype(np.float64))
        for i, m in enumerate(np.unique(months)):
            stack = values[months == m]
            has = np.isfinite(stack)
            first = np.take_along_axis(stack, has.argmax(axis=0)[None], axis=0)[0]
            want = np.where(has.any(axis=0), first, np.nan)
            np.testing.assert_array_equal(got[band].values[i][checked], want[checked])
    assert checked.mean() > 0.9
    assert np.isfinite(got[bands[0]].values[:, checked]).mean() > 0.9


def _dekad_starts(days: np.ndarray) -> np.ndarray:
    month = days.astype("datetime64[M]")
    offset = np.minimum((days - month.astype("datetime64[D]")).astype(int) // 10, 2)
    return month.astype("datetime64[D]") + offset * 10


def test_dynamic_land_cover_feature_engineering(connection: Any, tmp_path: Path) -> None:
    """python/DynamicLandCoverMapping/Dynamic land cover mapping.ipynb, its Sentinel-2
    features (``sentinel2_composite`` + ``compute_statistics_fill_nan``; Sentinel-1 and
    the random forest left out): ``to_scl_dilation_mask``, ``compute_and_rescale_indices``,
    ``merge_cubes`` of the bands and the indices (band labels longer than the cube's,
    'NDVI' after 'B03', were cut to 'NDV'), dekad medians, ``array_interpolate_linear``,
    then ``apply_dimension`` from t into bands: quantiles, sd, six dates by
    ``array_element`` with ``if_(is_nodata(...))`` gap filling, ``array_concat``."""
    import datetime

    from openeo.extra.spectral_indices.spectral_indices import compute_and_rescale_indices
    from openeo.processes import array_concat, if_, is_nodata

    # from 10 June: on 9 June two orbits cover the area (see raw.DATES)
    start_date, end_date = datetime.date(2023, 6, 10), datetime.date(2023, 8, 31)
    c = connection
    temp_ext_s2 = [start_date.isoformat(), end_date.isoformat()]
    props = {"eo:cloud_cover": lambda v: v <= 80}
    bands = ["B03", "B04", "B05", "B06", "B07", "B08", "B11", "B12"]
    idx_list = ["NDVI", "NDMI", "NDRE1", "NDRE2", "NDRE5"]
    s2_list = ["B06", "B12"]
    index_dict: dict[str, Any] = {idx: [-1, 1] for idx in idx_list}
    index_dict["ANIR"] = [0, 1]
    final_index_dict = {
        "collection": {"input_range": [0, 8000], "output_range": [0, 30000]},
        "indices": {
            index: {"input_range": index_dict[index], "output_range": [0, 30000]}
            for index in index_dict
        },
    }
    scl = c.load_collection("SENTINEL2_L2A", spatial_extent=BBOX, temporal_extent=temp_ext_s2,
                            bands="SCL", properties=props)  # fmt: skip
    cloud_mask = scl.process(
        "to_scl_dilation_mask", data=scl, kernel1_size=17, kernel2_size=77,
        mask1_values=[2, 4, 5, 6, 7], mask2_values=[3, 8, 9, 10, 11], erosion_kernel_size=3,
    )  # fmt: skip
    s2 = c.load_collection("SENTINEL2_L2A", spatial_extent=BBOX, temporal_extent=temp_ext_s2,
                           bands=bands, properties=props)  # fmt: skip
    s2 = s2.mask(cloud_mask)
    indices = compute_and_rescale_indices(s2, final_index_dict)
    combined = s2.merge_cubes(indices)
    result_indices = combined.filter_bands(s2_list + idx_list)
    idx_dekad = result_indices.aggregate_temporal_period("dekad", reducer="median")
    idx_dekad = idx_dekad.apply_dimension(dimension="t", process="array_interpolate_linear")

    def computeStats(input_timeseries: Any, sample_stepsize: int, offset: int) -> Any:
        tsteps = list(
            [input_timeseries.array_element(offset + sample_stepsize * index)
             for index in range(0, 6)]
        )  # fmt: skip
        tsteps[1] = if_(is_nodata(tsteps[1]), tsteps[2], tsteps[1])
        tsteps[4] = if_(is_nodata(tsteps[4]), tsteps[3], tsteps[4])
        tsteps[0] = if_(is_nodata(tsteps[0]), tsteps[1], tsteps[0])
        tsteps[5] = if_(is_nodata(tsteps[5]), tsteps[4], tsteps[5])
        return array_concat(
            array_concat(
                input_timeseries.quantiles(probabilities=[0.25, 0.5, 0.75]),
                input_timeseries.sd(),
            ),
            tsteps,
        )

    stepsize = 10
    tot_samples = (end_date - start_date).days // stepsize
    sample_stepsize = tot_samples // 6
    offset = int(sample_stepsize / 2 + (tot_samples % 6) / 2)
    features = idx_dekad.apply_dimension(
        dimension="t", target_dimension="bands",
        process=lambda x: computeStats(x, sample_stepsize, offset),
    )  # fmt: skip
    tstep_labels = ["t" + str(offset + sample_stepsize * index) for index in range(0, 6)]
    all_bands = [
        band + "_" + stat
        for band in idx_dekad.metadata.band_names
        for stat in ["p25", "p50", "p75", "sd", *tstep_labels]
    ]
    features = features.rename_labels("bands", all_bands)
    features.download(tmp_path / "features.nc", format="netCDF")
    idx_dekad.download(tmp_path / "dekad.nc", format="netCDF")
    cloud_mask.download(tmp_path / "cloud.nc", format="netCDF")
    got, dekad = _nc(tmp_path / "features.nc"), _nc(tmp_path / "dekad.nc")
    dekad = masking(dekad, 65535)  # uint16 nodata 65535: no _FillValue in the file

    # the dekad composite from the raw bands and the cloud mask
    raw = raw_bands(c, ["B04", "B06", "B08"], tmp_path / "raw.nc", dates=temp_ext_s2,
                    properties=props)  # fmt: skip
    cloud = _only_var(_nc(tmp_path / "cloud.nc")) == 1
    assert cloud.shape == raw["B04"].shape and 0 < cloud.mean() < 1
    r, n = (np.where(cloud, np.nan, raw[b].values.astype(np.float64)) for b in ("B04", "B08"))
    with np.errstate(all="ignore"):  # NDVI in float32, scaled in double, rounded to
        # float32; integer output bounds keep the integer part (Copernicus: uint16)
        index = ((n - r) / (n + r)).astype(np.float32).astype(np.float64)
        ndvi = np.trunc(np.clip(((index + 1) * 30000 / 2).astype(np.float32), 0, 30000))
    starts = _dekad_starts(raw["t"].values.astype("datetime64[D]"))
    labels = dekad["t"].values.astype("datetime64[D]")
    assert list(labels) == sorted(set(starts)) and len(labels) >= 7
    # the rescaled indices are uint16 (array_create of linear_scale_range results), the
    # merge with the int16 bands int32: the medians and the gap filling keep integers
    medians = np.stack([_quiet(np.nanmedian, ndvi[starts == d], axis=0) for d in labels])
    medians = np.trunc(medians)
    filled = medians.copy()
    for j, i in np.ndindex(*medians.shape[1:]):
        series = medians[:, j, i]
        ok = np.flatnonzero(np.isfinite(series))
        if ok.size:
            inner = np.arange(ok[0], ok[-1] + 1)
            filled[inner, j, i] = np.trunc(np.interp(inner, ok, series[ok]))
    np.testing.assert_allclose(dekad["NDVI"].values, filled, rtol=1e-5, equal_nan=True)

    # the statistics of each series of the dekad composite, in numpy
    assert [v for v in got.data_vars if v != "crs"] == all_bands
    for band in ("B06", "NDVI"):
        series = dekad[band].values.astype(np.float64)
        quartiles = _quiet(np.nanquantile, series, q=[0.25, 0.5, 0.75], axis=0)
        sd = _quiet(np.nanstd, series, axis=0, ddof=1)
        steps = [series[offset + sample_stepsize * k] for k in range(6)]
        for a, b in ((1, 2), (4, 3), (0, 1), (5, 4)):
            steps[a] = np.where(np.isnan(steps[a]), steps[b], steps[a])
        want = [*np.trunc(quartiles), sd, *steps]  # quantiles of the int32 cube: integers
        stats = ["p25", "p50", "p75", "sd", *tstep_labels]
        for stat, values in zip(stats, want, strict=True):
            np.testing.assert_allclose(got[f"{band}_{stat}"].values, values, rtol=1e-5,
                                       equal_nan=True, err_msg=f"{band}_{stat}")  # fmt: skip
    assert np.isfinite(got["NDVI_p50"].values).mean() > 0.9
