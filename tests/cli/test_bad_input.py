"""The bad-input matrix: every kind of wrong input, through the CLI and the Python API.

Completes ``test_cli.py`` (dates, kernel, period, reducer, threshold, cloud classes,
missing files, format, bad GeoJSON, existing output) and ``test_stac_errors.py``
(unreachable STAC API, HTTP 500, missing and corrupt assets of the Python API). Each
CLI case must end as one ``hybrid: error:`` line naming the problem and its fix, exit
code 2, no traceback and no output, not even a temporary ``*.part`` or ``.hybrid-*``
file; each Python API case as a :class:`hybrid.errors.HybridError` subclass with a
one-line message and an empty output folder. The cases are in bad_input_cases.py and
utm_border_catalog.py beside this module.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from hybrid.cli import main
from hybrid.errors import DataSourceError, HybridError
from tests.cli.bad_input_cases import (
    API_CASES,
    DAMAGE,
    GEOMETRY_CASES,
    ITEM,
    NO_COVERAGE,
    PARAMETER_CASES,
    WINDOW,
    _damaged_copy,
    _polygon,
    _set_kernel,
    _tiny_inner_aoi,
    _tiny_workflow_graph,
    _truncated_cog,
    assert_cli_refuses,
    leftovers,
)
from tests.cli.utm_border_catalog import BORDER_AOI, NDVI_31, NDVI_32, _zone_catalog
from tests.pgstac import free_port
from tests.stac_fixtures import TinyScene, serving_status, write_tiny_catalog


@pytest.mark.parametrize("case", list(GEOMETRY_CASES))
def test_cli_bad_geometry(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """CLI: malformed, empty, invalid GeoJSON AOIs are refused before any data is read."""
    doc, expected = GEOMETRY_CASES[case]
    aoi = tmp_path / "aoi.geojson"
    aoi.write_text(json.dumps(doc), encoding="utf-8")
    line = assert_cli_refuses(["--aoi", str(aoi)], expected, tmp_path, capsys)
    assert str(aoi) in line


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
