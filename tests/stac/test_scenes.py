"""``hybrid scenes`` and ``--max-aoi-cloud``: cloud cover over the AOI, not the tile.

The AOI cloud fractions are checked against an independent computation with the
reference loader (tests/reference); the exclusion is checked end to end: the scenes
table, the graph JSON, the NetCDF attributes and the result itself (against the
reference run without the excluded dates).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from hybrid.cli import main
from hybrid.params import Workflow
from hybrid.sample import SEED_END, SEED_START
from hybrid.scene_table import DEFAULT_CLASSES, aoi_mask, far_apart, scene_table


def _scenes_json(capsys, catalog: Path, *extra: str) -> dict:
    code = main(["scenes", "--stac", str(catalog), "--json", *extra])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


@pytest.fixture(scope="module")
def all_rows(sample_catalog, seed_aoi):
    """Every scene of the season, whatever its tile cloud cover."""
    workflow = Workflow(aoi=seed_aoi, start=SEED_START, end=SEED_END, max_cloud_cover=100.0)
    return scene_table(workflow, stac=sample_catalog)


def test_sample_has_scenes_whose_aoi_cover_is_far_from_the_tile_cover(all_rows):
    cloudier_aoi = [r for r in all_rows if r.aoi_cloud_pct - (r.tile_cloud_pct or 0) >= 40]
    clearer_aoi = [r for r in all_rows if (r.tile_cloud_pct or 0) - r.aoi_cloud_pct >= 40]
    assert cloudier_aoi, "the sample needs clouds concentrated over the AOI"
    assert clearer_aoi, "the sample needs clouds everywhere but over the AOI"
    # one of them passes the tutorial's 20 % tile filter although the field is covered
    assert any(r.tile_cloud_pct is not None and r.tile_cloud_pct <= 20 for r in cloudier_aoi)


def test_rows_are_the_selected_scenes_sorted_by_date(all_rows, sample_catalog, seed_aoi):
    from tests.reference.catalog import filter_items, items_per_date, parse_instant, read_items
    from tests.reference.grid import aoi_lonlat_bounds

    dates = [r.date for r in all_rows]
    assert dates == sorted(dates) and len(set(dates)) == len(dates)
    items = filter_items(
        read_items(sample_catalog),
        start=parse_instant(SEED_START),
        end=parse_instant(SEED_END),
        max_cloud_cover=100.0,
        lonlat_bounds=aoi_lonlat_bounds(seed_aoi),
    )
    expected = items_per_date(items)
    assert dates == [d.isoformat() for d in expected]
    for row in all_rows:
        group = expected[dt.date.fromisoformat(row.date)]
        assert row.item_ids == tuple(i.id for i in group)
        assert row.tile_cloud_cover == tuple(i.cloud_cover for i in group)
        assert len(row.tiles) == len(row.item_ids)


def test_aoi_cloud_fraction_matches_an_independent_count(all_rows, sample_catalog, seed_aoi):
    """Reference loader + shapely point-in-polygon on the pixel centres."""
    from pyproj import Transformer
    from shapely import contains_xy
    from shapely.geometry import shape
    from shapely.ops import transform

    from tests.reference.catalog import read_items
    from tests.reference.grid import make_grid
    from tests.reference.load import load_item, mosaic
    from tests.reference.overlap import allowed_pixels

    grid = make_grid(seed_aoi, kernel_size=11)
    project = Transformer.from_crs("EPSG:4326", f"EPSG:{grid.epsg}", always_xy=True).transform
    polygon = transform(project, shape(seed_aoi))
    xx, yy = np.meshgrid(grid.x, grid.y)
    inside = contains_xy(polygon, xx, yy)
    by_id = {item.id: item for item in read_items(sample_catalog)}
    checked = 0
    for row in all_rows[::3]:  # every third date keeps the test fast
        group = [by_id[i] for i in row.item_ids]
        layers = [load_item(item, grid, ("SCL",)) for item in group]
        scl = grid.crop(mosaic(layers, allowed_pixels(group, grid))["SCL"])[inside]
        valid = np.isfinite(scl)
        cloud = np.isin(scl[valid], DEFAULT_CLASSES)
        assert row.aoi_pixels == int(inside.sum())
        assert row.valid_pct == pytest.approx(100.0 * valid.sum() / inside.sum(), abs=1e-9)
        if valid.any():
            assert row.aoi_cloud_pct == pytest.approx(100.0 * cloud.mean(), abs=1e-9)
        checked += 1
    assert checked >= 5


def test_polygon_counts_only_pixel_centres_inside(seed_aoi):
    from hybrid.aoi import geometry_bbox
    from hybrid.grid import output_grid

    (ring,) = seed_aoi["coordinates"]
    west, south = ring[0]
    east, north = ring[2]
    triangle = {
        "type": "Polygon",
        "coordinates": [[[west, south], [east, south], [west, north], [west, south]]],
    }
    grid = output_grid(geometry_bbox(triangle))
    full = aoi_mask(seed_aoi, grid)
    half = aoi_mask(triangle, grid)
    assert full.shape == half.shape == (grid.height, grid.width)
    assert not (half & ~full).any()
    assert 0.45 < half.sum() / full.sum() < 0.55
    assert half[-30, 30] and not half[30, -30]  # south-west corner in, north-east out


def test_cli_table_flags_the_far_apart_scenes(capsys, sample_catalog):
    code = main(["scenes", "--stac", str(sample_catalog), "--max-cloud-cover", "100"])
    out = capsys.readouterr().out
    assert code == 0
    lines = {line.split()[0]: line for line in out.splitlines() if line[:4].isdigit()}
    assert len(lines) >= 20
    flagged = [date for date, line in lines.items() if " * " in f"{line} "]
    assert flagged, out
    assert "25+ points away from the tile cloud cover" in out


def test_cli_json_and_classes(capsys, sample_catalog, all_rows):
    doc = _scenes_json(capsys, sample_catalog, "--max-cloud-cover", "100")
    assert doc["classes"] == list(DEFAULT_CLASSES)
    assert [s["date"] for s in doc["scenes"]] == [r.date for r in all_rows]
    first = doc["scenes"][0]
    assert set(first) >= {"date", "tiles", "item_ids", "tile_cloud_cover", "aoi_cloud_pct"}
    assert {"valid_pct", "aoi_pixels"} <= set(first)
    only_high = _scenes_json(capsys, sample_catalog, "--max-cloud-cover", "100", "--classes", "9")
    pairs = zip(doc["scenes"], only_high["scenes"], strict=True)
    assert all(b["aoi_cloud_pct"] <= a["aoi_cloud_pct"] for a, b in pairs)
    assert any(far_apart(r) for r in all_rows)


@pytest.mark.parametrize("classes", ["-1,8", "8,x", "12", ""])
def test_bad_classes_is_one_line_exit_2(capsys, sample_catalog, classes):
    code = main(["scenes", "--stac", str(sample_catalog), "--cloud-classes", classes])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "classes" in err


@pytest.mark.slow
def test_max_aoi_cloud_drops_exactly_the_dates_scenes_reports(capsys, sample_catalog, seed_aoi,
                                                               tmp_path):  # fmt: skip
    from tests.reference import reference_ndvi

    doc = _scenes_json(capsys, sample_catalog, "--max-aoi-cloud", "30")
    above = sorted(s["date"] for s in doc["scenes"] if (s["aoi_cloud_pct"] or 0) > 30)
    assert above, "the sample must have scenes above 30 % cloud over the AOI"
    assert doc["excluded_dates"] == above
    kept = [s["date"] for s in doc["scenes"] if s["date"] not in above]
    assert kept

    # the graph carries the exclusion: filter_labels on t right after load_collection
    assert main(["graph", "--stac", str(sample_catalog), "--max-aoi-cloud", "30"]) == 0
    graph = json.loads(capsys.readouterr().out)
    (load_id,) = [k for k, n in graph.items() if n["process_id"] == "load_collection"]
    (node,) = [n for n in graph.values() if n["process_id"] == "filter_labels"]
    assert node["arguments"]["dimension"] == "t"
    assert node["arguments"]["data"] == {"from_node": load_id}
    condition = node["arguments"]["condition"]["process_graph"]
    bounds = sorted(
        n["arguments"]["min"][:10] for n in condition.values() if n["process_id"] == "date_between"
    )
    assert bounds == above
    assert {n["process_id"] for n in condition.values()} <= {"date_between", "eq", "and"}

    # the run drops them, records them, and equals the reference without those dates
    out = tmp_path / "ndvi.nc"
    code = main(["run", "--stac", str(sample_catalog), "--max-aoi-cloud", "30", "--out", str(out),
                 "--quiet"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    with xr.open_dataset(out, engine="h5netcdf") as ds:
        assert ds.attrs["hybrid_excluded_dates"] == ", ".join(above)
        assert "30" in ds.attrs["hybrid_max_aoi_cloud"]
        local = ds["var"].load()
    ref = reference_ndvi(sample_catalog, seed_aoi, SEED_START, SEED_END, exclude_dates=above)
    assert ref.dates == kept
    a = np.asarray(local.values, dtype=np.float64)
    b = np.asarray(ref.data, dtype=np.float64)
    assert a.shape == b.shape
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    assert np.nanmax(np.abs(a - b)) <= 1e-5


def test_max_aoi_cloud_that_excludes_everything_is_a_usage_error(capsys, sample_catalog):
    code = main(["graph", "--stac", str(sample_catalog), "--max-aoi-cloud", "0",
                 "--start", "2023-05-20", "--end", "2023-06-05"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "excludes all" in err


@pytest.mark.parametrize("value", ["-1", "101"])
def test_max_aoi_cloud_out_of_range(capsys, sample_catalog, value):
    code = main(["graph", "--stac", str(sample_catalog), "--max-aoi-cloud", value])
    assert code == 2
    assert "--max-aoi-cloud" in capsys.readouterr().err


def test_plots_writes_a_quicklook_grid(capsys, sample_catalog, tmp_path):
    pytest.importorskip("hybrid.quicklooks")
    code = main(["scenes", "--stac", str(sample_catalog), "--start", "2023-05-28",
                 "--end", "2023-06-08", "--plots", str(tmp_path)])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    png = tmp_path / "scenes_quicklook.png"
    assert png.is_file() and png.stat().st_size > 10_000
    assert f"figure: {png}" in out
    from PIL import Image

    with Image.open(png) as image:
        assert image.width > 300 and image.height > 200


def test_date_exclusion_condition_runs_in_the_engine_whatever_the_time_of_day():
    """The graph's filter_labels condition, run by the local engine's registry."""
    from openeo.rest.datacube import DataCube
    from openeo_pg_parser_networkx import OpenEOProcessGraph

    from hybrid.backends.local.registry import registry_for_run
    from hybrid.workflow_graph import _date_exclusion

    times = ["2023-06-01", "2023-06-02T10:31:00", "2023-06-03", "2023-07-27T23:59:59"]
    cube = xr.DataArray(
        np.zeros((4, 1, 2, 2)),
        dims=("t", "bands", "y", "x"),
        coords={"t": np.array(times, dtype="datetime64[ns]"), "bands": ["B04"]},
    )
    kept: dict = {}
    cases = {
        ("2023-06-02",): ["2023-06-01", "2023-06-03", "2023-07-27"],
        ("2023-07-27", "2023-06-01", "2023-06-03"): ["2023-06-02"],
        ("2023-06-04",): ["2023-06-01", "2023-06-02", "2023-06-03", "2023-07-27"],
    }
    for excluded, expected in cases.items():
        graph = (
            DataCube.load_collection("SENTINEL2_L2A", connection=None, fetch_metadata=False)
            .filter_labels(_date_exclusion(excluded), dimension="t")
            .save_result("netCDF")
            .flat_graph()
        )
        registry = registry_for_run(
            {
                "load_collection": lambda **_: cube,
                "save_result": lambda data, format, options=None: kept.update(r=data) or True,
            }
        )
        OpenEOProcessGraph({"process_graph": graph}).to_callable(process_registry=registry)()
        got = [str(t)[:10] for t in kept["r"]["t"].values.astype("datetime64[D]")]
        assert got == expected, excluded


@pytest.mark.parametrize(
    ("x", "low", "high", "exclude_max", "expected"),
    [
        ("2023-06-02T00:00:00Z", "2023-06-02T00:00:00Z", "2023-06-03T00:00:00Z", True, True),
        ("2023-06-03T00:00:00Z", "2023-06-02T00:00:00Z", "2023-06-03T00:00:00Z", True, False),
        ("2023-06-03T00:00:00Z", "2023-06-02T00:00:00Z", "2023-06-03T00:00:00Z", False, True),
        ("2023-06-02T23:00:00-02:00", "2023-06-02", "2023-06-03", True, False),  # 01:00 UTC
        ("2023-06-01T23:59:59Z", "2023-06-02", "2023-06-03", True, False),
        ("2023-06-02", "2023-06-03", "2023-06-02", False, False),  # swapped bounds
        ("12:00:00", "08:00:00", "18:00:00", False, True),
    ],
)
def test_date_between(x, low, high, exclude_max, expected):
    from hybrid.backends.local.processes.dates import date_between

    assert date_between(x, low, high, exclude_max=exclude_max) is expected


def test_date_between_rejects_mixed_kinds_and_garbage():
    from hybrid.backends.local.processes.dates import date_between
    from hybrid.errors import ProcessParameterInvalid

    assert date_between(None, "2023-06-01", "2023-06-02") is None
    with pytest.raises(ProcessParameterInvalid, match="all be times"):
        date_between("12:00:00", "2023-06-01", "2023-06-02")
    with pytest.raises(ProcessParameterInvalid, match="not a date"):
        date_between("June", "2023-06-01", "2023-06-02")


def _excluded_by_graph(capsys, catalog: Path, *extra: str) -> list[str]:
    """The dates the graph's filter_labels excludes (hybrid graph --max-aoi-cloud)."""
    assert main(["graph", "--stac", str(catalog), *extra]) == 0
    graph = json.loads(capsys.readouterr().out)
    (node,) = [n for n in graph.values() if n["process_id"] == "filter_labels"]
    condition = node["arguments"]["condition"]["process_graph"]
    return sorted(
        n["arguments"]["min"][:10] for n in condition.values() if n["process_id"] == "date_between"
    )


def test_one_cloud_definition_for_the_mask_the_table_and_max_aoi_cloud(capsys, sample_catalog):
    """--cloud-classes is what the mask masks, what hybrid scenes counts and what
    --max-aoi-cloud excludes by; its default is the mask's (8, 9)."""
    from hybrid.params import DEFAULT_CLOUD_CLASSES

    default = _scenes_json(capsys, sample_catalog, "--max-aoi-cloud", "30")
    assert default["classes"] == list(DEFAULT_CLOUD_CLASSES) == [8, 9]
    assert list(Workflow(aoi={}, start="", end="").cloud_classes) == default["classes"]
    wide = ("--cloud-classes", "3,8,9,10", "--max-aoi-cloud", "30")
    widened = _scenes_json(capsys, sample_catalog, *wide)
    assert widened["classes"] == [3, 8, 9, 10]
    assert (
        _excluded_by_graph(capsys, sample_catalog, "--max-aoi-cloud", "30")
        == (default["excluded_dates"])
    )
    assert _excluded_by_graph(capsys, sample_catalog, *wide) == widened["excluded_dates"]
    # the classes matter: shadow and cirrus make more dates cloudy over the AOI
    assert set(widened["excluded_dates"]) > set(default["excluded_dates"])
    table = main(["scenes", "--stac", str(sample_catalog), "--cloud-classes", "8,9"])
    assert table == 0
    assert "SCL classes 8,9 (--cloud-classes" in capsys.readouterr().out
