"""raster_to_vector (hybrid.backends.local.processes.vectorize) against an independent
reading of geotrellis's ``Vectorize``: each 4-connected group of cells of the same
integer value (scipy's labelling, not the polygoniser) is one polygon covering exactly
those cells, per date, in pieces of 5120 cells; the cube Copernicus builds from them
(``_parse_raster_to_vector_geojson``) and the files it writes of it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from hybrid.backends.local.processes import vectorize
from hybrid.backends.local.processes.vectorize import raster_to_vector
from hybrid.errors import FormatUnsuitable, ProcessParameterInvalid

X0, Y0, STEP = 500_000.0, 5_000_000.0, 10.0


def _cube(values: np.ndarray, dates: list[str] | None = None) -> xr.DataArray:
    """(t, bands, y, x) with a second band that must be ignored; no t without dates."""
    rows, cols = values.shape[-2:]
    coords: dict[str, Any] = {
        "bands": ["B04", "B08"],
        "y": Y0 - STEP / 2 - STEP * np.arange(rows),
        "x": X0 + STEP / 2 + STEP * np.arange(cols),
    }
    data = np.stack([values, np.full(values.shape, 99.0)], axis=-3)
    dims: tuple[str, ...] = ("bands", "y", "x")
    if dates is not None:
        coords["t"] = np.array(dates, dtype="datetime64[ns]")
        dims = ("t", *dims)
    return xr.DataArray(data, dims=dims, coords=coords, attrs={"epsg": 32631})


def zones(values: np.ndarray) -> list[tuple[float, frozenset[tuple[int, int]]]]:
    """(value, cells) of each 4-connected group of cells with the same integer part."""
    from scipy import ndimage

    with np.errstate(invalid="ignore"):
        cells = np.where(np.isnan(values), np.nan, np.trunc(values))
    out = []
    for value in np.unique(cells[np.isfinite(cells)]):
        labels, count = ndimage.label(cells == value)  # the default structure: 4-connected
        for label in range(1, count + 1):
            rows, cols = np.nonzero(labels == label)
            out.append((float(value), frozenset(zip(rows.tolist(), cols.tolist(), strict=True))))
    return out


def _covered(polygon: Any, shape: tuple[int, int]) -> frozenset[tuple[int, int]]:
    """The cells whose centre lies in ``polygon``, tested with shapely."""
    import shapely

    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]]
    x = X0 + STEP / 2 + STEP * cols.ravel()
    y = Y0 - STEP / 2 - STEP * rows.ravel()
    inside = shapely.contains_xy(polygon, x, y)
    return frozenset(zip(rows.ravel()[inside].tolist(), cols.ravel()[inside].tolist(), strict=True))


def _found(result: xr.DataArray, ti: int, shape: tuple[int, int]) -> list[Any]:
    """(value, cells) of each polygon with a value at date ``ti``, in result order."""
    out = []
    for polygon, value in zip(result["geometry"].values, result.values[:, ti, 0], strict=True):
        if np.isfinite(value):
            assert polygon.area == pytest.approx(STEP * STEP * len(_covered(polygon, shape)))
            out.append((float(value), _covered(polygon, shape)))
    return out


def test_each_zone_of_equal_4_connected_cells_is_one_polygon_per_date() -> None:
    rng = np.random.default_rng(7)
    first = rng.integers(0, 3, (12, 15)).astype(np.float64)
    first[rng.random(first.shape) < 0.15] = np.nan
    second = np.full_like(first, np.nan)
    second[2:9, 3:12] = 5.0
    second[4:7, 6:9] = 6.0  # a zone inside another: the outer polygon has a hole
    second[0, 0] = second[1, 1] = 5.0  # diagonal neighbours only: apart from each other
    empty = np.full_like(first, np.nan)
    dates = ["2023-06-05T10:36:29", "2023-06-07", "2023-06-10T10:46:00"]
    cube = _cube(np.stack([second, empty, first]), dates)
    cube = cube.isel(t=[2, 1, 0])  # out of order: the dates come sorted
    got = raster_to_vector(cube)
    assert got.dims == ("geometries", "t", "bands")
    assert [str(d)[:19] for d in got["t"].values] == ["2023-06-05T00:00:00", "2023-06-10T00:00:00"]
    assert list(got["bands"].values) == ["band0"] and got.attrs["vector_crs"] == "EPSG:32631"
    for ti, values in enumerate((second, first)):
        found = _found(got, ti, values.shape)
        assert sorted(found, key=repr) == sorted(zones(values), key=repr)
        firsts = [min(cells) for _, cells in found]
        assert firsts == sorted(firsts)  # by first cell, row by row
    per_date = np.isfinite(got.values[..., 0]).sum(axis=1)
    assert (per_date == 1).all()  # each polygon has its value at its own date only
    assert np.isfinite(got.values[: len(zones(second)), 0, 0]).all()  # the dates in order
    holed = [p for p in got["geometry"].values if len(p.interiors)]
    assert len(holed) == 1


def test_cells_are_read_as_integers_as_geotrellis_reads_a_tile() -> None:
    """The integer part towards zero (a float NDVI in (-1, 1) is one zone of 0),
    saturated to int32; NaN and -2**31 are no data."""
    values = np.array(
        [[0.31, -0.72, 0.99, 1.5], [-1.5, -0.2, np.nan, 1e12], [-(2.0**31), 0.0, 0.5, 2.0**40]]
    )
    got = raster_to_vector(_cube(values[None], ["2023-06-05"]))
    found = {(v, cells) for v, cells in _found(got, 0, values.shape)}
    assert found == {
        (0.0, frozenset({(0, 0), (0, 1), (0, 2), (1, 1), (2, 1), (2, 2)})),
        (1.0, frozenset({(0, 3)})),
        (-1.0, frozenset({(1, 0)})),
        (2.0**31 - 1, frozenset({(1, 3), (2, 3)})),  # both saturated: one zone
    }


def test_a_zone_crossing_pieces_gives_one_polygon_per_piece(monkeypatch: Any) -> None:
    monkeypatch.setattr(vectorize, "PIECE", 4)
    values = np.ones((6, 7))
    got = raster_to_vector(_cube(values[None], ["2023-06-05"]))
    pieces = [cells for _, cells in _found(got, 0, values.shape)]
    assert [len(c) for c in pieces] == [16, 12, 8, 6]
    assert [min(c) for c in pieces] == [(0, 0), (0, 4), (4, 0), (4, 4)]


def test_a_cube_without_t_and_one_withoutzones() -> None:
    values = np.array([[1.0, 1.0], [2.0, np.nan]])
    got = raster_to_vector(_cube(values))
    assert got.dims == ("geometries", "bands")
    assert got.values[:, 0].tolist() == [1.0, 2.0]
    nothing = raster_to_vector(_cube(np.full((1, 2, 2), np.nan), ["2023-06-05"]))
    assert nothing.sizes["geometries"] == 0


def test_no_zones_save_as_empty_files(tmp_path: Path) -> None:
    """A cube of no data has no polygons: an empty FeatureCollection (in the cube's
    CRS), a CSV of the header, an empty GeoParquet, JSON ``[]``."""
    import geopandas as gpd

    from hybrid.io.registry import find_format, write_result

    nothing = raster_to_vector(_cube(np.full((1, 2, 2), np.nan), ["2023-06-05"]))
    written = {
        layout: write_result(nothing, find_format(layout), tmp_path / layout, options={})[0]
        for layout in ("GeoJSON", "CSV", "Parquet", "JSON")
    }
    document = json.loads(written["GeoJSON"].read_text())
    assert document["features"] == []
    assert document["crs"]["properties"]["name"] == "urn:ogc:def:crs:EPSG::32631"
    assert written["CSV"].read_text().strip() == ",geometry"
    assert len(gpd.read_parquet(written["Parquet"])) == 0
    assert json.loads(written["JSON"].read_text()) == []


def test_a_uint8_cube_reads_255_as_no_data() -> None:
    """Copernicus's uint8 cube (linear_scale_range to 0..255) has nodata 255."""
    values = np.array([[255.0, 3.0], [3.0, 255.0]])
    got = raster_to_vector(_cube(values[None], ["2023-06-05"]), input_nodata=255.0)
    assert [v for v, _ in _found(got, 0, values.shape)] == [3.0, 3.0]


@pytest.mark.parametrize(
    ("convert", "nodata"), [(None, 255.0), ("uint8", 0.0), ("int16", -32768.0)]
)
def test_the_nodata_given_is_that_of_the_data_cell_type(convert: str | None, nodata: float) -> None:
    """linear_scale_range to 0..250 makes a uint8 cube with nodata 255, convert_data_type
    uint8 one with nodata 0 (its 255 is data): raster_to_vector gets the one its data has."""
    from hybrid.backends.local.cell_types import INPUT_NODATA, with_cell_types

    load = {"process_id": "load_collection", "arguments": {"id": "SENTINEL2_L2A", "bands": ["B04"]}}
    scale = {
        "process_id": "linear_scale_range",
        "arguments": {
            "x": {"from_parameter": "x"},
            "inputMin": 0,
            "inputMax": 1,
            "outputMin": 0,
            "outputMax": 250,
        },
        "result": True,
    }
    data = (
        {"process_id": "convert_data_type",
         "arguments": {"data": {"from_node": "load"}, "data_type": convert}}
        if convert else
        {"process_id": "apply",
         "arguments": {"data": {"from_node": "load"}, "process": {"process_graph": {"s": scale}}}}
    )  # fmt: skip
    graph = {
        "load": load, "data": data,
        "vec": {"process_id": "raster_to_vector", "arguments": {"data": {"from_node": "data"}},
                "result": True},
    }  # fmt: skip
    assert with_cell_types(graph)["vec"]["arguments"][INPUT_NODATA] == nodata


def test_refused_without_a_raster_cube() -> None:
    with pytest.raises(ProcessParameterInvalid, match="raster data cube"):
        raster_to_vector([1, 2])
    cube = _cube(np.ones((1, 2, 2)), ["2023-06-05"]).expand_dims(run=[1])
    with pytest.raises(ProcessParameterInvalid, match=r"\['run'\]"):
        raster_to_vector(cube)


def test_saved_as_copernicus_writes_its_vector_cube(tmp_path: Path) -> None:
    """GeoJSON with GDAL in the cube's CRS, CSV and Parquet as the geometries' frame
    with ``<date>~band0`` columns, JSON in the legacy layout, netCDF refused."""
    import geopandas as gpd

    from hybrid.io.registry import find_format, write_result

    values = np.array([[1.0, 1.0, 2.0], [np.nan, 1.0, 2.0]])
    cube = raster_to_vector(_cube(np.stack([values, values + 1]), ["2023-06-05", "2023-06-07"]))
    columns = ["2023-06-05T00:00:00Z~band0", "2023-06-07T00:00:00Z~band0"]

    (geojson,) = write_result(cube, find_format("GeoJSON"), tmp_path / "g", options={})
    document = json.loads(geojson.read_text())
    assert geojson.name == "vectorcube.geojson"
    assert document["crs"]["properties"]["name"] == "urn:ogc:def:crs:EPSG::32631"
    assert [f["properties"] for f in document["features"]] == [
        {columns[0]: 1.0, columns[1]: None},
        {columns[0]: 2.0, columns[1]: None},
        {columns[0]: None, columns[1]: 2.0},
        {columns[0]: None, columns[1]: 3.0},
    ]
    frame = gpd.read_file(geojson)
    assert frame.geometry.geom_equals_exact(
        gpd.GeoSeries(cube["geometry"].values, crs=32631), 1e-6
    ).all()

    (parquet,) = write_result(cube, find_format("Parquet"), tmp_path / "p", options={})
    table = gpd.read_parquet(parquet)
    assert list(table.columns) == ["geometry", *columns] and table.crs.to_epsg() == 32631
    (csv,) = write_result(cube, find_format("CSV"), tmp_path / "c", options={})
    assert csv.read_text().splitlines()[0] == ",geometry," + ",".join(columns)
    (legacy,) = write_result(cube, find_format("JSON"), tmp_path / "j", options={})
    assert json.loads(legacy.read_text()) == {
        "2023-06-05T00:00:00Z": [[1.0], [2.0], [None], [None]],
        "2023-06-07T00:00:00Z": [[None], [None], [2.0], [3.0]],
    }
    with pytest.raises(FormatUnsuitable, match="GDAL's netCDF vector driver"):
        write_result(cube, find_format("netCDF"), tmp_path / "n", options={})
