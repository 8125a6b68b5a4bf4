"""The independent reference implementation on tiny hand-made GeoTIFF catalogs and arrays:
the Gaussian kernel, NDVI, the cloud mask, reducers and periods.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np

from tests.fidelity.tiny_catalog import AOI, Catalog, a_ndvi
from tests.reference import reference_ndvi
from tests.reference.processes import apply_kernel, cloud_mask, ndvi
from tests.reference.temporal import aggregate, period_intervals, reduce_stack
from tests.reference.workflow import gaussian_kernel

# --- cloud mask ---------------------------------------------------------------------------


def test_gaussian_kernel_by_formula() -> None:
    g = np.exp(-0.5 * (np.arange(11) - 5.0) ** 2 / 1.6**2)
    np.testing.assert_allclose(gaussian_kernel(11, 1.6), np.outer(g, g) / np.outer(g, g).sum())


def test_kernel_is_a_convolution() -> None:
    kernel = np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
    cloud = np.zeros((3, 4))
    cloud[1, 2] = 1.0
    out = apply_kernel(cloud, kernel)
    expected = np.zeros((3, 4))
    expected[1, 3] = 1.0  # out[i, j] = sum k[a, b] * c[i - a + 1, j - b + 1]: shifted right
    np.testing.assert_array_equal(out, expected)


def test_kernel_copernicus_test_vector_both_paths() -> None:
    # openeo-geotrellis-extensions FFTConvolveSpec.testSimpleConvolve
    values = np.arange(1.0, 10).reshape(3, 3)
    sobel = np.array([[-1.0, -2, -1], [0, 0, 0], [1, 2, 1]])
    want = [[-13, -20, -17], [-18, -24, -18], [13, 20, 17]]
    np.testing.assert_array_equal(apply_kernel(values, sobel), want)
    big = np.zeros((11, 11))
    big[4:7, 4:7] = sobel  # 11 > 10: the FFT path
    np.testing.assert_allclose(apply_kernel(values, big), want, atol=1e-9)


def test_kernel_nodata_rules_per_path() -> None:
    values = np.ones((5, 5))
    values[:3, :3] = np.nan
    direct = apply_kernel(values, np.ones((3, 3)))
    assert np.isnan(direct[:2, :2]).all() and np.isfinite(direct).sum() == 21
    assert direct[2, 2] == 5  # the valid cells of the window only
    fft = apply_kernel(values, np.ones((11, 11)))
    assert np.isfinite(fft).all()
    np.testing.assert_allclose(fft, np.nansum(values), atol=1e-9)  # NaN counted as 0


def test_ndvi_float32_and_division_by_zero() -> None:
    red = np.array([500.0, -500.0, 1000.0, np.nan, 20000.0])
    nir = np.array([-500.0, 500.0, 3000.0, 2000.0, 15000.0])
    out = ndvi(red, nir)
    assert out.dtype == np.float32
    assert np.isnan(out[:2]).all()  # B08 + B04 == 0 -> NaN, not +-inf
    assert out[2] == np.float32(0.5) and np.isnan(out[3])
    # added in float32, not int16: 35000 stays 35000
    assert out[4] == np.float32(-5000) / np.float32(35000)


def test_cloud_mask_classes_nodata_and_threshold() -> None:
    scl = np.full((15, 15), 4.0)
    scl[5:10, 5:10] = 9
    scl[0:3, :] = np.nan  # SCL nodata: not cloud
    mask = cloud_mask(scl, classes=(8, 9), kernel=gaussian_kernel(11, 1.6), threshold=0.1)
    assert mask[7, 7] and mask[5, 5] and not mask[0, 0]
    one = np.ones((1, 1))  # strictly greater than the threshold
    assert not cloud_mask(scl, classes=(9,), kernel=one, threshold=1.0).any()
    assert cloud_mask(scl, classes=(9,), kernel=one, threshold=0.999).sum() == 25
    assert not cloud_mask(scl, classes=(3,), kernel=gaussian_kernel(11, 1.6), threshold=0.1).any()
    single = np.full((15, 15), 4.0)
    single[7, 7] = 8  # one pixel: max smoothed fraction is k[5, 5] ~ 0.062 <= 0.1
    assert not cloud_mask(
        single, classes=(8, 9), kernel=gaussian_kernel(11, 1.6), threshold=0.1
    ).any()


def test_cloud_in_the_buffer_masks_the_edge_of_the_output(cat: Catalog) -> None:
    scl = np.full((20, 20), 4, np.uint8)
    scl[:, 4:7] = 9  # x 316280..316340: exactly the 6 buffer columns west of the output
    cat.add_a("a", "2023-05-02T10:00:00Z", 5, scl=scl)
    res = reference_ndvi(cat.path, AOI, "2023-05-01", "2023-06-01")
    # a cloud half-plane 6 px wide: smoothed fraction at distance d is ~ sum of g beyond d,
    # 0.375 (d=1), 0.170 (d=2), 0.056 (d=3) -> the two first output columns are masked
    assert np.isnan(res.data[0][:, :2]).all()
    np.testing.assert_allclose(res.data[0][:, 2:], a_ndvi(res)[:, 2:], atol=1e-6)
    zero_pad = reference_ndvi(cat.path, AOI, "2023-05-01", "2023-06-01", kernel_size=1)
    assert not np.isnan(zero_pad.data).any()  # 1x1 kernel: no buffer reaches the clouds


# --- temporal aggregation -----------------------------------------------------------------


def test_reducers_by_hand() -> None:
    nan = np.nan
    stack = np.array([[[1.0, nan, 5.0]], [[2.0, nan, nan]], [[nan, nan, nan]], [[4.0, nan, nan]]])
    stack = stack.astype(np.float32)
    expected = {
        "mean": [7 / 3, nan, 5.0],
        "median": [2.0, nan, 5.0],
        "min": [1.0, nan, 5.0],
        "max": [4.0, nan, 5.0],
        "sd": [math.sqrt(7 / 3), nan, nan],  # sample sd (n - 1); one value -> NaN
        "count": [3.0, nan, 1.0],  # no valid value: nodata, as Copernicus
    }
    for reducer, values in expected.items():
        out = reduce_stack(stack, reducer)
        assert out.dtype == np.float32 and out.shape == (1, 3)
        np.testing.assert_allclose(out[0], values, atol=1e-6, err_msg=reducer)


def _utc(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC)


def _starts(start: str, end: str, period: str) -> list[str]:
    return [s.isoformat() for s, _ in period_intervals(_utc(start), _utc(end), period)]


def test_periods_python_driver_test_vectors() -> None:
    # openeo-python-driver tests/test_ProcessGraphDeserializer.py test_period_to_intervals*
    assert [
        (s.isoformat(), e.isoformat())
        for s, e in period_intervals(_utc("2021-06-08"), _utc("2021-06-24"), "week")
    ] == [("2021-06-06", "2021-06-13"), ("2021-06-13", "2021-06-20"), ("2021-06-20", "2021-06-27")]
    for start, end in [("2021-06-01", "2021-08-02"), ("2021-06-08", "2021-08-24")]:
        assert _starts(start, end, "month") == ["2021-06-01", "2021-07-01", "2021-08-01"]
    assert _starts("2021-11-11", "2022-02-01", "month") == [
        "2021-11-01", "2021-12-01", "2022-01-01"
    ]  # fmt: skip
    assert _starts("2018-06-08", "2021-08-24", "year") == [
        "2018-01-01", "2019-01-01", "2020-01-01", "2021-01-01"
    ]  # fmt: skip
    dekads = ["2021-06-01", "2021-06-11", "2021-06-21", "2021-07-01", "2021-07-11"]
    assert _starts("2021-06-08", "2021-07-20", "dekad") == dekads
    assert _starts("2021-06-01", "2021-07-20", "dekad") == dekads
    ends = [
        e.isoformat() for _, e in period_intervals(_utc("2021-06-08"), _utc("2021-07-20"), "dekad")
    ]
    assert ends == ["2021-06-11", "2021-06-21", "2021-07-01", "2021-07-11", "2021-07-21"]


def test_weeks_start_on_sunday_and_dekads_skip_a_late_first_month() -> None:
    # the seed season: the first week is labelled by Sunday 30 April
    assert _starts("2023-05-01", "2023-09-30", "week")[0] == "2023-04-30"
    # an extent starting on day 12 or later has no dekad in its first month
    assert _starts("2023-05-11", "2023-06-15", "dekad")[0] == "2023-05-01"
    assert _starts("2023-05-12", "2023-06-15", "dekad") == ["2023-06-01", "2023-06-11"]
    assert _starts("2023-02-15", "2023-03-02", "dekad") == ["2023-03-01"]
    seasons = _starts("2023-01-15", "2023-09-02", "season")
    assert seasons == ["2022-12-01", "2023-03-01", "2023-06-01", "2023-09-01"]
    assert _starts("2023-04-30", "2023-11-02", "tropical-season") == [
        "2022-11-01", "2023-05-01", "2023-11-01"
    ]  # fmt: skip


def test_dates_outside_every_period_are_dropped() -> None:
    stack = np.array([[[1.0]], [[3.0]], [[5.0]]], dtype=np.float32)
    dates = [dt.date(2023, 5, 14), dt.date(2023, 5, 30), dt.date(2023, 6, 2)]
    extent = (_utc("2023-05-13"), _utc("2023-06-30"))
    labels, data = aggregate(stack, dates, reducer="mean", period="dekad", extent=extent)
    assert labels == ["2023-06-01T00:00:00Z"]
    np.testing.assert_allclose(data[:, 0, 0], [5.0])
    labels, _ = aggregate(stack, dates, reducer="mean", period="week", extent=extent)
    assert labels == ["2023-05-14T00:00:00Z", "2023-05-28T00:00:00Z"]


def test_interval_mode_labels_and_empty_intervals() -> None:
    stack = np.array([[[1.0]], [[3.0]], [[5.0]]], dtype=np.float32)
    dates = [dt.date(2023, 5, 2), dt.date(2023, 5, 20), dt.date(2023, 7, 1)]
    intervals = [
        ("2023-05-01", "2023-05-20", "early"),  # end exclusive: only 2 May
        ("2023-05-01", "2023-07-02", None),  # all three
        ("2023-06-01", "2023-07-01", "empty"),  # no date -> dropped
    ]
    labels, data = aggregate(stack, dates, reducer="mean", intervals=intervals)
    assert labels == ["early", "2023-05-01T00:00:00Z"]
    np.testing.assert_allclose(data[:, 0, 0], [1.0, 3.0])


def test_empty_period_dropped_and_fully_masked_period_kept(cat: Catalog) -> None:
    cat.add_a("may", "2023-05-10T10:00:00Z", 5)
    cat.add_a("july", "2023-07-05T10:00:00Z", 5, scl=np.full((20, 20), 8, np.uint8))
    res = reference_ndvi(cat.path, AOI, "2023-05-01", "2023-09-01")
    assert res.labels == ["2023-05-01T00:00:00Z", "2023-07-01T00:00:00Z"]
    np.testing.assert_allclose(res.data[0], a_ndvi(res), atol=1e-6)
    assert np.isnan(res.data[1]).all()
    counts = reference_ndvi(cat.path, AOI, "2023-05-01", "2023-09-01", reducer="count")
    np.testing.assert_array_equal(counts.data[0], 1.0)
    assert np.isnan(counts.data[1]).all()  # no valid value: no count (nodata)
    interval = reference_ndvi(
        cat.path, AOI, "2023-05-01", "2023-09-01", intervals=[("2023-05-01", "2023-06-01", None)]
    )
    assert interval.labels == ["2023-05-01T00:00:00Z"] and interval.data.shape == (1, 8, 9)
