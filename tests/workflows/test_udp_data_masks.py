"""Copernicus's "data mask optimization" around user-defined processes, through the
openeo client against ``hybrid serve``.

Copernicus does not inline a user-defined process: it evaluates the call as a node whose
process id is the process's (openeo-python-driver processgraph/evaluator.py
``apply_process`` L355-362, ``evaluate_udp`` L391-395) and the process's own graph with
the same ``apply_process`` (``_evaluate_process_graph_process`` L373-388). So a mask
whose data is such a call is no mask of a load there (the process's id is not among the
processes ``check_subgraph_for_data_mask_optimization`` passes, L282-295): it is
computed pixel by pixel, the dates the mask lacks unmasked, a date it masks all over
all-NaN; a mask inside a process over the process's own load is applied in the load.

The sample over 20 May - 3 June: B04 on 23 May, 28 May and 2 June; the SCL load with
``max_cloud_cover=95`` lacks 23 May (97 % cloudy); its ``>= 8`` masks 2 June all over.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from tests.workflows.raw import raw_bands

EXTENT = {"west": 6.6615, "south": 45.2375, "east": 6.6665, "north": 45.2425}
DATES = ["2023-05-20", "2023-06-03"]


def _clouds(connection: Any) -> Any:
    """The SCL cloud flags of the less cloudy products (the mask lacks 23 May)."""
    scl = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=EXTENT, temporal_extent=DATES, bands=["SCL"],
        max_cloud_cover=95,
    )  # fmt: skip
    return scl >= 8


def _downloaded(cube: Any, path: Path) -> xr.Dataset:
    cube.download(path)
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load()


def _pixel_wise(connection: Any, tmp_path: Path) -> tuple[xr.Dataset, np.ndarray]:
    """The raw bands of every date and B04 masked where the mask has the date."""
    every = raw_bands(connection, ["B04", "SCL"], tmp_path / "all.nc", bbox=EXTENT, dates=DATES)
    kept = raw_bands(
        connection, ["SCL"], tmp_path / "kept.nc", bbox=EXTENT, dates=DATES, max_cloud_cover=95
    )
    has_mask = np.isin(every["t"].values, kept["t"].values)[:, None, None]
    cloudy = (every["SCL"].values >= 8) & has_mask
    return every, np.where(cloudy, np.nan, every["B04"].values)


def _check_pixel_wise(got: xr.Dataset, every: xr.Dataset, want: np.ndarray) -> None:
    np.testing.assert_array_equal(got["t"].values, every["t"].values)
    np.testing.assert_array_equal(got["B04"].values, want)
    days = [str(t)[:10] for t in got["t"].values]
    assert days == ["2023-05-23", "2023-05-28", "2023-06-02"]
    assert np.isfinite(got["B04"].values[0]).all(), "23 May, which the mask lacks, unmasked"
    assert np.isnan(got["B04"].values[2]).all(), "2 June, masked all over, all-NaN"


def test_a_mask_of_a_process_returning_a_load_is_computed_pixel_by_pixel(
    connection: Any, tmp_path: Path
) -> None:
    """``load_b04(extent, dates)`` returns a load_collection cube; the mask of its call
    is not pushed into that load on Copernicus (the call's process id ``load_b04`` is no
    process the optimization passes): 23 May stays unmasked, 2 June stays all-NaN. They
    were dropped, as for a mask of the load itself."""
    from openeo.api.process import Parameter

    extent = Parameter("extent", description="The area.", schema={"type": "object"})
    dates = Parameter("dates", description="The interval.", schema={"type": "array"})
    body = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=extent, temporal_extent=dates, bands=["B04"]
    )
    connection.save_user_defined_process("load_b04", body, parameters=[extent, dates])
    s2 = connection.datacube_from_process("load_b04", namespace="user", extent=EXTENT, dates=DATES)
    got = _downloaded(s2.mask(_clouds(connection)), tmp_path / "masked.nc")
    _check_pixel_wise(got, *_pixel_wise(connection, tmp_path))


def test_a_mask_inside_a_process_over_its_own_load_is_applied_in_the_load(
    connection: Any, tmp_path: Path
) -> None:
    """``masked_b04(extent, dates)`` masks its own B04 load with its own SCL load:
    Copernicus evaluates the process's graph with the same ``apply_process``, so the mask
    goes into the load there, which keeps only 28 May (the mask lacks 23 May and masks 2
    June all over)."""
    from openeo.api.process import Parameter

    extent = Parameter("extent", description="The area.", schema={"type": "object"})
    dates = Parameter("dates", description="The interval.", schema={"type": "array"})
    scl = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=extent, temporal_extent=dates, bands=["SCL"],
        max_cloud_cover=95,
    )  # fmt: skip
    b04 = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=extent, temporal_extent=dates, bands=["B04"]
    )
    connection.save_user_defined_process(
        "masked_b04", b04.mask(scl >= 8), parameters=[extent, dates]
    )
    cube = connection.datacube_from_process(
        "masked_b04", namespace="user", extent=EXTENT, dates=DATES
    )
    got = _downloaded(cube, tmp_path / "masked.nc")
    every, want = _pixel_wise(connection, tmp_path)
    assert [str(t)[:10] for t in got["t"].values] == ["2023-05-28"]
    np.testing.assert_array_equal(got["B04"].values, want[every["t"].values == got["t"].values])


def test_a_mask_inside_a_process_over_its_parameters_is_computed_pixel_by_pixel(
    connection: Any, tmp_path: Path
) -> None:
    """``masked_by(data, mask)`` masks its parameter ``data``: Copernicus's optimization
    check fails on it (evaluator.py ``flatten_children_node_types`` L247 reads the
    ``node`` a parameter has not); here the mask is computed as openEO defines it. It
    was pushed into the caller's load once the process was inlined."""
    graph = {
        "m": {
            "process_id": "mask",
            "arguments": {"data": {"from_parameter": "data"}, "mask": {"from_parameter": "mask"}},
            "result": True,
        }
    }
    connection.save_user_defined_process("masked_by", graph, parameters=[
        {"name": "data", "description": "The cube.", "schema": {"type": "object"}},
        {"name": "mask", "description": "The flags.", "schema": {"type": "object"}},
    ])  # fmt: skip
    s2 = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=EXTENT, temporal_extent=DATES, bands=["B04"]
    )
    cube = connection.datacube_from_process(
        "masked_by", namespace="user", data=s2, mask=_clouds(connection)
    )
    got = _downloaded(cube, tmp_path / "masked.nc")
    _check_pixel_wise(got, *_pixel_wise(connection, tmp_path))
