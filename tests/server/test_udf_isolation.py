"""A hostile UDF against ``hybrid serve``, through the real openeo client.

Each UDF tries what an attacker would: reach a local service, keep memory or state after
its job, read the server, flood what the server reads back (its error, its log, its
output) or hand back results the server cannot read. Each such request fails with one
openEO 400 whose message is short, and the server stays alive. Every UDF starts a
worker process (several seconds on a busy machine): all slow. The UDFs' code and the
readings of what they left are in udf_attacks.py beside this module.
"""

from __future__ import annotations

import os
import random
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.server.udf_attacks import (
    _BOMBS,
    _ECHO,
    _HUGE_HEADER,
    _META,
    _NUMBERS,
    BBOX,
    DATES,
    SECRET,
    USERS,
    _bomb,
    _check_priority,
    _errno_of,
    _high_water_mib,
    _left_behind,
    _outcomes,
    _refused,
    _server_at,
    _sysv_left,
    _udf,
)
from tests.server_helpers import ServeProcess, openeo_env, write_users_file

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(sample_catalog: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    root = tmp_path_factory.mktemp("udf-isolation")
    users = write_users_file(root / "users.toml", USERS)
    serve = ServeProcess(
        data_dir=root / "data",
        stac=sample_catalog,
        users=users,
        extra_args=["--udf-timeout", "300"],  # generous for a loaded CI machine
    )
    os.environ["HYBRID_TEST_OIDC_SECRET"] = SECRET  # inherited by the server only
    try:
        with serve:
            yield serve
    finally:
        os.environ.pop("HYBRID_TEST_OIDC_SECRET", None)


@pytest.fixture(autouse=True)
def _openeo_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in openeo_env(tmp_path).items():
        monkeypatch.setenv(key, value)


_SYSV_KEY = random.randrange(0x10000, 0x7FFFFFFF)


def test_a_udf_reaches_no_local_service_and_keeps_nothing_after_its_job(
    server: Any, tmp_path: Path
) -> None:
    """A Unix socket a local service listens on (Landlock does not cover ``connect`` to
    one), System V shared memory, message queues and semaphores (they outlive the
    worker: another user's UDF could read them; memory no limit bounds), a memfd (memory
    outside the address-space limit) and io_uring (sockets without ``socket()``): all
    refused. They went through; ``socketpair`` still works."""
    path = tmp_path / "service.sock"
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(path))
    listener.listen()
    listener.settimeout(0.2)
    accepted: list[bytes] = []
    done = threading.Event()

    def serve_once() -> None:
        while not done.is_set():
            try:
                peer, _ = listener.accept()
            except TimeoutError:
                continue
            accepted.append(peer.recv(64))
            peer.close()

    thread = threading.Thread(target=serve_once, daemon=True)
    thread.start()
    body = (
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "out = {}\n"
        "key = context['key']\n"
        "try:\n"
        "    s = socket.socket(socket.AF_UNIX)\n"
        "    s.connect(context['path'])\n"
        "    s.sendall(b'from the udf')\n"
        "    out['unix'] = 'done'\n"
        "except OSError as exc:\n"
        "    out['unix'] = errno.errorcode.get(exc.errno, '?')\n"
        "a, b = socket.socketpair()\n"
        "a.sendall(b'x')\n"
        "out['socketpair'] = 'done' if b.recv(1) == b'x' else 'lost'\n"
        "name = 'shm'\n"
        + _errno_of("libc.shmget(key, 1 << 20, 0o1600)")
        + "name = 'msg'\n"
        + _errno_of("libc.msgget(key, 0o1600)")
        + "name = 'sem'\n"
        + _errno_of("libc.semget(key, 1, 0o1600)")
        + "name = 'memfd'\n"
        + _errno_of("libc.syscall(319 if os.uname().machine == 'x86_64' else 279, b'm', 0)")
        + "name = 'io_uring'\n"
        + _errno_of("libc.syscall(425, 4, ctypes.create_string_buffer(120))")
        + "raise RuntimeError('OUTCOMES ' + json.dumps(out))\n"
    )
    try:
        message = _refused(server, _udf(body), {"key": _SYSV_KEY, "path": str(path)})
    finally:
        done.set()
        thread.join()
        listener.close()
        left = _sysv_left(_SYSV_KEY)
    outcomes = _outcomes(message)
    assert outcomes.pop("socketpair") == "done"
    assert outcomes == {
        "unix": "EPERM",
        "shm": "EPERM",
        "msg": "EPERM",
        "sem": "EPERM",
        "memfd": "EPERM",
        "io_uring": "EPERM",
    }
    assert not accepted and not left


def test_a_udf_flooding_what_the_server_reads_back_gets_one_short_error(server: Any) -> None:
    """The worker's error file, its output and its log are the UDF's to write: a 5 MB
    error was the request's error, 300 MB of output went through the server's memory
    (twice), 300 log entries of 30 kB each went to the job's log."""
    import openeo
    from openeo.rest import JobFailedException

    flood_error = (
        "open('error.json', 'w').write(json.dumps({'summary': 'E' * 5_000_000}))\nos._exit(3)"
    )
    assert "left no readable result" in _refused(server, _udf(flood_error))
    before = _high_water_mib(server.proc.pid)
    flood_output = (
        "for _ in range(300):\n    sys.stdout.write('x' * 2**20)\nsys.stdout.flush()\nos._exit(7)"
    )
    assert "exit code 7" in _refused(server, _udf(flood_output))
    assert _high_water_mib(server.proc.pid) - before < 150
    flood_log = (
        "line = json.dumps({'level': 'error', 'message': 'M' * 30_000, 'data': None})\n"
        "open('log.jsonl', 'w').write((line + '\\n') * 300)\n"
        "raise RuntimeError('flooded')"
    )
    connection = openeo.connect(server.url).authenticate_basic("alice", USERS["alice"])
    cube = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=BBOX, temporal_extent=DATES, bands=["B04"]
    ).apply(process=openeo.UDF(_udf(flood_log)))
    job = cube.create_job(out_format="netCDF")
    with pytest.raises(JobFailedException):
        job.start_and_wait(max_poll_interval=1, soft_error_max=0, print=lambda *a, **k: None)
    logs = job.logs()
    flooded = [entry for entry in logs if entry["message"].startswith("MMMM")]
    assert 0 < len(flooded) <= 200
    assert max(len(entry["message"]) for entry in logs) <= 20_000


@pytest.mark.parametrize(
    "body",
    [
        _NUMBERS + "open('out-0.json', 'w').write('[' * 200_000 + ']' * 200_000)\nos._exit(0)",
        _HUGE_HEADER + _META + "os._exit(0)",
        "return cube.copy(data=cube.values.astype(str))",
        "return cube.copy(data=cube.values.astype(np.complex64))",
    ],
    ids=["nested-json", "npy-header-of-23-tib", "text-values", "complex-values"],
)
def test_a_udfs_result_the_server_cannot_use_is_a_400(server: Any, body: str) -> None:
    """Results written over by the UDF (a RecursionError, a MemoryError: 500s) or of
    values no cube holds: one 400."""
    message = _refused(server, _udf("import numpy as np\n" + body))
    assert "real numbers" in message or "left no readable result" in message


def test_a_udf_reads_nothing_of_the_server_and_cannot_signal_it(server: Any) -> None:
    """The server's environment (a secret given to it), its /proc files, its data folder
    and source, its HTTP API and a signal to it: all out of reach; the server answers."""
    data_dir = server.args[server.args.index("--data-dir") + 1]
    source = str(Path(__file__).resolve().parents[2] / "hybrid" / "__init__.py")
    body = (
        "import signal, urllib.request\n"
        "out = {'environ': sorted(k for k in os.environ if 'SECRET' in k or 'OPENEO' in k)}\n"
        "parent = os.getppid()\n"
        "for name, path in [('proc_environ', f'/proc/{parent}/environ'),\n"
        "                   ('proc_cmdline', f'/proc/{parent}/cmdline'),\n"
        "                   ('data_dir', context['data_dir']), ('source', context['source'])]:\n"
        "    try:\n"
        "        os.listdir(path) if os.path.isdir(path) else open(path, 'rb').read()\n"
        "        out[name] = 'read'\n"
        "    except OSError as exc:\n"
        "        out[name] = type(exc).__name__\n"
        "try:\n"
        "    urllib.request.urlopen(context['url'] + '/credentials/basic', timeout=5)\n"
        "    out['http'] = 'answered'\n"
        "except OSError as exc:\n"
        "    out['http'] = type(getattr(exc, 'reason', exc)).__name__\n"
        "try:\n"
        "    os.kill(parent, signal.SIGTERM)\n"
        "    out['kill'] = 'sent'\n"
        "except OSError as exc:\n"
        "    out['kill'] = type(exc).__name__\n"
        "raise RuntimeError('OUTCOMES ' + json.dumps(out))\n"
    )
    context = {"data_dir": data_dir, "source": source, "url": server.url}
    outcomes = _outcomes(_refused(server, _udf(body), context))
    assert outcomes == {
        "environ": [],
        "proc_environ": "PermissionError",
        "proc_cmdline": "PermissionError",
        "data_dir": "PermissionError",
        "source": "PermissionError",
        "http": "PermissionError",
        "kill": "PermissionError",
    }


def test_a_udfs_result_larger_than_its_chunk_allows_is_not_read(server: Any) -> None:
    """A valid ``.npy`` of 576 MB written sparse (no disk space, under the disk limit) for
    a chunk of a few thousand values: the server read all of it into its memory; now it
    reads no value of it and the job fails with one message (readback.RESULT_FACTOR)."""
    sparse = (
        "import numpy as np\n"
        "n = 12_000\n"
        "with open('out-0.npy', 'wb') as out:\n"
        "    header = {'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, n, n)}\n"
        "    np.lib.format.write_array_header_1_0(out, header)\n"
        "    out.seek(n * n * 4 - 1, 1)\n"
        "    out.write(b'0')\n" + _META + "os._exit(0)\n"
    )
    assert "warm" in _refused(server, _udf("raise RuntimeError('warm')"))  # imports
    before = _high_water_mib(server.proc.pid)
    message = _refused(server, _udf(sparse))
    assert _high_water_mib(server.proc.pid) - before < 150, message
    assert "549.3 MiB of float32 values" in message
    assert "the server reads back" in message


def test_a_udfs_json_result_larger_than_its_input_allows_is_not_read(server: Any) -> None:
    """run_udf on a list answers JSON (``result.json``), which the UDF may write itself:
    a sparse file of 600 MB (no disk space) was read whole into the server's memory; now
    the server reads none of it beyond 32 times its input, at least 64 MiB
    (readback.JSON_FLOOR), and the request fails with one 400."""
    import openeo
    from openeo.rest import OpenEoApiError

    sparse = (
        "import os\n"
        "with open('result.json', 'wb') as out:\n"
        "    out.write(b'[')\n"
        "    out.seek(600 * 2**20, 1)\n"
        "    out.write(b']')\n"
        "os._exit(0)\n"
    )
    connection = openeo.connect(server.url).authenticate_basic("alice", USERS["alice"])
    assert "warm" in _refused(server, _udf("raise RuntimeError('warm')"))  # imports
    before = _high_water_mib(server.proc.pid)
    cube = connection.datacube_from_process("run_udf", data=[1, 2], udf=sparse, runtime="Python")
    with pytest.raises(OpenEoApiError) as info:
        cube.execute()
    assert info.value.http_status_code == 400, info.value
    assert _high_water_mib(server.proc.pid) - before < 150, info.value.message
    assert "600.0 MiB of JSON" in info.value.message
    assert "the server reads back" in info.value.message
    assert connection.datacube_from_process(
        "run_udf", data=[1, 2], udf=_ECHO, runtime="Python"
    ).execute() == [1, 2]


@pytest.mark.parametrize("kind", sorted(_BOMBS))
def test_a_fork_or_thread_bomb_is_bounded_and_leaves_nothing(server: Any, kind: str) -> None:
    """A fork bomb gets no process (seccomp); a thread bomb got every thread it asked for
    (64 KiB stacks: tens of thousands within the memory limit, against a pid_max of
    32768, for uid 0 too, which RLIMIT_NPROC does not bind); now at most
    UdfSettings.tasks (task_limit: a pids cgroup, RLIMIT_NPROC, or the server's count).
    The request fails with one 400, the server answers, nothing is left running."""
    from hybrid.backends.local.udf.isolated import UdfSettings

    limit = UdfSettings().tasks
    message = _refused(server, _bomb(kind))
    if kind == "fork":
        assert _outcomes(message) == {
            "started": 0, "error": "PermissionError: [Errno 1] Operation not permitted"
        }  # fmt: skip
    elif "OUTCOMES" in message:  # refused by the kernel: a cgroup or RLIMIT_NPROC
        outcome = _outcomes(message)
        assert outcome["started"] < limit, message
        assert outcome["error"] == "RuntimeError: can't start new thread", message
        if os.geteuid() == 0:  # uid 0: only the cgroup refuses, and the message says so
            assert f"reached the limit of {limit} threads" in message, message
    else:  # stopped by the server's count
        assert f"more than the limit of {limit} threads" in message, message
    assert _left_behind(server.proc.pid) == []


def test_a_busy_udf_runs_at_the_lowest_cpu_priority(sample_catalog: Path, tmp_path: Path) -> None:
    """The worker, its threads and its session's autogroup run at nice 19 (the default):
    the worker has a session of its own, which the kernel's autogroups schedule as one
    entity of the autogroup's weight, so a UDF busy on every core took as much CPU as
    the server."""
    with _server_at(tmp_path, sample_catalog, None) as serve:
        _check_priority(serve, 19)


def test_udf_nice_gives_the_worker_and_its_threads_that_priority(
    sample_catalog: Path, tmp_path: Path
) -> None:
    """``hybrid serve --udf-nice 5``: the worker, its threads and its autogroup at nice 5."""
    with _server_at(tmp_path, sample_catalog, 5) as serve:
        _check_priority(serve, 5)
