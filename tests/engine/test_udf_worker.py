"""The confined UDF worker without a server (each test starts worker processes: slow):
confinement, the chunk as Copernicus names it, limits, result types, priority.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from hybrid.backends.local.udf.callbacks import mark_udf_callbacks
from hybrid.errors import HybridWarning, UdfError
from tests.engine.udf_cubes import CODE, _cube, _graph, _run_udf


def _run(code: str, cube: xr.DataArray, **settings: Any) -> list[xr.DataArray]:
    from hybrid.backends.local.udf.isolated import UdfSettings, run_udf_chunks

    options = {"timeout": 60.0, **settings}
    settings_ = UdfSettings(**options)
    return run_udf_chunks(code, [cube], context={"f": 3}, settings=settings_, process="apply")


def test_syntax_error_is_reported_with_its_line_without_a_worker() -> None:
    with pytest.raises(UdfError, match=r"SyntaxError.*'UDF\.py', 2,"):
        _run("x = 1\ndef apply_datacube(cube, context)\n    return cube\n", _cube(2, 2))


@pytest.mark.slow
def test_worker_runs_the_udf_and_is_confined(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("server data")
    code = (
        "import xarray\n"
        "def apply_datacube(cube: xarray.DataArray, context: dict) -> xarray.DataArray:\n"
        f"    open({str(secret)!r}).read()\n"
        "    return cube\n"
    )
    with pytest.raises(UdfError, match=r"line 3, in apply_datacube\nPermissionError"):
        _run(code, _cube(2, 2))
    ok = code.replace(f"    open({str(secret)!r}).read()\n", "")
    ok = ok.replace("return cube", "return cube * context['f']")
    ok += (
        "def apply_metadata(metadata, context):\n"
        "    return metadata.rename_labels('bands', target=['red', 'nir'])\n"
    )
    (out,) = _run(ok, _cube(2, 2))
    np.testing.assert_array_equal(out.values, _cube(2, 2).values * 3)
    assert list(out["bands"].values) == ["red", "nir"]  # apply_metadata's names


@pytest.mark.slow
def test_a_udf_is_one_process_without_sockets() -> None:
    """Threads and ``socketpair`` work; a process started in a session of its own (it
    outlived the job, the time limit and the server, with a memory limit of its own), a
    UDP socket (which Landlock does not cover), an AF_VSOCK socket (it reached the VM's
    host), a netlink one and a Unix one (it reached local services) are refused
    (syscall_filter)."""
    code = (
        "import concurrent.futures, socket, subprocess, xarray\n"
        "def apply_datacube(cube: xarray.DataArray, context: dict) -> xarray.DataArray:\n"
        "    with concurrent.futures.ThreadPoolExecutor(2) as pool:\n"
        "        doubled = sum(pool.map(lambda c: c * 2, [cube, cube])) / 2\n"
        "    socket.socketpair()[0].close()\n"  # allowed
        "    refused = []\n"
        "    for attempt in (\n"
        "        lambda: subprocess.Popen(['/bin/sleep', '3141'], start_new_session=True),\n"
        "        lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM),\n"
        "        lambda: socket.socket(socket.AF_INET6, socket.SOCK_DGRAM),\n"
        "        lambda: socket.socket(40, socket.SOCK_STREAM),\n"  # AF_VSOCK
        "        lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW),\n"
        "        lambda: socket.socket(socket.AF_UNIX),\n"
        "    ):\n"
        "        try:\n"
        "            attempt()\n"
        "        except PermissionError:\n"
        "            refused.append(1)\n"
        "    return doubled + len(refused)\n"
    )
    (out,) = _run(code, _cube(2, 2))
    np.testing.assert_array_equal(out.values, _cube(2, 2).values * 2 + 6)


@pytest.mark.slow
def test_a_udf_reads_its_own_proc_files_for_scikit_learns_kmeans() -> None:
    """scikit-learn's ``KMeans`` lists the loaded libraries through threadpoolctl, which
    reads ``/proc/self/maps``: a UDF reads its own ``/proc`` folder, as it does on
    Copernicus (the executor's Python, geopysparkdatacube.py L671, L905), not the server's
    (SNOWCOP/openeo_mountains_snow's representative-pixels UDF lost its K-means samples
    to a PermissionError)."""
    code = (
        "import os, numpy, xarray\n"
        "from sklearn.cluster import KMeans\n"
        "def apply_datacube(cube: xarray.DataArray, context: dict) -> xarray.DataArray:\n"
        "    points = cube.values.reshape(cube.shape[0], -1).T\n"
        "    KMeans(n_clusters=2, n_init=1, random_state=0).fit(points)\n"
        "    try:\n"
        "        open(f'/proc/{os.getppid()}/cmdline', 'rb').read()\n"
        "        return cube\n"
        "    except PermissionError:\n"
        "        return cube + len(open('/proc/self/maps').read().splitlines()) * 0 + 1\n"
    )
    (out,) = _run(code, _cube(4, 4))
    np.testing.assert_array_equal(out.values, _cube(4, 4).values + 1)


def test_the_filter_alone_keeps_signals_to_the_worker_itself() -> None:
    """Without Landlock's signal scope (ABI < 6, Linux < 6.12) the worker, run as the
    server's user, could signal the server: the filter alone refuses a signal to another
    process (its parent here) and lets the worker signal itself and its threads."""
    import subprocess
    import sys

    code = (
        "import ctypes, os, signal, threading\n"
        "from hybrid.backends.local.udf import syscall_filter\n"
        "ctypes.CDLL(None).prctl(38, 1, 0, 0, 0)\n"  # no_new_privs
        "syscall_filter.install()\n"
        "os.kill(os.getpid(), 0)\n"
        "signal.pthread_kill(threading.main_thread().ident, 0)\n"
        "try:\n"
        "    os.kill(os.getppid(), 0)\n"
        "    print('signalled the parent')\n"
        "except PermissionError:\n"
        "    print('refused')\n"
    )
    root = str(Path(__file__).resolve().parents[2])
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=60
    )
    assert (done.returncode, done.stdout.strip()) == (0, "refused"), done.stderr


@pytest.mark.slow
def test_the_udf_gets_the_chunk_copernicus_names() -> None:
    """``openEODataChunk`` with the date as its only attribute (geopysparkdatacube.py
    ``_tile_to_datacube`` L603), a naive datetime as geopyspark's ``SpaceTimeKey.instant``
    (L897; it was the text ``2023-06-02T00:00:00Z``); the name was
    ``values_block-<hash>`` with the engine's CRS and layout attributes."""
    code = (
        "import xarray\n"
        "def apply_datacube(cube: xarray.DataArray, context: dict) -> xarray.DataArray:\n"
        "    assert cube.name == 'openEODataChunk', cube.name\n"
        "    import datetime\n"
        "    assert cube.attrs == {'t': datetime.datetime(2023, 6, 2)}, cube.attrs\n"
        "    return cube\n"
    )
    chunk = _cube(2, 2).isel(t=0).assign_attrs(t="2023-06-02T00:00:00Z", crs="EPSG:32632")
    (out,) = _run(code, chunk.rename("values_block-0123"))
    np.testing.assert_array_equal(out.values, chunk.values)


@pytest.mark.slow
def test_the_udf_gets_float32_pixel_centres_as_on_copernicus() -> None:
    """x and y of a chunk are float32 (geopysparkdatacube.py ``_numpy_to_xarraydatacube``
    L600-601), so a UDF computing with them computes in float32: the cos(latitude)
    weight of openeo-community-examples LandCoverStatistics on UTM metres is float32's."""
    code = (
        "import numpy as np, xarray\n"
        "def apply_datacube(cube: xarray.DataArray, context: dict) -> xarray.DataArray:\n"
        "    assert cube['x'].dtype == np.float32 and cube['y'].dtype == np.float32\n"
        "    return cube * 0 + np.cos(np.deg2rad(cube.coords['y']))\n"
    )
    chunk = _cube(3, 2).isel(t=0).assign_coords(y=5012705.0 - 10 * np.arange(3))
    (out,) = _run(code, chunk)
    want = np.cos(np.deg2rad(chunk["y"].values.astype(np.float32)))
    assert not np.allclose(want, np.cos(np.deg2rad(chunk["y"].values)), atol=1e-3)
    np.testing.assert_array_equal(out.values[0, :, 0], want)
    np.testing.assert_array_equal(out["y"].values, chunk["y"].values)


@pytest.mark.slow
def test_worker_memory_limit_gives_a_memory_error() -> None:
    code = (
        "import xarray\n"
        "def apply_datacube(cube: xarray.DataArray, context: dict) -> xarray.DataArray:\n"
        "    block = bytearray(3 * 1024 ** 3)\n"
        "    return cube\n"
    )
    with pytest.raises(UdfError, match="MemoryError"):
        _run(code, _cube(2, 2), memory_bytes=2 * 1024**3)


def test_data_folder_inside_a_readable_folder_disables_udfs() -> None:
    import sys

    from hybrid.errors import UdfUnavailable

    with pytest.raises(UdfUnavailable, match="data folder"):
        _run(CODE, _cube(2, 2), protected=(sys.prefix,))


def test_a_udfs_integer_or_boolean_result_is_float32() -> None:
    """Copernicus puts every UDF result into FLOAT32 tiles (geopysparkdatacube.py L681,
    L692, L914-916): a mask of booleans is 0.0/1.0 (it was int8 here, written with
    ``_FillValue`` 0, so false read back as missing), an int16 result float32."""
    from hybrid.backends.local.processes.udf import apply
    from hybrid.backends.local.udf.isolated import UdfSettings

    for cast, want in (("cube > 10", [0.0, 1.0]), ("cube.astype('int16')", None)):
        code = (
            "import xarray\n"
            "def apply_datacube(cube: xarray.DataArray, context: dict) -> xarray.DataArray:\n"
            f"    return {cast}\n"
        )
        callback = mark_udf_callbacks(_graph(_run_udf(udf=code)))["p"]["arguments"]["process"]
        cube = _cube(3, 3)
        out = apply(cube, callback, udf_settings=UdfSettings(timeout=60.0, nice=0))
        assert out.dtype == np.float32, cast
        expected = cube.values > 10 if want else np.trunc(cube.values)
        np.testing.assert_array_equal(out.values, expected.astype(np.float32))


def _time_udf(process: str, body: str, cube: xr.DataArray) -> Any:
    """``process`` over ``t`` of ``cube`` with a UDF returning ``body``."""
    from hybrid.backends.local.processes import udf as udf_processes
    from hybrid.backends.local.udf.isolated import UdfSettings

    code = (
        "import xarray\n"
        "def apply_datacube(cube: xarray.DataArray, context: dict) -> xarray.DataArray:\n"
        f"    return {body}\n"
    )
    arg = "reducer" if process == "reduce_dimension" else "process"
    graph = mark_udf_callbacks(_graph(_run_udf(udf=code), parent=process, arg=arg))
    callback = graph["p"]["arguments"][arg]
    run = getattr(udf_processes, process)
    return run(cube, callback, dimension="t", udf_settings=UdfSettings(timeout=60.0, nice=0))


@pytest.mark.parametrize("process", ["reduce_dimension", "apply_dimension"])
def test_a_time_series_udf_dropping_the_bands_fails_as_on_copernicus(process: str) -> None:
    """Copernicus transposes a time-series UDF's result to ``(t, bands, y, x)`` or
    ``(bands, y, x)`` (geopysparkdatacube.py L678, L684): without ``bands`` it fails;
    here it gave a cube."""
    with pytest.raises(UdfError, match="without 'bands'"):
        _time_udf(process, "cube.mean('bands')", _cube(3, 3))


def test_a_time_series_udf_of_apply_dimension_dropping_t_is_dated_2020() -> None:
    """apply_dimension over t whose UDF returns no ``t``: Copernicus stores the result
    at 2020-01-01 (geopysparkdatacube.py L683-694); it was refused here."""
    cube = _cube(3, 3)
    with pytest.warns(HybridWarning, match="2020-01-01"):
        out = _time_udf("apply_dimension", "cube.max('t')", cube)
    assert out.dims == ("t", "bands", "y", "x")
    assert out["t"].values.tolist() == [np.datetime64("2020-01-01", "ns").astype(int)]
    np.testing.assert_array_equal(out.isel(t=0).values, cube.max("t").values)


@pytest.mark.slow
def test_a_udf_writing_more_than_the_disk_limit_is_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file-size limit bounds one file: a UDF wrote 3 GB in 30 files of 100 MB
    beside its 2 GB limit (and could fill the disk within its time limit). What it writes
    in all is bounded by the same figure; its exchange folder goes with it (looked for in
    a temporary folder of this test's own: another test process's UDFs share /tmp)."""
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    code = (
        "import xarray\n"
        "def apply_datacube(cube: xarray.DataArray, context: dict) -> xarray.DataArray:\n"
        "    for i in range(8):\n"
        "        with open(f'f{i}', 'wb') as f:\n"
        "            f.write(b'z' * 4 * 1024 ** 2)\n"
        "    return cube\n"
    )
    before = set(Path(tempfile.gettempdir()).glob("hybrid-udf-*"))
    with pytest.raises(UdfError, match="wrote more than the disk limit of 16 MiB"):
        _run(code, _cube(2, 2), file_bytes=16 * 1024**2)
    assert set(Path(tempfile.gettempdir()).glob("hybrid-udf-*")) <= before
    (out,) = _run(code.replace("range(8)", "range(2)"), _cube(2, 2), file_bytes=16 * 1024**2)
    np.testing.assert_array_equal(out.values, _cube(2, 2).values)


def test_a_udfs_fewer_bands_keep_every_input_name_for_a_gtiff_asset_without_time() -> None:
    """A UDF without ``apply_metadata`` returning fewer bands than it got leaves
    Copernicus's band metadata as it was (geopysparkdatacube.py ``apply_tiles``
    L935-938): its GTiff asset without time lists every name (L2497-2504, L2529-2532;
    geotiff/package.scala L253-254), the file the bands it has."""
    from hybrid.backends.local.udf.tiling import band_metadata_kept
    from hybrid.io.gtiff import asset_band_names

    grid = {"y": [1.0, 0.0], "x": [0.0, 1.0]}
    given = xr.DataArray(np.zeros((3, 2, 2)), dims=("bands", "y", "x"), coords=grid)
    given = given.assign_coords(bands=["B02", "B04", "B08"])
    result = xr.DataArray(np.ones((2, 2, 2)), dims=("bands", "y", "x"), coords=grid)
    with pytest.warns(HybridWarning, match="metadata keeps all of"):
        kept = band_metadata_kept(result.assign_coords(bands=["a", "b"]), given, "code")
    assert list(kept["bands"].values) == ["B02", "B04"]
    assert asset_band_names(kept, {}) == ["B02", "B04", "B08"]
    assert asset_band_names(kept.expand_dims(t=[np.datetime64("2023-06-01")]), {}) is None


@pytest.mark.slow
@pytest.mark.parametrize(("nice", "expected"), [({}, 19), ({"nice": 7}, 7)])
def test_udf_settings_nice_is_the_workers_priority(nice: dict[str, int], expected: int) -> None:
    """``UdfSettings.nice`` (default 19, the lowest) is the worker's nice value, as
    ``hybrid serve --udf-nice`` sets it; never above this process's own priority."""
    code = (
        "import os, xarray\n"
        "def apply_datacube(cube: xarray.DataArray, context: dict) -> xarray.DataArray:\n"
        "    return cube * 0 + os.getpriority(os.PRIO_PROCESS, 0)\n"
    )
    (out,) = _run(code, _cube(2, 2), **nice)
    assert set(np.unique(out.values)) == {max(expected, os.getpriority(os.PRIO_PROCESS, 0))}


@pytest.mark.parametrize("nice", [-1, 20, 1.5, True])
def test_udf_settings_refuse_a_nice_value_outside_0_to_19(nice: Any) -> None:
    from hybrid.backends.local.udf.isolated import UdfSettings
    from hybrid.errors import UsageError

    with pytest.raises(UsageError, match="The UDF workers' nice value must be"):
        UdfSettings(nice=nice)
