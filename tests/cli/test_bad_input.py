"""The bad-input matrix: every kind of wrong input, through the CLI and the Python API.

Completes ``test_cli.py`` (dates, kernel, period, reducer, threshold, cloud classes,
missing files, format, bad GeoJSON, existing output) and ``test_stac_errors.py``
(unreachable STAC API, HTTP 500, missing and corrupt assets of the Python API). Each
CLI case must end as one ``hybrid: error:`` line naming the problem and its fix, exit
code 2, no traceback and no output, not even a temporary ``*.part`` or ``.hybrid-*``
file; each Python API case as a :class:`hybrid.errors.HybridError` subclass with a
one-line message and an empty output folder.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from hybrid.cli import main
from hybrid.errors import (
    DataSourceError,
    HybridError,
    ProcessParameterInvalid,
    UsageError,
)
from tests.pgstac import free_port
from tests.stac_fixtures import TinyScene, serving_status, tiny_bbox, write_tiny_catalog

#: the item of the sample that the damaged copies break (inside the short window below)
ITEM = "S2B_32TLR_20230607_0_L2A"
#: a short window of the sample holding ITEM: the damaged-catalog cases stay fast
WINDOW = ["--start", "2023-06-01", "--end", "2023-06-15"]


def _polygon(west: float, south: float, east: float, north: float) -> dict[str, Any]:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def leftovers(root: Path) -> list[Path]:
    """Temporary files a failed run could have left behind anywhere under ``root``."""
    return [p for p in root.rglob("*") if p.name.endswith(".part") or p.name.startswith(".hybrid")]


def assert_cli_refuses(
    args: list[str], expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> str:
    """``hybrid run ARGS`` ends with one error line containing ``expected``, exit 2."""
    out_dir = tmp_path / "out"
    out_dir.mkdir(exist_ok=True)
    before = sorted(out_dir.iterdir())
    code = main(
        ["run", *args, "--quiet"] + ([] if "--out" in args else ["--out", f"{out_dir}/x.nc"])
    )
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("hybrid: error:")]
    assert code == 2, err
    assert len(errors) == 1 and expected in errors[0], err
    assert "Traceback" not in err
    assert sorted(out_dir.iterdir()) == before
    assert not leftovers(tmp_path), leftovers(tmp_path)
    return errors[0]


# -- geometry ------------------------------------------------------------------------------

GEOMETRY_CASES: dict[str, tuple[Any, str]] = {
    "empty-polygon": ({"type": "Polygon", "coordinates": []}, "geometry is empty"),
    "feature-without-geometry": ({"type": "Feature", "properties": {}}, "without a geometry"),
    "malformed-coordinates": (
        {"type": "Polygon", "coordinates": [[["a", "b"], [1, 2], [3]]]},
        "malformed Polygon",
    ),
    "invalid-multipolygon": (
        {
            "type": "MultiPolygon",
            "coordinates": [
                _polygon(6.65, 45.22, 6.67, 45.24)["coordinates"],
                _polygon(6.66, 45.23, 6.68, 45.25)["coordinates"],
            ],
        },
        "invalid geometry",
    ),
    "zero-area": (
        {"type": "Polygon", "coordinates": [[[6.6, 45.2], [6.7, 45.2], [6.8, 45.2], [6.6, 45.2]]]},
        "invalid geometry",
    ),
    "line-not-area": (
        {"type": "LineString", "coordinates": [[6.6, 45.2], [6.7, 45.3]]},
        "Polygon or MultiPolygon",
    ),
    "split-at-the-antimeridian": (  # Fiji: once "spans 360.0 degrees ... split it"
        {
            "type": "MultiPolygon",
            "coordinates": [
                _polygon(179.5, -17.0, 180.0, -16.5)["coordinates"],
                _polygon(-180.0, -17.0, -179.6, -16.5)["coordinates"],
            ],
        },
        "crosses the antimeridian (split at 180 degrees; its parts span 0.9 degrees",
    ),
}


@pytest.mark.parametrize("case", list(GEOMETRY_CASES))
def test_cli_bad_geometry(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """CLI: malformed, empty, invalid GeoJSON AOIs are refused before any data is read."""
    doc, expected = GEOMETRY_CASES[case]
    aoi = tmp_path / "aoi.geojson"
    aoi.write_text(json.dumps(doc), encoding="utf-8")
    line = assert_cli_refuses(["--aoi", str(aoi)], expected, tmp_path, capsys)
    assert str(aoi) in line


NO_COVERAGE = {
    # open ocean, South Atlantic: Sentinel-2 does not image it
    "open-ocean": _polygon(-25.0, -35.0, -24.99, -34.99),
    # interior of Antarctica, south of Sentinel-2's coverage (56 S .. 84 N, land + coasts)
    "antarctica-interior": _polygon(40.0, -85.0, 40.05, -84.99),
    # across the UTM 31/32 border at 6 E: valid, but outside the sample's footprint
    "utm-border-outside-sample": _polygon(5.995, 45.20, 6.005, 45.21),
}


@pytest.mark.parametrize("case", list(NO_COVERAGE))
def test_cli_area_without_scenes_is_no_data_available(
    case: str, sample_catalog: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """CLI: an AOI outside the catalog's coverage is 'no data available', not a crash."""
    aoi = tmp_path / "aoi.geojson"
    aoi.write_text(json.dumps(NO_COVERAGE[case]), encoding="utf-8")
    line = assert_cli_refuses(
        ["--aoi", str(aoi), "--stac", str(sample_catalog), *WINDOW],
        "no data available",
        tmp_path,
        capsys,
    )
    assert "widen the dates, the area or the cloud limit" in line


# -- parameters ---------------------------------------------------------------------------

PARAMETER_CASES: dict[str, tuple[list[str], str]] = {
    "end-malformed": (["--end", "2023/07/01"], "--end '2023/07/01' is not a date"),
    "start-before-sentinel2": (["--start", "2014-01-01"], "before Sentinel-2"),
    # two days ahead: the cases are built at collection, and a run crossing midnight
    # between collection and the check made "tomorrow" today
    "start-in-two-days": (
        [
            "--start",
            (dt.date.today() + dt.timedelta(days=2)).isoformat(),
            "--end",
            (dt.date.today() + dt.timedelta(days=30)).isoformat(),
        ],
        "in the future",
    ),
    "threshold-negative": (["--threshold", "-0.1"], "--threshold -0.1 must be in [0, 1)"),
    "threshold-one": (["--threshold", "1"], "must be in [0, 1)"),
    "kernel-size-zero": (["--kernel-size", "0"], "positive odd number"),
    "kernel-size-huge": (["--kernel-size", "103"], "too large"),
    "kernel-std-zero": (["--kernel-std", "0"], "--kernel-std 0.0 must be positive"),
    "kernel-std-nan": (["--kernel-std", "nan"], "must be positive"),
    "kernel-std-inf": (["--kernel-std", "inf"], "--kernel-std inf must be positive and finite"),
    "cloud-cover-over-100": (["--max-cloud-cover", "150"], "percentage in [0, 100]"),
    "cloud-class-12": (["--cloud-classes", "8,12"], "SCL classes are 0..11"),
    "cloud-classes-empty": (["--cloud-classes", ","], "SCL classes are 0..11"),
    "period-empty": (["--period", ""], "--period '' is unknown"),
    "kernel-size-not-int": (["--kernel-size", "eleven"], "invalid int value"),
    "workers-zero": (["--workers", "0"], "--workers 0 must be at least 1"),
    "memory-limit-bad": (["--workers", "2", "--memory-limit", "lots"], "like 2GiB"),
    "memory-limit-tiny": (["--workers", "2", "--memory-limit", "1MB"], "at least 256MiB"),
    "memory-limit-alone": (["--memory-limit", "2GiB"], "applies to the workers"),
}


@pytest.mark.parametrize("case", list(PARAMETER_CASES))
def test_cli_bad_parameter(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """CLI: dates, threshold, kernel, cloud, period and worker values out of range."""
    args, expected = PARAMETER_CASES[case]
    assert_cli_refuses(args, expected, tmp_path, capsys)


def test_cli_bad_intervals_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """CLI: an --intervals file with a reversed interval is refused."""
    intervals = tmp_path / "intervals.json"
    intervals.write_text(json.dumps([["2023-07-01", "2023-06-01"]]), encoding="utf-8")
    assert_cli_refuses(["--intervals", str(intervals)], "2023-07-01", tmp_path, capsys)


# -- STAC sources ---------------------------------------------------------------------------


def _damaged_copy(sample_catalog: Path, root: Path) -> Path:
    """The sample with JSON copied (to damage) and COGs symlinked (cheap)."""

    def copy(src: str, dst: str) -> None:
        if src.endswith(".tif"):
            os.symlink(src, dst)
        else:
            shutil.copy2(src, dst)

    shutil.copytree(sample_catalog.parent, root, copy_function=copy)
    return root / "collection.json"


def _break_item_json(item_dir: Path) -> None:
    (item_dir / f"{ITEM}.json").write_text('{"type": "Feature", "id": ', encoding="utf-8")


def _drop_cog(item_dir: Path) -> None:
    (item_dir / "B08.tif").unlink()


def _garbage_cog(item_dir: Path) -> None:
    (item_dir / "B08.tif").unlink()
    (item_dir / "B08.tif").write_bytes(b"II*\x00" + b"\x17" * 300)


def _truncated_cog(item_dir: Path) -> None:
    data = (item_dir / "B08.tif").resolve().read_bytes()
    (item_dir / "B08.tif").unlink()
    (item_dir / "B08.tif").write_bytes(data[: len(data) // 3])  # header fine, tiles cut


def _drop_asset_key(item_dir: Path) -> None:
    """No item has the nir asset (one item without it is read as NODATA in B08, as
    Copernicus reads it: tests/fidelity/test_scene_selection.py)."""
    for path in item_dir.parent.glob("*/*.json"):
        item = json.loads(path.read_text(encoding="utf-8"))
        item["assets"].pop("nir", None)
        path.write_text(json.dumps(item), encoding="utf-8")


def _wrong_crs(item_dir: Path) -> None:
    path = item_dir / f"{ITEM}.json"
    item = json.loads(path.read_text(encoding="utf-8"))
    item["properties"]["proj:epsg"] = 32631  # the files are EPSG:32632
    for asset in item["assets"].values():
        asset.pop("proj:epsg", None)
    path.write_text(json.dumps(item), encoding="utf-8")


DAMAGE: dict[str, tuple[Callable[[Path], None], str]] = {
    "malformed-item-json": (_break_item_json, "does not resolve to a STAC object"),
    "missing-asset-file": (_drop_cog, "asset 'nir' file is missing"),
    "corrupt-cog": (_garbage_cog, "asset 'nir' is unreadable"),
    "truncated-cog": (_truncated_cog, "cannot read"),
    "missing-asset-key": (_drop_asset_key, "has no asset for band B08"),
    "wrong-crs": (_wrong_crs, "EPSG:32631"),
}


@pytest.mark.parametrize("case", list(DAMAGE))
def test_cli_damaged_catalog(
    case: str, sample_catalog: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """CLI: a static catalog with a broken item, asset or COG names what is broken."""
    damage, expected = DAMAGE[case]
    catalog = _damaged_copy(sample_catalog, tmp_path / "catalog")
    damage(catalog.parent / ITEM)
    line = assert_cli_refuses(["--stac", str(catalog), *WINDOW], expected, tmp_path, capsys)
    if case not in ("truncated-cog", "missing-asset-key"):  # these name the first item
        assert ITEM in line


def test_cli_unreachable_stac_api(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """CLI: a STAC API on a closed port fails after bounded retries with one line."""
    url = f"http://127.0.0.1:{free_port()}"
    line = assert_cli_refuses(["--stac", url, *WINDOW], "failed", tmp_path, capsys)
    assert url in line and "check the URL and your network" in line


def test_cli_stac_api_answering_500(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """CLI: a STAC API answering HTTP 500 to everything fails with one line."""
    with serving_status(500) as url:
        line = assert_cli_refuses(["--stac", url, *WINDOW], "500", tmp_path, capsys)
    assert url in line


# -- output --------------------------------------------------------------------------------


def test_cli_output_folder_under_a_regular_file(
    sample_catalog: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """CLI: --out in a 'folder' that is a regular file (unwritable even for root)."""
    blocker = tmp_path / "out" / "a-file"
    blocker.parent.mkdir()
    blocker.write_text("keep", encoding="utf-8")
    for fmt, target in [("netCDF", blocker / "sub" / "x.nc"), ("GTiff", blocker / "tiffs")]:
        args = ["--stac", str(sample_catalog), "--format", fmt, "--out", str(target), *WINDOW]
        assert_cli_refuses(args, "cannot create the output folder", tmp_path, capsys)
    assert blocker.read_text(encoding="utf-8") == "keep"


def test_cli_existing_gtiff_folder_is_kept(
    sample_catalog: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """CLI: an existing GTiff output folder is neither overwritten nor merged into."""
    target = tmp_path / "out" / "tiffs"
    target.mkdir(parents=True)
    (target / "mine.tif").write_bytes(b"keep")
    args = ["--stac", str(sample_catalog), "--format", "GTiff", "--out", str(target), *WINDOW]
    assert_cli_refuses(args, "already exists; pass --overwrite", tmp_path, capsys)
    assert [p.name for p in target.iterdir()] == ["mine.tif"]


@pytest.mark.slow
def test_cli_failure_in_a_real_process_has_no_traceback(
    sample_catalog: Path, tmp_path: Path
) -> None:
    """CLI: a failure during the computation, in a real ``python -m hybrid`` process."""
    catalog = _damaged_copy(sample_catalog, tmp_path / "catalog")
    _truncated_cog(catalog.parent / ITEM)
    out = tmp_path / "out" / "x.nc"
    proc = subprocess.run(
        [sys.executable, "-m", "hybrid", "run", "--stac", str(catalog), "--out", str(out), *WINDOW],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("hybrid: error:"), proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.parent.exists()  # the folder the run made is removed with the failure
    assert not leftovers(tmp_path)


# -- the Python API --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed_graph() -> dict[str, Any]:
    from hybrid.params import Workflow
    from hybrid.sample import SEED_AOI
    from hybrid.workflow_graph import build_graph

    return build_graph(Workflow(aoi=SEED_AOI, start="2023-06-01", end="2023-06-15"))


def _node(graph: dict[str, Any], process_id: str) -> dict[str, Any]:
    return next(n for n in graph.values() if n["process_id"] == process_id)


def _set_load(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda g: _node(g, "load_collection")["arguments"].__setitem__(key, value)


def _set_kernel(kernel: list[list[float]]) -> Callable[[dict[str, Any]], None]:
    return lambda g: _node(g, "apply_kernel")["arguments"].__setitem__("kernel", kernel)


def _set_period(period: str) -> Callable[[dict[str, Any]], None]:
    return lambda g: _node(g, "aggregate_temporal_period")["arguments"].__setitem__(
        "period", period
    )


API_CASES: dict[str, tuple[Callable[[dict[str, Any]], None], type[HybridError], str]] = {
    "dates-reversed": (
        _set_load("temporal_extent", ["2023-07-01", "2023-06-01"]),
        UsageError,
        "temporal extent is empty",
    ),
    "date-malformed": (
        _set_load("temporal_extent", ["2023-13-45", "2023-06-01"]),
        UsageError,
        "is not a date",
    ),
    "bbox-reversed": (
        _set_load("spatial_extent", {"west": 6.7, "east": 6.6, "south": 45.2, "north": 45.3}),
        ProcessParameterInvalid,
        "west < east",
    ),
    "geometry-self-intersecting": (
        _set_load(
            "spatial_extent",
            {
                "type": "Polygon",
                "coordinates": [
                    [[6.65, 45.22], [6.67, 45.26], [6.67, 45.22], [6.65, 45.26], [6.65, 45.22]]
                ],
            },
        ),
        UsageError,
        "invalid geometry",
    ),
    "geometry-empty": (
        _set_load("spatial_extent", {"type": "Polygon", "coordinates": []}),
        UsageError,
        "GeoJSON without coordinates",
    ),
    "geometry-absurdly-large": (
        _set_load("spatial_extent", _polygon(-40.0, -30.0, -20.0, -20.0)),
        UsageError,
        "split it",
    ),
    "bbox-absurdly-large": (
        _set_load("spatial_extent", {"west": -40.0, "east": -20.0, "south": -30, "north": -20}),
        ProcessParameterInvalid,
        "split the area",
    ),
    "bbox-absurdly-large-over-the-data": (  # once began computing a 20 x 10 degree cube
        _set_load("spatial_extent", {"west": 0.0, "east": 20.0, "south": 40.0, "north": 50.0}),
        ProcessParameterInvalid,
        "split the area",
    ),
    "bbox-across-the-antimeridian": (
        _set_load("spatial_extent", {"west": 179.5, "east": -179.6, "south": -17, "north": -16}),
        ProcessParameterInvalid,
        "crosses the antimeridian (west=179.5 > east=-179.6)",
    ),
    "band-unknown": (_set_load("bands", ["B04", "B8B", "SCL"]), ProcessParameterInvalid, "B8B"),
    "kernel-even": (
        _set_kernel([[0.0625] * 4] * 4),
        ProcessParameterInvalid,
        "KernelDimensionsUneven",
    ),
    "kernel-not-square-even-side": (
        _set_kernel([[0.1] * 4] * 3),
        ProcessParameterInvalid,
        "KernelDimensionsUneven",
    ),
    "kernel-ragged": (
        _set_kernel([[0.1] * 3, [0.1] * 2, [0.1] * 3]),
        ProcessParameterInvalid,
        "kernel",
    ),
    "period-unknown": (_set_period("fortnight"), ProcessParameterInvalid, "fortnight"),
}


@pytest.mark.parametrize("case", list(API_CASES))
def test_api_bad_graph(
    case: str, seed_graph: dict[str, Any], sample_catalog: Path, tmp_path: Path
) -> None:
    """Python API: ``LocalBackend.execute`` raises a HybridError with a one-line message."""
    from hybrid.backends.local import LocalBackend, LocalSettings

    change, error, expected = API_CASES[case]
    graph = json.loads(json.dumps(seed_graph))
    change(graph)
    out = tmp_path / "out"
    out.mkdir()
    backend = LocalBackend(LocalSettings(stac=str(sample_catalog)))
    with pytest.raises(HybridError) as info:
        backend.execute(graph, out_dir=out)
    assert isinstance(info.value, error), repr(info.value)
    assert info.value.exit_code == 2
    message = str(info.value)
    assert expected in message and "\n" not in message, message
    assert list(out.iterdir()) == []


def test_api_kernel_odd_but_not_square_works(
    seed_graph: dict[str, Any], sample_catalog: Path, tmp_path: Path
) -> None:
    """Python API: a 3x5 kernel is valid openEO (each side odd) and runs."""
    from hybrid.backends.local import LocalBackend, LocalSettings

    graph = json.loads(json.dumps(seed_graph))
    _set_kernel([[1 / 15] * 5] * 3)(graph)
    result = LocalBackend(LocalSettings(stac=str(sample_catalog))).execute(graph, out_dir=tmp_path)
    (path,) = result.files
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        assert np.isfinite(ds["var"].values).any()


def _tiny_workflow_graph(aoi: dict[str, Any]) -> dict[str, Any]:
    from hybrid.params import Workflow
    from hybrid.workflow_graph import build_graph

    workflow = Workflow(
        aoi=aoi, start="2023-05-01", end="2023-06-01", kernel_size=3, bands=("B04", "B08", "SCL")
    )
    return build_graph(workflow)


def _tiny_inner_aoi() -> dict[str, Any]:
    west, south, east, north = tiny_bbox()
    dx, dy = (east - west) / 4, (north - south) / 4
    return _polygon(west + dx, south + dy, east - dx, north - dy)


@pytest.mark.parametrize("case", ["malformed-item-json", "wrong-crs"])
def test_api_damaged_item(case: str, tmp_path: Path) -> None:
    """Python API: a malformed item or one whose proj:epsg disagrees with its files."""
    from hybrid.backends.local import LocalBackend, LocalSettings

    scene = TinyScene("S2A_32TLR_20230502_0_L2A", "2023-05-02T10:30:00Z", 5.0)
    catalog = write_tiny_catalog(tmp_path / "cat", [scene])
    path = catalog.parent / scene.id / f"{scene.id}.json"
    item = json.loads(path.read_text(encoding="utf-8"))
    if case == "wrong-crs":
        item["properties"]["proj:epsg"] = 32631
        path.write_text(json.dumps(item), encoding="utf-8")
    else:
        path.write_text(json.dumps(item)[:40], encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(DataSourceError) as info:
        LocalBackend(LocalSettings(stac=str(catalog))).execute(
            _tiny_workflow_graph(_tiny_inner_aoi()), out_dir=out
        )
    message = str(info.value)
    assert scene.id in message and "\n" not in message, message
    if case == "wrong-crs":
        assert "EPSG:32631" in message and "EPSG:32632" in message
    assert list(out.iterdir()) == []


# -- an AOI across two UTM zones -------------------------------------------------------------

#: across the UTM 31/32 border at 6 E; its representative point is in zone 32
BORDER_AOI = _polygon(5.992, 45.200, 6.012, 45.210)


def _zone_tile(root: Path, *, epsg: int, tile: str, red: int, nir: int) -> dict[str, Any]:
    """A uniform Sentinel-2 item in EPSG ``epsg`` covering BORDER_AOI with a margin."""
    from affine import Affine
    from pyproj import Transformer

    from hybrid.sample.cog import write_cog

    to_utm = Transformer.from_crs("EPSG:4326", f"EPSG:{epsg}", always_xy=True)
    xs, ys = to_utm.transform([5.98, 6.025, 6.025, 5.98], [45.19, 45.19, 45.22, 45.22])
    x0, y0 = 20 * (min(xs) // 20), 20 * (max(ys) // 20 + 1)
    width, height = max(xs) - x0, y0 - min(ys)
    item_id = f"S2A_{tile}_20230502_0_L2A"
    folder = root / item_id
    folder.mkdir(parents=True)
    assets: dict[str, Any] = {}
    for key, value, res in [("red", red, 10), ("nir", nir, 10), ("scl", 4, 20)]:
        shape = (int(height // res) + 1, int(width // res) + 1)
        dtype = np.uint8 if res == 20 else np.uint16
        write_cog(
            folder / f"{key}.tif",
            np.full(shape, value, dtype=dtype),
            transform=Affine(res, 0, x0, 0, -res, y0),
            crs=f"EPSG:{epsg}",
            nodata=0,
            blocksize=256,
            resampling="nearest",
        )
        band: dict[str, Any] = {"nodata": 0, "data_type": str(np.dtype(dtype))}
        if res == 10:
            band.update(scale=0.0001, offset=-0.1)
        assets[key] = {
            "href": f"./{key}.tif",
            "type": "image/tiff; application=geotiff; profile=cloud-optimized",
            "roles": ["data"],
            "proj:shape": list(shape),
            "proj:transform": [res, 0, x0, 0, -res, y0],
            "raster:bands": [band],
        }
    footprint = _polygon(5.98, 45.19, 6.025, 45.22)
    item = {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": item_id,
        "collection": "sentinel-2-c1-l2a",
        "bbox": [5.98, 45.19, 6.025, 45.22],
        "geometry": footprint,
        "properties": {
            "datetime": "2023-05-02T10:30:00Z",
            "eo:cloud_cover": 1.0,
            "proj:epsg": epsg,
            "grid:code": f"MGRS-{tile}",
            "s2:processing_baseline": "05.09",
        },
        "assets": assets,
        "links": [{"rel": "collection", "href": "../collection.json"}],
    }
    (folder / f"{item_id}.json").write_text(json.dumps(item), encoding="utf-8")
    return {"rel": "item", "href": f"./{item_id}/{item_id}.json"}


def _zone_catalog(root: Path, tiles: list[tuple[int, str, int, int]]) -> Path:
    links = [{"rel": "root", "href": "./collection.json", "type": "application/json"}]
    for epsg, tile, red, nir in tiles:
        links.append(_zone_tile(root, epsg=epsg, tile=tile, red=red, nir=nir))
    collection = {
        "type": "Collection",
        "stac_version": "1.0.0",
        "id": "sentinel-2-l2a",
        "description": "two tiles across the UTM 31/32 border",
        "license": "proprietary",
        "extent": {
            "spatial": {"bbox": [[5.98, 45.19, 6.025, 45.22]]},
            "temporal": {"interval": [[None, None]]},
        },
        "links": links,
    }
    path = root / "collection.json"
    path.write_text(json.dumps(collection), encoding="utf-8")
    return path


#: NDVI of the uniform tiles (DN - 1000 BOA offset from baseline 04.00)
NDVI_32 = (3000 - 500) / (3000 + 500)  # red 1500, nir 4000
NDVI_31 = (2000 - 1000) / (2000 + 1000)  # red 2000, nir 3000


@pytest.mark.parametrize(
    ("tiles", "expected", "zone"),
    [
        ([(32631, "31TGL", 2000, 3000), (32632, "32TLR", 1500, 4000)], NDVI_32, "32N"),
        ([(32631, "31TGL", 2000, 3000)], NDVI_31, "31N"),
    ],
    ids=["both-zones", "only-the-other-zone"],
)
def test_api_aoi_across_two_utm_zones_works(
    tiles: list[tuple[int, str, int, int]], expected: float, zone: str, tmp_path: Path
) -> None:
    """Python API: an AOI across a UTM border loads in the zone of its representative
    point when the scenes lie in both zones, the tile already in that CRS first; when
    every scene is in one CRS, in that CRS (Copernicus load_stac.py L621-638)."""
    from hybrid.backends.local import LocalBackend, LocalSettings

    catalog = _zone_catalog(tmp_path / "cat", tiles)
    result = LocalBackend(LocalSettings(stac=str(catalog))).execute(
        _tiny_workflow_graph(BORDER_AOI), out_dir=tmp_path / "out"
    )
    (path,) = result.files
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        assert f"UTM zone {zone}" in ds["crs"].attrs["crs_wkt"]
        values = ds["var"].values
    assert values.shape[0] == 1 and values.shape[2] > 100  # ~1.6 km wide at 10 m
    np.testing.assert_allclose(values, expected, rtol=1e-6)


def test_aoi_mostly_outside_its_grid_warns_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """CLI and Python API: two small parts on either side of a UTM border load as one grid
    over their bounding box in the zone of its representative point (as Copernicus does),
    with one warning line saying how little of the grid they cover."""
    from hybrid.backends.local import LocalBackend, LocalSettings
    from hybrid.errors import HybridWarning

    tiles = [(32631, "31TGL", 2000, 3000), (32632, "32TLR", 1500, 4000)]
    catalog = _zone_catalog(tmp_path / "cat", tiles)
    parts = [_polygon(5.985, 45.200, 5.990, 45.203), _polygon(6.016, 45.200, 6.021, 45.203)]
    aoi = {"type": "MultiPolygon", "coordinates": [part["coordinates"] for part in parts]}
    graph = _tiny_workflow_graph(aoi)
    (load,) = [node for node in graph.values() if node["process_id"] == "load_collection"]
    load["arguments"]["spatial_extent"] = aoi  # GeoJSON instead of the CLI's bbox
    with pytest.warns(HybridWarning) as caught:
        result = LocalBackend(LocalSettings(stac=str(catalog))).execute(
            graph, out_dir=tmp_path / "out"
        )
    (warning,) = [str(w.message) for w in caught if w.category is HybridWarning]
    assert re.fullmatch(
        r"spatial_extent covers (2\d)% of its \d+ x \d+ px grid in EPSG:32632 .*", warning
    )
    (path,) = result.files
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        assert "UTM zone 32N" in ds["crs"].attrs["crs_wkt"]

    aoi_file = tmp_path / "aoi.geojson"
    aoi_file.write_text(json.dumps(aoi), encoding="utf-8")
    args = ["scenes", "--aoi", str(aoi_file), "--stac", str(catalog)]
    assert main([*args, "--start", "2023-05-01", "--end", "2023-06-01"]) == 0
    err = capsys.readouterr().err.splitlines()
    expected = warning.replace("spatial_extent", str(aoi_file))
    assert [line for line in err if "warning" in line] == [f"hybrid: warning: {expected}"], err


# -- the docs table ------------------------------------------------------------------------------


def test_robustness_table_matches_the_collected_cases(request: pytest.FixtureRequest) -> None:
    """docs/robustness.md lists, per test group run now, as many cases as were collected
    (with -k/-m, which collect part of the cases: every collected group has a row)."""
    import importlib.util

    root = Path(__file__).resolve().parents[2]
    script = root / "docs" / "robustness.py"
    spec = importlib.util.spec_from_file_location("robustness", script)
    assert spec is not None and spec.loader is not None
    robustness = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("robustness", robustness)  # dataclasses look their module up
    spec.loader.exec_module(sys.modules["robustness"])
    robustness = sys.modules["robustness"]
    partial = bool(request.config.option.keyword or request.config.option.markexpr)
    table = robustness.table_cases(robustness.OUTPUT.read_text(encoding="utf-8"))
    selected = {node for _, nodes in robustness.SELECTION for node in nodes}
    collected: dict[str, int] = {}
    for item in request.session.items:
        module = item.nodeid.partition("::")[0]
        function = getattr(item, "originalname", item.name)
        if module in selected or f"{module}::{function}" in selected:
            key = f"{Path(module).stem}::{function}"
            collected[key] = collected.get(key, 0) + 1
    figures = {
        "test_server_faults::test_twenty_clients_five_jobs_each",
        "test_server_memory::test_two_hundred_jobs_in_a_row_keep_memory_bounded",
        "test_server_fuzz::test_generated_requests_conform_to_the_servers_own_document",
    }
    figures.add(f"{Path(__file__).stem}::{request.node.originalname}")  # not a row itself
    compared = {k: n for k, n in collected.items() if k not in figures}
    missing = sorted(set(compared) - set(table))
    assert not missing, f"run python docs/robustness.py: {missing} are not in the table"
    if partial:
        return
    assert compared, "no robustness test collected"
    wrong = {k: (table[k][0], n) for k, n in compared.items() if table[k][0] != n}
    assert not wrong, f"run python docs/robustness.py: (table, collected) {wrong}"
