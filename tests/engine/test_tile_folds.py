"""sum and product over time in the tiles' own type (hybrid.backends.local.processes.tile_folds),
against the geotrellis rules written out by hand."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest

from hybrid.backends.local.processes.statistics import product, sum_
from hybrid.backends.local.processes.tile_folds import fold

NAN = np.nan


@pytest.mark.parametrize("lazy", [False, True])
def test_int16_sums_wrap_at_every_step_and_skip_nodata(lazy: bool) -> None:
    # columns: 20000 + 15000 wraps to -30536; nodata skipped; only nodata stays nodata;
    # 16384 + 16384 = 32768 wraps to -32768, which is nodata, so the next date is kept
    dates = np.array(
        [[20000, NAN, NAN, 16384], [15000, 5, NAN, 16384], [1, NAN, NAN, 7]], np.float32
    )
    data = da.from_array(dates, chunks=1) if lazy else dates
    got = fold(data, 0, "sum", "int16")
    assert isinstance(got, da.Array) == lazy
    np.testing.assert_array_equal(np.asarray(got), [-30535, 5, NAN, 7])


def test_int16_products_wrap_and_nodata_is_contagious() -> None:
    dates = np.array([[300, 2, 2], [300, NAN, 3]], np.float32)
    np.testing.assert_array_equal(fold(dates, 0, "product", "int16"), [90000 - 65536, NAN, 6])


def test_int32_sums_wrap_at_32_bits() -> None:
    dates = np.array([[2**31 - 1], [2]], np.float64)
    np.testing.assert_array_equal(fold(dates, 0, "sum", "int32"), [-(2**31) + 1])


def test_bit_tiles_keep_the_lowest_bit() -> None:
    flags = np.array([[True, True, False], [True, False, False], [True, True, False]])
    np.testing.assert_array_equal(fold(flags, 0, "sum", "bool"), [True, False, False])
    np.testing.assert_array_equal(fold(flags, 0, "product", "bool"), [True, False, False])


def test_the_reducers_fold_only_when_the_graph_says_so() -> None:
    dates = np.array([[20000.0], [15000.0]], np.float32)
    np.testing.assert_array_equal(sum_(dates, axis=0), [35000.0])
    np.testing.assert_array_equal(sum_(dates, axis=0, input_cell_type="int16"), [-30536.0])
    np.testing.assert_array_equal(product(dates, axis=0, input_cell_type="float32"), [3e8])
    assert sum_([1, 2, 3], input_cell_type="int16") == 6  # a list is not a cube's tiles


def test_the_graph_marks_a_sum_over_time_of_int16_and_says_so() -> None:
    from hybrid.backends.local.cell_types import INPUT_CELL_TYPE, result_cell_type, with_cell_types
    from hybrid.errors import HybridWarning

    load = {"process_id": "load_collection", "arguments": {"id": "SENTINEL2_L2A", "bands": ["B04"]}}
    node = {"process_id": "sum", "arguments": {"data": {"from_parameter": "data"}}, "result": True}
    total = {
        "process_id": "reduce_dimension",
        "arguments": {
            "data": {"from_node": "load"},
            "dimension": "t",
            "reducer": {"process_graph": {"s": node}},
        },
    }
    graph = {"load": load, "total": total}
    with pytest.warns(HybridWarning, match="wraps around"):
        marked = with_cell_types(graph)
    reducer = marked["total"]["arguments"]["reducer"]["process_graph"]["s"]
    assert reducer["arguments"][INPUT_CELL_TYPE] == "int16"
    assert result_cell_type(graph, {"from_node": "total"}) == ("int16", -32768)
