"""Property tests (hypothesis) of the processes the local engine replaces: ndvi's range,
masking, period means, kernels, a period reading only its own dates; a plain callable with
the engine's calling convention stands in for callbacks.
"""

from __future__ import annotations

import math

import dask
import dask.array as da
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hybrid.backends.local.processes.indices import ndvi
from hybrid.backends.local.processes.kernel import apply_kernel
from hybrid.backends.local.processes.masking import mask
from hybrid.backends.local.processes.temporal import aggregate_temporal_period
from tests.engine.process_cubes import cube, nanmean_reducer, times

FAST = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


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
