"""The UDF machinery without a server and without a worker: graph marking, runtime check,
tiling, results of another shape, exchange.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from hybrid.backends.local.udf.callbacks import (
    MARKER,
    mark_udf_callbacks,
    resolve_context,
    udf_callback,
)
from hybrid.backends.local.udf.tiling import Tiling, canonical, cut, stitch
from hybrid.errors import InvalidRuntime, InvalidVersion, ProcessUnsupported, UdfError
from tests.engine.udf_cubes import CODE, _cube, _graph, _run_udf


def test_single_run_udf_callbacks_are_marked() -> None:
    for parent, arg in [("apply", "process"), ("reduce_dimension", "reducer")]:
        marked = mark_udf_callbacks(_graph(_run_udf(context={"a": 1}), parent, arg))
        udf = udf_callback(marked["p"]["arguments"][arg])
        assert udf is not None and udf.code == CODE and udf.context == {"a": 1}


def test_run_udf_beside_other_processes_is_refused() -> None:
    callback = _run_udf()
    callback["u"]["result"] = False
    callback["m"] = {
        "process_id": "multiply",
        "arguments": {"x": {"from_node": "u"}, "y": 2},
        "result": True,
    }
    with pytest.raises(ProcessUnsupported, match="single process"):
        mark_udf_callbacks(_graph(callback))


@pytest.mark.parametrize(
    ("arguments", "error"),
    [({"runtime": "R"}, InvalidRuntime), ({"version": "2.7"}, InvalidVersion)],
)
def test_other_runtimes_and_versions_are_refused(arguments: dict, error: type) -> None:
    with pytest.raises(error) as info:
        mark_udf_callbacks(_graph(_run_udf(**arguments)))
    assert info.value.code == error.__name__ and info.value.status == 400


def test_runtime_names_compare_case_insensitively() -> None:
    marked = mark_udf_callbacks(_graph(_run_udf(runtime="python", version="3")))
    assert MARKER in marked["p"]["arguments"]["process"]


def test_context_reference_is_the_parents_context() -> None:
    assert resolve_context({"from_parameter": "context"}, {"k": 1}) == {"k": 1}
    assert resolve_context({"a": {"from_parameter": "context"}}, 5) == {"a": 5}
    assert resolve_context({}, {"k": 1}) == {}


def test_tiles_carry_overlap_and_nan_beyond_the_edges() -> None:
    cube, added = canonical(_cube(10, 13))
    tiling = Tiling(size_y=4, size_x=4, overlap_y=1, overlap_x=2, pad=True)
    tiles, tiles_y, tiles_x = cut(cube, tiling)
    assert not added and (tiles_y, tiles_x) == (3, 4)
    assert {t.shape[-2:] for t in tiles} == {(6, 8)}
    first = tiles[0]
    assert np.isnan(first.isel(y=0)).all() and np.isnan(first.isel(x=[0, 1])).all()
    inner = first.isel(y=slice(1, 6), x=slice(2, 8))
    np.testing.assert_array_equal(inner, cube.isel(y=slice(0, 5), x=slice(0, 6)))
    assert float(first["x"][0]) == 280.0 and float(first["y"][0]) == 5010.0
    back = stitch(tiles, tiles, tiling=tiling, tiles=(tiles_y, tiles_x), like=cube, process="t")
    xr.testing.assert_equal(back, cube)


def test_unpadded_edge_tiles_are_smaller() -> None:
    cube, _ = canonical(_cube(10, 13))
    tiling = Tiling(size_y=8, size_x=8)
    tiles, tiles_y, tiles_x = cut(cube, tiling)
    assert [t.shape[-2:] for t in tiles] == [(8, 8), (8, 5), (2, 8), (2, 5)]
    back = stitch(tiles, tiles, tiling=tiling, tiles=(tiles_y, tiles_x), like=cube, process="t")
    xr.testing.assert_equal(back, cube)


def test_a_result_with_a_dimension_a_cube_lacks_is_refused_in_one_line() -> None:
    """It failed at save_result with xarray's "must be a permuted list of ..."."""
    cube, _ = canonical(_cube(8, 8))
    tiling = Tiling(size_y=8, size_x=8)
    tiles, ty, tx = cut(cube, tiling)
    wider = [t.expand_dims(foo=[1, 2]) for t in tiles]
    with pytest.raises(UdfError, match="a cube holds t, bands, y and x; remove 'foo'"):
        stitch(wider, tiles, tiling=tiling, tiles=(ty, tx), like=cube, process="apply")


def test_a_result_of_another_resolution_is_refused() -> None:
    cube, _ = canonical(_cube(8, 8))
    tiling = Tiling(size_y=8, size_x=8)
    tiles, ty, tx = cut(cube, tiling)
    smaller = [t.isel(y=slice(0, 4)) for t in tiles]
    with pytest.raises(UdfError, match="resolution must not change"):
        stitch(smaller, tiles, tiling=tiling, tiles=(ty, tx), like=cube, process="apply")


def _upsampled(tile: xr.DataArray, factor: int) -> xr.DataArray:
    values = tile.values.repeat(factor, axis=-1).repeat(factor, axis=-2)
    return xr.DataArray(values, dims=tile.dims, coords={"bands": tile["bands"].values})


def test_apply_neighborhood_results_of_another_resolution_regrid_the_cube() -> None:
    """Twice the pixels per tile: each tile keeps its extent, overlap and size double
    (geopysparkdatacube.py ``apply_neighborhood`` L1382-1395): 5 m pixels over the
    cube's extent, each the value of the 10 m pixel it lies in."""
    cube, _ = canonical(_cube(10, 13))
    tiling = Tiling(size_y=4, size_x=4, overlap_y=1, overlap_x=2, pad=True, rescale=True)
    tiles, ty, tx = cut(cube, tiling)
    results = [_upsampled(t, 2) for t in tiles]
    out = stitch(results, tiles, tiling=tiling, tiles=(ty, tx), like=cube, process="apply_n")
    assert out.sizes["y"] == 20 and out.sizes["x"] == 26
    np.testing.assert_allclose(out["x"].values, 297.5 + 5 * np.arange(26))
    np.testing.assert_allclose(out["y"].values, 5002.5 - 5 * np.arange(20))
    np.testing.assert_array_equal(out.values, cube.values.repeat(2, axis=-1).repeat(2, axis=-2))
    # half the pixels: 20 m
    tiling = Tiling(size_y=4, size_x=4, overlap_y=2, overlap_x=2, pad=True, rescale=True)
    tiles, ty, tx = cut(cube, tiling)
    halved = [t.coarsen(y=2, x=2).mean() for t in tiles]
    out = stitch(halved, tiles, tiling=tiling, tiles=(ty, tx), like=cube, process="apply_n")
    assert (out.sizes["y"], out.sizes["x"]) == (5, 6)  # round(10 / 2), round(13 / 2)
    np.testing.assert_allclose(out["x"].values, 305.0 + 20 * np.arange(6))
    want = cube.isel(y=slice(0, 10), x=slice(0, 12)).coarsen(y=2, x=2).mean()
    np.testing.assert_allclose(out.values, want.values)
    # tiles changed differently are refused
    mixed = [_upsampled(tiles[0], 2), *[_upsampled(t, 1) for t in tiles[1:]]]
    with pytest.raises(UdfError, match="differently"):
        stitch(mixed, tiles, tiling=tiling, tiles=(ty, tx), like=cube, process="apply_n")


def test_exchange_round_trip(tmp_path: Path) -> None:
    from hybrid.backends.local.udf.exchange import read_chunk, write_chunk

    cube = _cube(3, 4)
    cube.attrs["t"] = "2023-06-02T00:00:00Z"
    write_chunk(tmp_path, "c", cube)
    expected = cube.assign_coords(bands=np.array(["B04", "B08"], dtype=object))
    xr.testing.assert_identical(read_chunk(tmp_path, "c"), expected)
