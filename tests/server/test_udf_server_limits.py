"""UDFs that misbehave through the real openeo client against ``hybrid serve``: time limits,
reading what is not theirs, syntax errors, a worker ending without a result, another
runtime, a client that gave up, a canceled job.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.server.udf_serve import (
    RESCALE_UDF,
    UDF_TIMEOUT,
    _connect,
    _openeo_home,  # noqa: F401 (autouse)
    _s2,
    _serve,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(sample_catalog: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with _serve(tmp_path_factory.mktemp("udf-serve"), sample_catalog, UDF_TIMEOUT) as serve:
        yield serve


SHORT_UDF_TIMEOUT = 3


@pytest.fixture(scope="module")
def short_limit_server(
    sample_catalog: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """A server whose UDFs may run :data:`SHORT_UDF_TIMEOUT` s: the limit's own test waits
    that long, not the :data:`UDF_TIMEOUT` the other tests' UDFs need on a busy machine."""
    root = tmp_path_factory.mktemp("udf-serve-short")
    with _serve(root, sample_catalog, SHORT_UDF_TIMEOUT) as serve:
        yield serve


def _job_error(cube: Any) -> str:
    job = cube.create_job(out_format="netCDF")
    job.start_and_wait(max_poll_interval=1, soft_error_max=0, print=lambda *a, **k: None)
    raise AssertionError(f"the job finished: {job.status()}")


def _failed_job(cube: Any) -> str:
    from openeo.rest import JobFailedException

    with pytest.raises(JobFailedException) as info:
        _job_error(cube)
    logs = info.value.job.logs(level="error")
    return "\n".join(entry["message"] for entry in logs)


def test_udf_sleeping_forever_is_stopped_at_the_time_limit(short_limit_server: Any) -> None:
    import openeo

    code = RESCALE_UDF.replace("    cube.values", "    import time\n    time.sleep(3600)\n    x")
    cube = _s2(_connect(short_limit_server), ["B04"]).apply(process=openeo.UDF(code))
    assert f"time limit of {SHORT_UDF_TIMEOUT} s" in _failed_job(cube)


def _reader_udf(path: Path) -> str:
    return RESCALE_UDF.replace(
        "    cube.values", f"    open({str(path)!r}, 'rb').read()\n    cube.values"
    )


def test_udf_cannot_read_the_servers_data_folder(server: Any) -> None:
    import openeo

    secret = Path(server.args[server.args.index("--data-dir") + 1]) / "jobs.sqlite"
    assert secret.is_file()
    code = _reader_udf(secret)
    message = _failed_job(_s2(_connect(server), ["B04"]).apply(process=openeo.UDF(code)))
    assert "PermissionError" in message and 'File "<string>", line 5' in message


def test_udf_cannot_read_the_machines_secrets(server: Any) -> None:
    """``/etc/shadow`` is the root owner's to read, capabilities or not: a worker of a
    server run as root read it (uid 0) when all of ``/etc`` was readable."""
    import openeo

    secret = Path("/etc/shadow")
    if not secret.is_file():
        pytest.skip("no /etc/shadow on this machine")
    code = _reader_udf(secret)
    message = _failed_job(_s2(_connect(server), ["B04"]).apply(process=openeo.UDF(code)))
    assert "PermissionError" in message and 'File "<string>", line 5' in message


def test_udf_cannot_read_another_users_results(server: Any, tmp_path: Path) -> None:
    import openeo

    job = _s2(_connect(server, "alice"), ["B04"]).create_job(out_format="netCDF")
    job.start_and_wait(max_poll_interval=1, print=lambda *a, **k: None)
    data_dir = Path(server.args[server.args.index("--data-dir") + 1])
    (result,) = (data_dir / "jobs" / job.job_id).glob("*.nc")
    code = _reader_udf(result)
    message = _failed_job(_s2(_connect(server, "bob"), ["B04"]).apply(process=openeo.UDF(code)))
    assert "PermissionError" in message


def test_udf_syntax_error_names_the_line(server: Any) -> None:
    import openeo
    from openeo.rest import OpenEoApiError

    code = RESCALE_UDF.replace("context: dict)", "context: dict")
    cube = _s2(_connect(server), ["B04"]).apply(process=openeo.UDF(code))
    with pytest.raises(OpenEoApiError) as info:
        cube.download()
    assert info.value.http_status_code == 400
    assert "SyntaxError" in info.value.message and "'UDF.py', 4," in info.value.message


def test_a_udf_ending_its_worker_without_a_result_is_the_udfs_error(server: Any) -> None:
    """``os._exit(0)`` ends the worker "successfully" without a result file: the server
    answered 500 (FileNotFoundError on the exchange folder); a result file the UDF
    wrote over is the same error, no ``ProcessParameterInvalid`` of ``apply``."""
    import openeo
    from openeo.rest import OpenEoApiError

    for body in (
        "import os\n    os._exit(0)",
        "import os\n    open('out-0.json', 'w').write('{')\n    os._exit(0)",
    ):
        code = RESCALE_UDF.replace("    cube.values", f"    {body}\n    x")
        cube = _s2(_connect(server), ["B04"]).apply(process=openeo.UDF(code))
        with pytest.raises(OpenEoApiError) as info:
            cube.download()
        assert (info.value.http_status_code, info.value.code) == (400, "BadRequest")
        assert "left no readable result" in info.value.message
        assert "/tmp/" not in info.value.message


def test_other_runtime_is_refused_with_invalid_runtime(server: Any) -> None:
    import openeo
    from openeo.rest import OpenEoApiError

    udf = openeo.UDF("function(x) x * 2", runtime="R")
    cube = _s2(_connect(server), ["B04"]).apply(process=udf)
    with pytest.raises(OpenEoApiError) as info:
        cube.download()
    assert (info.value.http_status_code, info.value.code) == (400, "InvalidRuntime")


def _sleeping(seconds: float) -> str:
    return RESCALE_UDF.replace(
        "    cube.values", f"    import time\n    time.sleep({seconds})\n    x"
    )


def _udf_workers(server: Any) -> list[Any]:
    """The server's UDF worker processes running now."""
    import psutil

    children = psutil.Process(server.proc.pid).children(recursive=True)
    return [p for p in children if "-E" in _cmdline(p)]


def _cmdline(process: Any) -> list[str]:
    import psutil

    try:
        return list(process.cmdline())
    except psutil.Error:
        return []


def _within(seconds: float, condition: Any) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_a_synchronous_udf_its_client_gave_up_on_is_stopped(server: Any) -> None:
    """A client that stops waiting (a timeout, a closed notebook) does not leave the
    server running its UDF for nobody: the worker is stopped within seconds, the
    request's folder removed, and the server goes on answering (the UDF alone would
    take 10 s a date)."""
    import openeo
    import requests

    connection = _connect(server)
    cube = _s2(connection, ["B04"]).apply(process=openeo.UDF(_sleeping(10)))
    body = {"process": {"process_graph": cube.save_result("netCDF").flat_graph()}}
    data_dir = Path(server.args[server.args.index("--data-dir") + 1])
    with requests.Session() as session, pytest.raises(requests.exceptions.ReadTimeout):
        session.auth = connection.auth
        session.post(f"{server.url}/result", json=body, timeout=4)
    assert _within(6, lambda: not _udf_workers(server) and not any(data_dir.glob("sync-*")))
    assert requests.get(f"{server.url}/", timeout=10).status_code == 200


def test_a_canceled_job_stops_its_running_udf(server: Any) -> None:
    import openeo

    cube = _s2(_connect(server), ["B04"]).apply(process=openeo.UDF(_sleeping(10)))
    job = cube.create_job(out_format="netCDF")
    job.start()
    assert _within(60, lambda: bool(_udf_workers(server)))
    job.stop()
    assert _within(6, lambda: not _udf_workers(server))
    assert job.status() == "canceled"
