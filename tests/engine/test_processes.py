"""Unit and property tests of the processes the local engine replaces
(backends/local/processes), with hand-computed answers.

Callbacks (reducers, conditions) run through openeo-pg-parser-networkx exactly as in
the engine (tests/process_vectors.py ``run_through_engine``) where their calling
convention matters; the property tests use a plain callable with the same convention.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import dask
import dask.array as da
import numpy as np
import pytest
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import ndimage

from hybrid.backends.local.processes.indices import divide, ndvi
from hybrid.backends.local.processes.kernel import apply_kernel, convolve_block, separable_factors
from hybrid.backends.local.processes.labels import filter_labels
from hybrid.backends.local.processes.masking import mask
from hybrid.backends.local.processes.temporal import aggregate_temporal_period
from hybrid.errors import HybridWarning, NoDataAvailable, ProcessParameterInvalid
from tests.process_vectors import run_through_engine

FAST = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def cube(values: Any, dims: tuple[str, ...], **coords: Any) -> xr.DataArray:
    if not isinstance(values, da.Array):
        values = np.asarray(values)
    full = {}
    for dim, size in zip(dims, values.shape, strict=True):
        if dim in coords:
            full[dim] = coords[dim]
        elif dim == "y":
            full[dim] = 100.0 - 10.0 * np.arange(size)
        elif dim == "x":
            full[dim] = 10.0 * np.arange(size)
    return xr.DataArray(values, dims=dims, coords=full)


def times(*days: str) -> np.ndarray:
    return np.array([np.datetime64(day, "ns") for day in days])


def reducer_graph(process_id: str, **arguments: Any) -> dict[str, Any]:
    args = {"data": {"from_parameter": "data"}, **arguments}
    return {"process_graph": {"r": {"process_id": process_id, "arguments": args, "result": True}}}


def nanmean_reducer(*args: Any, positional_parameters: dict[str, int], **kwargs: Any) -> Any:
    """A reducer with the calling convention of the engine's callbacks."""
    return np.nanmean(args[positional_parameters["data"]], axis=kwargs.get("axis"))


# ---------------------------------------------------------------- apply_kernel

ASYMMETRIC = np.array([[1.0, 2, 3], [4, 5, 6], [7, 8, 9]])


def test_apply_kernel_convolves_not_correlates() -> None:
    impulse = np.zeros((5, 5))
    impulse[2, 2] = 1.0
    out = apply_kernel(cube(impulse, ("y", "x")), ASYMMETRIC).values
    # convolution: out[y, x] = sum k[a, b] * in[y - a + 1, x - b + 1] -> the kernel
    # appears as written around an impulse (a correlation would rotate it by 180 degrees)
    np.testing.assert_array_equal(out[1:4, 1:4], ASYMMETRIC)
    assert out.sum() == 45


def _copernicus_fft(values: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """FFTConvolve.apply re-done with numpy's FFT: NaN -> 0, both zero-padded to
    n + k - 1, multiplied in Fourier space, the centre cropped out."""
    rows, cols = values.shape[0] + kernel.shape[0] - 1, values.shape[1] + kernel.shape[1] - 1
    full = np.fft.ifft2(
        np.fft.fft2(np.nan_to_num(values), (rows, cols)) * np.fft.fft2(kernel, (rows, cols))
    ).real
    r0, c0 = (kernel.shape[0] - 1) // 2, (kernel.shape[1] - 1) // 2
    return full[r0 : r0 + values.shape[0], c0 : c0 + values.shape[1]]


SOBEL = np.array([[-1.0, -2, -1], [0, 0, 0], [1, 2, 1]])
#: openeo-geotrellis-extensions FFTConvolveSpec.testSimpleConvolve (copied there from
#: geotrellis' Convolve test): [[1..9]] convolved with SOBEL
SIMPLE_CONVOLVE = np.array([[-13.0, -20, -17], [-18, -24, -18], [13, 20, 17]])


def test_copernicus_fftconvolvespec_simple_convolve_direct_path() -> None:
    data = cube(np.arange(1.0, 10).reshape(3, 3), ("y", "x"))
    np.testing.assert_array_equal(apply_kernel(data, SOBEL).values, SIMPLE_CONVOLVE)


def test_copernicus_fftconvolvespec_simple_convolve_fft_path() -> None:
    # the same 3x3 kernel centred in an 11x11 of zeros: same convolution, but 11 > 10
    # sends it down Copernicus's FFT path
    big = np.zeros((11, 11))
    big[4:7, 4:7] = SOBEL
    values = np.arange(1.0, 10).reshape(3, 3)
    out = apply_kernel(cube(values, ("y", "x")), big).values
    np.testing.assert_allclose(out, SIMPLE_CONVOLVE, atol=1e-9)
    np.testing.assert_allclose(_copernicus_fft(values, big), SIMPLE_CONVOLVE, atol=1e-9)


def test_copernicus_openeoprocessesspec_apply_mask_fft() -> None:
    # OpenEOProcessesSpec.applyMaskFFT: a 1280 x 1280 tile of ones in 256-px layout
    # tiles, a 61 x 61 kernel of ones (FFT path) equals geotrellis' direct Convolve of
    # the whole tile: the number of tile pixels inside each 61 x 61 window
    ones = da.ones((1280, 1280), chunks=256)
    out = apply_kernel(cube(ones, ("y", "x")), np.ones((61, 61))).values
    i = np.arange(1280)
    inside = np.minimum(i + 30, 1279) - np.maximum(i - 30, 0) + 1
    np.testing.assert_allclose(out, np.outer(inside, inside), rtol=0, atol=1e-6)
    assert out[0, 0] == 31 * 31 and out[640, 640] == 61 * 61


def test_apply_kernel_direct_path_nodata_window_is_nodata() -> None:
    # geotrellis Convolve (kernels <= 10 px): nodata is skipped, a window of only
    # nodata (or outside the layer) gives nodata
    data = np.ones((5, 5))
    data[:3, :3] = np.nan
    out = apply_kernel(cube(data, ("y", "x")), np.ones((3, 3))).values
    assert np.isnan(out[:2, :2]).all()
    assert np.isfinite(out).sum() == 25 - 4
    np.testing.assert_array_equal(out[2:, 2:], [[5, 7, 6], [7, 8, 6], [6, 6, 4]])
    np.testing.assert_array_equal(out[0, 2:], [2, 4, 4])


def test_apply_kernel_fft_path_never_nodata() -> None:
    # FFTConvolve (kernels > 10 px) turns NaN into 0 first: never nodata
    data = np.full((15, 15), np.nan)
    data[14, 14] = 1.0
    out = apply_kernel(cube(data, ("y", "x")), np.ones((11, 11))).values
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out, _copernicus_fft(data, np.ones((11, 11))), atol=1e-9)


def test_apply_kernel_factor_multiplies_the_kernel() -> None:
    data = cube(np.arange(1.0, 10).reshape(3, 3), ("y", "x"))
    out = apply_kernel(data, SOBEL, factor=0.5)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out.values, SIMPLE_CONVOLVE * 0.5)


def test_apply_kernel_zero_border() -> None:
    out = apply_kernel(cube(np.ones((3, 3)), ("y", "x")), np.ones((3, 3))).values
    np.testing.assert_array_equal(out, [[4, 6, 4], [6, 9, 6], [4, 6, 4]])


def test_apply_kernel_nan_counts_as_zero() -> None:
    data = np.ones((3, 3))
    data[1, 1] = np.nan
    out = apply_kernel(cube(data, ("y", "x")), np.ones((3, 3))).values
    np.testing.assert_array_equal(out, [[3, 5, 3], [5, 8, 5], [3, 5, 3]])


def test_apply_kernel_bool_input_is_zero_one() -> None:
    flags = np.array([[True, False, False], [False, False, False], [False, False, True]])
    out = apply_kernel(cube(flags, ("y", "x")), np.ones((3, 3))).values
    np.testing.assert_array_equal(out, [[1, 1, 0], [1, 2, 1], [0, 1, 1]])


def test_apply_kernel_rejects_even_kernel_and_unknown_border() -> None:
    data = cube(np.ones((3, 3)), ("y", "x"))
    with pytest.raises(ProcessParameterInvalid, match="KernelDimensionsUneven"):
        apply_kernel(data, np.ones((2, 3)))
    with pytest.raises(ProcessParameterInvalid, match="border 'mirror' is unknown"):
        apply_kernel(data, np.ones((3, 3)), border="mirror")


@pytest.mark.parametrize("separable", [True, False], ids=["separable", "full"])
def test_apply_kernel_chunked_matches_scipy(separable: bool) -> None:
    rng = np.random.default_rng(7)
    values = rng.normal(size=(2, 3, 23, 19))
    values[0, 1, 5:9, 3] = np.nan
    if separable:
        g = np.exp(-0.5 * (np.arange(-5, 6) / 1.6) ** 2)
        kernel = np.outer(g, g) / np.outer(g, g).sum()
        assert separable_factors(kernel) is not None
    else:
        kernel = rng.normal(size=(5, 7))
        assert separable_factors(kernel) is None
    want = ndimage.convolve(np.nan_to_num(values), kernel[None, None], mode="constant", cval=0.0)
    dims = ("t", "bands", "y", "x")
    whole = apply_kernel(cube(values, dims), kernel)
    chunked = apply_kernel(cube(da.from_array(values, chunks=(1, 2, 4, 3)), dims), kernel)
    assert isinstance(chunked.data, da.Array)
    np.testing.assert_allclose(whole.values, want, atol=1e-12)
    # halo across chunk borders: small chunks give exactly the unchunked answer
    np.testing.assert_allclose(chunked.values, whole.values, atol=1e-12)


def test_separable_and_full_convolution_agree() -> None:
    rng = np.random.default_rng(3)
    col, row = rng.normal(size=7), rng.normal(size=5)
    kernel = np.outer(col, row)
    block = rng.normal(size=(2, 15, 12))
    fast = convolve_block(block, kernel)
    full = ndimage.convolve(block, kernel[None], mode="constant", cval=0.0)
    np.testing.assert_allclose(fast, full, atol=1e-12)


def test_apply_kernel_keeps_dims_order_and_coords() -> None:
    data = cube(np.ones((4, 3, 2)), ("y", "x", "t"), t=times("2023-05-01", "2023-05-02"))
    out = apply_kernel(data, np.ones((1, 1)))
    assert out.dims == ("y", "x", "t")
    np.testing.assert_array_equal(out["t"].values, data["t"].values)
    np.testing.assert_array_equal(out.values, 1.0)


# ---------------------------------------------------------------- mask


def _bands_cube() -> xr.DataArray:
    values = np.arange(2 * 2 * 3, dtype=np.float64).reshape(2, 2, 3)
    return cube(values, ("bands", "y", "x"), bands=["B04", "B08"])


def test_mask_single_band_mask_applies_to_every_band() -> None:
    flags = cube([[[1, 0, 0], [0, 0, 1]]], ("bands", "y", "x"), bands=["cloud"])
    out = mask(_bands_cube(), flags).values
    assert np.isnan(out[:, 0, 0]).all() and np.isnan(out[:, 1, 2]).all()
    np.testing.assert_array_equal(out[0, 0, 1:], [1, 2])
    np.testing.assert_array_equal(out[1, 1, :2], [9, 10])


def test_mask_bands_go_by_position_like_copernicus() -> None:
    # DatacubeSupport.rasterMaskGeneric: equal band counts pair band i with band i
    # (whatever the labels), otherwise band 0 masks every band
    pairs = np.zeros((2, 2, 3))
    pairs[0, 0, 0] = pairs[1, 1, 2] = 1
    out = mask(_bands_cube(), cube(pairs, ("bands", "y", "x"), bands=["a", "b"])).values
    np.testing.assert_array_equal(np.isnan(out), pairs.astype(bool))
    three = np.zeros((3, 2, 3))
    three[0, 0, 1] = three[1, 1, 1] = 1  # only band 0 counts
    out = mask(_bands_cube(), cube(three, ("bands", "y", "x"), bands=["a", "b", "c"])).values
    assert np.isnan(out[:, 0, 1]).all() and np.isnan(out).sum() == 2


def test_mask_dates_join_like_copernicus_tiles() -> None:
    # rasterMaskGeneric joins the tiles per space-time key (left outer join): a date the
    # mask lacks stays unmasked, a mask date without data is dropped
    data = cube(
        np.ones((3, 1, 2)), ("t", "y", "x"), t=times("2023-05-01", "2023-05-02", "2023-05-03")
    )
    flags = cube(np.ones((2, 1, 2)), ("t", "y", "x"), t=times("2023-05-02", "2023-05-09"))
    out = mask(data, flags).values
    np.testing.assert_array_equal(np.isnan(out[:, 0, 0]), [False, True, False])
    out = mask(data, flags.astype(bool), replacement=7).values
    np.testing.assert_array_equal(out[:, 0, 1], [1, 7, 1])


def test_mask_without_time_is_broadcast_over_time() -> None:
    data = cube(
        np.ones((3, 2, 2)), ("t", "y", "x"), t=times("2023-05-01", "2023-05-02", "2023-05-03")
    )
    out = mask(data, cube([[0, 1], [0, 0]], ("y", "x")), replacement=-5).values
    np.testing.assert_array_equal(out[:, 0, 1], [-5, -5, -5])
    assert (out[:, [0, 1, 1], [0, 0, 1]] == 1).all()


def test_mask_nodata_in_mask_masks() -> None:
    out = mask(cube(np.ones((1, 3)), ("y", "x")), cube([[0.0, np.nan, 2.0]], ("y", "x"))).values
    np.testing.assert_array_equal(np.isnan(out), [[False, True, True]])


def test_mask_bool_mask_and_replacement() -> None:
    flags = cube([[True, False]], ("y", "x"))
    out = mask(cube([[3.0, 4.0]], ("y", "x")), flags, replacement=0).values
    np.testing.assert_array_equal(out, [[0.0, 4.0]])


def test_mask_replaces_only_values_and_an_integer_cube_stores_an_integer() -> None:
    """DatacubeSupport.scala rasterMaskGeneric L221-233: ``v2 != 0 && isData(v1)``, and
    ``replacement.intValue()`` into an int16 tile (wrapped, -32768 nodata)."""
    data = cube([[3.0, np.nan, 4.0, 5.0]], ("y", "x"))
    flags = cube([[True, True, False, True]], ("y", "x"))
    np.testing.assert_array_equal(
        mask(data, flags, replacement=0.5).values, [[0.5, np.nan, 4, 0.5]]
    )
    ints = mask(data, flags, replacement=-2.7, input_cell_type="int16").values
    np.testing.assert_array_equal(ints, [[-2, np.nan, 4, -2]])
    wrapped = mask(data, flags, replacement=32768, input_cell_type="int16").values
    assert np.isnan(wrapped[0, [0, 1, 3]]).all() and wrapped[0, 2] == 4
    np.testing.assert_array_equal(
        mask(data, flags, replacement=70000.9, input_cell_type="int32").values,
        [[70000, np.nan, 4, 70000]],
    )


def test_mask_label_mismatch_is_a_clear_error() -> None:
    """A mask on another grid is resampled onto the data's (as Copernicus's rasterMask);
    without a reference system to do that, one clear error."""
    data = cube(np.ones((2, 2)), ("y", "x"))
    shifted = cube(np.zeros((2, 2)), ("y", "x"), x=np.array([5.0, 15.0]))
    with pytest.raises(ProcessParameterInvalid, match="no known reference system"):
        mask(data, shifted)
    with pytest.raises(ProcessParameterInvalid, match="dimensions \\['t'\\]"):
        mask(data, cube(np.zeros((1, 2, 2)), ("t", "y", "x"), t=times("2023-05-01")))


def test_mask_is_lazy_and_computes_nothing() -> None:
    computed: list[str] = []

    def block(name: str, shape: tuple[int, ...]) -> Any:
        def make() -> np.ndarray:
            computed.append(name)
            return np.ones(shape)

        return da.from_delayed(dask.delayed(make)(), shape=shape, dtype=np.float64)

    data = cube(block("data", (2, 3, 4)), ("t", "y", "x"), t=times("2023-05-01", "2023-05-02"))
    flags = cube(block("mask", (2, 3, 4)), ("t", "y", "x"), t=times("2023-05-01", "2023-05-02"))
    out = mask(data, flags)
    assert isinstance(out.data, da.Array)
    assert computed == []
    assert np.isnan(out.values).all()
    assert sorted(computed) == ["data", "mask"]


# ---------------------------------------------------------------- ndvi


def test_ndvi_uint16_does_not_wrap() -> None:
    data = cube(
        np.array([[[100, 3000]], [[200, 1000]]], dtype=np.uint16),
        ("bands", "y", "x"),
        bands=["B08", "B04"],
    )
    out = ndvi(data, nir="B08", red="B04")
    assert out.dtype == np.float32 and out.dims == ("y", "x")
    np.testing.assert_allclose(out.values, [[-1 / 3, 0.5]], rtol=1e-6)


def test_ndvi_zero_sum_is_nan_and_the_sums_are_float32() -> None:
    # harmonised DN: B08 + B04 == 0 -> NaN (geotrellis Divide), not +-inf; Copernicus
    # converts the int16 cube to float32 before the band reduction, so 20000 + 15000
    # is 35000 (geopysparkdatacube.py _apply_bands_dimension L407-408)
    values = np.array([[[500.0, 15000.0, 3000.0]], [[-500.0, 20000.0, 1000.0]]], np.float32)
    data = cube(values, ("bands", "y", "x"), bands=["B08", "B04"])
    out = ndvi(data, nir="B08", red="B04")
    assert out.dtype == np.float32
    assert np.isnan(out.values[0, 0]) and not np.isinf(out.values).any()
    assert out.values[0, 1] == np.float32(-5000) / np.float32(35000)
    assert out.values[0, 2] == np.float32(0.5)


def test_divide_by_zero_is_nan_on_rasters() -> None:
    x = cube(da.from_array(np.array([[1.0, -1.0, 0.0, 6.0]], np.float32)), ("y", "x"))
    y = cube(np.array([[0.0, 0.0, 0.0, 3.0]], np.float32), ("y", "x"))
    out = divide(x, y)
    assert out.dtype == np.float32
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # never divides by zero, even lazily
        np.testing.assert_array_equal(out.values, [[np.nan, np.nan, np.nan, 2.0]])
    ints = divide(np.array([3, 4], np.int16), 0)
    assert ints.dtype == np.float32 and np.isnan(ints).all()
    assert divide(np.array([1.0, 2.0]), np.array([0.0, 4.0])).dtype == np.float64
    assert divide(1.0, 4.0) == 0.25  # two numbers: the spec (openeo-processes-dask)


# ---------------------------------------------------------------- aggregate_temporal(_period)


@pytest.mark.parametrize(
    ("period", "days", "starts"),
    [
        ("day", ["2023-05-03", "2023-05-04"], ["2023-05-03", "2023-05-04"]),
        # pandas "W" weeks: Sunday to Saturday, labelled by the Sunday
        ("week", ["2023-05-06", "2023-05-07"], ["2023-04-30", "2023-05-07"]),
        (
            "dekad",
            ["2023-05-10", "2023-05-15", "2023-05-31"],
            ["2023-05-01", "2023-05-11", "2023-05-21"],
        ),
        ("month", ["2023-05-31", "2023-06-01"], ["2023-05-01", "2023-06-01"]),
        (
            "season",
            ["2023-02-10", "2023-05-10", "2023-12-05"],
            ["2022-12-01", "2023-03-01", "2023-12-01"],
        ),
        (
            "tropical-season",
            ["2023-04-30", "2023-05-01", "2023-11-01"],
            ["2022-11-01", "2023-05-01", "2023-11-01"],
        ),
        ("year", ["2022-12-31", "2023-01-01"], ["2022-01-01", "2023-01-01"]),
    ],
)
def test_period_labels_are_period_starts(period: str, days: list[str], starts: list[str]) -> None:
    data = cube(
        np.arange(len(days), dtype=float).reshape(-1, 1, 1), ("t", "y", "x"), t=times(*days)
    )
    out = run_through_engine(
        "aggregate_temporal_period",
        {"data": data, "period": period, "reducer": reducer_graph("mean")},
    )
    np.testing.assert_array_equal(out["t"].values, times(*starts))
    np.testing.assert_array_equal(out.values.ravel(), np.arange(len(days)))


@pytest.mark.parametrize(
    ("start", "starts"),
    [
        ("2023-05-11", ["2023-05-11", "2023-05-21", "2023-06-01"]),
        # python-driver: dekads of the months starting in [start - 10 days, end)
        ("2023-05-12", ["2023-06-01"]),
    ],
)
def test_dekads_skip_the_first_month_of_a_late_extent(start: str, starts: list[str]) -> None:
    from hybrid.backends.local.processes.temporal import TEMPORAL_EXTENT

    data = cube(
        np.array([1.0, 2.0, 4.0]).reshape(-1, 1, 1),
        ("t", "y", "x"),
        t=times("2023-05-12", "2023-05-30", "2023-06-02"),
    )
    data.attrs[TEMPORAL_EXTENT] = (start, "2023-07-01")
    out = run_through_engine(
        "aggregate_temporal_period",
        {"data": data, "period": "dekad", "reducer": reducer_graph("mean")},
    )
    np.testing.assert_array_equal(out["t"].values, times(*starts))
    np.testing.assert_array_equal(out.values.ravel(), [1.0, 2.0, 4.0][-len(starts) :])


def test_dekads_start_from_the_extent_filter_temporal_and_merge_cubes_leave() -> None:
    """Copernicus builds the dekads from its metadata's temporal extent, which
    filter_temporal narrows (geopysparkcubemetadata.py L88-102) and merge_cubes widens
    to both cubes' (geopysparkdatacube.py L1141-1147); it was the load's extent here, so
    a filter from 12 May kept May's dekads and a merge with a cube loaded from 12 May
    dropped every May date of both."""
    from hybrid.backends.local.processes.temporal import TEMPORAL_EXTENT

    def loaded(start: str, days: tuple[str, ...]) -> Any:
        data = cube(np.ones((len(days), 1, 1)), ("t", "y", "x"), t=times(*days))
        data.attrs[TEMPORAL_EXTENT] = (start, "2023-08-01")
        return data

    def dekads(data: Any) -> list[str]:
        out = run_through_engine(
            "aggregate_temporal_period",
            {"data": data, "period": "dekad", "reducer": reducer_graph("mean")},
        )
        return [str(t)[:10] for t in out["t"].values]

    early = loaded("2023-04-28", ("2023-05-02", "2023-05-14", "2023-06-02"))
    assert dekads(early) == ["2023-05-01", "2023-05-11", "2023-06-01"]
    narrowed = run_through_engine(
        "filter_temporal", {"data": early, "extent": ["2023-05-12", None]}
    )
    assert narrowed.attrs[TEMPORAL_EXTENT] == ("2023-05-12", "2023-08-01")
    assert dekads(narrowed) == ["2023-06-01"]
    # a filter wider than the load leaves its extent
    wide = run_through_engine("filter_temporal", {"data": early, "extent": ["2023-01-01", None]})
    assert wide.attrs[TEMPORAL_EXTENT] == ("2023-04-28", "2023-08-01")
    late = loaded("2023-05-12", ("2023-05-14", "2023-06-02"))
    late = late.expand_dims(bands=["b"], axis=1)
    merged = run_through_engine(
        "merge_cubes", {"cube1": late, "cube2": early.expand_dims(bands=["a"], axis=1)}
    )
    assert merged.attrs[TEMPORAL_EXTENT] == ("2023-04-28", "2023-08-01")
    assert dekads(merged) == ["2023-05-01", "2023-05-11", "2023-06-01"]


def test_period_mean_accumulates_in_float64() -> None:
    # float32 summation of 1e8 + 1 + 1 - 1e8 loses the ones; geotrellis' mean does not
    values = np.array([1e8, 1.0, 1.0, -1e8], dtype=np.float32).reshape(-1, 1, 1)
    data = cube(values, ("t", "y", "x"), t=times(*[f"2023-05-0{d}" for d in range(1, 5)]))
    out = run_through_engine(
        "aggregate_temporal_period",
        {"data": data, "period": "month", "reducer": reducer_graph("mean")},
    )
    assert out.dtype == np.float32
    assert float(out.values.ravel()[0]) == 0.5


def test_period_empty_dropped_fully_masked_kept_as_nan() -> None:
    data = cube(
        np.array([1.0, 3.0, np.nan, 5.0]).reshape(-1, 1, 1),
        ("t", "y", "x"),
        t=times("2023-05-02", "2023-05-20", "2023-07-04", "2023-09-09"),
    )
    out = run_through_engine(
        "aggregate_temporal_period",
        {"data": data, "period": "month", "reducer": reducer_graph("mean")},
    )
    # June and August have no scene: dropped; July's only scene is nodata: NaN
    np.testing.assert_array_equal(out["t"].values, times("2023-05-01", "2023-07-01", "2023-09-01"))
    np.testing.assert_array_equal(out.values.ravel(), [2.0, np.nan, 5.0])
    assert out.dtype == np.float32


SD = math.sqrt(((1 - 10 / 3) ** 2 + (2 - 10 / 3) ** 2 + (7 - 10 / 3) ** 2) / 2)


@pytest.mark.filterwarnings("ignore:Degrees of freedom:RuntimeWarning")
@pytest.mark.parametrize(
    ("reducer", "want", "dtype"),
    [
        ("mean", [10 / 3, 4.0, np.nan], np.float32),
        ("median", [2.0, 4.0, np.nan], np.float32),
        ("min", [1.0, 4.0, np.nan], np.float32),
        ("max", [7.0, 4.0, np.nan], np.float32),
        ("sd", [SD, np.nan, np.nan], np.float32),
        # no valid value: no count (nodata), as geotrellis' multibandReduce leaves it;
        # held as floats, written as int32 (cell_types)
        ("count", [3, 1, np.nan], np.float32),
    ],
)
def test_period_reducers_through_real_callbacks(
    reducer: str, want: list[float], dtype: Any
) -> None:
    # May: 1, 2, nodata, 7 (nodata skipped); June: 4 (a shorter period: padding);
    # July: nodata only
    data = cube(
        np.array([1.0, 2.0, np.nan, 7.0, 4.0, np.nan]).reshape(-1, 1, 1),
        ("t", "y", "x"),
        t=times("2023-05-01", "2023-05-09", "2023-05-17", "2023-05-25", "2023-06-02", "2023-07-03"),
    )
    out = run_through_engine(
        "aggregate_temporal_period",
        {"data": data, "period": "month", "reducer": reducer_graph(reducer)},
    )
    assert out.dtype == dtype
    np.testing.assert_allclose(out.values.ravel(), want, rtol=1e-6)


def test_period_multi_node_reducer_differs_per_period() -> None:
    # regression: the parser caches callback nodes after the first call, so a reducer
    # called once per period handed every period the first period's |mean|
    data = cube(
        np.array([-2.0, -4.0, 6.0]).reshape(-1, 1, 1),
        ("t", "y", "x"),
        t=times("2023-05-01", "2023-05-02", "2023-06-01"),
    )
    graph = {
        "process_graph": {
            "m": {"process_id": "mean", "arguments": {"data": {"from_parameter": "data"}}},
            "a": {"process_id": "absolute", "arguments": {"x": {"from_node": "m"}}, "result": True},
        }
    }
    out = run_through_engine(
        "aggregate_temporal_period", {"data": data, "period": "month", "reducer": graph}
    )
    np.testing.assert_array_equal(out.values.ravel(), [3.0, 6.0])


def test_aggregate_temporal_intervals_and_labels() -> None:
    data = cube(
        np.array([1.0, 3.0, 10.0, 20.0]).reshape(-1, 1, 1),
        ("t", "y", "x"),
        t=times("2023-03-05", "2023-04-30", "2023-06-01", "2023-07-15"),
    )
    intervals = [
        ["2023-03-01", "2023-05-01"],
        ["2023-05-01", "2023-06-01"],
        ["2023-06-01", "2023-08-01"],
    ]
    args = {"data": data, "intervals": intervals, "reducer": reducer_graph("mean")}
    # Copernicus reads each label with pandas and writes it back as %Y-%m-%dT%H:%M:%SZ
    # (geopysparkdatacube.py L974-975): a month is its first day, an offset is dropped
    labels = ["2023-03", "May 2023", "2023-07-01T00:00:00+02:00"]
    out = run_through_engine("aggregate_temporal", {**args, "labels": labels})
    # the May interval has no scene: dropped; end is exclusive (2023-06-01 is summer)
    np.testing.assert_array_equal(out["t"].values, times("2023-03-01", "2023-07-01"))
    np.testing.assert_array_equal(out.values.ravel(), [2.0, 15.0])
    out = run_through_engine("aggregate_temporal", args)
    np.testing.assert_array_equal(out["t"].values, times("2023-03-01", "2023-06-01"))


@pytest.mark.parametrize("label", ["spring", "W01", "may", None])
def test_aggregate_temporal_refuses_a_label_that_is_no_date(label: str | None) -> None:
    """Copernicus's ``pd.to_datetime(label)`` fails the job on these: one 4xx here."""
    data = cube(np.ones((1, 1, 1)), ("t", "y", "x"), t=times("2023-03-05"))
    args = {"data": data, "intervals": [["2023-03-01", "2023-05-01"]], "labels": [label]}
    with pytest.raises(ProcessParameterInvalid, match=f"label {label!r} is not a date"):
        run_through_engine("aggregate_temporal", {**args, "reducer": reducer_graph("mean")})


@pytest.mark.parametrize(
    ("scenes", "interval", "labels", "label"),
    [
        # an offset is wall time: 2023-05-01T00:00:00+02:00 is 2023-05-01T00:00Z there
        # (not 2023-04-30T22:00Z), so the 23:00 scene is out and the 01:00 one in
        (
            ["2023-04-30T23:00", "2023-05-01T01:00"],
            ["2023-05-01T00:00:00+02:00", "2023-05-02T00:00:00+02:00"],
            None,
            "2023-05-01",
        ),
        # the fraction of a second is dropped: the 12:00:00.5 scene falls after a bound
        # written 12:00:00.9 (the 11:00 one in), and a label at 06:00:00.7 is 06:00:00
        (
            ["2023-05-01T12:00:00.5", "2023-05-01T11:00"],
            ["2023-05-01T00:00:00Z", "2023-05-01T12:00:00.9Z"],
            ["2023-05-01T06:00:00.7Z"],
            "2023-05-01T06:00:00",
        ),
    ],
)
def test_aggregate_temporal_reads_bounds_and_labels_as_written_back(
    scenes: list[str], interval: list[str], labels: list[str] | None, label: str
) -> None:
    """geopysparkdatacube.py L965-977: each bound and label is parsed by pandas and
    written back with strftime('%Y-%m-%dT%H:%M:%SZ'): its wall time, whole seconds."""
    data = cube(
        np.array([3.0, 1.0]).reshape(-1, 1, 1),
        ("t", "y", "x"),
        t=np.array(scenes, dtype="datetime64[ns]"),
    )
    args = {"data": data, "intervals": [interval], "reducer": reducer_graph("mean")}
    out = run_through_engine("aggregate_temporal", {**args, "labels": labels})
    np.testing.assert_array_equal(out.values.ravel(), [1.0])  # the second scene only
    np.testing.assert_array_equal(out["t"].values, np.array([label], dtype="datetime64[ns]"))


def test_aggregate_temporal_flat_interval_bounds_pair_up_as_on_copernicus() -> None:
    """geopysparkdatacube.py L965-972: a flat list [s1, e1, s2, e2] is read pairwise
    (the client's examples/archive/ndvi_composite.py); an odd count is one 400."""
    data = cube(
        np.array([1.0, 3.0, 10.0]).reshape(-1, 1, 1),
        ("t", "y", "x"),
        t=times("2023-03-05", "2023-04-30", "2023-06-01"),
    )
    flat = ["2023-03-01", "2023-05-01", "2023-04-01", "2023-07-01"]
    args = {"data": data, "intervals": flat, "reducer": reducer_graph("mean")}
    out = run_through_engine("aggregate_temporal", {**args, "labels": ["2023-03", "2023-04"]})
    np.testing.assert_array_equal(out["t"].values, times("2023-03-01", "2023-04-01"))
    np.testing.assert_array_equal(out.values.ravel(), [2.0, 6.5])
    with pytest.raises(ProcessParameterInvalid, match="start, end pairs, got 3 dates"):
        run_through_engine("aggregate_temporal", {**args, "intervals": flat[:3]})


def test_aggregate_temporal_period_rejects_unsupported() -> None:
    data = cube(np.ones((1, 1, 1)), ("t", "y", "x"), t=times("2023-05-01"))
    with pytest.raises(ProcessParameterInvalid, match="'hour' is not supported"):
        aggregate_temporal_period(data, nanmean_reducer, "hour")


# ---------------------------------------------------------------- filter_labels


def test_filter_labels_text_begins_on_time_labels() -> None:
    data = cube(
        np.arange(4.0).reshape(-1, 1, 1),
        ("t", "y", "x"),
        t=times("2023-05-02", "2023-06-03", "2023-05-20", "2023-06-04"),
    )
    condition = {
        "process_graph": {
            "c": {
                "process_id": "text_begins",
                "arguments": {"data": {"from_parameter": "value"}, "pattern": "2023-06"},
                "result": True,
            }
        }
    }
    out = run_through_engine(
        "filter_labels", {"data": data, "condition": condition, "dimension": "t"}
    )
    np.testing.assert_array_equal(out["t"].values, times("2023-06-03", "2023-06-04"))
    np.testing.assert_array_equal(out.values.ravel(), [1.0, 3.0])


def test_filter_labels_plain_callable_and_missing_dimension() -> None:
    data = cube(
        np.arange(3.0).reshape(-1, 1), ("t", "x"), t=times("2023-05-02", "2023-06-03", "2023-06-05")
    )
    keep = filter_labels(data, lambda label, **_: label != "2023-06-03T00:00:00Z", "t")
    np.testing.assert_array_equal(keep["t"].values, times("2023-05-02", "2023-06-05"))
    with pytest.raises(ProcessParameterInvalid, match="DimensionNotAvailable"):
        filter_labels(data.isel(t=0, drop=True), lambda label, **_: True, "t")
    with pytest.raises(ProcessParameterInvalid, match="'condition' must be a child process"):
        filter_labels(data, "2023-06-03", "t")


def test_filter_labels_keeping_no_date_fails_as_the_load_there() -> None:
    """Copernicus drops the scenes when loading and fails without any
    (FileLayerProvider.scala L1601-1617): one clear error, not an empty cube."""
    data = cube(np.arange(2.0).reshape(-1, 1), ("t", "x"), t=times("2023-05-02", "2023-06-03"))
    with pytest.raises(NoDataAvailable, match="keeps none of the 2 dates of 't'"):
        filter_labels(data, lambda label, **_: False, "t")


def test_filter_labels_on_bands_is_ignored_as_on_copernicus() -> None:
    """geopysparkdatacube.py L298-301 returns the cube; only 't' reaches the load."""
    data = cube(np.arange(3.0), ("bands",), bands=["B02", "B04", "B08"])
    with pytest.warns(HybridWarning, match="filter_labels on 'bands'.*filter_bands"):
        keep = filter_labels(data, lambda label, **_: label != "B04", "bands")
    assert list(keep["bands"].values) == ["B02", "B04", "B08"]


# ---------------------------------------------------------------- properties

dn = st.integers(min_value=1, max_value=10000)


@FAST
@given(st.lists(st.tuples(dn, dn), min_size=1, max_size=20))
def test_ndvi_in_unit_range_for_positive_inputs(pairs: list[tuple[int, int]]) -> None:
    values = np.array(pairs, dtype=np.uint16).T.reshape(2, 1, -1)
    out = ndvi(cube(values, ("bands", "y", "x"), bands=["nir", "red"])).values
    assert np.isfinite(out).all() and (out >= -1).all() and (out <= 1).all()


grid_values = st.lists(st.one_of(st.floats(-1e3, 1e3), st.just(math.nan)), min_size=12, max_size=12)


@FAST
@given(grid_values, st.lists(st.sampled_from([0.0, 1.0, np.nan]), min_size=12, max_size=12))
def test_masking_twice_equals_masking_once(values: list[float], flags: list[float]) -> None:
    data = cube(np.reshape(values, (3, 4)), ("y", "x"))
    m = cube(np.reshape(flags, (3, 4)), ("y", "x"))
    once = mask(data, m).values
    np.testing.assert_array_equal(mask(mask(data, m), m).values, once)


@FAST
@given(
    st.floats(-1e4, 1e4, allow_nan=False),
    st.lists(st.integers(0, 364), min_size=1, max_size=12, unique=True),
)
def test_monthly_mean_of_constant_is_constant(value: float, offsets: list[int]) -> None:
    days = np.sort(np.datetime64("2023-01-01", "ns") + np.array(offsets).astype("timedelta64[D]"))
    data = cube(np.full((len(days), 2, 2), value), ("t", "y", "x"), t=days)
    out = aggregate_temporal_period(data, nanmean_reducer, "month")
    np.testing.assert_allclose(out.values, np.float32(value), rtol=1e-6)
    assert out.sizes["t"] == len({str(d)[:7] for d in days})


@FAST
@given(
    st.floats(-1e3, 1e3, allow_nan=False),
    st.lists(st.floats(0.01, 10.0), min_size=9, max_size=9),
)
def test_normalised_kernel_keeps_constant_away_from_borders(
    value: float, weights: list[float]
) -> None:
    kernel = np.reshape(weights, (3, 3))
    kernel = kernel / kernel.sum()
    out = apply_kernel(cube(np.full((6, 7), value), ("y", "x")), kernel).values
    np.testing.assert_allclose(out[1:-1, 1:-1], value, rtol=1e-9, atol=1e-9)


def test_a_period_reads_only_its_own_dates() -> None:
    """A period with fewer dates than the longest one is padded with one of its own
    dates, never another period's: each period's blocks depend on its dates alone (the
    threaded store computes a period at a time; a foreign date would be computed again)."""
    days = times("2023-04-03", "2023-04-13", "2023-04-23", "2023-05-08", "2023-06-02")
    values = np.arange(5 * 2 * 2, dtype="float64").reshape(5, 2, 2)
    lazy = da.from_array(values, chunks=(1, 2, 2), name="dates")
    out = aggregate_temporal_period(cube(lazy, ("t", "y", "x"), t=days), nanmean_reducer, "month")
    graph = dict(out.data.__dask_graph__())
    read: list[set[int]] = []
    for key in out.data.__dask_keys__():
        seen, todo = set(), [key[0][0]]
        while todo:
            deps = dask.core.get_dependencies(graph, todo.pop())
            seen.update(k[1] for k in deps if isinstance(k, tuple) and k[0] == "dates")
            todo.extend(deps)
        read.append(seen)
    assert read == [{0, 1, 2}, {3}, {4}]
    np.testing.assert_allclose(out.values, [values[:3].mean(0), values[3], values[4]])
