"""The official openEO process test vectors run through the local engine's processes.

Vectors: ../shared/openeo-spec/process-tests (Open-EO/openeo-processes ``tests/``).
Where the Copernicus backend follows the spec the vector must pass as written. Where
Copernicus deliberately differs (../shared/FIELD_NOTES.md sections 1-2), or where a
vector contradicts the spec text, the test asserts the Copernicus / spec behaviour
explicitly and says why. Cases a raster cube cannot represent (NaN vs nodata, text
or boolean typed cells) are strict xfails with the reason.
"""

from __future__ import annotations

import datetime as dt
import warnings
from typing import Any

import numpy as np
import pytest

from tests import process_vectors as pv

if not pv.VECTOR_DIR.is_dir():
    pytest.skip(f"openEO process vectors not found at {pv.VECTOR_DIR}", allow_module_level=True)

from hybrid.backends.local.registry import base_registry
from hybrid.errors import HybridError


def _impl(process_id: str) -> Any:
    return base_registry()["predefined", process_id].implementation


def _ids(cases: list[pv.Vector]) -> list[str]:
    return [case.name for case in cases]


def _assert_throws(exc: BaseException, case: pv.Vector) -> None:
    """The error is a clear one: ours (HybridError naming the spec exception) or the
    openeo-processes-dask exception class of that name."""
    assert case.throws is not None
    if isinstance(exc, HybridError):
        named = case.throws in str(exc) or exc.code == case.throws
        assert named, f"{case.name}: '{case.throws}' not named in: {exc}"
    else:
        assert type(exc).__name__ == case.throws, f"{case.name}: {type(exc).__name__}: {exc}"


# ---------------------------------------------------------------- apply_kernel

KERNEL_CASES = pv.load_vectors("apply_kernel")


@pytest.mark.parametrize("case", KERNEL_CASES, ids=_ids(KERNEL_CASES))
def test_apply_kernel_vector(case: pv.Vector) -> None:
    # All 7 pass as written: correlation, zero border, NaN -> replace_invalid, and the
    # spec's other border modes. NOTE Copernicus itself rejects border != 0 and
    # replace_invalid != 0 (FIELD_NOTES 1 apply_kernel, geopyspark-driver #1235); the
    # local engine implements them per the spec instead of rejecting them.
    args = {name: pv.decode(value) for name, value in case.arguments.items()}
    if case.throws:
        with pytest.raises(Exception) as info:
            _impl("apply_kernel")(**args)
        _assert_throws(info.value, case)
        return
    pv.assert_cube_equal(_impl("apply_kernel")(**args), pv.decode(case.returns))


# ---------------------------------------------------------------- mask

MASK_CASES = pv.load_vectors("mask")


def _spec_mask(data: Any, mask: Any, replacement: Any) -> np.ndarray:
    """The Copernicus rule, independently: non-zero or nodata in the mask replaces
    (the spec: non-zero), but only pixels with a value (DatacubeSupport.scala
    rasterMaskGeneric L233 ``isData(v1)``; the spec replaces nodata too)."""
    if "bands" in mask.dims and "bands" in data.dims and mask.sizes["bands"] == 1:
        mask = mask.isel(bands=0, drop=True)
    grid = mask.broadcast_like(data).transpose(*data.dims).values
    hit = ((grid != 0) | np.isnan(grid)) & ~np.isnan(data.values)
    fill = np.nan if replacement is None else float(replacement)
    return np.where(hit, fill, data.values)


@pytest.mark.parametrize("case", MASK_CASES, ids=_ids(MASK_CASES))
def test_mask_vector(case: pv.Vector) -> None:
    if case.missing_asset:
        pytest.skip(f"{case.name} refers to {case.missing_asset}, which upstream never had")
    args = {name: pv.decode(value) for name, value in case.arguments.items()}
    data, mask = args["data"], args["mask"]
    result = _impl("mask")(**args)
    # 1. The spec text (processes/mask.json) and Copernicus replace where the mask is
    #    NON-ZERO; the single-band mask applies to every band (FIELD_NOTES 1 mask).
    want = _spec_mask(data, mask, args.get("replacement"))
    np.testing.assert_array_equal(result.transpose(*data.dims).values, want)
    # 2. The vectors were written with the opposite rule (zero replaces): with the
    #    mask inverted, the result is the vector's expected cube ...
    inverted = _impl("mask")(**{**args, "mask": mask.copy(data=1 - mask.values)})
    expected = pv.decode(case.returns)
    defect = np.zeros(expected.shape, dtype=bool)
    if case.index == 2:
        # ... except pixel (y=2, x=2) of mask[2]: nodata (255) in every band where the
        # vector's own mask keeps the pixel, yet it expects the replacement -1 there,
        # while the kept nodata pixel blue (0, 3) stays nodata: the vector contradicts
        # itself. Nodata that is not masked stays nodata.
        defect[:, 2, 2] = True
        assert np.isnan(inverted.values[defect]).all()
    got = np.where(defect, expected.values, inverted.transpose(*expected.dims).values)
    pv.assert_cube_equal(inverted.copy(data=got), expected)


# ---------------------------------------------------------------- aggregate_temporal_period

PERIOD_CASES = pv.load_vectors("aggregate_temporal_period")

#: periods Copernicus rejects (FIELD_NOTES 1 aggregate_temporal_period)
UNSUPPORTED_PERIODS = {"hour", "decade", "decade-ad"}


def _start(day: dt.date, period: str) -> dt.date:
    """Period start, written independently of hybrid.backends.local.processes.temporal."""
    if period == "day":
        return day
    if period == "week":
        # Copernicus: pandas freq "W" weeks, Sunday to Saturday, labelled by the Sunday
        # (python-driver _period_to_intervals); the spec's weeks are ISO weeks
        return day - dt.timedelta(days=day.isoweekday() % 7)
    if period == "dekad":
        return dt.date(day.year, day.month, min(21, 1 + 10 * ((day.day - 1) // 10)))
    if period == "month":
        return dt.date(day.year, day.month, 1)
    if period == "season":
        shifted = day.year * 12 + day.month  # Dec of year Y starts DJF of Y
        first = shifted - (day.month % 3)
        return dt.date((first - 1) // 12, (first - 1) % 12 + 1, 1)
    if period == "tropical-season":
        months = day.year * 12 + day.month - 5  # count from May
        first = months - months % 6 + 5
        return dt.date((first - 1) // 12, (first - 1) % 12 + 1, 1)
    assert period == "year"
    return dt.date(day.year, 1, 1)


def _all_starts(first: dt.date, last: dt.date, period: str) -> list[dt.date]:
    starts: list[dt.date] = []
    day = first
    while day <= last:
        start = _start(day, period)
        if not starts or starts[-1] != start:
            starts.append(start)
        day += dt.timedelta(days=1)
    return starts


def _run_period_case(case: pv.Vector) -> Any:
    args = {
        name: (value if name == "reducer" else pv.decode(value))
        for name, value in case.arguments.items()
    }
    return pv.run_through_engine("aggregate_temporal_period", args)


@pytest.mark.parametrize("case", PERIOD_CASES, ids=_ids(PERIOD_CASES))
def test_aggregate_temporal_period_vector(case: pv.Vector) -> None:
    period = case.arguments["period"]
    if case.throws:
        with pytest.raises(HybridError) as info:
            _run_period_case(case)
        _assert_throws(info.value, case)
        return
    if period in UNSUPPORTED_PERIODS:
        # Copernicus supports neither hour nor decades: a clear error, not a result.
        with pytest.raises(HybridError, match=f"period '{period}' is not supported"):
            _run_period_case(case)
        return
    result = _run_period_case(case)
    data = pv.decode(case.arguments["data"])
    dim = case.arguments.get("dimension") or next(
        str(d) for d in data.dims if np.asarray(data[d]).dtype.kind == "M"
    )
    expected = pv.decode(case.returns)
    # the vectors call the output dimension "t" even when the input's is "t2"; the spec
    # keeps the dimension (and its name), so compare under the input's name
    expected = expected.rename({next(iter(expected.dims)): dim})
    # Copernicus: label = period start as a timestamp (the spec's `YYYY-MM` & co are
    # not used), and periods without any scene are dropped (FIELD_NOTES 1).
    days = [v.astype("datetime64[D]").astype(dt.date) for v in data[dim].values]
    if period == "week":
        # the vector groups by ISO week (Monday); Copernicus by Sunday weeks, so other
        # days share a period: the expected means are recomputed from the input
        _assert_sunday_weeks(result, data, dim, days)
        return
    starts = _all_starts(min(days), max(days), period)
    assert len(starts) == expected.sizes[dim], "the vector's periods are not contiguous"
    present = sorted({_start(day, period) for day in days})
    keep = [i for i, start in enumerate(starts) if start in present]
    expected = expected.isel({dim: keep}).assign_coords(
        {dim: [np.datetime64(start, "ns") for start in present]}
    )
    assert result.dtype == np.float32
    pv.assert_cube_equal(result, expected, decimals=4)


def _assert_sunday_weeks(result: Any, data: Any, dim: str, days: list[dt.date]) -> None:
    present = sorted({_start(day, "week") for day in days})
    assert [np.datetime64(s, "ns") for s in present] == list(result[dim].values)
    values = np.asarray(data.transpose(dim, ...).values, dtype=np.float64)
    for k, start in enumerate(present):
        members = [i for i, day in enumerate(days) if _start(day, "week") == start]
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            want = np.nanmean(values[members], axis=0)
        got = np.asarray(result.transpose(dim, ...).values[k], dtype=np.float64)
        np.testing.assert_allclose(got, want, rtol=1e-6, equal_nan=True)
    assert result.dtype == np.float32


# ---------------------------------------------------------------- stock processes

#: cases a one-pixel float raster cannot represent, or where openeo-processes-dask
#: (used unchanged) deviates from the spec outside what the workflow needs
STOCK_DEVIATIONS = {
    ("array_element", 3): "vector defect: label 'BO2' (letter O) is not a label of the array",
    ("eq", 3): "raster: false is 0, so eq(0, false) is true",
    ("eq", 11): "Copernicus: comparisons give bit tiles without nodata: nodata == 1 is false",
    ("eq", 12): "Copernicus (geotrellis Equal): nodata == nodata is true, not null",
    ("eq", 15): "Copernicus (geotrellis Equal): NaN is nodata and nodata == nodata is true",
    ("or", 2): "Copernicus (geotrellis Or): nodata on either side gives nodata, not true",
    ("or", 6): "Copernicus (geotrellis Or): nodata on either side gives nodata, not true",
    ("gt", 6): "raster: true is 1, so gt(true, 0) is true",
    ("gt", 7): "raster: true is 1 and false is 0, so gt(true, false) is true",
    ("gt", 8): "Copernicus: comparisons give bit tiles without nodata: 1 > nodata is false",
    ("gt", 9): "Copernicus: comparisons give bit tiles without nodata: nodata > nodata is false",
    ("mean", 6): "raster: NaN is nodata and is skipped, so the mean is 11/3, not NaN",
    ("mean", 7): "Copernicus (geotrellis Mean, OpenEOProcessScriptBuilder.scala L1161-1162): "
    "a cube's mean skips nodata whatever ignore_nodata",
}

STOCK_CASES = [
    case for pid in ("array_element", "eq", "or", "gt", "mean") for case in pv.load_vectors(pid)
]

# Copernicus's script builder fails for an element a cube's array lacks and never reads
# return_nodata (OpenEOProcessScriptBuilder.scala arrayElementFunction L1608-1653,
# L1644-1650): inside a callback these vectors are its failure, not null or the spec's
# ArrayElementNotAvailable (on a plain JSON array the spec's answers hold).
COPERNICUS_CALLBACK_FAILURES = {
    ("array_element", 2): "Invalid band index 0, only 0 bands available",
    ("array_element", 6): "Invalid band index 2, only 2 bands available",
    ("array_element", 8): "Could not find label BO4",
    ("array_element", 9): "Invalid band index 2, only 2 bands available",
    ("array_element", 10): "Could not find label BO4",
}


def _run_stock(case: pv.Vector) -> Any:
    args = {name: pv.decode(value) for name, value in case.arguments.items()}
    for name in ("x", "y", "data"):
        if name in args:
            args[name] = pv.to_raster(args[name])
    if case.process_id == "array_element" and hasattr(args["data"], "dims"):
        labelled = args["data"]
        args["data"] = labelled.values.reshape(-1, 1).astype(np.float64)
        args["dim_labels"] = labelled["labels"].values
    if case.process_id in ("mean", "array_element"):
        args["axis"] = 0
    with np.errstate(all="ignore"):
        return _impl(case.process_id)(**args)


def _stock_params() -> list[Any]:
    params = []
    for case in STOCK_CASES:
        reason = STOCK_DEVIATIONS.get((case.process_id, case.index))
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        params.append(pytest.param(case, id=case.name, marks=marks))
    return params


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("case", _stock_params())
def test_stock_process_vector(case: pv.Vector) -> None:
    """eq/or/gt/mean/array_element as the engine runs them inside callbacks: on
    float arrays where nodata is NaN and booleans are 1/0."""
    copernicus_failure = COPERNICUS_CALLBACK_FAILURES.get((case.process_id, case.index))
    if copernicus_failure:
        with pytest.raises(HybridError, match=copernicus_failure):
            _run_stock(case)
        return
    if case.throws:
        with pytest.raises(Exception) as info:
            _run_stock(case)
        _assert_throws(info.value, case)
        return
    boolean = case.process_id in ("eq", "gt", "or")
    result = pv.from_raster(_run_stock(case), boolean=boolean)
    pv.assert_scalar_equal(result, pv.expected_in_raster(pv.decode(case.returns)))


def test_ndvi_and_filter_labels_vectors_are_empty_or_absent() -> None:
    # ndvi.json5 has no cases and there is no filter_labels.json5 upstream: both are
    # covered by hand-computed tests in tests/engine/test_processes_*.py instead.
    assert pv.load_vectors("ndvi") == []
    assert not (pv.VECTOR_DIR / "filter_labels.json5").exists()


# ---------------------------------------------------------------- arithmetic on single values

ARITHMETIC_CASES = [
    case for pid in ("add", "subtract", "divide", "normalized_difference")
    for case in pv.load_vectors(pid)
]  # fmt: skip


@pytest.mark.parametrize("case", ARITHMETIC_CASES, ids=_ids(ARITHMETIC_CASES))
def test_arithmetic_vector(case: pv.Vector) -> None:
    """Through the engine's parser and registry. The vectors allow ``DivisionByZero``
    or +-infinity for x / 0: the engine raises DivisionByZero, as Copernicus's Python
    division of two numbers does (openeo_processes 0.0.4 math.py Divide.exec_num L4055).
    NaN and nodata are both nodata."""
    args = {name: pv.decode(value) for name, value in case.arguments.items()}
    if case.throws:
        with pytest.raises(Exception) as info:
            pv.run_through_engine(case.process_id, args)
        _assert_throws(info.value, case)
        return
    with np.errstate(all="ignore"):
        got = pv.from_raster(pv.run_through_engine(case.process_id, args), boolean=False)
    pv.assert_scalar_equal(got, pv.expected_in_raster(pv.decode(case.returns)))
