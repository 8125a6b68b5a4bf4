"""The Python API (hybrid.connect / run / graph / scenes / compare) against the CLI."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import hybrid
from hybrid.errors import UsageError

WINDOW = {"start": "2023-06-01", "end": "2023-06-15"}


def test_version_and_a_light_import():
    assert hybrid.__version__ == version("hybrid")
    heavy = "('xarray', 'openeo', 'dask')"
    code = f"import hybrid, sys; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    cli = subprocess.run(
        [sys.executable, "-m", "hybrid", "--version"], capture_output=True, text=True, check=True
    )
    assert cli.stdout.strip() == f"hybrid {hybrid.__version__}"


def test_the_cli_answers_help_without_the_science_stack():
    # every command's parser is built for --help: none may import numpy and the rest
    heavy = "('numpy', 'xarray', 'dask', 'distributed', 'rasterio', 'openeo_processes_dask')"
    code = (
        "import contextlib, io, sys\nfrom hybrid.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    main(['--help'])\n"
    )
    code += f"print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stderr[-2000:]


def test_every_public_function_has_a_docstring_with_an_example():
    import inspect

    import hybrid.api

    public = [getattr(hybrid, name) for name in hybrid.__all__ if name != "__version__"]
    public += [f for n, f in inspect.getmembers(hybrid.api, inspect.isfunction)
               if not n.startswith("_") and f.__module__ == "hybrid.api"]  # fmt: skip
    assert {f.__name__ for f in public} >= {"connect", "run", "graph", "scenes", "compare"}
    assert [f.__name__ for f in public if ">>> " not in (f.__doc__ or "")] == []


def test_graph_takes_the_cli_options(sample_catalog):
    week = hybrid.graph(period="week", max_cloud_cover=35.5, cloud_classes=[3, 8, 9], **WINDOW)
    cli = subprocess.run(
        [sys.executable, "-m", "hybrid", "graph", "--period", "week", "--max-cloud-cover",
         "35.5", "--cloud-classes", "3,8,9", "--start", WINDOW["start"], "--end", WINDOW["end"]],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    import json

    assert week == json.loads(cli.stdout)
    with pytest.raises(UsageError, match="unknown option 'perod'"):
        hybrid.graph(perod="week")
    with pytest.raises(UsageError, match="period"):
        hybrid.graph(period="fortnight")
    # converted as the command line converts its text: "35.5" is 35.5, "abc" refused
    assert (
        hybrid.graph(period="week", max_cloud_cover="35.5", cloud_classes="3,8,9", **WINDOW) == week
    )
    with pytest.raises(UsageError, match="max_cloud_cover='abc' is not a valid float"):
        hybrid.graph(max_cloud_cover="abc")


@pytest.fixture(scope="module")
def cli_result(sample_catalog: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What ``hybrid run --stac CATALOG`` writes for :data:`WINDOW`."""
    out = tmp_path_factory.mktemp("cli") / "cli.nc"
    subprocess.run(
        [sys.executable, "-m", "hybrid", "run", "--stac", str(sample_catalog), "--out", str(out),
         "--start", WINDOW["start"], "--end", WINDOW["end"], "--quiet"],
        check=True, capture_output=True,
    )  # fmt: skip
    return out


@pytest.mark.slow
def test_run_returns_the_cli_result_and_compare_says_so(sample_catalog, cli_result):
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = hybrid.run(stac=str(sample_catalog), **WINDOW)
    # a notebook sees no more warnings than the command line shows
    assert not [w for w in caught if "geotransform" in str(w.message)]
    assert isinstance(ds, xr.Dataset) and set(ds.dims) >= {"t", "y", "x"}
    on_disk = xr.load_dataset(cli_result, engine="h5netcdf")
    assert sorted(ds.data_vars) == sorted(on_disk.data_vars)
    np.testing.assert_array_equal(ds["var"].values, on_disk["var"].values)
    for coord in ("t", "y", "x"):
        np.testing.assert_array_equal(ds[coord].values, on_disk[coord].values)
    assert np.isfinite(ds["var"].values).any()
    assert ds.attrs == on_disk.attrs and any(k.startswith("hybrid_") for k in ds.attrs)
    report = hybrid.compare(cli_result, ds, atol=0)
    assert bool(report) is True and report.equivalent
    assert "EQUIVALENT" in str(report) and report._repr_html_().startswith("<pre>")
    shifted = ds.copy(deep=True)
    shifted["var"].values[0, :5, :5] += 0.5
    differs = hybrid.compare(cli_result, shifted)
    assert bool(differs) is False and "NOT EQUIVALENT" in str(differs)


#: the notebook-style script of the README's "From Python" section
FROM_PYTHON = Path(__file__).resolve().parents[2] / "docs" / "from_python.py"
#: what the seed tutorial's client code calls; the script must keep calling them
TUTORIAL_CALLS = (
    "describe_collection(", "load_collection(", ".band(", "apply_kernel(", "execute_batch(",
    "download_files(",
)  # fmt: skip


@pytest.mark.slow
def test_the_tutorial_client_code_on_connect_local_gives_the_cli_result(
    sample_catalog, cli_result, tmp_path
):
    """A fresh interpreter runs the seed tutorial's openeo client code after
    ``hybrid.connect("local", stac=CATALOG)``: the NetCDF it downloads is the one
    ``hybrid run --stac CATALOG`` writes (``hybrid compare`` exit 0)."""
    source = FROM_PYTHON.read_text()
    assert all(call in source for call in TUTORIAL_CALLS)
    assert 'hybrid.connect("local", stac=CATALOG)' in source
    done = subprocess.run(
        [sys.executable, str(FROM_PYTHON), str(sample_catalog), str(tmp_path / "result"),
         WINDOW["start"], WINDOW["end"]],
        capture_output=True, text=True, cwd=tmp_path, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    downloaded = tmp_path / "result" / "openEO.nc"
    assert "SCL" in done.stdout and str(downloaded) in done.stdout
    compared = subprocess.run(
        [sys.executable, "-m", "hybrid", "compare", str(downloaded), str(cli_result)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert compared.returncode == 0, compared.stdout + compared.stderr
    assert "EQUIVALENT" in compared.stdout and "NOT EQUIVALENT" not in compared.stdout


def test_the_readme_shows_the_tested_script():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## From Python", 1)[1].split("\n## ", 1)[0]
    block = section.split("```python\n", 1)[1].split("```", 1)[0]
    # the script's parameters, as the README spells them (the seed season, "result")
    source = FROM_PYTHON.read_text().replace("[START, END]", '["2023-05-01", "2023-09-30"]')
    script = [line.strip() for line in source.replace("(OUT_DIR)", '("result")').splitlines()]
    tutorial = block.split("# --- the seed tutorial's client code", 1)[1].split("# ---", 1)[0]
    lines = [line.strip() for line in tutorial.splitlines()[1:] if line.strip()]
    assert len(lines) > 15
    # in the script's order, so the README shows the code the test above runs
    positions = [script.index(line) for line in lines]
    assert positions == sorted(positions)


def test_run_refuses_formats_it_cannot_return(sample_catalog):
    with pytest.raises(UsageError, match="netCDF only"):
        hybrid.run(format="GTiff")


def test_aoi_as_a_dict_or_a_path(sample_catalog, tmp_path, seed_aoi):
    import json

    path = Path(tmp_path / "aoi.geojson")
    path.write_text(json.dumps(seed_aoi))
    assert hybrid.graph(aoi=seed_aoi, **WINDOW) == hybrid.graph(aoi=path, **WINDOW)
    with pytest.raises(UsageError):
        hybrid.graph(aoi={"type": "Point", "coordinates": [6.6, 45.2]})


@pytest.mark.slow
def test_first_run_says_the_sample_is_being_generated(tmp_path):
    """On a fresh cache ``hybrid run`` in a pipe (stderr no terminal) says once that it
    generates the sample - one line, nothing else; the next run says nothing."""
    env = {**__import__("os").environ, "HYBRID_CACHE_DIR": str(tmp_path / "cache")}
    run = [sys.executable, "-m", "hybrid", "run", "--out", str(tmp_path / "ndvi.nc"),
           "--start", WINDOW["start"], "--end", WINDOW["end"]]  # fmt: skip
    first = subprocess.run(run, capture_output=True, text=True, env=env, timeout=900)
    assert first.returncode == 0, first.stderr
    assert first.stderr.count("\n") == 1, first.stderr
    assert first.stderr.startswith("hybrid: generating the embedded Sentinel-2 sample")
    assert "result:" in first.stdout
    again = subprocess.run(
        [*run, "--overwrite"], capture_output=True, text=True, env=env, timeout=900
    )
    assert again.returncode == 0 and again.stderr == ""
