"""The cases of the bad-input matrix (tests/cli/test_bad_input.py): wrong geometries,
parameters, damaged catalogs, bad graphs for the Python API, and the catalogs across a UTM
border; with the checks every CLI case shares.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hybrid.cli import main
from hybrid.errors import HybridError, ProcessParameterInvalid, UsageError
from tests.stac_fixtures import tiny_bbox

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

NO_COVERAGE = {
    # open ocean, South Atlantic: Sentinel-2 does not image it
    "open-ocean": _polygon(-25.0, -35.0, -24.99, -34.99),
    # interior of Antarctica, south of Sentinel-2's coverage (56 S .. 84 N, land + coasts)
    "antarctica-interior": _polygon(40.0, -85.0, 40.05, -84.99),
    # across the UTM 31/32 border at 6 E: valid, but outside the sample's footprint
    "utm-border-outside-sample": _polygon(5.995, 45.20, 6.005, 45.21),
}


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


# -- an AOI across two UTM zones -------------------------------------------------------------
