"""The BAP scenario of CDSE's regression benchmarks (github.com/eu-cdse/openeo-benchmarks,
``tests/test_regression.py`` ``test_BAP`` with ``tests/utils_BAP.py``): its client calls,
and the same composite recomputed in numpy from the 20 m bands the server loads.

Copernicus's semantics, as its code has them: ``if_(is_nan(x), 0, x)`` turns nodata (also
outside the polygon) into SCL 0 (``is_nan`` is geotrellis Undefined,
OpenEOProcessScriptBuilder.scala L1200); comparisons and ``or`` are bits without nodata
(L1127-1128); ``aggregate_spatial`` takes the pixels whose centre lies in the polygon and
``vector_to_raster`` writes each date's value on those pixels (VectorCubeMethods.scala
``featuresToBand``: ``PixelIsPoint``), nodata elsewhere; ``apply_neighborhood`` of 1 x 1
px and a month runs the callback per month as ``aggregate_temporal(reduce=False)`` over
the load's months (geopysparkdatacube.py L1401-1409); the 151 px Gaussian goes through
FFTConvolve (zero padding, never nodata); ``x != max`` is geotrellis Unequal, false where
both are nodata; ``first`` skips nodata (L1195).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np


def bap_composite(auth_connection: Any, area: Any, temporal_extent: list[str]) -> dict[str, Any]:
    """test_BAP's graph (``max_cloud_cover = 80``, 20 m), utils_BAP's functions inlined."""
    from openeo.api.process import Parameter
    from openeo.processes import if_, is_nan
    from scipy.signal.windows import gaussian

    collection_id = "SENTINEL2_L2A"
    spatial_resolution = 20
    max_cloud_cover = 80
    cube = (
        auth_connection.load_collection(
            collection_id,
            temporal_extent=temporal_extent,
            bands=["B02", "B03", "B04", "B05", "B06", "B07", "B08"],
            max_cloud_cover=max_cloud_cover,
        )
        .resample_spatial(spatial_resolution)
        .filter_spatial(area)
    )
    scl = auth_connection.load_collection(
        collection_id,
        temporal_extent = temporal_extent,
        bands = ["SCL"],
        max_cloud_cover = max_cloud_cover
    ).resample_spatial(spatial_resolution
    ).filter_spatial(area
    ).apply(lambda x: if_(is_nan(x), 0, x))  # fmt: skip

    # calculate_cloud_mask
    classification = scl.band("SCL")
    binary = (classification == 3) | (classification == 8) | (classification == 9) | (classification == 10)  # fmt: skip  # noqa: E501
    cloud_mask = binary.add_dimension(name="bands", label="score", type="bands")
    # calculate_cloud_coverage_score
    cloud_coverage = (1 - cloud_mask).aggregate_spatial(geometries=area, reducer="mean")
    coverage_score = cloud_coverage.vector_to_raster(scl)
    coverage_score = coverage_score.rename_labels("bands", ["score"])

    # calculate_date_score, with day_of_month_calc and date_score_calc
    def day_of_month_calc(input: Any) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            label = Parameter("label")
        day = lambda x:15 + x.process("date_difference",  # noqa: E731
                                    date1=x.process("date_replace_component",date=label,value=15,component="day"),
                                    date2=label,unit="day")  # fmt: skip
        return input.array_apply(day)

    def date_score_calc(day: Any) -> Any:
        return day.subtract(15).multiply(0.2
                    ).multiply(day.subtract(15).multiply(0.2)
                    ).multiply(-0.5).exp().multiply(0.07978845)  # fmt: skip

    month = [{'dimension': 'x', 'unit': 'px', 'value': 1},
             {'dimension': 'y', 'unit': 'px', 'value': 1},
             {'dimension': 't', 'value': "month"}]  # fmt: skip
    day_of_month = scl.apply_neighborhood(day_of_month_calc, size=month, overlap=[])
    date_score = (1.0 * day_of_month).apply(date_score_calc)
    date_score = date_score.rename_labels("bands", ["score"])

    # calculate_distance_to_cloud_score
    kernel_size = int(150 * 20 / spatial_resolution) + 1
    gaussian_1d = gaussian(M=kernel_size, std=1)
    gaussian_kernel = np.outer(gaussian_1d, gaussian_1d)
    gaussian_kernel /= gaussian_kernel.sum()
    dtc_score = 1 - cloud_mask.apply_kernel(gaussian_kernel)

    # aggregate_BAP_scores
    weights = [1, 0.8, 0.5]
    score = (weights[0] * dtc_score +
             weights[1] * date_score +
             weights[2] * coverage_score) / sum(weights)  # fmt: skip
    score = score.mask(scl.band("SCL") == 0)

    # create_rank_mask, with max_score_selection
    def max_score_selection(score: Any) -> Any:
        max_score = score.max()
        return score.array_apply(lambda x:x!=max_score)  # fmt: skip

    rank_mask = score.apply_neighborhood(max_score_selection, size=month, overlap=[])
    rank_mask = rank_mask.band("score")

    composite = cube.mask(rank_mask
                    ).mask(cloud_mask
                    ).aggregate_temporal_period("month","first")  # fmt: skip
    return {"composite": composite, "score": score, "rank_mask": rank_mask}


def bap_in_numpy(raw20: Any, inside: np.ndarray) -> dict[str, Any]:
    """The score, rank mask, month labels and the monthly ``first`` of a band, from the
    20 m SCL (``raw20``, NaN outside the polygon) and the pixels inside it."""
    from scipy.ndimage import convolve
    from scipy.signal.windows import gaussian

    scl = np.nan_to_num(raw20["SCL"].values.astype(np.float64), nan=0.0)
    cloud = np.isin(scl, [3, 8, 9, 10]).astype(np.float64)
    coverage = np.array([(1 - c)[inside].mean() for c in cloud])
    coverage_img = np.where(inside, coverage[:, None, None], np.nan)
    days = raw20["t"].values.astype("datetime64[D]")
    months = days.astype("datetime64[M]")
    day = (days - months.astype("datetime64[D]")).astype(int) + 1
    date_score = np.exp(-0.5 * ((day - 15) * 0.2) ** 2) * 0.07978845
    g = gaussian(M=151, std=1)
    kernel = np.outer(g, g) / np.outer(g, g).sum()
    dtc = 1 - np.stack([convolve(c, kernel, mode="constant", cval=0.0) for c in cloud])
    score = (dtc + 0.8 * date_score[:, None, None] + 0.5 * coverage_img) / 2.3
    score = np.where(scl == 0, np.nan, score)
    rank = np.zeros(score.shape, bool)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for m in np.unique(months):
            sel = months == m
            best = np.nanmax(score[sel], axis=0)
            rank[sel] = (score[sel] != best) & ~(np.isnan(score[sel]) & np.isnan(best))
    masked = rank | (cloud == 1)

    def first(values: np.ndarray) -> np.ndarray:
        values = np.where(masked, np.nan, values)
        out = []
        for m in np.unique(months):
            stack = values[months == m]
            has = np.isfinite(stack)
            pick = np.take_along_axis(stack, has.argmax(axis=0)[None], axis=0)[0]
            out.append(np.where(has.any(axis=0), pick, np.nan))
        return np.stack(out)

    labels = [str(m) + "-01" for m in np.unique(months)]
    return {"score": score, "rank": rank.astype(np.int8), "months": labels, "first": first}
