"""The local backend against tests/reference at the edges where implementations differ.

A tiny catalog (40 x 40 px COGs, Earth Search layout, baseline 05.09 so -1000 DN is
added: the values are negative) of six dates, four in May, none in June, two in July,
whose bands hold:

- negative values whose medians over an even number of dates end in .5, so truncation
  towards zero and floor differ;
- pixels without a value on some dates (odd and even counts) and a block without a
  value on every date;

compared per reducer over ``t`` (every reducer users use, with the result's cell type)
and per ``aggregate_temporal_period`` month (June has no date).
"""

from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr
from openeo.rest.datacube import DataCube

from hybrid.backends.local import LocalBackend, LocalSettings
from tests.fidelity.written_values import read_netcdf, values_with_nan
from tests.reference.composites import TIME_REDUCERS, reduce_time, time_reducer_dtype
from tests.reference.cube import load_cube
from tests.reference.temporal import aggregate
from tests.stac_fixtures import (
    TINY_SIZE,
    TinyScene,
    tiny_bbox,
    write_tiny_band,
    write_tiny_catalog,
)

DATES = ("2023-05-04", "2023-05-09", "2023-05-14", "2023-05-19", "2023-07-03", "2023-07-08")
START, END = "2023-05-01", "2023-08-01"
#: rows/cols (10 m) without a value on every date
EMPTY = (slice(30, 34), slice(30, 34))


def _bands(n: int) -> dict[str, np.ndarray]:
    """Date ``n``: stored DN of red and nir (0: no value), SCL all vegetation."""
    rows, cols = np.mgrid[0:TINY_SIZE, 0:TINY_SIZE]
    red = (400 + (3 * rows + 5 * cols + 7 * n * n) % 401).astype(np.uint16)
    nir = (1003 + (11 * rows + 2 * cols + 13 * n) % 97 - 50 * (n % 3)).astype(np.uint16)
    gaps = (rows >= 20) & (rows < 30) & ((rows + 2 * cols + n) % 5 == 0)
    red[gaps] = 0
    nir[(rows + cols + n) % 7 == 0] = 0
    red[EMPTY], nir[EMPTY] = 0, 0
    scl = np.full((TINY_SIZE // 2, TINY_SIZE // 2), 4, np.uint8)
    return {"red": red, "nir": nir, "scl": scl}


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_edges_catalog(tmp_path_factory.mktemp("edges") / "cat")


def write_edges_catalog(root: Path) -> Path:
    """The tiny catalog of :data:`DATES` with the bands of :func:`_bands`."""
    scenes = [
        TinyScene(f"S2B_32TLR_{d.replace('-', '')}_0_L2A", f"{d}T10:30:00Z", 5.0) for d in DATES
    ]
    path = write_tiny_catalog(root, scenes)
    for n, scene in enumerate(scenes):
        for key, array in _bands(n).items():
            write_tiny_band(
                path.parent / scene.id / f"{key}.tif", array, 20 if key == "scl" else 10
            )
    return path


def _extent() -> dict[str, float]:
    west, south, east, north = tiny_bbox()
    dx, dy = (east - west) / 20, (north - south) / 20
    return {"west": west + dx, "south": south + dy, "east": east - dx, "north": north - dy}


def _aoi() -> dict[str, Any]:
    e = _extent()
    w, s, east, n = e["west"], e["south"], e["east"], e["north"]
    return {"type": "Polygon", "coordinates": [[[w, s], [east, s], [east, n], [w, n], [w, s]]]}


def _load() -> DataCube:
    return DataCube.load_collection(
        "SENTINEL2_L2A", connection=None, spatial_extent=_extent(),
        temporal_extent=[START, END], bands=["B04", "B08"],
    )  # fmt: skip


def _netcdf(cube: DataCube, catalog: Path, out: Path) -> xr.Dataset:
    backend = LocalBackend(LocalSettings(stac=str(catalog)))
    files = backend.execute(cube.save_result(format="netCDF").flat_graph(), out_dir=out).files
    (nc,) = [p for p in files if Path(p).suffix == ".nc"]
    return read_netcdf(nc)


def _assert_same(local: np.ndarray, ref: np.ndarray, atol: float) -> None:
    assert local.shape == ref.shape
    np.testing.assert_array_equal(np.isnan(local), np.isnan(ref))
    both = ~np.isnan(local)
    assert both.any(), "no valid pixel at all: the comparison would be empty"
    worst = np.max(np.abs(local[both] - ref[both]))
    assert worst <= atol, worst


def test_the_catalog_has_the_edges(catalog):
    """The cases are there: negative .5 medians, counts of 0 to 6, an empty block."""
    ref = load_cube(catalog, _aoi(), START, END, ("B04", "B08"))
    red = ref.bands["B04"]
    assert [d.isoformat() for d in ref.dates] == list(DATES)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        median = np.nanmedian(red, axis=0)
    halves = np.isclose(median % 1, 0.5) & (median < 0)
    assert (
        halves.sum() > 10 and np.trunc(median[halves]).tolist() != np.floor(median[halves]).tolist()
    )
    counts = set(np.unique((~np.isnan(red)).sum(axis=0)).tolist())
    assert {0, 4, 5, 6} <= counts


@pytest.mark.parametrize("reducer", TIME_REDUCERS)
def test_reduce_time_with_empty_pixels_and_negative_medians(catalog, reducer, tmp_path):
    """Every reducer over ``t`` of the int16 bands: values, nodata and the cell type."""
    ds = _netcdf(_load().reduce_dimension("t", reducer=reducer), catalog, tmp_path)
    ref = load_cube(catalog, _aoi(), START, END, ("B04", "B08"))
    for band in ("B04", "B08"):
        assert str(ds[band].dtype) == time_reducer_dtype(reducer, integer=True), band
        want = reduce_time(ref.bands[band], reducer, integer=True)
        empty = np.isnan(ref.bands[band]).all(axis=0)
        assert empty.sum() >= 16 and np.isnan(want[empty]).all()
        _assert_same(
            values_with_nan(ds, band), want, atol=1e-3 if reducer in ("sd", "variance") else 0
        )


@pytest.mark.parametrize("reducer", ["mean", "median", "count", "max"])
def test_monthly_periods_skip_the_month_without_dates(catalog, reducer, tmp_path):
    """``aggregate_temporal_period`` month over May-July: June has no date, so no label."""
    cube = _load().aggregate_temporal_period("month", reducer=reducer)
    ds = _netcdf(cube, catalog, tmp_path)
    ref = load_cube(catalog, _aoi(), START, END, ("B04", "B08"))
    extent = (dt.datetime.fromisoformat(START + "T00:00:00+00:00"),
              dt.datetime.fromisoformat(END + "T00:00:00+00:00"))  # fmt: skip
    for band in ("B04", "B08"):
        labels, data = aggregate(ref.bands[band], ref.dates, reducer=reducer, extent=extent)
        assert labels == ["2023-05-01T00:00:00Z", "2023-07-01T00:00:00Z"]
        got = [np.datetime_as_string(t, unit="s") + "Z" for t in ds["t"].values]
        assert got == labels
        assert str(ds[band].dtype) == time_reducer_dtype(reducer, integer=True), band
        want = data.astype(np.float64)
        if reducer == "median":
            want = np.trunc(want)
        _assert_same(values_with_nan(ds, band), want, atol=0 if reducer != "mean" else 1e-3)


def _lattice_polygon(rng: np.random.Generator, grid: Any) -> Any:
    """A polygon in the grid's CRS with vertices on pixel centres and corners (every
    other one axis-aligned to its predecessor: horizontal edges on rows of centres)."""
    from shapely.geometry import Polygon

    m = int(rng.integers(4, 8))
    steps = rng.integers(1, 2 * grid.width - 1, size=(m, 2)).astype(np.float64)
    if rng.random() < 0.5:
        steps[1::2, 1] = steps[0::2, 1][: len(steps[1::2])]
    xmin, _, _, ymax = grid.bounds
    return Polygon(np.column_stack([xmin + 5.0 * steps[:, 0], ymax - 5.0 * steps[:, 1]]))


def test_polygon_pixels_where_edges_pass_through_centres_follow_geotrellis():
    """The engine's rasterization equals the reference's geotrellis scanline on polygons
    whose edges and vertices lie on pixel centres (where "centre inside" is undecided),
    and on the case where GDAL's fill and geotrellis part: a horizontal edge along a row
    of centres with the polygon above it and a vertex on the row."""
    from affine import Affine
    from shapely.geometry import Polygon

    from hybrid.backends.local.processes.vector import covered_pixels
    from tests.reference.grid import Grid
    from tests.reference.scanline import polygon_cells

    grid = Grid(epsg=32632, bounds=(0.0, 0.0, 120.0, 120.0), buffer=0)
    transform, shape = Affine(10, 0, 0, 0, -10, 120), (12, 12)
    rng = np.random.default_rng(5)
    shapes = [_lattice_polygon(rng, grid) for _ in range(1500)]
    notch = Polygon([(35, 125), (5, 5), (40, 50), (35, 55), (110, 55), (45, 75)])
    checked = 0
    for polygon in [notch, *shapes]:
        if not polygon.is_valid or polygon.area == 0:
            continue
        engine = np.zeros(shape, dtype=bool)
        engine[covered_pixels(polygon, transform, shape)] = True
        want = polygon_cells(polygon, xmin=0.0, ymax=120.0, size=10.0, shape=shape)
        np.testing.assert_array_equal(engine, want, err_msg=str(list(polygon.exterior.coords)))
        checked += 1
    assert checked > 300, checked
    row6 = polygon_cells(notch, xmin=0.0, ymax=120.0, size=10.0, shape=shape)[6]
    assert row6.tolist() == [False, False, True, True] + [False] * 8


def _exact_points(grid: Any) -> dict[float, np.ndarray]:
    """Per y, the x of the pixel centres and corners of ``grid`` that reproject to
    lon/lat and back exactly (about a third)."""
    from pyproj import Transformer

    to_lonlat = Transformer.from_crs(f"EPSG:{grid.epsg}", "EPSG:4326", always_xy=True)
    to_utm = Transformer.from_crs("EPSG:4326", f"EPSG:{grid.epsg}", always_xy=True)
    xmin, ymin, xmax, ymax = grid.bounds
    x, y = np.meshgrid(np.arange(xmin + 5, xmax, 5.0), np.arange(ymin + 5, ymax, 5.0))
    lon, lat = to_lonlat.transform(x.ravel(), y.ravel())
    back_x, back_y = to_utm.transform(lon, lat)
    exact = (back_x == x.ravel()) & (back_y == y.ravel())
    return {float(v): x.ravel()[exact & (y.ravel() == v)] for v in np.unique(y)}


def _exact_fields(grid: Any, count: int) -> list[dict[str, Any]]:
    """Lon/lat polygons whose vertices reproject exactly onto pixel centres and corners
    of ``grid``, with horizontal edges, whose pixels GDAL's fill (centre inside, ties
    its way) and geotrellis's scanline pick differently."""
    import shapely
    from pyproj import Transformer
    from rasterio.features import geometry_mask
    from shapely.geometry import Polygon, mapping

    from tests.reference.scanline import polygon_cells

    to_lonlat = Transformer.from_crs(f"EPSG:{grid.epsg}", "EPSG:4326", always_xy=True)
    points = {y: xs for y, xs in _exact_points(grid).items() if len(xs) >= 2}
    rows = sorted(points)
    xmin, _, _, ymax = grid.bounds
    shape = (grid.height, grid.width)
    rng, found = np.random.default_rng(11), []
    for _ in range(20000):
        ring = []
        for y in rng.choice(rows, size=int(rng.integers(2, 4)), replace=False):
            ring += [(float(x), y) for x in rng.choice(points[y], size=2, replace=False)]
        polygon = Polygon(ring)
        if not polygon.is_valid or polygon.area == 0:
            continue
        cells = polygon_cells(polygon, xmin=xmin, ymax=ymax, size=10.0, shape=shape)
        gdal = geometry_mask(
            [polygon], out_shape=shape, transform=_grid_transform(grid), invert=True
        )
        if cells.any() and (cells != gdal).any():
            found.append(mapping(shapely.transform(polygon, lambda p: np.column_stack(
                to_lonlat.transform(p[:, 0], p[:, 1])))))  # fmt: skip
            if len(found) == count:
                break
    return found


def _aggregated_and_reference(
    catalog: Path, ref: Any, geometries: list[dict[str, Any]], reducer: str, tmp_path: Path
) -> tuple[dict[str, Any], list[Any]]:
    """B08 aggregated over ``geometries`` by the local backend (its JSON, whose dates
    are checked to be the reference's) and by the reference, per date."""
    import json

    from tests.reference.spatial import aggregate_polygons

    collection = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": {}, "geometry": g} for g in geometries],
    }
    cube = _load().filter_bands(["B08"]).aggregate_spatial(collection, reducer)
    backend = LocalBackend(LocalSettings(stac=str(catalog)))
    graph = cube.save_result(format="JSON").flat_graph()
    (path,) = backend.execute(graph, out_dir=tmp_path).files
    written = json.loads(Path(path).read_text())
    assert list(written) == ref.labels
    return written, aggregate_polygons(ref.bands["B08"], ref.grid, geometries, reducer)


def _grid_transform(grid: Any) -> Any:
    from affine import Affine

    return Affine(10.0, 0.0, grid.bounds[0], 0.0, -10.0, grid.bounds[3])


@pytest.mark.parametrize("reducer", ["count", "mean"])
def test_aggregate_spatial_of_fields_with_edges_through_centres(catalog, reducer, tmp_path):
    """aggregate_spatial over fields whose edges run exactly through pixel centres:
    the pixels geotrellis's scanline picks, per date, as the reference computes them."""
    ref = load_cube(catalog, _aoi(), START, END, ("B08",))
    fields = _exact_fields(ref.grid, 4)
    assert len(fields) == 4
    written, expected = _aggregated_and_reference(catalog, ref, fields, reducer, tmp_path)
    for label, per_field, want in zip(ref.labels, written.values(), expected, strict=True):
        got = [v[0] for v in per_field]
        assert got == pytest.approx(want, rel=1e-9, nan_ok=True), (label, got, want)


def test_points_on_and_a_hair_off_pixel_edges_follow_geotrellis():
    """The engine's pixel of a point equals the reference's geotrellis rule on edges,
    corners, a hair (under 1e-7 pixel) off them on either side, just past the tolerance,
    and outside the grid; the hair west or north of an edge is where GDAL's floor parts."""
    from affine import Affine
    from shapely.geometry import MultiPoint, Point

    from hybrid.backends.local.processes.vector import covered_pixels
    from tests.reference.points import point_cell

    x0, y0, size, shape = 600000.0, 5000000.0, 10.0, (6, 7)
    transform = Affine(size, 0, x0, 0, -size, y0)
    offsets = (0.0, 1e-8, -1e-8, 9e-7, -9e-7, 1.1e-6, -1.1e-6, 3.0, 5.0)
    parted = 0
    for i in range(-1, shape[1] + 2):
        for j in range(-1, shape[0] + 2):
            for dx in offsets:
                for dy in offsets[::-1]:
                    x, y = x0 + size * i + dx, y0 - size * j + dy
                    rows, cols = covered_pixels(Point(x, y), transform, shape)
                    engine = list(zip(rows.tolist(), cols.tolist(), strict=True))
                    cell = point_cell(x, y, xmin=x0, ymax=y0, size=size, shape=shape)
                    assert engine == ([] if cell is None else [cell]), (i, j, dx, dy)
                    floor = (int(np.floor((y0 - y) / size)), int(np.floor((x - x0) / size)))
                    parted += cell is not None and cell != floor
    assert parted > 100, parted
    both = covered_pixels(MultiPoint([(x0 + 15, y0 - 5), (x0 - 5, y0 - 5)]), transform, shape)
    assert [b.tolist() for b in both] == [[0], [1]]


def _corners_a_hair_off(grid: Any) -> list[dict[str, Any]]:
    """Lon/lat points that reproject to a hair (under 1e-6 m) west or north of an inner
    pixel corner of ``grid``, where floor and geotrellis's tolerance pick other pixels."""
    from pyproj import Transformer

    to_lonlat = Transformer.from_crs(f"EPSG:{grid.epsg}", "EPSG:4326", always_xy=True)
    to_utm = Transformer.from_crs("EPSG:4326", f"EPSG:{grid.epsg}", always_xy=True)
    xmin, _, _, ymax = grid.bounds
    cols, rows = np.meshgrid(np.arange(3, grid.width - 3), np.arange(3, grid.height - 3))
    x, y = xmin + 10.0 * cols.ravel(), ymax - 10.0 * rows.ravel()
    lon, lat = to_lonlat.transform(x, y)
    back_x, back_y = to_utm.transform(lon, lat)
    hair = (np.abs(back_x - x) < 1e-6) & (np.abs(back_y - y) < 1e-6)
    off = hair & ((back_x < x) | (back_y > y))
    pairs = zip(lon[off].tolist(), lat[off].tolist(), strict=True)
    return [{"type": "Point", "coordinates": [a, b]} for a, b in pairs]


def _centres_without_value(stack: np.ndarray, grid: Any, count: int) -> list[dict[str, Any]]:
    """Lon/lat points at the centres of pixels without a value on every date."""
    from pyproj import Transformer

    to_lonlat = Transformer.from_crs(f"EPSG:{grid.epsg}", "EPSG:4326", always_xy=True)
    rows, cols = np.nonzero(np.isnan(stack).all(axis=0))
    xmin, _, _, ymax = grid.bounds
    lon, lat = to_lonlat.transform(xmin + 10.0 * (cols + 0.5), ymax - 10.0 * (rows + 0.5))
    pairs = zip(lon[:count].tolist(), lat[:count].tolist(), strict=True)
    return [{"type": "Point", "coordinates": [a, b]} for a, b in pairs]


@pytest.mark.parametrize("reducer", ["mean", "count"])
def test_aggregate_spatial_of_points_a_hair_off_pixel_corners(catalog, reducer, tmp_path):
    """aggregate_spatial of lon/lat points landing a hair west or north of pixel corners
    once reprojected: each reads the pixel south-east of the corner, per date, as the
    reference computes it; a point on a pixel without value counts 0 and has a null mean
    (Spark's ``count``/``avg`` of one null cell)."""
    ref = load_cube(catalog, _aoi(), START, END, ("B08",))
    points = _corners_a_hair_off(ref.grid)[:12]
    assert len(points) == 12
    points += _centres_without_value(ref.bands["B08"], ref.grid, 2)
    written, expected = _aggregated_and_reference(catalog, ref, points, reducer, tmp_path)
    for label, per_point, want in zip(ref.labels, written.values(), expected, strict=True):
        assert want[-2:] == ([0.0, 0.0] if reducer == "count" else [None, None])
        got = [v[0] for v in per_point]
        assert got == pytest.approx(want, nan_ok=True), (label, got, want)
