"""A date whose products reach the extent but hold no value there is no date of the cube,
as Copernicus drops every all-no-data tile at load (openeo-geotrellis-extensions
2a25a26e FileLayerProvider.scala L664, L708; :mod:`hybrid.backends.local.empty_dates`):
no time series entry, no netCDF slice, no month of its own."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hybrid.backends.local.empty_dates import centre_chunk, coarsest_band, kept_dates, probed
from tests.engine.process_cubes import cube, times
from tests.engine.test_aggregate_search_box import _bounds, _box
from tests.stac_fixtures import TINY_X0, TinyScene, write_tiny_catalog

#: the field, in the tiny tile's east half; its box is the load's extent
FIELD = _box(250, 350, 150, 250)
FIELDS = {
    "type": "FeatureCollection",
    "features": [{"type": "Feature", "properties": {}, "geometry": FIELD}],
}


def test_a_date_without_a_value_is_dropped_wherever_the_probe_looks() -> None:
    values = np.full((3, 2, 4, 4), np.nan, dtype=np.float32)
    values[0] = 1.0  # everywhere
    values[1, 1, 0, 0] = 2.0  # one pixel of the second band, far from the centre
    data = cube(values, ("t", "bands", "y", "x"), t=times("2023-06-01", "2023-06-02", "2023-06-03"))
    chunked = data.chunk({"t": 1, "bands": 1, "y": 2, "x": 2})
    assert kept_dates(chunked, probed(centre_chunk(chunked, 0))) == [0, 1]
    assert kept_dates(data, probed(centre_chunk(data, 1))) == [0, 1]


def test_a_cube_without_any_value_keeps_its_dates() -> None:
    data = cube(
        np.full((2, 1, 2, 2), np.nan), ("t", "bands", "y", "x"), t=times("2023-06-01", "2023-06-02")
    )
    assert kept_dates(data, probed(centre_chunk(data, 0))) == [0, 1]


def test_the_probe_reads_the_band_of_the_coarsest_files() -> None:
    assert coarsest_band(("B04", "B08", "SCL"), {"B04": 10, "B08": 10, "SCL": 20}) == 2
    assert coarsest_band(("B04",), {}) == 0


def _edge_scene(root: Path, scene_id: str, east: tuple[float, float] = (0, 100)) -> None:
    """Make ``scene_id`` a product whose footprint is the whole tile but whose data lies
    only ``east`` metres (from, to) east of its west edge (a swath edge inside the
    footprint; by default the west 100 m: nothing over the field)."""
    import rasterio

    from hybrid.sample.cog import write_cog

    for name in ("red", "nir", "scl"):
        file = root / scene_id / f"{name}.tif"
        with rasterio.open(file) as tif:
            data, transform = tif.read(1), tif.transform
        x = transform.c + transform.a * (np.arange(data.shape[1]) + 0.5) - transform.c
        data[:, (x < east[0]) | (x >= east[1])] = 0
        write_cog(
            file,
            data,
            transform=transform,
            crs="EPSG:32632",
            nodata=0,
            blocksize=256,
            resampling="nearest",
        )


def _catalog(root: Path, days: list[str], edge: int, east: tuple[float, float] = (0, 100)) -> str:
    scenes = [
        TinyScene(f"S2A_T32TLR_{d.replace('-', '')}_L2A", f"{d}T10:30:00Z", 5.0) for d in days
    ]
    catalog = write_tiny_catalog(root, scenes)
    _edge_scene(root, scenes[edge].id, east)
    return str(catalog)


def _load(days: tuple[str, str], extent: dict[str, Any] = FIELD) -> dict[str, Any]:
    return {
        "process_id": "load_collection",
        "arguments": {
            "id": "SENTINEL2_L2A",
            "spatial_extent": _bounds(extent),
            "temporal_extent": list(days),
            "bands": ["B04"],
        },
    }


def _run(catalog: str, graph: dict[str, Any], out: Path) -> Path:
    from hybrid.backends.local import LocalBackend, LocalSettings

    (path,) = LocalBackend(LocalSettings(stac=catalog)).execute(graph, out_dir=out).files
    return path


@pytest.mark.slow
def test_a_date_without_data_over_the_fields_has_no_time_series_entry(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path / "catalog", ["2023-06-01", "2023-06-05"], edge=1)
    mean = {"process_id": "mean", "arguments": {"data": {"from_parameter": "data"}}, "result": True}
    graph = {
        "load": _load(("2023-06-01", "2023-06-15")),
        "agg": {
            "process_id": "aggregate_spatial",
            "arguments": {
                "data": {"from_node": "load"},
                "geometries": FIELDS,
                "reducer": {"process_graph": {"m": mean}},
            },
        },
        "save": {
            "process_id": "save_result",
            "arguments": {"data": {"from_node": "agg"}, "format": "JSON"},
            "result": True,
        },
    }
    series = json.loads(_run(catalog, graph, tmp_path / "out").read_text())
    assert list(series) == ["2023-06-01T00:00:00Z"]
    assert series["2023-06-01T00:00:00Z"][0][0] is not None


def _netcdf_dates(path: Path) -> list[str]:
    import xarray as xr

    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return [str(t)[:10] for t in ds["t"].values]


@pytest.mark.slow
def test_a_date_without_data_is_no_slice_of_the_netcdf(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path / "catalog", ["2023-06-01", "2023-06-05"], edge=1)
    graph = {
        "load": _load(("2023-06-01", "2023-06-15")),
        "save": {
            "process_id": "save_result",
            "arguments": {"data": {"from_node": "load"}, "format": "netCDF"},
            "result": True,
        },
    }
    assert _netcdf_dates(_run(catalog, graph, tmp_path / "out")) == ["2023-06-01"]


@pytest.mark.slow
def test_a_date_with_data_only_in_the_layout_keys_margin_keeps_all_nan(tmp_path: Path) -> None:
    """Copernicus reads whole layout keys from the extent's north-west corner (16 px for
    this 11-px extent, hybrid.stac.overlap.key_size): data 20-40 m east of the extent lies
    in the key, so the date keeps, all-NaN once cropped to the extent."""
    catalog = _catalog(tmp_path / "catalog", ["2023-06-01", "2023-06-05"], edge=1, east=(130, 150))
    graph = {
        "load": _load(("2023-06-01", "2023-06-15"), extent=_box(5, 105, 5, 105)),
        "save": {
            "process_id": "save_result",
            "arguments": {"data": {"from_node": "load"}, "format": "netCDF"},
            "result": True,
        },
    }
    path = _run(catalog, graph, tmp_path / "out")
    assert _netcdf_dates(path) == ["2023-06-01", "2023-06-05"]
    import xarray as xr

    with xr.open_dataset(path, engine="h5netcdf") as ds:
        assert np.isnan(ds["B04"].values[1]).all()
        assert ds["x"].values.max() < TINY_X0 + 120  # the data lies past the extent


@pytest.mark.slow
def test_a_month_of_only_dates_without_data_is_no_period(tmp_path: Path) -> None:
    """aggregate_temporal makes a period only from the tiles it has (OpenEOProcesses.scala
    L480-491, L512-527): July, whose one date holds no value, is not written."""
    catalog = _catalog(tmp_path / "catalog", ["2023-06-01", "2023-07-05"], edge=1)
    mean = {"process_id": "mean", "arguments": {"data": {"from_parameter": "data"}}, "result": True}
    graph = {
        "load": _load(("2023-06-01", "2023-08-01")),
        "month": {
            "process_id": "aggregate_temporal_period",
            "arguments": {
                "data": {"from_node": "load"},
                "period": "month",
                "reducer": {"process_graph": {"m": mean}},
            },
        },
        "save": {
            "process_id": "save_result",
            "arguments": {"data": {"from_node": "month"}, "format": "netCDF"},
            "result": True,
        },
    }
    assert _netcdf_dates(_run(catalog, graph, tmp_path / "out")) == ["2023-06-01"]


@pytest.mark.slow
def test_load_stac_drops_a_date_without_data_too(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path / "catalog", ["2023-06-01", "2023-06-05"], edge=1)
    load = {
        "process_id": "load_stac",
        "arguments": {
            "url": catalog,
            "spatial_extent": _bounds(FIELD),
            "temporal_extent": ["2023-06-01", "2023-06-15"],
            "bands": ["red"],
        },
    }
    graph = {
        "load": load,
        "save": {
            "process_id": "save_result",
            "arguments": {"data": {"from_node": "load"}, "format": "netCDF"},
            "result": True,
        },
    }
    assert _netcdf_dates(_run(catalog, graph, tmp_path / "out")) == ["2023-06-01"]
