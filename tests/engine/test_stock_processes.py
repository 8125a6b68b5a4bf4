"""openeo-processes-dask processes the local engine advertises unchanged and no suite
vector covers (arrays, cumulative, cube helpers): hand-computed answers through the
registry, and the processes it does not advertise."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import xarray as xr

from hybrid.backends.local.registry import NOT_ADVERTISED, base_registry, supported_process_ids


def _impl(pid: str) -> Any:
    return base_registry()["predefined", pid].implementation


def _cube() -> xr.DataArray:
    return xr.DataArray(
        np.arange(24.0).reshape(2, 3, 4),
        dims=("t", "y", "x"),
        coords={
            "t": np.array(["2020-01-01", "2020-01-02"], dtype="datetime64[ns]"),
            "y": [3.0, 2.0, 1.0],
            "x": [0.0, 1.0, 2.0, 3.0],
        },
    )


def test_is_infinite_and_cumulative() -> None:
    assert bool(_impl("is_infinite")(x=math.inf)) is True
    assert bool(_impl("is_infinite")(x=1)) is False
    assert np.asarray(_impl("cummax")(data=[1, 3, 2])).tolist() == [1, 3, 3]
    assert np.asarray(_impl("cummin")(data=[3, 1, 2])).tolist() == [3, 1, 1]


def test_array_helpers() -> None:
    replaced = _impl("array_modify")(data=[1, 2, 3], values=[9], index=1, length=1)
    assert replaced == [1, 9, 3]
    # no length: insert, as Copernicus (arrayModifyFunction) and the rc.1 default 0
    assert _impl("array_modify")(data=[1, 2, 3], values=[9, 8], index=1) == [1, 9, 8, 2, 3]
    # types are kept: numbers stay numbers next to texts, null stays null
    mixed = _impl("array_modify")(data=["a", None, 4], values=[1, 2], index=0, length=1)
    assert mixed == [1, 2, None, 4]
    on_cube = _impl("array_modify")(data=np.array([[1.0], [2.0]]), values=[9.0], index=1, axis=0)
    assert np.asarray(on_cube).ravel().tolist() == [1.0, 9.0, 2.0]
    kept = _impl("array_filter")(data=np.array([1, 5, 3]), condition=lambda x, **_: x > 2)
    assert np.asarray(kept).tolist() == [5, 3]
    labeled = _impl("array_create_labeled")(data=[1, 2], labels=["a", "b"])
    assert labeled.values.tolist() == [1, 2]
    data = xr.DataArray([1, 2], dims=["b"], coords={"b": ["x", "y"]})
    assert _impl("array_find_label")(data=data, label="y") == 1


def test_cube_helpers() -> None:
    assert _impl("inspect")(data=3) == 3
    cube = _cube()
    assert _impl("trim_cube")(data=cube).shape == (2, 3, 4)  # nothing to trim
    padded = cube.copy()
    padded[0] = np.nan  # a date holding only nodata is trimmed (the stock version trims
    assert _impl("trim_cube")(data=padded).sizes["t"] == 1  # temporal/band dims only)
    mean = _impl("reduce_spatial")(
        data=cube, reducer=lambda data, **kw: np.nanmean(data, axis=kw.get("axis"))
    )
    assert mean.dims == ("t",) and mean.values.tolist() == [5.5, 17.5]


@pytest.mark.parametrize("pid", sorted(NOT_ADVERTISED))
def test_processes_that_cannot_work_here_are_not_advertised(pid: str) -> None:
    assert pid not in supported_process_ids()
