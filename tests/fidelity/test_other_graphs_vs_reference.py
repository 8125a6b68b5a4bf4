"""The users' other graphs through the local backend against tests/reference.

Each graph is built with the openeo client as a user writes it, run by the local backend
and recomputed by the independent reference (tests/reference/cube.py, spatial.py,
composites.py, written from the driver code), on the embedded sample and on a generated
catalog with another seed, extent and two overlapping tiles:

- time series per field: ``aggregate_spatial`` of the cloud-masked NDVI over a field, a
  polygon along the extent's edge, a MultiPolygon, a polygon with a hole, one smaller than
  a pixel around a pixel centre and one around none; mean, median, max, count, sd; the
  JSON and CSV Copernicus writes;
- composites: max NDVI over ``t``, the median (int16: integer part), first and last of
  the masked bands, ``aggregate_temporal_period`` season and dekad of the masked NDVI;
- EVI, NDWI, NDMI (B11 at 20 m, nearest to 10 m) in float32;
- ``filter_bbox`` after the load, ``filter_temporal`` on acquisition dates,
  ``filter_spatial`` and ``mask_polygon`` of a polygon.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr
from openeo.rest.datacube import DataCube
from pyproj import Transformer

from hybrid.backends.local import LocalBackend, LocalSettings
from tests.fidelity.written_values import read_netcdf, values_with_nan
from tests.reference.composites import evi, normalized_difference, reduce_time
from tests.reference.cube import CloudMask, RefCube, load_cube, select_dates
from tests.reference.processes import ndvi
from tests.reference.spatial import aggregate_polygons, covers_a_centre, crop_window, mask_polygon
from tests.reference.temporal import aggregate
from tests.reference.workflow import gaussian_kernel

START, END = "2023-05-01", "2023-07-01"
#: (west, south, east, north) per catalog: small, so the file stays fast
EXTENTS = {
    "sample": (6.6600, 45.2400, 6.6680, 45.2460),
    "seed-3": (6.6560, 45.2500, 6.6640, 45.2560),
}
BANDS = ("B02", "B03", "B04", "B08", "B11", "SCL")


class Cases:
    """The catalogs and their reference cubes, built on first use (once per module)."""

    def __init__(self, sample: Path, scratch: Path) -> None:
        self.sample, self.scratch = sample, scratch
        self.built: dict[str, dict[str, Any]] = {}

    def __getitem__(self, name: str) -> dict[str, Any]:
        if name not in self.built:
            self.built[name] = self._build(name)
        return self.built[name]

    def _build(self, name: str) -> dict[str, Any]:
        if name == "sample":
            catalog = self.sample
        else:
            from hybrid.sample import generate_sample

            catalog = generate_sample(self.scratch / name, seed=3, n_dates=10, margin_m=200.0)
        aoi = _box(*EXTENTS[name])
        cube = load_cube(catalog, aoi, START, END, BANDS, cloud=CloudMask())
        return {"name": name, "catalog": catalog, "extent": EXTENTS[name], "aoi": aoi, "ref": cube}


@pytest.fixture(scope="module")
def cases(sample_catalog, tmp_path_factory) -> Cases:
    return Cases(sample_catalog, tmp_path_factory.mktemp("catalogs"))


def _box(west: float, south: float, east: float, north: float) -> dict[str, Any]:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def _extent(case: dict[str, Any]) -> dict[str, float]:
    return dict(zip(("west", "south", "east", "north"), case["extent"], strict=True))


def _load(case: dict[str, Any], bands=BANDS, **kwargs: Any) -> DataCube:
    spatial = kwargs.pop("spatial_extent", _extent(case))
    temporal = kwargs.pop("temporal_extent", [START, END])
    return DataCube.load_collection(
        "SENTINEL2_L2A",
        connection=None,
        spatial_extent=spatial,
        temporal_extent=temporal,
        bands=list(bands),
    )


def _masked(cube: DataCube) -> DataCube:
    """The workflow's cloud mask (SCL 8/9, 11 px Gaussian of std 1.6, > 0.1) on every band."""
    scl = cube.band("SCL")
    clouds = (scl == 8) | (scl == 9)
    smooth = clouds.apply_kernel(gaussian_kernel(11, 1.6).tolist())
    return cube.mask(smooth > 0.1)


def _run(graph_cube: DataCube, case: dict[str, Any], out: Path) -> list[Path]:
    backend = LocalBackend(LocalSettings(stac=str(case["catalog"])))
    return list(backend.execute(graph_cube.flat_graph(), out_dir=out).files)


def _ref_ndvi(ref: RefCube) -> np.ndarray:
    return ndvi(ref.bands["B04"], ref.bands["B08"]).astype(np.float64)


def _assert_same(local: np.ndarray, ref: np.ndarray, atol: float = 1e-6) -> None:
    assert local.shape == ref.shape
    np.testing.assert_array_equal(np.isnan(local), np.isnan(ref))
    both = ~np.isnan(local)
    assert both.any(), "no valid pixel at all: the comparison would be empty"
    assert np.max(np.abs(local[both] - ref[both])) <= atol


def _part(west: float, south: float, dx: float, dy: float, fractions) -> list[list[float]]:
    ring = [[west + fx * dx, south + fy * dy] for fx, fy in fractions]
    return [*ring, ring[0]]


def _tiny(case: dict[str, Any], row: int, col: int, shift: float) -> dict[str, Any]:
    """A 3 m square around the centre of output pixel (row, col) moved by ``shift`` m."""
    grid = case["ref"].grid
    x, y = grid.x[col] + shift, grid.y[row] + shift
    to_lonlat = Transformer.from_crs(f"EPSG:{grid.epsg}", "EPSG:4326", always_xy=True)
    corners = [(x - 1.5, y - 1.5), (x + 1.5, y - 1.5), (x + 1.5, y + 1.5), (x - 1.5, y + 1.5)]
    ring = [list(to_lonlat.transform(cx, cy)) for cx, cy in corners]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def _fields(case: dict[str, Any]) -> list[dict[str, Any]]:
    """A field, one along the extent's west and north edges, a MultiPolygon, one with a
    hole, one smaller than a pixel around a centre and one around none."""
    w, s, e, n = case["extent"]
    dx, dy = e - w, n - s
    quad = ((0.15, 0.2), (0.47, 0.13), (0.52, 0.56), (0.21, 0.49))
    edge = ((0.0, 0.71), (0.31, 0.71), (0.31, 1.0), (0.0, 1.0))
    part_a = ((0.61, 0.61), (0.73, 0.61), (0.73, 0.77), (0.61, 0.77))
    part_b = ((0.8, 0.8), (0.93, 0.8), (0.93, 0.94), (0.8, 0.94))
    outer = ((0.56, 0.08), (0.96, 0.08), (0.96, 0.46), (0.56, 0.46))
    hole = ((0.66, 0.19), (0.86, 0.19), (0.86, 0.34), (0.66, 0.34))
    return [
        {"type": "Polygon", "coordinates": [_part(w, s, dx, dy, quad)]},
        {"type": "Polygon", "coordinates": [_part(w, s, dx, dy, edge)]},
        {
            "type": "MultiPolygon",
            "coordinates": [[_part(w, s, dx, dy, part_a)], [_part(w, s, dx, dy, part_b)]],
        },
        {"type": "Polygon", "coordinates": [_part(w, s, dx, dy, outer), _part(w, s, dx, dy, hole)]},
        _tiny(case, 20, 30, 0.0),
        _tiny(case, 20, 30, 5.0),
    ]


def _collection(geometries: list[dict[str, Any]]) -> dict[str, Any]:
    features = [{"type": "Feature", "properties": {}, "geometry": g} for g in geometries]
    return {"type": "FeatureCollection", "features": features}


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= 1e-6 * max(1.0, abs(b))


@pytest.mark.parametrize(
    ("catalog", "reducer", "formats"),
    [
        ("sample", "mean", ("JSON", "CSV")),
        ("sample", "median", ("JSON",)),
        ("sample", "max", ("JSON",)),
        ("sample", "count", ("JSON", "CSV")),
        ("sample", "sd", ("JSON",)),
        ("seed-3", "mean", ("JSON",)),
        ("seed-3", "sd", ("CSV",)),
    ],
)
def test_time_series_per_field(cases, catalog, reducer, formats, tmp_path):
    case = cases[catalog]
    fields = _fields(case)
    ref = case["ref"]
    assert covers_a_centre(fields[4], ref.grid) and not covers_a_centre(fields[5], ref.grid)
    expected = aggregate_polygons(_ref_ndvi(ref), ref.grid, fields, reducer)
    series = _masked(_load(case)).ndvi(red="B04", nir="B08")
    series = series.aggregate_spatial(_collection(fields), reducer)
    for fmt in formats:
        (written,) = _run(series.save_result(format=fmt), case, tmp_path / fmt)
        check = _check_json if fmt == "JSON" else _check_csv
        check(written, ref.labels, expected, [covers_a_centre(f, ref.grid) for f in fields])


def test_time_series_of_int16_bands_per_field(cases, tmp_path):
    """Two masked int16 bands, ``median``: an integer column each, the median's integer
    part, ``[[B04, B08] per field]`` per date."""
    case = cases["seed-3"]
    fields = _fields(case)
    ref = case["ref"]
    expected = {
        band: aggregate_polygons(ref.bands[band], ref.grid, fields, "median", integer=True)
        for band in ("B04", "B08")
    }
    series = _masked(_load(case)).filter_bands(["B04", "B08"])
    series = series.aggregate_spatial(_collection(fields), "median")
    (path,) = _run(series.save_result(format="JSON"), case, tmp_path)
    written = json.loads(path.read_text())
    assert list(written) == ref.labels
    for n, (label, per_field) in enumerate(written.items()):
        for index, values in enumerate(per_field):
            want = [expected["B04"][n][index], expected["B08"][n][index]]
            assert values == want, (label, index, values, want)


def _check_json(path: Path, labels: list[str], expected: list, covered: list[bool]) -> None:
    """``{date: [[value] per field]}``, ``[null]`` where there is no value: the CSV's rows
    reindexed to every field, NaN written as null (python-driver save_result.py
    ``AggregatePolygonResultCSV.get_data`` L685-724)."""
    written = json.loads(path.read_text())
    assert list(written) == labels
    for label, per_field, want in zip(labels, written.values(), expected, strict=True):
        assert all(isinstance(v, list) and len(v) == 1 for v in per_field), (label, per_field)
        got = [v[0] for v in per_field]
        assert all(_close(g, w) for g, w in zip(got, want, strict=True)), (label, got, want)


def _check_csv(path: Path, labels: list[str], expected: list, covered: list[bool]) -> None:
    """``date,feature_index,band_unnamed``: no row for a field around no pixel centre,
    an empty cell for a null aggregate."""
    with path.open() as f:
        rows = {
            (r["date"][:10], int(r["feature_index"])): r["band_unnamed"] for r in csv.DictReader(f)
        }
    assert sorted({d for d, _ in rows}) == [label[:10] for label in labels]
    for label, want in zip(labels, expected, strict=True):
        for index, value in enumerate(want):
            cell = rows.get((label[:10], index))
            if not covered[index]:
                assert cell is None, (label, index, cell)
                continue
            assert cell is not None, (label, index)
            assert _close(float(cell) if cell else None, value), (label, index, cell, value)


def _netcdf(cube: DataCube, case: dict[str, Any], out: Path) -> xr.Dataset:
    (nc,) = [p for p in _run(cube.save_result(format="netCDF"), case, out) if p.suffix == ".nc"]
    return read_netcdf(nc)


def _labels(ds: xr.Dataset) -> list[str]:
    return [np.datetime_as_string(t, unit="s") + "Z" for t in ds["t"].values]


def _ndvi_cube(case: dict[str, Any]) -> DataCube:
    return _masked(_load(case)).ndvi(red="B04", nir="B08")


@pytest.mark.parametrize("catalog", list(EXTENTS))
def test_max_ndvi_composite(cases, catalog, tmp_path):
    case = cases[catalog]
    ds = _netcdf(_ndvi_cube(case).reduce_dimension("t", reducer="max"), case, tmp_path)
    ref = case["ref"]
    _assert_same(values_with_nan(ds, "var"), reduce_time(_ref_ndvi(ref), "max"))
    np.testing.assert_array_equal(ds["x"].values, ref.grid.x)
    np.testing.assert_array_equal(ds["y"].values, ref.grid.y)


@pytest.mark.parametrize(
    ("catalog", "reducer"),
    [("sample", "median"), ("seed-3", "median"), ("sample", "first"), ("seed-3", "last")],
)
def test_band_composites_keep_int16(cases, catalog, reducer, tmp_path):
    case = cases[catalog]
    bands = ["B02", "B03", "B04", "B08"]
    cube = _masked(_load(case)).filter_bands(bands).reduce_dimension("t", reducer=reducer)
    ds = _netcdf(cube, case, tmp_path)
    for band in bands:
        assert ds[band].dtype == np.int16, (band, ds[band].dtype)
        want = reduce_time(case["ref"].bands[band], reducer, integer=True)
        _assert_same(values_with_nan(ds, band), want, atol=0)


@pytest.mark.parametrize(("catalog", "period"), [("sample", "season"), ("seed-3", "dekad")])
def test_aggregate_temporal_period_of_masked_ndvi(cases, catalog, period, tmp_path):
    case = cases[catalog]
    cube = _ndvi_cube(case).aggregate_temporal_period(period, reducer="mean")
    ds = _netcdf(cube, case, tmp_path)
    ref = case["ref"]
    extent = (dt.datetime.fromisoformat(START + "T00:00:00+00:00"),
              dt.datetime.fromisoformat(END + "T00:00:00+00:00"))  # fmt: skip
    labels, data = aggregate(
        _ref_ndvi(ref), ref.dates, reducer="mean", period=period, extent=extent
    )
    assert _labels(ds) == labels
    _assert_same(values_with_nan(ds, "var"), data.astype(np.float64))


def _index(cube: DataCube, name: str) -> DataCube:
    b02, b03, b04 = cube.band("B02"), cube.band("B03"), cube.band("B04")
    b08, b11 = cube.band("B08"), cube.band("B11")
    if name == "evi":
        return 2.5 * (b08 - b04) / (b08 + 6 * b04 - 7.5 * b02 + 1)
    if name == "ndwi":
        return (b03 - b08) / (b03 + b08)
    return (b08 - b11) / (b08 + b11)


@pytest.mark.parametrize(
    ("catalog", "name"),
    [("sample", "evi"), ("seed-3", "evi"), ("sample", "ndwi"), ("seed-3", "ndmi")],
)
def test_spectral_indices_in_float32(cases, catalog, name, tmp_path):
    case = cases[catalog]
    ds = _netcdf(_index(_masked(_load(case)), name), case, tmp_path)
    bands = case["ref"].bands
    want = {
        "evi": lambda: evi(bands["B02"], bands["B04"], bands["B08"]),
        "ndwi": lambda: normalized_difference(bands["B03"], bands["B08"]),
        "ndmi": lambda: normalized_difference(bands["B08"], bands["B11"]),
    }[name]()
    assert _labels(ds) == case["ref"].labels
    assert ds["var"].dtype == np.float32
    _assert_same(values_with_nan(ds, "var"), want.astype(np.float64))


def _inner(case: dict[str, Any]) -> dict[str, Any]:
    w, s, e, n = case["extent"]
    dx, dy = e - w, n - s
    return _box(w + 0.23 * dx, s + 0.17 * dy, w + 0.71 * dx, s + 0.66 * dy)


@pytest.mark.parametrize("catalog", list(EXTENTS))
def test_filter_bbox_after_the_load(cases, catalog, tmp_path):
    case = cases[catalog]
    w, s, e, n = _inner(case)["coordinates"][0][0] + _inner(case)["coordinates"][0][2]
    cube = _ndvi_cube(case).filter_bbox(west=w, south=s, east=e, north=n)
    ds = _netcdf(cube, case, tmp_path)
    ref = case["ref"]
    rows, cols, grid = crop_window(ref.grid, _inner(case))
    np.testing.assert_array_equal(ds["x"].values, grid.x)
    np.testing.assert_array_equal(ds["y"].values, grid.y)
    _assert_same(values_with_nan(ds, "var"), _ref_ndvi(ref)[:, rows, cols])


def test_filter_temporal_on_acquisition_dates(cases, tmp_path):
    case = cases["seed-3"]
    ref = case["ref"]
    first, last = ref.dates[1], ref.dates[-2]
    cube = _ndvi_cube(case).filter_temporal(first.isoformat(), last.isoformat())
    ds = _netcdf(cube, case, tmp_path)
    kept = select_dates(ref, first, last)
    assert _labels(ds) == kept.labels
    _assert_same(values_with_nan(ds, "var"), _ref_ndvi(kept))


@pytest.mark.parametrize("catalog", list(EXTENTS))
def test_filter_spatial_with_a_polygon(cases, catalog, tmp_path):
    case = cases[catalog]
    field = _fields(case)[3]
    ds = _netcdf(_ndvi_cube(case).filter_spatial(field), case, tmp_path)
    ref = case["ref"]
    rows, cols, grid = crop_window(ref.grid, field)
    np.testing.assert_array_equal(ds["x"].values, grid.x)
    np.testing.assert_array_equal(ds["y"].values, grid.y)
    masked = mask_polygon(_ref_ndvi(ref), ref.grid, field)
    _assert_same(values_with_nan(ds, "var"), masked[:, rows, cols])


def test_mask_polygon(cases, tmp_path):
    case = cases["sample"]
    field = _fields(case)[0]
    ds = _netcdf(_ndvi_cube(case).mask_polygon(field), case, tmp_path)
    ref = case["ref"]
    assert _labels(ds) == ref.labels
    _assert_same(values_with_nan(ds, "var"), mask_polygon(_ref_ndvi(ref), ref.grid, field))
