"""The CI equivalence suite: one graph, three executions, all pairwise equivalent.

(1) the local backend in-process, (2) the remote adapter against ``hybrid serve`` on
loopback (the same client code path a Copernicus run takes), (3) the independent
reference (tests/reference). Plus what ``hybrid compare`` must catch.
"""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import numpy as np
import pytest

from hybrid.backends.local import LocalBackend, LocalSettings
from hybrid.backends.remote import RemoteBackend, RemoteSettings
from hybrid.cli import main
from hybrid.cli.run_graph import with_default_save
from hybrid.comparison import compare
from hybrid.io.netcdf import write_netcdf
from hybrid.io.reader import open_result
from hybrid.params import Workflow
from hybrid.sample import SEED_AOI
from hybrid.testing import assert_equivalent
from hybrid.workflow_graph import build_graph
from tests.reference import reference_ndvi
from tests.server_helpers import ServeProcess, openeo_env

START, END = "2023-06-01", "2023-08-01"


@pytest.fixture(scope="module")
def server(sample_catalog, tmp_path_factory):
    with ServeProcess(
        data_dir=tmp_path_factory.mktemp("serve") / "data", stac=sample_catalog, workers=1
    ) as serve:
        yield serve


@pytest.fixture
def basic_auth_env(monkeypatch, tmp_path):
    for key, value in openeo_env(tmp_path).items():
        if key.startswith(("OPENEO", "XDG")):
            monkeypatch.setenv(key, value)
    monkeypatch.setenv("OPENEO_AUTH_USERNAME", "hybrid")
    monkeypatch.setenv("OPENEO_AUTH_PASSWORD", "hybrid")


@pytest.fixture(scope="module")
def three_results(sample_catalog, server, tmp_path_factory):
    """The same graph through the three executions, as result files."""
    root = tmp_path_factory.mktemp("three")
    workflow = Workflow(aoi=SEED_AOI, start=START, end=END)
    graph = build_graph(workflow)
    local = LocalBackend(LocalSettings(stac=str(sample_catalog))).execute(
        graph, out_dir=root / "local"
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OPENEO_AUTH_USERNAME", "hybrid")
        mp.setenv("OPENEO_AUTH_PASSWORD", "hybrid")
        for key, value in openeo_env(root / "home").items():
            if key.startswith(("OPENEO_CONFIG", "XDG")):
                mp.setenv(key, value)
        remote = RemoteBackend(
            server.url, RemoteSettings(poll_interval=0.2, progress=False)
        ).execute(graph, out_dir=root / "remote")
    ref = reference_ndvi(sample_catalog, SEED_AOI, START, END)
    ref_cube = open_result(local.files[0]).copy(data=ref.data)
    ref_path = write_netcdf(ref_cube, root / "reference" / "reference.nc")
    return {"local": local.files[0], "remote": remote.files[0], "reference": ref_path}


@pytest.mark.parametrize("pair", list(itertools.combinations(["local", "remote", "reference"], 2)))
def test_three_executions_are_pairwise_equivalent(three_results, pair):
    a, b = pair
    assert_equivalent(three_results[a], three_results[b], atol=1e-5)


def test_reference_labels_and_grid_are_the_engines(three_results, sample_catalog):
    ref = reference_ndvi(sample_catalog, SEED_AOI, START, END)
    local = open_result(three_results["local"])
    np.testing.assert_array_equal(local["x"].values, ref.x)
    np.testing.assert_array_equal(local["y"].values, ref.y)
    assert [str(t)[:10] for t in local["t"].values] == [label[:10] for label in ref.labels]


@pytest.mark.slow
def test_remote_run_against_serve_matches_local_run(
    sample_catalog, server, basic_auth_env, tmp_path, capsys
):
    """The issue's done-when: ``hybrid run --backend URL`` vs ``hybrid run``, compared."""
    a, b = tmp_path / "a.nc", tmp_path / "b.nc"
    window = ["--start", START, "--end", END]
    remote = ["run", "--backend", server.url, "--poll-interval", "0.2"]
    assert main([*remote, "--out", str(a), "--quiet", *window]) == 0
    assert main(["run", "--stac", str(sample_catalog), "--out", str(b), *window]) == 0
    capsys.readouterr()
    assert main(["compare", str(a), str(b), "--atol", "1e-6"]) == 0
    report = compare(open_result(a), open_result(b), atol=1e-6)
    assert report.equivalent


def _shifted_grid(cube):
    return cube.assign_coords(x=cube["x"] + 10.0)


def _shifted_labels(cube):
    return cube.assign_coords(t=cube["t"] + np.timedelta64(1, "D"))


def _masked_patch(cube):
    values = cube.values.copy()
    finite = np.argwhere(np.isfinite(values[0]))
    y, x = finite[len(finite) // 2]
    values[0, y : y + 5, x : x + 5] = np.nan
    return cube.copy(data=values)


def _other_crs(cube):
    from pyproj import CRS

    out = cube.copy()
    out.attrs["crs_wkt"] = CRS.from_epsg(32631).to_wkt()
    return out


NEGATIVE = {
    "grid-shifted-one-pixel": (_shifted_grid, "x"),
    "labels-shifted-one-day": (_shifted_labels, "day"),
    "5x5-region-masked-in-one": (_masked_patch, "nan"),
    "different-crs": (_other_crs, "crs"),
}


@pytest.mark.parametrize("case", list(NEGATIVE))
def test_compare_catches(case, three_results, tmp_path, capsys):
    change, word = NEGATIVE[case]
    good = open_result(three_results["local"])
    bad = write_netcdf(change(good), tmp_path / "bad.nc")
    report_file = tmp_path / "report.json"
    code = main(["compare", str(three_results["local"]), str(bad), "--report", str(report_file)])
    assert code == 1
    text = report_file.read_text().lower() + capsys.readouterr().out.lower()
    assert word in text


def test_compare_unreadable_input_exits_2(three_results, tmp_path, capsys):
    junk = tmp_path / "junk.nc"
    junk.write_text("not a netcdf")
    assert main(["compare", str(three_results["local"]), str(junk)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.slow
def test_recordings_from_the_emulator_match_the_local_backend(
    sample_catalog, server, basic_auth_env, tmp_path, capsys
):
    """``hybrid record`` against the emulator, then local vs every recording present."""
    root = tmp_path / "recordings"
    window = ["--start", START, "--end", END]
    code = main(
        ["record", "--backend", server.url, "--name", "emulator", "--out-root", str(root), *window]
    )
    assert code == 0, capsys.readouterr().err
    recordings = sorted(p for p in root.iterdir() if (p / "result.nc").is_file())
    assert [p.name for p in recordings] == ["emulator"]
    for rec in recordings:
        assert (rec / "graph.json").is_file() and (rec / "provenance.json").is_file()
        local = tmp_path / f"{rec.name}-local.nc"
        assert main(["run", "--stac", str(sample_catalog), "--out", str(local), *window]) == 0
        assert_equivalent(rec / "result.nc", local, atol=1e-6)


RECORDINGS = Path(__file__).resolve().parents[2] / "data" / "recordings"


@pytest.mark.parametrize(
    "recording",
    sorted(p for p in RECORDINGS.iterdir() if (p / "graph.json").is_file())
    if RECORDINGS.is_dir()
    else [],
)
def test_local_backend_matches_committed_recordings(recording, tmp_path):
    """Every committed recording of a real remote run (none yet) against the local backend:
    the workflow's (``result.nc``) and a graph file's (the job's files as they came)."""
    import json

    graph = json.loads((recording / "graph.json").read_text())
    provenance = json.loads((recording / "provenance.json").read_text())
    stac = provenance.get("stac", "earth-search")
    out = tmp_path / "local"
    backend = LocalBackend(LocalSettings(stac=stac))
    result = backend.execute(with_default_save(graph, backend), out_dir=out)
    if (recording / "result.nc").is_file():
        assert_equivalent(recording / "result.nc", result.files[0], atol=1e-5)
    else:
        assert_equivalent(recording, out, atol=1e-5)
    shutil.rmtree(out)
